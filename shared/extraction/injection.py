"""Cheap detection of prompt-injection attempts and invisible characters in email text.

Detection only flags; it never removes text (the extractor must still see what was written).
The pipeline uses the ``injection_suspected`` warning to keep such an email away from automatic,
money-moving changes. :func:`injection_sites` says *where* phrases were seen, as location kinds
(:data:`SITES`) that are safe to log and report; the matched text never leaves this module.
"""

from __future__ import annotations

import re

from shared.extraction.models import ParsedEmail

# Characters that render as nothing or reorder text: a known channel for hidden instructions.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u034f"
BIDI_CONTROLS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"
_ZERO_WIDTH_RE = re.compile(f"[{ZERO_WIDTH}]")
_BIDI_RE = re.compile(f"[{BIDI_CONTROLS}]")
_TAG_CHARS_RE = re.compile("[\U000e0000-\U000e007f]")  # Unicode "tag" characters (ASCII smuggling)
# Lone surrogates: what a UTF-7 or unicode-escape part can decode to. They are no text: no
# encoder takes them (the model's request, a Postgres row), so each becomes U+FFFD.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD."""
    return _SURROGATE_RE.sub("\ufffd", text) if _SURROGATE_RE.search(text) else text


def strip_invisible(text: str) -> tuple[str, set[str]]:
    """``text`` without zero-width, bidi-control and tag characters, plus the signals found
    (and without lone surrogates, :func:`without_surrogates`)."""
    text = without_surrogates(text)
    signals: set[str] = set()
    if _ZERO_WIDTH_RE.search(text):
        signals.add("zero_width_chars")
        text = _ZERO_WIDTH_RE.sub("", text)
    if _BIDI_RE.search(text):
        signals.add("bidi_control_chars")
        text = _BIDI_RE.sub("", text)
    if _TAG_CHARS_RE.search(text):
        signals.add("unicode_tag_chars")
        text = _TAG_CHARS_RE.sub("", text)
    return text, signals


_PATTERNS = [
    # "ignore (all) (your|the) previous/prior/above instructions", "disregard the system prompt"
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}?"
    r"\b(?:instructions?|prompts?|rules|guidelines|directives|system\s+prompt)\b",
    r"\b(?:you\s+are\s+now|act\s+as|pretend\s+to\s+be|new\s+instructions?\s*:)",
    # "mark this account (as) paid", "set the balance to 0", "close the account"
    r"\bmark\b[^.\n]{0,40}?\b(?:as\s+)?(?:paid|settled|closed|resolved|cleared)\b",
    r"\b(?:set|change|update|reduce)\b[^.\n]{0,30}?\bbalance\b[^.\n]{0,20}?\bto\s+(?:0|zero)\b",
    r"\b(?:delete|erase|wipe)\b[^.\n]{0,30}?\b(?:debt|account|record|balance)s?\b",
    # fake chat/role delimiters (spaces, not line breaks, before the role: every line break
    # tries this, and "\s*" there read all the blank lines after it, quadratic in their number)
    r"(?:^|\n)[ \t]*(?:system|assistant|developer)\s*:",
    r"</?\s*(?:system|instructions?|untrusted_email|tool_use|function_calls?)\b",
    # the prompt's own markers (shared.extraction.prompt), written as tags: "</email>", "<quoted>"
    r"<\s*/?\s*(?:email|quoted|attachment)\s*>",
    r"\[/?(?:INST|SYS)\]|<\|(?:im_start|im_end|system|endoftext)\|>",
    r"\b(?:as\s+an?\s+ai|language\s+model|the\s+ai\s+(?:reading|processing))\b",
    r"\b(?:call|use|invoke)\s+the\s+(?:tool|function)\b",
    # a few non-English variants
    r"\b(?:ignoriere|vergiss)\b[^.\n]{0,40}?\b(?:anweisungen|instruktionen|regeln)\b",
    r"\b(?:ignore[rz]|oublie[rz]?)\b[^.\n]{0,40}?\b(?:instructions|consignes|règles)\b",
    r"\b(?:ignora|olvida)\b[^.\n]{0,40}?\b(?:instrucciones|reglas)\b",
]
# "\b" written once before the patterns that begin at a word: every text of every email is
# read, and a position inside a word then fails one check instead of one per pattern. The
# others begin with a line break, "<" or "[", where no word begins: the order between the two
# sets decides nothing.
_WORD_LED = [p.removeprefix(r"\b") for p in _PATTERNS if p.startswith(r"\b")]
_OTHERS = [p for p in _PATTERNS if not p.startswith(r"\b")]
_INJECTION_RE = re.compile(
    r"\b(?:"
    + "|".join(f"(?:{p})" for p in _WORD_LED)
    + ")|"
    + "|".join(f"(?:{p})" for p in _OTHERS),
    re.IGNORECASE,
)


def injection_markers(text: str) -> int:
    """How many injection-like phrases ``text`` holds (0 means none seen)."""
    return sum(1 for _ in _INJECTION_RE.finditer(text))


def looks_like_injection(text: str) -> bool:
    return _INJECTION_RE.search(text) is not None


# Where an injection can sit, in the order they are reported. Safe to log: kinds, never text.
SITES = (
    "subject",
    "sender_name",
    "body",
    "quoted_text",
    "hidden_html",
    "attachment_text",
    "attachment_filename",
)

_FILENAME_SEPARATORS = re.compile(r"[_.+]+|%20")
_CAMEL_CASE = re.compile(r"(?<=[a-z])(?=[A-Z])")


def filename_words(filename: str) -> str:
    """A filename as the words it spells (``ignore_previous-instructions.txt``, dots, ``+``,
    ``%20`` and camelCase split), so the phrase rules read it as they read text."""
    return _CAMEL_CASE.sub(" ", _FILENAME_SEPARATORS.sub(" ", filename))


def injection_sites(email: ParsedEmail) -> tuple[str, ...]:
    """The kinds of place (from :data:`SITES`) where ``email`` holds injection phrases.

    Everything that reaches the model is read with the same rules: the subject, the sender's
    display name, the new and the quoted text, hidden HTML (flagged while parsing), the text
    read from attachments (PDF and text files) and the attachments' filenames."""
    found = {
        "subject": looks_like_injection(email.subject),
        "sender_name": looks_like_injection(email.sender_name or ""),
        "body": looks_like_injection(email.text),
        "quoted_text": looks_like_injection(email.quoted_text),
        "hidden_html": "injection_in_hidden_text" in email.signals,
        "attachment_text": any(looks_like_injection(a.text) for a in email.attachments if a.text),
        "attachment_filename": any(
            looks_like_injection(filename_words(a.filename)) for a in email.attachments
        ),
    }
    return tuple(site for site in SITES if found[site])
