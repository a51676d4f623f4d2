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
    "contestat*": Kind.DISPUTE,  # "l'importo contestato"
    "non riconosco": Kind.DISPUTE,
    "non devo nulla": Kind.DISPUTE,
    "il debito non è mio": Kind.DISPUTE,
    "disconosco": Kind.DISPUTE,
    "disconosciamo": Kind.DISPUTE,
    "non riconosciamo": Kind.DISPUTE,
    "debito a me sconosciuto": Kind.DISPUTE,
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
    "nostro assistito": Kind.ATTORNEY,
    "nostra assistita": Kind.ATTORNEY,
    "nostri assistiti": Kind.ATTORNEY,
    "miei assistiti": Kind.ATTORNEY,
    "legale del sig": Kind.ATTORNEY,
    "legale della sig": Kind.ATTORNEY,
    "legale del signor": Kind.ATTORNEY,
    "legale della signora": Kind.ATTORNEY,
    "nell'interesse del sig": Kind.ATTORNEY,
    "nell'interesse della sig": Kind.ATTORNEY,
    "nell'interesse del signor": Kind.ATTORNEY,
    "nell'interesse della signora": Kind.ATTORNEY,
    # the same words in our own letters name the creditor we collect for (NOT_IN_QUOTED)
    "il nostro cliente": Kind.ATTORNEY,
    "la nostra cliente": Kind.ATTORNEY,
    "il mio cliente": Kind.ATTORNEY,
    "la mia cliente": Kind.ATTORNEY,
    "in nome e per conto": Kind.ATTORNEY,
    "in qualità di legale": Kind.ATTORNEY,
    "quale legale": Kind.ATTORNEY,
    "scrivente studio": Kind.ATTORNEY,
    # furto d'identità
    "furto d'identità": Kind.IDENTITY_THEFT,
    "furto di identità": Kind.IDENTITY_THEFT,
    "sostituzione di persona": Kind.IDENTITY_THEFT,
    "non ho mai aperto": Kind.IDENTITY_THEFT,
    "frode": Kind.IDENTITY_THEFT,
    "furto della mia identità": Kind.IDENTITY_THEFT,
    "rubato la mia identità": Kind.IDENTITY_THEFT,
    "usato la mia identità": Kind.IDENTITY_THEFT,
    "utilizzato la mia identità": Kind.IDENTITY_THEFT,
    "vittima di una truffa": Kind.IDENTITY_THEFT,
    # decesso
    "è deceduto": Kind.DECEASED,
    "è deceduta": Kind.DECEASED,
    "è morto": Kind.DECEASED,
    "è morta": Kind.DECEASED,
    "certificato di morte": Kind.DECEASED,
    "decesso": Kind.DECEASED,
    "eredi": Kind.DECEASED,
    "decedut*": Kind.DECEASED,  # "mio marito, deceduto il 3 dicembre"
    "è scomparso": Kind.DECEASED,
    "è scomparsa": Kind.DECEASED,
    "venuto a mancare": Kind.DECEASED,
    "venuta a mancare": Kind.DECEASED,
    "morto il": Kind.DECEASED,
    "morta il": Kind.DECEASED,
    "defunt*": Kind.DECEASED,
    "vedova": Kind.DECEASED,
    "vedovo": Kind.DECEASED,
    "dichiarazione di successione": Kind.DECEASED,
    # fallimento / sovraindebitamento
    "fallimento": Kind.BANKRUPTCY,
    "procedura concorsuale": Kind.BANKRUPTCY,
    "sovraindebitamento": Kind.BANKRUPTCY,
    "liquidazione giudiziale": Kind.BANKRUPTCY,
    "esdebitazione": Kind.BANKRUPTCY,
}

NEGATIONS_BEFORE: tuple[str, ...] = ("non", "mai")
NEGATIONS_AFTER: tuple[str, ...] = ()

# Phrases our own letters use too, of the creditor we collect for (see en.NOT_IN_QUOTED).
NOT_IN_QUOTED: tuple[str, ...] = (
    "il nostro cliente",
    "la nostra cliente",
    "il mio cliente",
    "la mia cliente",
    "in nome e per conto",
    "in qualità di legale",
    "quale legale",
    "scrivente studio",
)

EXCEPTIONS: tuple[str, ...] = ()

# The writer stating the act now (see en.FIRST_PERSON): the verb's ending says who.
FIRST_PERSON: tuple[str, ...] = (
    "contesto",
    "contestiamo",
    "disconosco",
    "disconosciamo",
    "non riconosco",
    "non riconosciamo",
    "chiedo",
    "richiedo",
    "esigo",
    "non devo",
    "sono vittima",
    "sono stato vittima",
    "sono stata vittima",
    "non ho mai",
)
FILLERS: tuple[str, ...] = (
    "lo",
    "la",
    "li",
    "le",
    "formalmente",
    "espressamente",
    "pertanto",
    "quindi",
    "anche",
    "ancora",
    "integralmente",
    "totalmente",
)

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

# Words that make a resolved cue in their sentence a condition still to be met (see en).
CONDITIONAL_CUES: tuple[str, ...] = (
    "finché",
    "finchè",
    "fino a",
    "fintanto",
    "prima che",
    "prima",
    "quando",
    "una volta",
    "appena",
    "se",
    "a meno che",
    "sino a",
    "qualora",
)

LETTER_MARKERS: tuple[str, ...] = ()
