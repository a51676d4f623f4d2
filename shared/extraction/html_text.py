"""HTML to plain text for extraction, dropping what a reader would not see.

Hidden content is a known prompt-injection channel: text in ``<script>``/``<style>``, elements
with the ``hidden`` attribute, ``display:none``, ``visibility:hidden``, ``font-size:0``,
``opacity:0``, zero-size boxes with ``overflow:hidden``, and text whose colour equals its
background (white on white) is dropped and collected separately so it can be inspected for
injection phrases. ``<blockquote>`` content is prefixed with ``> `` so the quote splitter keeps
it apart from the new text. Built on the standard library's tolerant :mod:`html.parser`.

Hidden is decided as a browser would, since dropping what a reader sees loses what the debtor
wrote (an email template's ``font-size:0`` wrapper around sized text is a common layout trick):

- ``display:none``, ``hidden``, ``opacity:0`` and zero-size boxes hide everything inside them;
  no descendant can show itself again (opacity applies to the whole group);
- ``visibility:hidden`` holds until a descendant says ``visibility:visible``, and a zero font
  size until a descendant sets a size of its own (``14px``, ``1rem``, ``medium``; a size
  relative to the parent's, ``1.2em`` or ``120%``, stays zero);
- a colour equal to the background hides text only when both are known: set inline (``style``,
  ``bgcolor``, ``<font color>``) on the element or an ancestor. The reader's default white
  background is assumed only when no stylesheet of the message sets a background, since a class
  may otherwise paint one the inline styles do not show, and a background image is no colour.
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
# font sizes taken from the parent's: a multiple of a zero size is still zero
_RELATIVE_SIZE = re.compile(r"^(?:[\d.]+(?:em|ex|ch|%)?|smaller|larger|inherit|unset)$")
_NAMED_COLOURS = {"white": "#ffffff", "black": "#000000"}
_DEFAULT_BACKGROUND = "#ffffff"
_NO_COLOUR = frozenset({"transparent", "inherit", "none", "initial", "unset"})  # the parent's shows
_STYLESHEET = re.compile(
    # bounded tag lengths: an unclosed tag repeated through a hostile message stays linear
    r"<style\b[^>]{0,1000}>(?P<css>.*?)(?:</style\s*>|$)|<link\b[^>]{0,1000}\bstylesheet\b",
    re.I | re.S,
)


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


def _quotes(attributes: dict[str, str], style: dict[str, str]) -> bool:
    """A ``<blockquote>`` that quotes an earlier message. Gmail's and Apple Mail's "indent"
    button writes one too, without a border (``margin:0 0 0 40px;border:none``), around the
    writer's own words; a quote is marked ``type="cite"`` or a quote class, or keeps the
    default left border."""
    if attributes.get("type", "").strip().lower() == "cite":
        return True
    if "quote" in attributes.get("class", "").lower():
        return True
    border = (style.get("border-left") or style.get("border") or "").strip().lower()
    return not (border in ("none", "0", "0px") or border.startswith(("none ", "0 ", "0px ")))


def _parse_style(style: str) -> dict[str, str]:
    declarations: dict[str, str] = {}
    for item in style.split(";"):
        name, sep, value = item.partition(":")
        if sep:
            value = value.strip().lower().removesuffix("!important").strip()
            declarations[name.strip().lower()] = value
    return declarations


def _stylesheet_sets_background(html: str) -> bool:
    """Whether a ``<style>`` block (or a linked stylesheet) may paint a background."""
    for match in _STYLESHEET.finditer(html):
        css = match.group("css")
        if css is None or "background" in css.lower():
            return True
    return False


@dataclass
class _Element:
    tag: str
    removed: bool  # display:none, hidden, opacity:0, a zero box: nothing inside shows
    invisible: bool  # visibility:hidden, until a descendant is visible again
    zero_font: bool  # font-size:0, until a descendant sets a size of its own
    dropped: bool  # inside script/style/head…: never text, not counted as hidden
    background: str | None  # None: not known (a stylesheet or an image may paint it)
    colour: str | None
    quote: bool

    @property
    def hidden(self) -> bool:
        unreadable = self.colour is not None and self.colour == self.background
        return self.removed or self.invisible or self.zero_font or unreadable


def _removes(tag: str, attributes: dict[str, str], style: dict[str, str]) -> bool:
    if "hidden" in attributes or (
        tag == "input" and attributes.get("type", "").lower() == "hidden"
    ):
        return True
    if style.get("display") == "none" or style.get("opacity") in ("0", "0.0", "0%"):
        return True
    sizes = ("height", "max-height", "width", "max-width")
    zero_box = any(_ZERO_SIZE.match(style.get(name, "")) for name in sizes)
    return zero_box and style.get("overflow") == "hidden"


def _invisible(style: dict[str, str], parent: bool) -> bool:
    visibility = style.get("visibility")
    if visibility in ("hidden", "collapse"):
        return True
    return parent and visibility != "visible"


def _zero_font(tag: str, attributes: dict[str, str], style: dict[str, str], parent: bool) -> bool:
    size = style.get("font-size")
    if size is None and tag == "font" and attributes.get("size", "").strip():
        return False  # <font size="1".."7"> is a size of its own, never zero
    if size is None:
        return parent
    if _ZERO_SIZE.match(size):
        return True
    return parent and bool(_RELATIVE_SIZE.match(size))


def _background(
    style: dict[str, str], attributes: dict[str, str], parent: str | None, *, stylesheet: bool
) -> str | None:
    """The element's background colour: its own inline one, else its parent's; None when it
    is not known (an image, or a ``stylesheet`` that may paint it through its class or id)."""
    shorthand = style.get("background", "")
    image = style.get("background-image", "none")
    if image not in ("none", "") or "url(" in shorthand or "gradient(" in shorthand:
        return None
    for value in (style.get("background-color"), shorthand, attributes.get("bgcolor")):
        colour = _normalise_colour(value)
        if colour is not None and colour not in _NO_COLOUR:
            return colour
    if stylesheet and ("class" in attributes or "id" in attributes):
        return None
    return parent


class _Converter(HTMLParser):
    def __init__(self, *, stylesheet: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.stylesheet = stylesheet  # the message's stylesheets may paint backgrounds
        self.root = _Element(
            "",
            removed=False,
            invisible=False,
            zero_font=False,
            dropped=False,
            # the reader's default, unless a stylesheet may have painted the page
            background=None if stylesheet else _DEFAULT_BACKGROUND,
            colour=None,
            quote=False,
        )
        self.stack: list[_Element] = []
        self.chunks: list[tuple[str, bool]] = []  # (text, inside a blockquote)
        self.hidden_chunks: list[str] = []
        self.hidden_found = False

    # -- state of the innermost open element --------------------------------
    def _top(self) -> _Element:
        return self.stack[-1] if self.stack else self.root

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
        element = _Element(
            tag,
            removed=parent.removed or _removes(tag, attributes, style),
            invisible=_invisible(style, parent.invisible),
            zero_font=_zero_font(tag, attributes, style, parent.zero_font),
            dropped=parent.dropped or tag in _DROP_TAGS,
            background=_background(
                style, attributes, parent.background, stylesheet=self.stylesheet
            ),
            colour=(
                _normalise_colour(style.get("color"))
                or _normalise_colour(attributes.get("color"))
                or parent.colour
            ),
            quote=parent.quote or (tag == "blockquote" and _quotes(attributes, style)),
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
        if top.hidden:
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
    converter = _Converter(stylesheet=_stylesheet_sets_background(html))
    converter.feed(html)
    converter.close()
    return HtmlText(
        text=converter.result(),
        hidden_text=" ".join(converter.hidden_chunks).strip(),
        hidden_found=converter.hidden_found,
    )
