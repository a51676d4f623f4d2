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
    "bestritten": Kind.DISPUTE,  # "die Forderung wird von mir bestritten"
    "forderung ist unberechtigt": Kind.DISPUTE,
    "unberechtigte forderung": Kind.DISPUTE,
    "schulde ihnen nichts": Kind.DISPUTE,
    "nicht meine forderung": Kind.DISPUTE,
    "erkenne … nicht an": Kind.DISPUTE,  # "ich erkenne die Forderung nicht an"
    "erkennen … nicht an": Kind.DISPUTE,
    "kenne … forderung nicht": Kind.DISPUTE,
    "forderung kenne ich nicht": Kind.DISPUTE,
    "forderung ist mir … unbekannt": Kind.DISPUTE,
    "forderung ist mir … nicht bekannt": Kind.DISPUTE,
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
    "anwaltlich versichert": Kind.ATTORNEY,  # "ordnungsgemäße Bevollmächtigung wird …"
    "mein mandant": Kind.ATTORNEY,
    "meine mandantin": Kind.ATTORNEY,
    "meines mandanten": Kind.ATTORNEY,
    "meiner mandantin": Kind.ATTORNEY,
    "meinem mandanten": Kind.ATTORNEY,
    "meinen mandanten": Kind.ATTORNEY,
    # the same words in our own letters name the creditor we collect for (NOT_IN_QUOTED)
    "wir zeigen an": Kind.ATTORNEY,  # "Wir zeigen an, dass wir Frau X vertreten"
    "zeigen wir an": Kind.ATTORNEY,
    "wir … vertreten": Kind.ATTORNEY,
    "unser mandant": Kind.ATTORNEY,
    "unsere mandantin": Kind.ATTORNEY,
    "unsere mandanten": Kind.ATTORNEY,
    "unseres mandanten": Kind.ATTORNEY,
    "unserer mandantin": Kind.ATTORNEY,
    "unserem mandanten": Kind.ATTORNEY,
    "unseren mandanten": Kind.ATTORNEY,
    "unsere mandantschaft": Kind.ATTORNEY,
    "unserer mandantschaft": Kind.ATTORNEY,
    "namens und in vollmacht": Kind.ATTORNEY,
    "wahrnehmung … interessen": Kind.ATTORNEY,
    "ausschließlich mit uns": Kind.ATTORNEY,
    "ausschließlich über uns": Kind.ATTORNEY,
    "nur noch mit uns": Kind.ATTORNEY,
    "nur noch über uns": Kind.ATTORNEY,
    # Identitätsdiebstahl
    "identitätsdiebstahl*": Kind.IDENTITY_THEFT,
    "identitätsmissbrauch*": Kind.IDENTITY_THEFT,
    "identitätsbetrug*": Kind.IDENTITY_THEFT,
    "missbrauch meiner daten": Kind.IDENTITY_THEFT,
    "missbrauch meiner identität": Kind.IDENTITY_THEFT,
    "meine identität wurde": Kind.IDENTITY_THEFT,
    "unter meinem namen bestellt": Kind.IDENTITY_THEFT,
    "unter meinem namen abgeschlossen": Kind.IDENTITY_THEFT,
    "habe nie einen vertrag": Kind.IDENTITY_THEFT,
    "nicht von mir abgeschlossen": Kind.IDENTITY_THEFT,
    # Todesfall
    "verstorben*": Kind.DECEASED,
    "ist gestorben": Kind.DECEASED,
    "gestorben": Kind.DECEASED,  # "ist am 3. Dezember gestorben"
    "verstarb": Kind.DECEASED,
    "ableben": Kind.DECEASED,
    "todesfall": Kind.DECEASED,
    "sterbefall": Kind.DECEASED,
    "tod meines": Kind.DECEASED,
    "tod meiner": Kind.DECEASED,
    "tod unseres": Kind.DECEASED,
    "tod unserer": Kind.DECEASED,
    "witwe": Kind.DECEASED,
    "witwer": Kind.DECEASED,
    "hinterbliebene*": Kind.DECEASED,
    "erbengemeinschaft": Kind.DECEASED,
    "testamentsvollstreck*": Kind.DECEASED,
    "sterbeurkunde": Kind.DECEASED,
    # not "Nachlass" alone: it is also the discount a settlement request asks for
    "nachlassverwalt*": Kind.DECEASED,
    "nachlassgericht": Kind.DECEASED,
    "nachlasspfleg*": Kind.DECEASED,
    "nachlassinsolvenz*": Kind.DECEASED,
    "zum nachlass": Kind.DECEASED,
    "des nachlasses": Kind.DECEASED,
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

# Phrases our own letters use too (Inkasso letters speak of "unsere Mandantin"): they count in
# what the sender writes, not in the quoted history (see en.NOT_IN_QUOTED).
NOT_IN_QUOTED: tuple[str, ...] = (
    "wir zeigen an",
    "zeigen wir an",
    "wir … vertreten",
    "unser mandant",
    "unsere mandantin",
    "unsere mandanten",
    "unseres mandanten",
    "unserer mandantin",
    "unserem mandanten",
    "unseren mandanten",
    "unsere mandantschaft",
    "unserer mandantschaft",
    "namens und in vollmacht",
    "wahrnehmung … interessen",
    "ausschließlich mit uns",
    "ausschließlich über uns",
    "nur noch mit uns",
    "nur noch über uns",
)

EXCEPTIONS: tuple[str, ...] = ()

# The writer stating the act now (see en.FIRST_PERSON); German puts the verb first after
# "hiermit" ("Hiermit bestreite ich …").
FIRST_PERSON: tuple[str, ...] = (
    "ich bestreite",
    "bestreite ich",
    "wir bestreiten",
    "bestreiten wir",
    "ich widerspreche",
    "widerspreche ich",
    "wir widersprechen",
    "widersprechen wir",
    "ich lege widerspruch",
    "lege ich widerspruch",
    "ich erhebe widerspruch",
    "erhebe ich widerspruch",
    "ich fordere",
    "ich verlange",
    "ich bitte um",
    "ich erkenne",
    "erkenne ich",
    "ich kenne",
    "ich schulde",
    "ich habe nie",
)
FILLERS: tuple[str, ...] = (
    "hiermit",
    "ausdrücklich",
    "auch",
    "weiterhin",
    "nochmals",
    "vorsorglich",
    "daher",
    "deshalb",
    "somit",
    "entschieden",
    "vollumfänglich",
)

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

# Words that make a resolved cue in their sentence a condition still to be met (see en).
CONDITIONAL_CUES: tuple[str, ...] = (
    "bis",
    "sobald",
    "bevor",
    "ehe",
    "wenn",
    "falls",
    "sofern",
    "solange",
    "nachdem",
    "erst",
)

LETTER_MARKERS: tuple[str, ...] = ()
