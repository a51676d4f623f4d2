"""Splitting the new text of a message from its quoted history, and the history into messages.

The quoted part is kept (payment dates and references often live there), only separated. One
header grammar, the tables below, serves both: how mail clients in English, German, French,
Spanish, Italian and Dutch introduce an earlier message (and, for the forms debtors abroad send
most, Portuguese, Swedish, Danish, Norwegian, Finnish and Polish).

- lines starting with ``>`` (any depth), wherever they are;
- a reply attribution (Gmail, Apple Mail, Thunderbird), also wrapped over two lines:
  ``On <date>, <name> wrote:``, ``Am … schrieb …:``, ``Le … a écrit :``, ``El … escribió:``,
  ``Il … ha scritto:``, ``Op … schreef …:`` / ``Op … heeft … het volgende geschreven:``;
- a separator: ``-----Original Message-----`` and ``---------- Forwarded message ---------``
  in each language (``Ursprüngliche Nachricht``, ``Message d'origine``, ``Mensaje original``,
  ``Messaggio originale``, ``Oorspronkelijk bericht`` …), or Apple Mail's ``Begin forwarded
  message:`` (``Anfang der weitergeleiteten Nachricht:``, ``Début du message réexpédié :`` …);
- an Outlook header block: a *from* line (``From:``, ``Von:``, ``De :``, ``Da:``, ``Van:``)
  followed within four lines by a *sent* or *date* line (``Sent:``, ``Gesendet:``,
  ``Envoyé :``, ``Enviado el:``, ``Inviato:``, ``Verzonden:``, ``Date:``, ``Fecha:`` …) and a
  *subject* line within twelve (wrapped To and Cc lists may stand between: ``Subject:``,
  ``Betreff:``, ``Objet :``, ``Asunto:``, ``Oggetto:``, ``Onderwerp:``, ``Assunto:``),
  optionally preceded by a line of underscores; in a language the tables do not know, the
  line of underscores followed by the sender's line (``Name <addr>``) and three more labelled
  lines, the first ones with the time (Czech ``Od:/Odesláno:``, Russian ``От:``, Turkish
  ``Kimden:`` …). Every mail client writes the subject; a pasted bank-transfer receipt
  (``De:/Para:/Fecha:/Importe:``) does not, and stays the debtor's new text with whatever they
  wrote under it.

:func:`split_quoted`: everything from the first header on is quoted; ``>`` lines before it are
quoted as well. :func:`quoted_messages` cuts the history at every header, where a *from* line
alone or any dashed rule is enough.

A subject starting with a reply or forward prefix (``Re:``, ``Fwd:``, ``Fw:``, ``AW:``,
``WG:``, ``TR:``, ``RV:``, ``SV:``, ``Antw:``, ``Enc:``, ``R:``, ``I:``, ``Odp:`` …, also
``Re[2]:``, after any gateway tags such as ``[EXTERNAL]``) is inherited from the earlier
message: :func:`inherited_subject` tells, and evidence found only there counts as history.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import chain, pairwise, zip_longest

# --- the header grammar, one entry per language ----------------------------------------------

# The time ("kl. 10:15", "às 10:15", "o 10:15") or an address, somewhere on the line.
_TIME_OR_ADDRESS = r"(?=.{0,500}?(?:\bkl\.?\s*\d|\bàs\s+\d|\bo\s+\d{1,2}[:.]\d{2}|\S@\S))"
# Reply attributions, as patterns: a name and a date sit between the words.
_ATTRIBUTIONS = {
    "en": r"on\b.{0,300}\bwrote\s*:",
    "de": r"am\b.{0,300}\bschrieb\b.{0,200}:",
    "fr": r"le\b.{0,300}\ba\s+écrit\s*:",
    "es": r"el\b.{0,300}\bescribió\s*:",
    "it": r"il\b.{0,300}\bha\s+scritto\s*:",
    "nl": r"op\b.{0,300}\b(?:schreef\b.{0,200}|het\s+volgende\s+geschreven\s*):",
    # "Den", "Em" and "Dnia" open ordinary sentences too: these need the time ("kl. 10:15",
    # "às 10:15", "o 10:15") or the address every mail program writes in them
    "sv/da/no": rf"den\b{_TIME_OR_ADDRESS}.{{0,300}}\bskrev\b.{{0,200}}:",
    # Thunderbird's "W dniu …", Gmail's "pon., 3 cze 2024 o 10:15 Anna <…> napisał(a):"
    "pl": rf"(?:w\s+dniu|dnia|pon|wt|śr|czw|pt|sob|niedz)\b{_TIME_OR_ADDRESS}.{{0,300}}"
    r"\bnapisał(?:a|\(a\))?\s*:",
    "pt": rf"(?:em|no\s+dia)\b{_TIME_OR_ADDRESS}.{{0,300}}\bescreveu\s*:",
}
# What stands between dashes: Outlook's original message, Gmail's forwarded message.
_SEPARATOR_TITLES = {
    "en": ("original message", "forwarded message"),
    "de": ("ursprüngliche nachricht", "weitergeleitete nachricht"),
    "fr": ("message d'origine", "message transféré"),
    "es": ("mensaje original", "mensaje reenviado"),
    "it": ("messaggio originale", "messaggio inoltrato"),
    "nl": ("oorspronkelijk bericht", "doorgestuurd bericht"),
    "pt": ("mensagem original", "mensagem encaminhada"),
    "sv": ("ursprungligt meddelande", "vidarebefordrat meddelande"),
    "da": ("oprindelig meddelelse", "videresendt meddelelse"),
    "no": ("opprinnelig melding", "videresendt melding"),
    "pl": ("oryginalna wiadomość", "wiadomość przekazana dalej", "przekazana wiadomość"),
    "fi": ("alkuperäinen viesti", "välitetty viesti"),
}
# Apple Mail's line above a forwarded message (followed by a colon).
_FORWARD_INTROS = {
    "en": ("begin forwarded message",),
    "de": ("anfang der weitergeleiteten nachricht", "anfang der weitergeleiteten e-mail"),
    "fr": ("début du message réexpédié", "début du message transféré"),
    "es": ("inicio del mensaje reenviado",),
    "it": ("inizio messaggio inoltrato",),
    "nl": ("begin doorgestuurd bericht",),
}
# The labels of an Outlook header block: (from, sent or date, subject). Desktop Outlook writes
# the sent label, Outlook for Mac, Apple Mail and web clients the date label; every one of them
# writes the subject line, which a pasted bank-transfer receipt ("De:/Para:/Fecha:/Importe:")
# does not have: without it the receipt, and the debtor's words under it, would be cut off as
# quoted history.
_BLOCK_LABELS = {
    "en": (("from",), ("sent", "date"), ("subject",)),
    "de": (("von",), ("gesendet", "datum"), ("betreff",)),
    "fr": (("de",), ("envoyé", "date"), ("objet",)),
    "es": (("de",), ("enviado el", "enviado", "fecha"), ("asunto",)),
    "it": (("da",), ("inviato", "data"), ("oggetto",)),
    "nl": (("van",), ("verzonden", "datum"), ("onderwerp",)),
    # Outlook's blocks in the languages of debtors abroad (only the block is read for them)
    "pt": (("de",), ("enviado", "enviada", "data"), ("assunto",)),
    "sv": (("från",), ("skickat", "datum"), ("ämne",)),
    "da/no": (("fra",), ("sendt", "dato"), ("emne",)),
    "fi": (("lähettäjä",), ("lähetetty", "päivämäärä"), ("aihe",)),
    "pl": (("od",), ("wysłano", "data"), ("temat",)),
}


def _alternation(phrases: Iterable[str]) -> str:
    """Phrases as one alternation, longest first, any spacing between their words."""
    unique = sorted(set(phrases), key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(word) for word in p.split()) for p in unique)


def _labels(role: int) -> str:
    """Every language's labels of one role of the block: 0 from, 1 sent or date, 2 subject."""
    return _alternation(label for roles in _BLOCK_LABELS.values() for label in roles[role])


_ATTRIBUTION_RE = re.compile(
    r"^\s*(?:" + "|".join(_ATTRIBUTIONS.values()) + r")\s*$", re.IGNORECASE
)
_SEPARATOR_RE = re.compile(
    rf"^\s*(?:-{{2,}}\s*(?:{_alternation(chain.from_iterable(_SEPARATOR_TITLES.values()))})"
    rf"\s*-{{2,}}|(?:{_alternation(chain.from_iterable(_FORWARD_INTROS.values()))})\s*:)",
    re.IGNORECASE,
)
# Optionally bold (``*From:*``), as Outlook's HTML reads when converted to text.
_FROM_RE = re.compile(rf"^\s*\*?(?:{_labels(0)})\s*:\*?(?:\s|$)", re.IGNORECASE)
_SENT_RE = re.compile(rf"^\s*\*?(?:{_labels(1)})\s*:", re.IGNORECASE)
_SUBJECT_RE = re.compile(rf"^\s*\*?(?:{_labels(2)})\s*:", re.IGNORECASE)
_UNDERSCORES_RE = re.compile(r"^\s*_{10,}\s*$")
_DASHED_RULE_RE = re.compile(r"^\s*-{2,}.*-{2,}\s*$")  # any language's "-----…-----"
_QUOTE_PREFIX_RE = re.compile(r"^[ \t>]*")
# What mail programs write before a subject they answer or forward, by language: English,
# German (AW, WG), French (TR), Spanish (RV), Scandinavian (SV, VS, VB, VL), Dutch (Antw),
# Portuguese (ENC, RES), Italian (R, I), Polish (Odp, PD), Turkish (YNT, İLT), Greek,
# Russian, Chinese and Japanese; and the tags a mail gateway puts in front ("[EXTERNAL]",
# "[SPAM]", "EXT:", "*External*"), any number of them.
_REPLY_PREFIXES = (
    # an out-of-office reply quotes our subject too ("Automatic reply: Your right to dispute …")
    "automatic reply|auto(?:matic)?[ -]?re(?:ply|sponse)|out of office(?: autoreply)?"
    "|automatische antwort|abwesenheitsnotiz|r[ée]ponse automatique|respuesta autom[áa]tica"
    "|risposta automatica|automatisch antwoord|resposta autom[áa]tica|odpowied[źz] automatyczna"
    "|autosvar|automatisk svar|"
    "re|fwd?|aw|wg|tr|rv|sv|svar|vs|vb|vl|antw|enc|res|r|i|odp|pd|ynt|i̇lt|ilt"
    "|απ|σχετ|πρθ|отв|ответ|пересл|fwd|回复|回覆|答复|转发|轉寄|返信|転送"
)
_GATEWAY_TAG = r"(?:\[[^\]\n]{1,40}\]|\*{1,3}[a-z ]{1,20}\*{1,3}|ext(?:ernal)?\s*:)"
_INHERITED_SUBJECT_RE = re.compile(
    # the tags' repeat is atomic: "***" can end one tag or open the next, and a subject that
    # fails must not try every split of a run of them
    rf"^\W{{0,3}}(?>{_GATEWAY_TAG}\s*)*(?:{_REPLY_PREFIXES})\s*(?:\[\d+\]|\(\d+\))?\s*[:：]",
    re.IGNORECASE,
)

# --- reading lines with it ---------------------------------------------------------------------


def _is_outlook_header(lines: list[str], index: int) -> bool:
    """A *from* line followed by a *sent* or *date* line within four lines and a *subject*
    line within twelve: To and Cc lists wrapped at 76 characters may stand between."""
    if not _FROM_RE.match(lines[index]):
        return False
    return any(_SENT_RE.match(line) for line in lines[index + 1 : index + 5]) and any(
        _SUBJECT_RE.match(line) for line in lines[index + 1 : index + 13]
    )


def _is_attribution(line: str, following: str) -> bool:
    """A reply attribution on ``line``, or starting on it and wrapped onto ``following``."""
    if _ATTRIBUTION_RE.match(line):
        return True
    if not line.strip() or len(line) >= 300 or _ATTRIBUTION_RE.match(following):
        # a line above a whole attribution is not its first half: "Il pagamento è fatto."
        # above "Il giorno … ha scritto:" stays the writer's own words
        return False
    return _ATTRIBUTION_RE.match(f"{line} {following}") is not None


def _header_start(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if line.lstrip().startswith(">"):
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if following.lstrip().startswith(">"):  # an attribution is not wrapped onto a quote
            following = ""
        if _SEPARATOR_RE.match(line) or _is_attribution(line, following):
            return index
        if _is_outlook_header(lines, index):
            previous = index - 1
            if previous >= 0 and _UNDERSCORES_RE.match(lines[previous]):
                return previous
            return index
        if _is_labelled_block(lines, index):
            return index
    return None


_LABEL_LINE_RE = re.compile(r"^\s*\*?[^\W\d_][^\W\d_ .-]{0,24}(?: [^\W\d_]{1,24})?\s*:\*?(?:\s|$)")


_SENDER_ADDRESS_RE = re.compile(r"<[^<>@\s]+@[^<>\s]+>|\[mailto:[^\]\s]+@[^\]\s]+\]")
_CLOCK_RE = re.compile(r"(?<!\d)\d{1,2}[:.]\d{2}(?!\d)")


def _is_labelled_block(lines: list[str], index: int) -> bool:
    """Outlook's block in a language the tables above do not know (Czech ``Od:/Odesláno:``,
    Russian ``От:/Отправлено:``, Turkish ``Kimden:/Gönderildi:`` …): its line of underscores,
    then the sender's line with the address as Outlook writes it (``Name <addr>``, ``[mailto:
    addr]``), and its sent, to and subject lines, the sent one with the time. A pasted receipt
    or form (``Paid to: payments@…``, ``Amount:``, ``Date:``) has neither."""
    if not _UNDERSCORES_RE.match(lines[index]):
        return False
    block = [line for line in lines[index + 1 : index + 10] if line.strip()]
    if not block or not _LABEL_LINE_RE.match(block[0]):
        return False
    if not _SENDER_ADDRESS_RE.search(block[0]):
        return False
    labelled = [line for line in block[1:8] if _LABEL_LINE_RE.match(line)]
    return len(labelled) >= 3 and any(_CLOCK_RE.search(line) for line in labelled[:2])


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted history) of a plain-text body; either may be empty."""
    lines = text.splitlines()
    start = _header_start(lines)
    head, tail = (lines, []) if start is None else (lines[:start], lines[start:])
    new_lines: list[str] = []
    quoted_lines: list[str] = []
    for line in head:
        (quoted_lines if line.lstrip().startswith(">") else new_lines).append(line)
    quoted_lines.extend(tail)
    return "\n".join(new_lines).strip(), "\n".join(quoted_lines).strip()


def _starts_message(line: str, following: str) -> bool:
    return bool(
        _FROM_RE.match(line)
        or _SEPARATOR_RE.match(line)
        or _DASHED_RULE_RE.match(line)
        or _UNDERSCORES_RE.match(line)
        or _is_attribution(line, following)
    )


def quoted_messages(quoted: str) -> list[str]:
    """The quoted history cut into its messages, at each reply or forward header.

    Within the history a *from* line or a dashed rule alone starts a message: a cut too many
    only shortens a message, while a cut too few can put the debtor's own words in one piece
    with the collector's letter they quote, and that whole piece is then set aside.
    """
    lines = quoted.splitlines(keepends=True)
    bare = [_QUOTE_PREFIX_RE.sub("", line.rstrip("\r\n")) for line in lines]
    starts = [
        i
        for i, pair in enumerate(zip_longest(bare, bare[1:], fillvalue=""))
        if _starts_message(*pair)
    ]
    pieces = ("".join(lines[a:b]) for a, b in pairwise([0, *starts, len(lines)]))
    return [piece for piece in pieces if piece.strip()]


def inherited_subject(subject: str) -> bool:
    """Whether ``subject`` is a reply's or forward's (``Re: …``, ``Fwd: …``, ``AW: …``)."""
    return _INHERITED_SUBJECT_RE.match(subject) is not None
