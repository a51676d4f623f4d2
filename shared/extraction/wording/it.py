"""Italian compliance wording: phrase → kind (how to read it: :mod:`shared.extraction.wording`)."""

from shared.extraction.wording.kinds import Kind

PHRASES: dict[str, Kind] = {
    # prova del debito
    "prova del debito": Kind.VALIDATION_REQUEST,
    "prova del credito": Kind.VALIDATION_REQUEST,
    "dimostrare il debito": Kind.VALIDATION_REQUEST,
    "dimostrate il debito": Kind.VALIDATION_REQUEST,
    "documentazione del debito": Kind.VALIDATION_REQUEST,
    "documentazione comprovante": Kind.VALIDATION_REQUEST,
    "verifica del debito": Kind.VALIDATION_REQUEST,
    # contestazione
    "contesto": Kind.DISPUTE,
    "contestiamo": Kind.DISPUTE,
    "contestazione": Kind.DISPUTE,
    "non riconosco": Kind.DISPUTE,
    "non devo nulla": Kind.DISPUTE,
    "il debito non è mio": Kind.DISPUTE,
    "disconosco": Kind.DISPUTE,
    # cessazione dei contatti / del recupero
    "smettete di contattar*": Kind.CEASE,
    "smetta di contattar*": Kind.CEASE,
    "smettete di chiamar*": Kind.CEASE,
    "non contattatemi più": Kind.CEASE,
    "non mi contattate più": Kind.CEASE,
    "non contattarmi più": Kind.CEASE,
    "lasciatemi in pace": Kind.CEASE,
    "molestie": Kind.CEASE,
    "cessate ogni comunicazione": Kind.CEASE,
    "cessare ogni contatto": Kind.CEASE,
    "interrompete ogni comunicazione": Kind.CEASE,
    "sospendere il recupero": Kind.STOP_COLLECTION,
    "interrompete il recupero": Kind.STOP_COLLECTION,
    "vi diffido": Kind.CEASE,
    # avvocato
    "il mio avvocato": Kind.ATTORNEY,
    "mio legale": Kind.ATTORNEY,
    "rappresento": Kind.ATTORNEY,
    "rappresentiamo": Kind.ATTORNEY,
    "ho un avvocato": Kind.ATTORNEY,
    "ho incaricato un avvocato": Kind.ATTORNEY,
    "mio assistito": Kind.ATTORNEY,
    "mia assistita": Kind.ATTORNEY,
    # furto d'identità
    "furto d'identità": Kind.IDENTITY_THEFT,
    "furto di identità": Kind.IDENTITY_THEFT,
    "sostituzione di persona": Kind.IDENTITY_THEFT,
    "non ho mai aperto": Kind.IDENTITY_THEFT,
    "frode": Kind.IDENTITY_THEFT,
    # decesso
    "è deceduto": Kind.DECEASED,
    "è deceduta": Kind.DECEASED,
    "è morto": Kind.DECEASED,
    "è morta": Kind.DECEASED,
    "certificato di morte": Kind.DECEASED,
    "decesso": Kind.DECEASED,
    "eredi": Kind.DECEASED,
    # fallimento / sovraindebitamento
    "fallimento": Kind.BANKRUPTCY,
    "procedura concorsuale": Kind.BANKRUPTCY,
    "sovraindebitamento": Kind.BANKRUPTCY,
    "liquidazione giudiziale": Kind.BANKRUPTCY,
    "esdebitazione": Kind.BANKRUPTCY,
}

NEGATIONS_BEFORE: tuple[str, ...] = ("non", "mai")
NEGATIONS_AFTER: tuple[str, ...] = ()

NOTICE_CUES: tuple[str, ...] = (
    "ha il diritto",
    "ha diritto",
    "lei può",
    "se lei",
    "qualora",
    "i suoi diritti",
)

# Words that, in the same sentence, say a dispute is over ("the dispute I raised was sorted out").
RESOLVED_CUES: tuple[str, ...] = (
    "è stata risolta",
    "è stato risolto",
    "è risolta",
    "si è risolta",
    "è stata chiusa",
)

LETTER_MARKERS: tuple[str, ...] = ()
