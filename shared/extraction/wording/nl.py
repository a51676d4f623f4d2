"""Dutch compliance wording: phrase → kind (how to read it: :mod:`shared.extraction.wording`)."""

from shared.extraction.wording.kinds import Kind

PHRASES: dict[str, Kind] = {
    # onderbouwing van de vordering
    "bewijs van de schuld": Kind.VALIDATION_REQUEST,
    "bewijs van de vordering": Kind.VALIDATION_REQUEST,
    "onderbouwing van de vordering": Kind.VALIDATION_REQUEST,
    "onderbouw de vordering": Kind.VALIDATION_REQUEST,
    "toon de vordering aan": Kind.VALIDATION_REQUEST,
    "specificatie van de vordering": Kind.VALIDATION_REQUEST,
    # betwisting
    "betwist*": Kind.DISPUTE,
    "niet eens met de vordering": Kind.DISPUTE,
    "ik ben niets verschuldigd": Kind.DISPUTE,
    "onterechte vordering": Kind.DISPUTE,
    "vordering is onterecht": Kind.DISPUTE,
    # contact / incasso staken
    "neem geen contact meer op": Kind.CEASE,
    "geen contact meer": Kind.CEASE,
    "stop met bellen": Kind.CEASE,
    "stop met mailen": Kind.CEASE,
    "bel mij niet meer": Kind.CEASE,
    "niet langer … gebeld": Kind.CEASE,
    "niet meer … gebeld": Kind.CEASE,
    "stop met het benaderen": Kind.CEASE,
    "benader mij niet meer": Kind.CEASE,
    "laat mij met rust": Kind.CEASE,
    "staak alle incasso*": Kind.STOP_COLLECTION,
    "staak de incasso*": Kind.STOP_COLLECTION,
    "stop de incasso*": Kind.STOP_COLLECTION,
    # advocaat
    "mijn advocaat": Kind.ATTORNEY,
    "mijn jurist": Kind.ATTORNEY,
    "wij vertegenwoordigen": Kind.ATTORNEY,
    "ik vertegenwoordig": Kind.ATTORNEY,
    "ik heb een advocaat": Kind.ATTORNEY,
    "mijn cliënt": Kind.ATTORNEY,
    "mijn cliënte": Kind.ATTORNEY,
    # identiteitsfraude
    "identiteitsfraude": Kind.IDENTITY_THEFT,
    "identiteitsdiefstal": Kind.IDENTITY_THEFT,
    "nooit een account geopend": Kind.IDENTITY_THEFT,
    # overlijden
    "overleden": Kind.DECEASED,
    "overlijdensakte": Kind.DECEASED,
    "nalatenschap": Kind.DECEASED,
    "erfgenamen": Kind.DECEASED,
    # faillissement / schuldsanering
    "faillissement": Kind.BANKRUPTCY,
    "failliet": Kind.BANKRUPTCY,
    "schuldsanering": Kind.BANKRUPTCY,
    "wsnp": Kind.BANKRUPTCY,
}

NEGATIONS_BEFORE: tuple[str, ...] = ("niet", "geen", "nooit")
NEGATIONS_AFTER: tuple[str, ...] = ("niet",)

NOTICE_CUES: tuple[str, ...] = (
    "u heeft het recht",
    "u kunt",
    "kunt u",
    "als u",
    "indien u",
    "uw rechten",
)

# Words that, in the same sentence, say a dispute is over ("the dispute I raised was sorted out").
RESOLVED_CUES: tuple[str, ...] = (
    "is opgelost",
    "werd opgelost",
    "is afgehandeld",
    "is rechtgezet",
)

LETTER_MARKERS: tuple[str, ...] = ()
