"""Unclosed HTML tags, reported where they open.

A ``<div>`` left open makes the CSS inliner (and every mail client) re-nest the markup, which the
lint used to notice only as "inlining changed the markup near …footer…". Reading the template's
own source, tag by tag, names the tag and the line and column it was opened on.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
"""Elements that never have an end tag."""
OPTIONAL_END = {"p", "li", "dt", "dd", "option", "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup"}
"""Elements whose end tag HTML lets a writer leave out; flagged only when they swallow a parent."""
_JINJA = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.DOTALL)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, int, int]] = []
        self.stray: list[tuple[str, int, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            line, column = self.getpos()
            self.open.append((tag, line, column + 1))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """``<br/>``: opens and closes at once."""

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                skipped = self.open[index + 1 :]
                self.stray += [entry for entry in skipped if entry[0] not in OPTIONAL_END]
                del self.open[index:]
                return
        line, column = self.getpos()
        self.stray.append((f"/{tag}", line, column + 1))


def unclosed_tags(source: str) -> list[tuple[str, int, int]]:
    """Tags the template opens and never closes (and end tags with no start), with line and column.

    Jinja's tags are blanked out first, keeping every line and column where it was, so
    ``{% if %}`` branches are read as plain text around the HTML.
    """
    blanked = _JINJA.sub(lambda found: re.sub(r"[^\n]", " ", found.group(0)), source)
    parser = _Tags()
    parser.feed(blanked)
    parser.close()
    left = [entry for entry in parser.open if entry[0] not in OPTIONAL_END]
    return sorted(parser.stray + left, key=lambda entry: (entry[1], entry[2]))


def describe(tag: str) -> str:
    if tag.startswith("/"):
        return f"</{tag[1:]}> closes a tag that is not open here"
    return f"<{tag}> is opened here and never closed (add </{tag}>)"
