"""French compliance wording: phrase → kind (how to read it: :mod:`shared.extraction.wording`)."""

from shared.extraction.wording.kinds import Kind

PHRASES: dict[str, Kind] = {
    # justification de la créance
    "justificatif de la dette": Kind.VALIDATION_REQUEST,
    "justificatifs de la dette": Kind.VALIDATION_REQUEST,
    "justificatif de la créance": Kind.VALIDATION_REQUEST,
    "justificatifs de la créance": Kind.VALIDATION_REQUEST,
    "preuve de la dette": Kind.VALIDATION_REQUEST,
    "prouver la dette": Kind.VALIDATION_REQUEST,
    "prouver cette dette": Kind.VALIDATION_REQUEST,
    "justifier la créance": Kind.VALIDATION_REQUEST,
    "justifiez la créance": Kind.VALIDATION_REQUEST,
    "justifier cette dette": Kind.VALIDATION_REQUEST,
    "validation de la dette": Kind.VALIDATION_REQUEST,
    "vérification de la dette": Kind.VALIDATION_REQUEST,
    # contestation
    "conteste*": Kind.DISPUTE,
    "contesté*": Kind.DISPUTE,  # "le montant contesté"
    "contestation": Kind.DISPUTE,
    "n'est pas ma dette": Kind.DISPUTE,  # "pas ma dette" alone reads "n'est" as its negation
    "dette n'est pas la mienne": Kind.DISPUTE,
    "créance n'est pas la mienne": Kind.DISPUTE,
    "je ne dois rien": Kind.DISPUTE,
    "pas ma dette": Kind.DISPUTE,
    "je ne reconnais pas cette dette": Kind.DISPUTE,
    "ne reconnai* pas … dette": Kind.DISPUTE,
    "ne reconnai* pas … créance": Kind.DISPUTE,
    "ne reconnai* pas … somme": Kind.DISPUTE,
    "dette m'est … inconnue": Kind.DISPUTE,
    "créance m'est … inconnue": Kind.DISPUTE,
    # cessation des contacts / du recouvrement
    "cessez de me contacter": Kind.CEASE,
    "cessez tout contact": Kind.CEASE,
    "cesser toute communication": Kind.CEASE,
    "cessez toute communication": Kind.CEASE,
    "arrêtez de me contacter": Kind.CEASE,
    "ne me contactez plus": Kind.CEASE,
    "ne plus me contacter": Kind.CEASE,
    "cesser … tout contact": Kind.CEASE,
    "cessez … tout contact": Kind.CEASE,
    "harcèlement": Kind.CEASE,
    "ne plus être contacté": Kind.CEASE,
    "ne plus être contactée": Kind.CEASE,
    "mise en demeure de cesser": Kind.CEASE,
    "cessez les relances": Kind.CEASE,
    "arrêtez les relances": Kind.CEASE,
    "arrêtez les poursuites": Kind.STOP_COLLECTION,
    "cesser le recouvrement": Kind.STOP_COLLECTION,
    "suspendre le recouvrement": Kind.STOP_COLLECTION,
    # avocat
    "mon avocat": Kind.ATTORNEY,
    "mon avocate": Kind.ATTORNEY,
    "je représente": Kind.ATTORNEY,
    "nous représentons": Kind.ATTORNEY,
    "j'ai un avocat": Kind.ATTORNEY,
    "j'ai pris un avocat": Kind.ATTORNEY,
    "contactez mon avocat": Kind.ATTORNEY,
    "avocat de madame": Kind.ATTORNEY,
    "avocat de monsieur": Kind.ATTORNEY,
    "avocate de madame": Kind.ATTORNEY,
    "avocate de monsieur": Kind.ATTORNEY,
    "conseil de madame": Kind.ATTORNEY,
    "conseil de monsieur": Kind.ATTORNEY,
    "je suis l'avocat": Kind.ATTORNEY,
    "je suis l'avocate": Kind.ATTORNEY,
    "correspondance à mon cabinet": Kind.ATTORNEY,
    "correspondance à notre cabinet": Kind.ATTORNEY,
    # the same words in our own letters name the creditor we collect for (NOT_IN_QUOTED)
    "notre client": Kind.ATTORNEY,
    "notre cliente": Kind.ATTORNEY,
    "mon client": Kind.ATTORNEY,
    "ma cliente": Kind.ATTORNEY,
    "notre mandant": Kind.ATTORNEY,
    "notre mandante": Kind.ATTORNEY,
    "mon mandant": Kind.ATTORNEY,
    "ma mandante": Kind.ATTORNEY,
    "intervenons pour le compte": Kind.ATTORNEY,
    "intervenons au nom": Kind.ATTORNEY,
    "agissons pour le compte": Kind.ATTORNEY,
    "agissons au nom": Kind.ATTORNEY,
    "en qualité de conseil": Kind.ATTORNEY,
    "qualité d'avocat": Kind.ATTORNEY,
    "avocat au barreau": Kind.ATTORNEY,
    "avocate au barreau": Kind.ATTORNEY,
    # usurpation d'identité
    "usurpation d'identité": Kind.IDENTITY_THEFT,
    "vol d'identité": Kind.IDENTITY_THEFT,
    "je n'ai jamais ouvert": Kind.IDENTITY_THEFT,
    "compte frauduleux": Kind.IDENTITY_THEFT,
    "fraude": Kind.IDENTITY_THEFT,
    "usurpation de mon identité": Kind.IDENTITY_THEFT,
    "usurpé mon identité": Kind.IDENTITY_THEFT,
    "vol de mon identité": Kind.IDENTITY_THEFT,
    "victime d'une usurpation": Kind.IDENTITY_THEFT,
    "victime d'usurpation": Kind.IDENTITY_THEFT,
    # décès
    "est décédé": Kind.DECEASED,
    "est décédée": Kind.DECEASED,
    "décès": Kind.DECEASED,
    "acte de décès": Kind.DECEASED,
    "succession": Kind.DECEASED,
    "décédé*": Kind.DECEASED,  # "mon mari, décédé le 3 décembre"
    "est mort": Kind.DECEASED,
    "est morte": Kind.DECEASED,
    "nous a quitté*": Kind.DECEASED,
    "défunt*": Kind.DECEASED,
    "veuve": Kind.DECEASED,
    "veuf": Kind.DECEASED,
    "héritiers": Kind.DECEASED,
    # faillite / surendettement
    "faillite": Kind.BANKRUPTCY,
    "liquidation judiciaire": Kind.BANKRUPTCY,
    "redressement judiciaire": Kind.BANKRUPTCY,
    "surendettement": Kind.BANKRUPTCY,
    "procédure collective": Kind.BANKRUPTCY,
}

NEGATIONS_BEFORE: tuple[str, ...] = ("ne", "n'*", "pas", "jamais")
NEGATIONS_AFTER: tuple[str, ...] = ("pas", "jamais")

# Phrases our own letters use too, of the creditor we collect for or explaining a right ("en cas
# de contestation, écrivez-nous"): not read in the quoted history (see en.NOT_IN_QUOTED).
NOT_IN_QUOTED: tuple[str, ...] = (
    "contestation",
    "notre client",
    "notre cliente",
    "mon client",
    "ma cliente",
    "notre mandant",
    "notre mandante",
    "mon mandant",
    "ma mandante",
    "intervenons pour le compte",
    "intervenons au nom",
    "agissons pour le compte",
    "agissons au nom",
    "en qualité de conseil",
    "qualité d'avocat",
    "avocat au barreau",
    "avocate au barreau",
)

EXCEPTIONS: tuple[str, ...] = ()

# The writer stating the act now (see en.FIRST_PERSON).
FIRST_PERSON: tuple[str, ...] = (
    "je conteste",
    "nous contestons",
    "je demande",
    "je réclame",
    "j'exige",
    "je ne reconnai*",
    "nous ne reconnaissons",
    "je ne dois",
    "je suis victime",
    "j'ai été victime",
    "je n'ai jamais",
)
# "je *le* conteste", "*par la présente* …"
FILLERS: tuple[str, ...] = (
    "le",
    "la",
    "les",
    "formellement",
    "expressément",
    "également",
    "toujours",
    "donc",
    "par",
    "présente",
    "entièrement",
    "totalement",
    "aussi",
)

NOTICE_CUES: tuple[str, ...] = (
    "vous avez le droit",
    "vous pouvez",
    "pouvez-vous",
    "si vous",
    "sauf si vous",
    "vos droits",
)

# Words that, in the same sentence, say a dispute is over ("the dispute I raised was sorted out").
RESOLVED_CUES: tuple[str, ...] = (
    "a été réglé",
    "a été réglée",
    "est réglé",
    "est réglée",
    "a été résolu",
    "a été résolue",
    "est résolu",
    "est résolue",
)

# Words that make a resolved cue in their sentence a condition still to be met (see en); a stem
# covers the elided form ("lorsqu'il", "jusqu'à").
CONDITIONAL_CUES: tuple[str, ...] = (
    "jusqu*",
    "avant",
    "tant que",
    "lorsqu*",
    "quand",
    "dès",
    "une fois",
    "si",
    "s'il",
    "à moins",
    "sauf si",
)

LETTER_MARKERS: tuple[str, ...] = ()
