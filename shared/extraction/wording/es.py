"""Spanish compliance wording: phrase → kind (how to read it: :mod:`shared.extraction.wording`)."""

from shared.extraction.wording.kinds import Kind

PHRASES: dict[str, Kind] = {
    # validación de la deuda
    "validación de la deuda": Kind.VALIDATION_REQUEST,
    "verificación de la deuda": Kind.VALIDATION_REQUEST,
    "acreditar la deuda": Kind.VALIDATION_REQUEST,
    "acrediten la deuda": Kind.VALIDATION_REQUEST,
    "demuestren la deuda": Kind.VALIDATION_REQUEST,
    "prueba de la deuda": Kind.VALIDATION_REQUEST,
    "pruebas de la deuda": Kind.VALIDATION_REQUEST,
    "justificante de la deuda": Kind.VALIDATION_REQUEST,
    # disputa
    "disputo": Kind.DISPUTE,
    "disputa": Kind.DISPUTE,
    "impugno": Kind.DISPUTE,
    "impugnamos": Kind.DISPUTE,
    "impugnación": Kind.DISPUTE,
    "disputamos": Kind.DISPUTE,
    "no debo": Kind.DISPUTE,
    "no reconozco esta deuda": Kind.DISPUTE,
    "no reconozco la deuda": Kind.DISPUTE,
    "no es mi deuda": Kind.DISPUTE,
    "rechazo la deuda": Kind.DISPUTE,
    "no reconozco … deuda": Kind.DISPUTE,
    "no reconozco … cargo*": Kind.DISPUTE,
    "no reconozco … importe": Kind.DISPUTE,
    "no reconocemos … deuda": Kind.DISPUTE,
    "desconozco … deuda": Kind.DISPUTE,
    # cese de comunicaciones / del cobro
    "dejen de contactar*": Kind.CEASE,
    "deje de contactar*": Kind.CEASE,
    "dejen de llamar*": Kind.CEASE,
    "deje de llamar*": Kind.CEASE,
    "no me contacten": Kind.CEASE,
    "no me llamen": Kind.CEASE,
    "no vuelvan a contactar*": Kind.CEASE,
    "dejen de molestar*": Kind.CEASE,
    "acoso": Kind.CEASE,
    "cese de toda comunicación": Kind.CEASE,
    "cesen toda comunicación": Kind.CEASE,
    "cese del cobro": Kind.STOP_COLLECTION,
    "detengan el cobro": Kind.STOP_COLLECTION,
    "suspendan el cobro": Kind.STOP_COLLECTION,
    # abogado
    "mi abogado": Kind.ATTORNEY,
    "mi abogada": Kind.ATTORNEY,
    "representamos a": Kind.ATTORNEY,
    "represento a": Kind.ATTORNEY,
    "tengo un abogado": Kind.ATTORNEY,
    "mi representante legal": Kind.ATTORNEY,
    "mi representado": Kind.ATTORNEY,
    "mi representada": Kind.ATTORNEY,
    # the same words in our own letters name the creditor we collect for (NOT_IN_QUOTED)
    "como abogado de": Kind.ATTORNEY,
    "como abogada de": Kind.ATTORNEY,
    "soy el abogado": Kind.ATTORNEY,
    "soy la abogada": Kind.ATTORNEY,
    "somos los abogados": Kind.ATTORNEY,
    "nuestro cliente": Kind.ATTORNEY,
    "nuestra cliente": Kind.ATTORNEY,
    "nuestra clienta": Kind.ATTORNEY,
    "mi cliente": Kind.ATTORNEY,
    "mi clienta": Kind.ATTORNEY,
    "nuestro representado": Kind.ATTORNEY,
    "nuestra representada": Kind.ATTORNEY,
    "en nombre y representación": Kind.ATTORNEY,
    "actuamos en nombre": Kind.ATTORNEY,
    "actuamos en representación": Kind.ATTORNEY,
    "en calidad de abogado": Kind.ATTORNEY,
    # robo de identidad
    "robo de identidad": Kind.IDENTITY_THEFT,
    "suplantación de identidad": Kind.IDENTITY_THEFT,
    "usurpación de identidad": Kind.IDENTITY_THEFT,
    "nunca abrí": Kind.IDENTITY_THEFT,
    "cuenta fraudulenta": Kind.IDENTITY_THEFT,
    "fraude de identidad": Kind.IDENTITY_THEFT,
    "suplantaron mi identidad": Kind.IDENTITY_THEFT,
    "usaron mi identidad": Kind.IDENTITY_THEFT,
    "robaron mi identidad": Kind.IDENTITY_THEFT,
    "robo de mi identidad": Kind.IDENTITY_THEFT,
    "suplantación de mi identidad": Kind.IDENTITY_THEFT,
    "víctima de fraude": Kind.IDENTITY_THEFT,
    # fallecimiento
    "falleció": Kind.DECEASED,
    "ha fallecido": Kind.DECEASED,
    "fallecimiento": Kind.DECEASED,
    "certificado de defunción": Kind.DECEASED,
    "acta de defunción": Kind.DECEASED,
    "herederos": Kind.DECEASED,
    "fallecid*": Kind.DECEASED,  # "mi esposo, fallecido el 3 de diciembre"
    "murió": Kind.DECEASED,
    "ha muerto": Kind.DECEASED,
    "defunción": Kind.DECEASED,
    "difunt*": Kind.DECEASED,
    "viuda": Kind.DECEASED,
    "viudo": Kind.DECEASED,
    "albacea": Kind.DECEASED,
    "la herencia": Kind.DECEASED,
    # concurso / quiebra
    "concurso de acreedores": Kind.BANKRUPTCY,
    "quiebra": Kind.BANKRUPTCY,
    "insolvencia": Kind.BANKRUPTCY,
    "ley de segunda oportunidad": Kind.BANKRUPTCY,
}

NEGATIONS_BEFORE: tuple[str, ...] = ("no", "nunca")
NEGATIONS_AFTER: tuple[str, ...] = ()

# Phrases our own letters use too, of the creditor we collect for (see en.NOT_IN_QUOTED).
NOT_IN_QUOTED: tuple[str, ...] = (
    "como abogado de",
    "como abogada de",
    "soy el abogado",
    "soy la abogada",
    "somos los abogados",
    "nuestro cliente",
    "nuestra cliente",
    "nuestra clienta",
    "mi cliente",
    "mi clienta",
    "nuestro representado",
    "nuestra representada",
    "en nombre y representación",
    "actuamos en nombre",
    "actuamos en representación",
    "en calidad de abogado",
)

EXCEPTIONS: tuple[str, ...] = ()

# The writer stating the act now (see en.FIRST_PERSON): the verb's ending says who.
FIRST_PERSON: tuple[str, ...] = (
    "disputo",
    "disputamos",
    "impugno",
    "impugnamos",
    "rechazo",
    "rechazamos",
    "solicito",
    "exijo",
    "pido",
    "no reconozco",
    "no reconocemos",
    "desconozco",
    "no debo",
    "soy víctima",
    "fui víctima",
    "he sido víctima",
    "nunca abrí",
)
FILLERS: tuple[str, ...] = (
    "la",
    "lo",
    "las",
    "los",
    "formalmente",
    "expresamente",
    "también",
    "totalmente",
    "además",
)

NOTICE_CUES: tuple[str, ...] = (
    "tiene derecho",
    "usted puede",
    "puede usted",
    "si usted",
    "sus derechos",
)

# Words that, in the same sentence, say a dispute is over ("the dispute I raised was sorted out").
RESOLVED_CUES: tuple[str, ...] = (
    "se resolvió",
    "fue resuelta",
    "está resuelta",
    "quedó resuelta",
    "se solucionó",
)

# Words that make a resolved cue in their sentence a condition still to be met (see en).
CONDITIONAL_CUES: tuple[str, ...] = (
    "hasta",
    "antes",
    "cuando",
    "una vez",
    "en cuanto",
    "mientras",
    "si",
    "salvo que",
    "a menos que",
    "tan pronto",
)

LETTER_MARKERS: tuple[str, ...] = ()
