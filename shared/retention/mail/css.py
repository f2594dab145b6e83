"""CSS inlining of template *sources*, once at load time, so no send pays for it.

Email clients ignore ``<style>`` in many places, so every rule is copied into ``style``
attributes; ``@media`` rules (the responsive part) stay in a ``<style>`` tag of the layout.
The inliner (css-inline) parses HTML, not Jinja: before parsing, every Jinja tag, expression and
comment is swapped for a placeholder the HTML parser leaves where it is (a comment between
elements, a bare word inside a tag or a ``<title>``), and swapped back afterwards.
"""

from __future__ import annotations

import re
from functools import cache

import css_inline
from jinja2 import Environment

_CLOSERS = {"variable_end", "block_end", "comment_end", "raw_begin", "raw_end", "linestatement_end"}
_WORD = re.compile(r"jinja(\d+)x(?:=\"\")?")
_COMMENT = re.compile(r"<!--jinja:(\d+)-->")
_RAWTEXT_OPEN = re.compile(r"<(title|style|textarea)\b[^>]*>(?![\s\S]*</\1)", re.IGNORECASE)


class InliningError(ValueError):
    """The template's HTML could not be inlined (css-inline refused it)."""


def _context(html_so_far: str) -> str:
    """Where the next Jinja span sits: ``tag`` (inside ``<…>``), ``rawtext`` or ``text``."""
    last_open, last_close = html_so_far.rfind("<"), html_so_far.rfind(">")
    if last_open > last_close:
        return "tag"
    if _RAWTEXT_OPEN.search(html_so_far[-2000:]):
        return "rawtext"
    return "text"


def _protect(source: str, env: Environment) -> tuple[str, list[str]]:
    spans: list[str] = []
    html: list[str] = []
    html_so_far = ""
    current: list[str] = []

    def close_span() -> None:
        where = _context(html_so_far)
        html.append(f"<!--jinja:{len(spans)}-->" if where == "text" else f"jinja{len(spans)}x")
        spans.append("".join(current))
        current.clear()

    for _, kind, value in env.lexer.tokeniter(source, None):
        if not current and kind == "data":
            html.append(value)
            html_so_far = (html_so_far + value)[-4000:]
            continue
        current.append(value)
        if kind in _CLOSERS:
            close_span()
    if current:
        close_span()
    return "".join(html), spans


def _restore(html: str, spans: list[str]) -> str:
    html = _COMMENT.sub(lambda m: spans[int(m.group(1))], html)
    return _WORD.sub(lambda m: spans[int(m.group(1))], html)


@cache
def _inliner(css: str) -> css_inline.CSSInliner:
    return css_inline.CSSInliner(keep_at_rules=True, extra_css=css, load_remote_stylesheets=False)


def inline_template_source(source: str, css: str, env: Environment) -> str:
    """``source`` with ``css`` inlined; a whole document keeps its ``@media`` rules in a style tag."""
    protected, spans = _protect(source, env)
    try:
        if re.search(r"<html\b", protected, re.IGNORECASE):
            inlined = _inliner(css).inline(protected)
        else:
            inlined = css_inline.inline_fragment(protected, css)
    except (css_inline.InlineError, ValueError) as error:
        raise InliningError(str(error)) from error
    return _restore(inlined, spans)


def inline_rendered(html: str, css: str) -> str:
    """Inline an already rendered email; the lint uses it to check load-time inlining kept the meaning."""
    return _inliner(css).inline(html)
