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
    "no debo": Kind.DISPUTE,
    "no reconozco esta deuda": Kind.DISPUTE,
    "no reconozco la deuda": Kind.DISPUTE,
    "no es mi deuda": Kind.DISPUTE,
    "rechazo la deuda": Kind.DISPUTE,
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
    # robo de identidad
    "robo de identidad": Kind.IDENTITY_THEFT,
    "suplantación de identidad": Kind.IDENTITY_THEFT,
    "usurpación de identidad": Kind.IDENTITY_THEFT,
    "nunca abrí": Kind.IDENTITY_THEFT,
    "cuenta fraudulenta": Kind.IDENTITY_THEFT,
    # fallecimiento
    "falleció": Kind.DECEASED,
    "ha fallecido": Kind.DECEASED,
    "fallecimiento": Kind.DECEASED,
    "certificado de defunción": Kind.DECEASED,
    "acta de defunción": Kind.DECEASED,
    "herederos": Kind.DECEASED,
    # concurso / quiebra
    "concurso de acreedores": Kind.BANKRUPTCY,
    "quiebra": Kind.BANKRUPTCY,
    "insolvencia": Kind.BANKRUPTCY,
    "ley de segunda oportunidad": Kind.BANKRUPTCY,
}

NEGATIONS_BEFORE: tuple[str, ...] = ("no", "nunca")
NEGATIONS_AFTER: tuple[str, ...] = ()

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

LETTER_MARKERS: tuple[str, ...] = ()
