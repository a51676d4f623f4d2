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
    "je ne dois rien": Kind.DISPUTE,
    "pas ma dette": Kind.DISPUTE,
    "je ne reconnais pas cette dette": Kind.DISPUTE,
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
    # usurpation d'identité
    "usurpation d'identité": Kind.IDENTITY_THEFT,
    "vol d'identité": Kind.IDENTITY_THEFT,
    "je n'ai jamais ouvert": Kind.IDENTITY_THEFT,
    "compte frauduleux": Kind.IDENTITY_THEFT,
    "fraude": Kind.IDENTITY_THEFT,
    # décès
    "est décédé": Kind.DECEASED,
    "est décédée": Kind.DECEASED,
    "décès": Kind.DECEASED,
    "acte de décès": Kind.DECEASED,
    "succession": Kind.DECEASED,
    # faillite / surendettement
    "faillite": Kind.BANKRUPTCY,
    "liquidation judiciaire": Kind.BANKRUPTCY,
    "redressement judiciaire": Kind.BANKRUPTCY,
    "surendettement": Kind.BANKRUPTCY,
    "procédure collective": Kind.BANKRUPTCY,
}

NEGATIONS_BEFORE: tuple[str, ...] = ("ne", "n'*", "pas", "jamais")
NEGATIONS_AFTER: tuple[str, ...] = ("pas", "jamais")

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

LETTER_MARKERS: tuple[str, ...] = ()
