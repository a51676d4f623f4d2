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
    "herken … vordering niet": Kind.DISPUTE,  # "ik herken deze vordering niet"
    "herken … schuld niet": Kind.DISPUTE,
    "erken … vordering niet": Kind.DISPUTE,
    "ken … vordering niet": Kind.DISPUTE,
    "vordering is mij onbekend": Kind.DISPUTE,
    "vordering is mij niet bekend": Kind.DISPUTE,
    "schuld is mij onbekend": Kind.DISPUTE,
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
    "mijn client": Kind.ATTORNEY,
    "mijn cliente": Kind.ATTORNEY,
    "raadsman van": Kind.ATTORNEY,
    "raadsvrouw van": Kind.ATTORNEY,
    # the same words in our own letters name the creditor we collect for (NOT_IN_QUOTED)
    "als advocaat van": Kind.ATTORNEY,
    "onze cliënt": Kind.ATTORNEY,
    "onze cliënte": Kind.ATTORNEY,
    "onze client": Kind.ATTORNEY,
    "onze cliente": Kind.ATTORNEY,
    "namens cliënt": Kind.ATTORNEY,
    "namens cliënte": Kind.ATTORNEY,
    "treden op namens": Kind.ATTORNEY,
    "treden op voor": Kind.ATTORNEY,
    "treed op namens": Kind.ATTORNEY,
    "treed op voor": Kind.ATTORNEY,
    "gemachtigde van": Kind.ATTORNEY,
    # identiteitsfraude
    "identiteitsfraude": Kind.IDENTITY_THEFT,
    "identiteitsdiefstal": Kind.IDENTITY_THEFT,
    "nooit een account geopend": Kind.IDENTITY_THEFT,
    "misbruik van mijn identiteit": Kind.IDENTITY_THEFT,
    "misbruik van mijn gegevens": Kind.IDENTITY_THEFT,
    "identiteit is gestolen": Kind.IDENTITY_THEFT,
    "identiteit gestolen": Kind.IDENTITY_THEFT,
    "slachtoffer van fraude": Kind.IDENTITY_THEFT,
    # overlijden
    "overleden": Kind.DECEASED,
    "overlijdensakte": Kind.DECEASED,
    "nalatenschap": Kind.DECEASED,
    "erfgenamen": Kind.DECEASED,
    "overlijden": Kind.DECEASED,  # "na het overlijden van mijn man"
    "gestorven": Kind.DECEASED,
    "stierf": Kind.DECEASED,
    "weduwe": Kind.DECEASED,
    "weduwnaar": Kind.DECEASED,
    "erfgenaam": Kind.DECEASED,
    "executeur": Kind.DECEASED,
    # faillissement / schuldsanering
    "faillissement": Kind.BANKRUPTCY,
    "failliet": Kind.BANKRUPTCY,
    "schuldsanering": Kind.BANKRUPTCY,
    "wsnp": Kind.BANKRUPTCY,
    # wording debtors, relatives and advisers write that the first tables missed
    # (found with held-out sentences, tests/unit/test_compliance_wording_recall.py)
    "nooit … besteld": Kind.DISPUTE,
    "niks besteld": Kind.DISPUTE,
    "niets besteld": Kind.DISPUTE,
    "nooit een contract": Kind.DISPUTE,
    "nooit klant": Kind.DISPUTE,
    "nooit iets gekocht": Kind.DISPUTE,
    "verjaard": Kind.DISPUTE,
    "verjaring": Kind.DISPUTE,
    "niet eens met … vordering": Kind.DISPUTE,
    "erken … schuld niet": Kind.DISPUTE,
    "bezwaar tegen": Kind.DISPUTE,
    "maak bezwaar": Kind.DISPUTE,
    "niet mee akkoord": Kind.DISPUTE,
    "vordering klopt niet": Kind.DISPUTE,
    "bedrag klopt niet": Kind.DISPUTE,
    "vordering onderbouw*": Kind.VALIDATION_REQUEST,
    "onderbouw* … vordering": Kind.VALIDATION_REQUEST,
    "bewijs dat ik": Kind.VALIDATION_REQUEST,
    "bewijs zien": Kind.VALIDATION_REQUEST,
    "aantonen dat ik": Kind.VALIDATION_REQUEST,
    "toon … aan dat": Kind.VALIDATION_REQUEST,
    "mijn handtekening": Kind.VALIDATION_REQUEST,
    "kopie van het contract": Kind.VALIDATION_REQUEST,
    "laat me met rust": Kind.CEASE,
    "laat ons met rust": Kind.CEASE,
    "bel me niet": Kind.CEASE,
    "bel mij niet": Kind.CEASE,
    "contact te staken": Kind.CEASE,
    "bijgestaan door": Kind.ATTORNEY,
    "bewindvoer*": Kind.ATTORNEY,
    "onder bewind": Kind.ATTORNEY,
    "beschermingsbewind*": Kind.ATTORNEY,
    "schuldhulpverlen*": Kind.BANKRUPTCY,
    "minnelijk* traject": Kind.BANKRUPTCY,
    "minnelijke schuldregeling": Kind.BANKRUPTCY,
    "schuldregeling": Kind.BANKRUPTCY,
    "stabilisatieperiode": Kind.BANKRUPTCY,
    "afkoelingsperiode": Kind.BANKRUPTCY,
    "schuldbemiddel*": Kind.BANKRUPTCY,
    "erfenis … verworpen": Kind.DECEASED,
    "verworpen": Kind.DECEASED,
    "beneficiair": Kind.DECEASED,
    "gegevens … misbruikt": Kind.IDENTITY_THEFT,
    "oplichting": Kind.IDENTITY_THEFT,
    "opgelicht": Kind.IDENTITY_THEFT,
    "op mijn naam … afgesloten": Kind.IDENTITY_THEFT,
    "op mijn naam … besteld": Kind.IDENTITY_THEFT,
    # de stukken van de vordering gevraagd, of haar herkomst
    "oorspronkelijke schuldeiser": Kind.VALIDATION_REQUEST,
    "oorspronkelijke crediteur": Kind.VALIDATION_REQUEST,
    "kopie van de overeenkomst": Kind.VALIDATION_REQUEST,
    "cessie": Kind.VALIDATION_REQUEST,
    "ken deze vordering niet": Kind.DISPUTE,
    "herken deze vordering niet": Kind.DISPUTE,
    # al aan de schuldeiser betaald: niet nog eens
    "twee keer betalen": Kind.DISPUTE,
    "dubbel betalen": Kind.DISPUTE,
    # alleen nog per post
    "alleen schriftelijk": Kind.CEASE,
    "uitsluitend schriftelijk": Kind.CEASE,
    "alleen nog schriftelijk": Kind.CEASE,
    "alleen per post": Kind.CEASE,
}

NEGATIONS_BEFORE: tuple[str, ...] = ("niet", "geen", "nooit")
NEGATIONS_AFTER: tuple[str, ...] = ("niet",)

# Phrases our own letters use too, of the creditor we collect for (see en.NOT_IN_QUOTED).
NOT_IN_QUOTED: tuple[str, ...] = (
    "als advocaat van",
    "onze cliënt",
    "onze cliënte",
    "onze client",
    "onze cliente",
    "namens cliënt",
    "namens cliënte",
    "treden op namens",
    "treden op voor",
    "treed op namens",
    "treed op voor",
    "gemachtigde van",
    "kopie van het contract",
    "schuldhulpverlen*",
    "schuldregeling",
    "oorspronkelijke schuldeiser",
    "oorspronkelijke crediteur",
    "kopie van de overeenkomst",
    "specificatie van de vordering",
    "cessie",
    "alleen schriftelijk",
    "uitsluitend schriftelijk",
    "alleen nog schriftelijk",
)

EXCEPTIONS: tuple[str, ...] = (
    "betwist niets",
    "betwist niks",
)

# The writer stating the act now (see en.FIRST_PERSON); Dutch inverts after "hierbij" ("Hierbij
# betwist ik …").
FIRST_PERSON: tuple[str, ...] = (
    "ik betwist",
    "betwist ik",
    "wij betwisten",
    "we betwisten",
    "betwisten wij",
    "betwisten we",
    "ik verzoek",
    "ik vraag",
    "ik eis",
    "ik herken",
    "ik erken",
    "ik ken",
    "ik ben niets",
    "ik ben slachtoffer",
    "ik ben het slachtoffer",
    "ik heb nooit",
)
FILLERS: tuple[str, ...] = (
    "hierbij",
    "ook",
    "nog",
    "steeds",
    "uitdrukkelijk",
    "daarom",
    "dus",
    "volledig",
    "formeel",
)

NOTICE_CUES: tuple[str, ...] = (
    "u heeft het recht",
    "u kunt",
    "kunt u",
    "als u",
    "indien u",
    "uw rechten",
    # what the collector will do when the debtor acts (see en.NOTICE_CUES)
    "maakt u",
    "schorten wij",
    "sturen wij",
    "zullen wij",
    "binnen 30 dagen",
)

# Words that, in the same sentence, say a dispute is over ("the dispute I raised was sorted out").
RESOLVED_CUES: tuple[str, ...] = (
    "is opgelost",
    "werd opgelost",
    "is afgehandeld",
    "is rechtgezet",
)

# Words that make a resolved cue in their sentence a condition still to be met (see en).
CONDITIONAL_CUES: tuple[str, ...] = (
    "totdat",
    "tot",
    "voordat",
    "zodra",
    "wanneer",
    "als",
    "indien",
    "tenzij",
    "pas",
    "zolang",
    "mits",
    "nadat",
)

LETTER_MARKERS: tuple[str, ...] = ()
