"""German compliance wording: phrase → kind (how to read it: :mod:`shared.extraction.wording`)."""

from shared.extraction.wording.kinds import Kind

PHRASES: dict[str, Kind] = {
    # Nachweis der Forderung
    "nachweis der forderung": Kind.VALIDATION_REQUEST,
    "nachweis über die forderung": Kind.VALIDATION_REQUEST,
    "forderungsnachweis": Kind.VALIDATION_REQUEST,
    "belege für die forderung": Kind.VALIDATION_REQUEST,
    "forderung nachweisen": Kind.VALIDATION_REQUEST,
    "weisen sie die forderung nach": Kind.VALIDATION_REQUEST,
    "bitte um nachweis": Kind.VALIDATION_REQUEST,
    # Widerspruch / Bestreiten
    "widerspruch": Kind.DISPUTE,
    "widerspreche": Kind.DISPUTE,
    "bestreite*": Kind.DISPUTE,
    "forderung ist unberechtigt": Kind.DISPUTE,
    "unberechtigte forderung": Kind.DISPUTE,
    "schulde ihnen nichts": Kind.DISPUTE,
    "nicht meine forderung": Kind.DISPUTE,
    # Kontakt / Inkasso einstellen
    "unterlassungserklärung": Kind.CEASE,
    "unterlassen sie": Kind.CEASE,
    "kontaktieren sie mich nicht": Kind.CEASE,
    "keine weitere kontaktaufnahme": Kind.CEASE,
    "keinen weiteren kontakt": Kind.CEASE,
    "stellen sie die kontaktaufnahme ein": Kind.CEASE,
    "stellen sie … inkasso* ein": Kind.STOP_COLLECTION,
    "inkassomaßnahmen einstellen": Kind.STOP_COLLECTION,
    "rufen sie mich nicht": Kind.CEASE,
    "schreiben sie mir nicht": Kind.CEASE,
    "verweigere die zahlung": Kind.CEASE,
    "untersage ihnen": Kind.CEASE,
    "jede weitere kontaktaufnahme": Kind.CEASE,
    "keine weiteren anrufe": Kind.CEASE,
    "lassen sie mich in ruhe": Kind.CEASE,
    # anwaltliche Vertretung
    "wir vertreten": Kind.ATTORNEY,
    "anwaltlich vertreten": Kind.ATTORNEY,
    "rechtsanwaltlich vertreten": Kind.ATTORNEY,
    "mein anwalt": Kind.ATTORNEY,
    "meine anwältin": Kind.ATTORNEY,
    "mein rechtsanwalt": Kind.ATTORNEY,
    "meine rechtsanwältin": Kind.ATTORNEY,
    "meinen anwalt": Kind.ATTORNEY,
    "meinen rechtsanwalt": Kind.ATTORNEY,
    "ich habe einen anwalt": Kind.ATTORNEY,
    "habe jetzt einen anwalt": Kind.ATTORNEY,
    # Identitätsdiebstahl
    "identitätsdiebstahl": Kind.IDENTITY_THEFT,
    "identitätsmissbrauch": Kind.IDENTITY_THEFT,
    "habe nie einen vertrag": Kind.IDENTITY_THEFT,
    "nicht von mir abgeschlossen": Kind.IDENTITY_THEFT,
    # Todesfall
    "verstorben": Kind.DECEASED,
    "ist gestorben": Kind.DECEASED,
    "sterbeurkunde": Kind.DECEASED,
    "nachlass": Kind.DECEASED,
    "erbschein": Kind.DECEASED,
    "die erben": Kind.DECEASED,
    # Insolvenz
    "insolvenz*": Kind.BANKRUPTCY,
    "privatinsolvenz": Kind.BANKRUPTCY,
    "verbraucherinsolvenz": Kind.BANKRUPTCY,
    "restschuldbefreiung": Kind.BANKRUPTCY,
}

NEGATIONS_BEFORE: tuple[str, ...] = ("nicht", "kein", "keine", "keinen", "nie")
NEGATIONS_AFTER: tuple[str, ...] = ("nicht",)

NOTICE_CUES: tuple[str, ...] = (
    "sie haben das recht",
    "sie können",
    "können sie",
    "wenn sie",
    "falls sie",
    "sofern sie",
    "ihre rechte",
)

# Words that, in the same sentence, say a dispute is over ("the dispute I raised was sorted out").
RESOLVED_CUES: tuple[str, ...] = (
    "hat sich erledigt",
    "ist erledigt",
    "wurde geklärt",
    "ist geklärt",
    "ziehe … zurück",
)

LETTER_MARKERS: tuple[str, ...] = ()
