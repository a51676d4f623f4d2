"""Cheap detection of prompt-injection attempts and invisible characters in email text.

Detection only flags; it never removes text (the extractor must still see what was written).
The pipeline uses the ``injection_suspected`` warning to keep such an email away from automatic,
money-moving changes.
"""

from __future__ import annotations

import re

# Characters that render as nothing or reorder text: a known channel for hidden instructions.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u034f"
BIDI_CONTROLS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"
_ZERO_WIDTH_RE = re.compile(f"[{ZERO_WIDTH}]")
_BIDI_RE = re.compile(f"[{BIDI_CONTROLS}]")
_TAG_CHARS_RE = re.compile("[\U000e0000-\U000e007f]")  # Unicode "tag" characters (ASCII smuggling)


def strip_invisible(text: str) -> tuple[str, set[str]]:
    """``text`` without zero-width, bidi-control and tag characters, plus the signals found."""
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
    # fake chat/role delimiters
    r"(?:^|\n)\s*(?:system|assistant|developer)\s*:",
    r"</?\s*(?:system|instructions?|untrusted_email|tool_use|function_calls?)\b",
    r"\[/?(?:INST|SYS)\]|<\|(?:im_start|im_end|system|endoftext)\|>",
    r"\b(?:as\s+an?\s+ai|language\s+model|the\s+ai\s+(?:reading|processing))\b",
    r"\b(?:call|use|invoke)\s+the\s+(?:tool|function)\b",
    # a few non-English variants
    r"\b(?:ignoriere|vergiss)\b[^.\n]{0,40}?\b(?:anweisungen|instruktionen|regeln)\b",
    r"\b(?:ignore[rz]|oublie[rz]?)\b[^.\n]{0,40}?\b(?:instructions|consignes|règles)\b",
    r"\b(?:ignora|olvida)\b[^.\n]{0,40}?\b(?:instrucciones|reglas)\b",
]
_INJECTION_RE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


def injection_markers(text: str) -> int:
    """How many injection-like phrases ``text`` holds (0 means none seen)."""
    return sum(1 for _ in _INJECTION_RE.finditer(text))


def looks_like_injection(text: str) -> bool:
    return _INJECTION_RE.search(text) is not None
