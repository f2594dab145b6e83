"""The 80/20 rule, measured: how much of what a reader sees is promotion.

Marketers mark promotion with ``{% promo %}…{% endpromo %}`` (product suggestions, coupons,
"shop now" buttons). The layout marks its legal footer with ``{% boilerplate %}…{% endboilerplate %}``
so an email cannot dilute its promotion with unsubscribe text. Both tags render as invisible
private-use markers; :func:`measure_html` and :func:`measure_text` count the visible characters
(non-whitespace; an image counts as its alt text, what a reader sees with images off) inside and
outside the markers, and :func:`strip_markers` removes them before anything is sent.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser

from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

PROMO_START, PROMO_END = "\ue000", "\ue001"
BOILERPLATE_START, BOILERPLATE_END = "\ue002", "\ue003"
MARKERS = PROMO_START + PROMO_END + BOILERPLATE_START + BOILERPLATE_END
_MARKER_RE = re.compile(f"[{MARKERS}]")
_MARKER_SPLIT = re.compile(f"([{MARKERS}])")

_HIDDEN_CONTAINERS = {"head", "style", "script", "title", "template", "noscript"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|max-height\s*:\s*0", re.IGNORECASE)


def hides(tag: str, attributes: Mapping[str, str | None]) -> bool:
    """Whether an element hides what it contains (both readings of the HTML use this one rule)."""
    return (
        tag in _HIDDEN_CONTAINERS
        or "hidden" in attributes
        or attributes.get("aria-hidden") == "true"
        or bool(_HIDDEN_STYLE.search(attributes.get("style") or ""))
    )


class PromotionExtension(Extension):
    """``{% promo %}`` and ``{% boilerplate %}`` blocks: wrap their output in measurement markers."""

    tags = {"promo", "boilerplate"}  # noqa: RUF012 - Jinja's declared interface

    def parse(self, parser: Parser) -> list[nodes.Node]:
        token = next(parser.stream)
        body = parser.parse_statements((f"name:end{token.value}",), drop_needle=True)
        start, end = (PROMO_START, PROMO_END) if token.value == "promo" else (BOILERPLATE_START, BOILERPLATE_END)
        return [
            nodes.Output([nodes.TemplateData(start)], lineno=token.lineno),
            *body,
            nodes.Output([nodes.TemplateData(end)], lineno=token.lineno),
        ]


@dataclass(frozen=True)
class Share:
    """Visible characters of one rendered part: promotion, everything counted, and the ratio."""

    promotion: int
    counted: int

    @property
    def ratio(self) -> float:
        return self.promotion / self.counted if self.counted else 0.0

    @property
    def percent(self) -> str:
        return f"{self.ratio * 100:.1f} %"


def _visible_length(text: str) -> int:
    """Characters that are not whitespace. ``str.split()`` and the regex ``\\s`` share one definition
    of whitespace (``str.isspace``), and splitting runs in C without building a new string per run."""
    return sum(map(len, text.split()))


class _Counter:
    """Counts visible characters by marker state; markers may sit anywhere in the text."""

    def __init__(self) -> None:
        self.promo_depth = 0
        self.boilerplate_depth = 0
        self.promotion = 0
        self.counted = 0

    def feed(self, text: str) -> None:
        for piece in _MARKER_SPLIT.split(text):
            if piece == PROMO_START:
                self.promo_depth += 1
            elif piece == PROMO_END:
                self.promo_depth = max(0, self.promo_depth - 1)
            elif piece == BOILERPLATE_START:
                self.boilerplate_depth += 1
            elif piece == BOILERPLATE_END:
                self.boilerplate_depth = max(0, self.boilerplate_depth - 1)
            elif piece and not self.boilerplate_depth:
                visible = _visible_length(piece)
                self.counted += visible
                if self.promo_depth:
                    self.promotion += visible

    def share(self) -> Share:
        return Share(self.promotion, self.counted)


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.counter = _Counter()
        self.hidden_stack: list[str] = []
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "img" and not self.hidden_stack:
            self.counter.feed(attributes.get("alt") or "")
            self.visible.append(attributes.get("alt") or "")
        if tag in _VOID:
            return
        if self.hidden_stack or hides(tag, attributes):
            self.hidden_stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.hidden_stack and tag in self.hidden_stack:
            while self.hidden_stack and self.hidden_stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self.hidden_stack:
            # Markers inside hidden text still open and close regions.
            for marker in _MARKER_RE.findall(data):
                self.counter.feed(marker)
            return
        self.counter.feed(data)
        self.visible.append(data)


# Possessive: no match can be found by backtracking into a shorter name or attribute run (the next
# character would still not be ``>``), so the tokens are the same, without the backtracking stack;
# the attributes as an unrolled loop (unquoted run, then quoted value and unquoted run, repeated),
# the same language as ``(?:unquoted|quoted)*`` with one repetition per quoted value.
_TOKEN = re.compile(
    r"<!--.*?-->|<[!?][^>]*+>|</([a-zA-Z][^\s/>]*+)[^>]*+>"
    r"|<([a-zA-Z][^\s/>]*+)([^>\"']*+(?:(?:\"[^\"]*+\"|'[^']*+')[^>\"']*+)*+)>",
    re.S,
)
_ATTRIBUTE = re.compile(
    r"((?<=['\"\s/])[^\s/>][^\s/=>]*)(\s*=+\s*('[^']*'|\"[^\"]*\"|(?!['\"])[^>\s]*))?(?:\s|/(?!>))*"
)
_RAW_TEXT = {"script": re.compile(r"</script", re.I), "style": re.compile(r"</style", re.I)}


def _attributes(text: str) -> dict[str, str | None]:
    """A tag's attributes as ``html.parser`` reads them: names lower-cased, values unquoted and unescaped."""
    found: dict[str, str | None] = {}
    for match in _ATTRIBUTE.finditer(" " + text.rstrip("/")):
        value = match[3]
        if value and value[:1] == value[-1:] and value[:1] in "'\"":
            value = value[1:-1]
        found[match[1].lower()] = html_lib.unescape(value) if value else value
    return found


def _may_hide(text: str) -> bool:
    """Could these attributes hide an element? False is certain (most tags carry only inlined styles)."""
    low = text.lower()
    return "hidden" in low or "none" in low or "max-height" in low or "&" in text


#: :func:`_may_hide` of the attribute texts seen lately: an email's tags carry the same few inlined
#: styles, email after email (bounded: cleared when full)
_MAY_HIDE_READ: dict[str, bool] = {}
_MAY_HIDE_KEPT = 2048


def measure_html(html: str) -> Share:
    """Promotion share of what a reader sees in the HTML part (head, hidden preheader excluded).

    One linear pass over the tags with a regex, the same reading as :class:`_VisibleText` (which
    uses ``html.parser``) at a fraction of the cost: attributes are only parsed on a tag that
    could hide something or is an image, and everything counted is joined and counted once (the
    count is additive, the marker state runs in order). The tags are found by one ``finditer``
    per run of the document (restarted only after a script or style element's raw text).
    """
    fed: list[str] = []
    feed = fed.append
    hidden: list[str] = []
    position = 0
    restart = True
    while restart:
        restart = False
        for token in _TOKEN.finditer(html, position):
            start = token.start()
            if start > position:
                data = html[position:start]
                if "&" in data:
                    data = html_lib.unescape(data)
                feed("".join(_MARKER_RE.findall(data)) if hidden else data)
            position = token.end()
            closing, opening, text = token.group(1, 2, 3)
            if closing:
                if hidden:
                    tag = closing.lower()
                    if tag in hidden:
                        while hidden and hidden.pop() != tag:
                            pass
                continue
            if not opening:
                continue  # comment, doctype, processing instruction
            tag = opening.lower()
            if tag == "img":
                if not hidden:
                    feed(_attributes(text).get("alt") or "")
                continue  # a void element
            if tag in _VOID:
                continue
            if not hidden and tag not in _HIDDEN_CONTAINERS:
                may_hide = _MAY_HIDE_READ.get(text)
                if may_hide is None:
                    if len(_MAY_HIDE_READ) >= _MAY_HIDE_KEPT:
                        _MAY_HIDE_READ.clear()
                    may_hide = _MAY_HIDE_READ[text] = _may_hide(text)
                if not may_hide:
                    continue  # nothing to push: what follows only matters to a hidden element
            if hidden or tag in _HIDDEN_CONTAINERS or hides(tag, _attributes(text)):
                hidden.append(tag)
            if text.endswith("/"):
                while hidden and tag in hidden and hidden.pop() != tag:
                    pass
            elif tag in _RAW_TEXT:  # script and style: raw text up to their end tag, hidden (markers only)
                close = _RAW_TEXT[tag].search(html, position)
                raw_end = close.start() if close else len(html)
                feed("".join(_MARKER_RE.findall(html[position:raw_end])))
                position = raw_end
                restart = True
                break
    if position < len(html):
        data = html[position:]
        if "&" in data:
            data = html_lib.unescape(data)
        feed("".join(_MARKER_RE.findall(data)) if hidden else data)
    counter = _Counter()
    counter.feed("".join(fed))
    return counter.share()


def measure_html_parsed(html: str) -> Share:
    """The same measurement through ``html.parser``: the reference :func:`measure_html` is tested against."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return parser.counter.share()


def visible_text(html: str) -> str:
    """The text a reader sees in an HTML part, whitespace collapsed, markers removed."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return " ".join(strip_markers(" ".join(parser.visible)).split())


def measure_text(text: str) -> Share:
    """Promotion share of the plain-text part."""
    counter = _Counter()
    counter.feed(text)
    return counter.share()


def strip_markers(rendered: str) -> str:
    for marker in MARKERS:  # four replaces in C beat one regex over a whole email
        if marker in rendered:
            rendered = rendered.replace(marker, "")
    return rendered


def balanced(rendered: str) -> bool:
    """True when every promo and boilerplate marker is closed (the lint reports it otherwise)."""
    depth = {PROMO_START: 0, BOILERPLATE_START: 0}
    closer = {PROMO_END: PROMO_START, BOILERPLATE_END: BOILERPLATE_START}
    for marker in _MARKER_RE.findall(rendered):
        if marker in depth:
            depth[marker] += 1
        else:
            depth[closer[marker]] -= 1
            if depth[closer[marker]] < 0:
                return False
    return all(value == 0 for value in depth.values())
