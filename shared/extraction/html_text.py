"""HTML to plain text for extraction, dropping what a reader would not see.

Hidden content is a known prompt-injection channel: text in ``<script>``/``<style>``, elements
with the ``hidden`` attribute, ``display:none``, ``visibility:hidden``, ``font-size:0``,
``opacity:0``, zero-size boxes with ``overflow:hidden``, and text whose colour equals its
background (white on white) is dropped and collected separately so it can be inspected for
injection phrases. ``<blockquote>`` content is prefixed with ``> `` so the quote splitter keeps
it apart from the new text. Built on the standard library's tolerant :mod:`html.parser`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

_DROP_TAGS = frozenset({"script", "style", "head", "title", "template", "object", "iframe", "svg"})
_VOID_TAGS = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "param", "source", "track", "wbr",
    }
)  # fmt: skip
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
        "fieldset", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "thead",
        "tfoot", "tr", "ul",
    }
)  # fmt: skip
_CELL_TAGS = frozenset({"td", "th"})
# Tags a new sibling of the same name closes implicitly (``<p>a<p>b``).
_SELF_CLOSING_SIBLINGS = frozenset({"p", "li", "td", "th", "tr", "option", "dt", "dd"})
_MAX_DEPTH = 512

_ZERO_SIZE = re.compile(r"^0(?:\.0+)?(?:px|pt|em|rem|%)?$")
_NAMED_COLOURS = {"white": "#ffffff", "black": "#000000"}


def _normalise_colour(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().lower().replace(" ", "").removesuffix("!important")
    value = _NAMED_COLOURS.get(value, value)
    if re.fullmatch(r"#[0-9a-f]{3}", value):
        value = "#" + "".join(c * 2 for c in value[1:])
    match = re.fullmatch(r"rgba?\((\d+),(\d+),(\d+)(?:,[\d.]+)?\)", value)
    if match:
        value = "#" + "".join(f"{min(int(g), 255):02x}" for g in match.groups())
    return value or None


def _parse_style(style: str) -> dict[str, str]:
    declarations: dict[str, str] = {}
    for item in style.split(";"):
        name, sep, value = item.partition(":")
        if sep:
            declarations[name.strip().lower()] = value.strip().lower()
    return declarations


@dataclass
class _Element:
    tag: str
    hidden: bool
    dropped: bool  # inside script/style/head…: never text, not counted as hidden
    background: str | None
    colour: str | None
    quote: bool


def _is_hidden_by_style(style: dict[str, str]) -> bool:
    def value(name: str) -> str:
        return style.get(name, "").removesuffix("!important").strip()

    if value("display") == "none" or value("visibility") in ("hidden", "collapse"):
        return True
    if _ZERO_SIZE.match(value("font-size")) or value("opacity") in ("0", "0.0", "0%"):
        return True
    zero_box = _ZERO_SIZE.match(value("height")) or _ZERO_SIZE.match(value("max-height"))
    zero_box = zero_box or _ZERO_SIZE.match(value("width")) or _ZERO_SIZE.match(value("max-width"))
    return bool(zero_box and value("overflow") == "hidden")


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[_Element] = []
        self.chunks: list[tuple[str, bool]] = []  # (text, inside a blockquote)
        self.hidden_chunks: list[str] = []
        self.hidden_found = False

    # -- state of the innermost open element --------------------------------
    def _top(self) -> _Element:
        if self.stack:
            return self.stack[-1]
        return _Element(
            "", hidden=False, dropped=False, background="#ffffff", colour=None, quote=False
        )

    def _newline(self) -> None:
        self.chunks.append(("\n", self._top().quote))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if (
            tag in _SELF_CLOSING_SIBLINGS
            and self.stack
            and self.stack[-1].tag == tag
            and tag not in ("td", "th")
        ):
            self._close(tag)
        parent = self._top()
        attributes = {name.lower(): (value or "") for name, value in attrs}
        style = _parse_style(attributes.get("style", ""))
        hidden_here = (
            "hidden" in attributes
            or (tag == "input" and attributes.get("type", "").lower() == "hidden")
            or _is_hidden_by_style(style)
        )
        background = (
            _normalise_colour(style.get("background-color"))
            or _normalise_colour(style.get("background"))
            or _normalise_colour(attributes.get("bgcolor"))
            or parent.background
        )
        colour = (
            _normalise_colour(style.get("color"))
            or _normalise_colour(attributes.get("color"))
            or parent.colour
        )
        element = _Element(
            tag,
            hidden=parent.hidden or hidden_here,
            dropped=parent.dropped or tag in _DROP_TAGS,
            background=background,
            colour=colour,
            quote=parent.quote or tag == "blockquote",
        )
        if tag in _BLOCK_TAGS or tag == "br":
            self._newline()
        elif tag in _CELL_TAGS:
            self.chunks.append(("\t", parent.quote))
        if tag == "img" and not (element.hidden or element.dropped):
            alt = attributes.get("alt", "").strip()
            if alt:
                self.chunks.append((f" {alt} ", element.quote))
        if tag not in _VOID_TAGS and len(self.stack) < _MAX_DEPTH:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS and self.stack and self.stack[-1].tag == tag:
            self.stack.pop()

    def _close(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_endtag(self, tag: str) -> None:
        self._close(tag)
        if tag in _BLOCK_TAGS:
            self._newline()

    def handle_data(self, data: str) -> None:
        top = self._top()
        if top.dropped:
            return
        text = re.sub(r"\s+", " ", data)
        if not text.strip():
            if text and self.chunks and not self.chunks[-1][0].endswith((" ", "\n", "\t")):
                self.chunks.append((" ", top.quote))
            return
        invisible = top.colour is not None and top.colour == top.background
        if top.hidden or invisible:
            self.hidden_found = True
            self.hidden_chunks.append(text)
            return
        self.chunks.append((text, top.quote))

    def result(self) -> str:
        lines: list[str] = []
        current: list[str] = []
        quoted = False
        for text, in_quote in self.chunks:
            parts = text.split("\n")
            for index, part in enumerate(parts):
                if index > 0:
                    lines.append(_finish_line(current, quoted))
                    current, quoted = [], False
                if part.strip():
                    quoted = quoted or in_quote
                current.append(part)
        lines.append(_finish_line(current, quoted))
        return _squeeze_blank_lines(lines)


def _finish_line(parts: list[str], quoted: bool) -> str:
    line = re.sub(r"[ \t]+", " ", "".join(parts)).strip()
    return f"> {line}" if quoted and line else line


def _squeeze_blank_lines(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip()


@dataclass(frozen=True)
class HtmlText:
    text: str
    hidden_text: str  # what was hidden from the reader (for injection checks, never shown)
    hidden_found: bool


def html_to_text(html: str) -> HtmlText:
    """Visible text of ``html``; never raises on malformed markup."""
    converter = _Converter()
    converter.feed(html)
    converter.close()
    return HtmlText(
        text=converter.result(),
        hidden_text=" ".join(converter.hidden_chunks).strip(),
        hidden_found=converter.hidden_found,
    )
