"""Jinja's errors turned into the marketer's terms: where the mistake is (the file and line of
the template, not of the compiled code), what it is in plain words, and the name they meant.

Jinja reports an unclosed ``{% if %}`` at the ``{% endblock %}`` that exposed it, and a misspelt
variable as ``'dict object' has no attribute 'frist_name'`` with no file; these read the
template's tokens and the sample's context to say "the {% if %} on line 7 is never closed" and
"customer.frist_name does not exist (did you mean 'first_name'?)".
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, UndefinedError

from retention_tools.authoring.findings import Problem, did_you_mean

BLOCK_TAGS = {"if", "for", "block", "macro", "call", "filter", "with", "autoescape", "trans", "promo"}
KNOWN_TAGS = BLOCK_TAGS | {
    "else", "elif", "set", "include", "import", "from", "extends", "break", "continue", "do", "endset",
}  # fmt: skip
_MISSING_ATTRIBUTE = re.compile(r"has no (?:attribute|element) '([^']+)'")
_UNDEFINED = re.compile(r"^'([^']+)' is undefined")
_UNKNOWN_TAG = re.compile(r"Encountered unknown tag '(\w+)'")
_UNKNOWN_FILTER = re.compile(r"No filter named '(\w+)'")
_UNKNOWN_TEST = re.compile(r"No test named '(\w+)'")


def template_line(error: BaseException, root: Path) -> tuple[str, int] | None:
    """The innermost template file under ``root`` (relative) and line the error was raised on."""
    found = None
    traceback = error.__traceback__
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        with contextlib.suppress(ValueError):
            found = (Path(filename).resolve().relative_to(root.resolve()).as_posix(), traceback.tb_lineno)
        traceback = traceback.tb_next
    return found


def unclosed_block(env: Environment, source: str) -> tuple[str, int, int] | None:
    """The innermost ``{% tag %}`` left open by the first mismatched or missing ``{% endtag %}``:
    its name, line and column, read from Jinja's own tokens."""
    open_tags: list[tuple[str, int]] = []
    after_begin = False
    try:
        tokens = list(env.lex(source))
    except TemplateSyntaxError:
        return None
    for index, (line, kind, value) in enumerate(tokens):
        if kind == "block_begin":
            after_begin = True
            continue
        if not after_begin or kind == "whitespace":
            continue
        after_begin = False
        if kind != "name":
            continue
        if value == "set" and _is_assignment(tokens, index):
            continue
        if value in BLOCK_TAGS or value == "set":
            open_tags.append((value, line))
        elif value.startswith("end"):
            if open_tags and open_tags[-1][0] == value[3:]:
                open_tags.pop()
            elif open_tags:
                break
    if not open_tags:
        return None
    tag, line = open_tags[-1]
    return tag, line, _column(source, line, rf"\{{%-?\s*{tag}\b")


def _is_assignment(tokens: list[tuple[int, str, str]], index: int) -> bool:
    """``{% set x = 1 %}`` closes itself; ``{% set x %}…{% endset %}`` is a block."""
    for _, kind, value in tokens[index + 1 :]:
        if kind == "block_end":
            return False
        if kind == "operator" and value == "=":
            return True
    return False


def _column(source: str, line: int, pattern: str) -> int:
    lines = source.splitlines()
    if not 0 < line <= len(lines):
        return 1
    found = re.search(pattern, lines[line - 1])
    return found.start() + 1 if found else 1


def syntax_problem(error: TemplateSyntaxError, where: str, source: str, env: Environment) -> Problem:
    """A compile error in plain words, placed where the marketer has to change something."""
    message = error.message or str(error)
    line = error.lineno
    for pattern, known, what in (
        (_UNKNOWN_TAG, KNOWN_TAGS | {f"end{tag}" for tag in BLOCK_TAGS}, "tag"),
        (_UNKNOWN_FILTER, env.filters, "filter"),
        (_UNKNOWN_TEST, env.tests, "test"),
    ):
        found = pattern.search(message)
        if found and not (what == "tag" and found.group(1).startswith("end")):
            name = found.group(1)
            return Problem(
                where,
                f"there is no {what} {name!r}{did_you_mean(name, known)}",
                line,
                _column(source, line, re.escape(name)),
            )
    if "needs to be closed" in message or "Unexpected end of template" in message:
        opened = unclosed_block(env, source)
        if opened is not None:
            tag, at, column = opened
            return Problem(
                where,
                f"{{% {tag} %}} is never closed: add {{% end{tag} %}} where it should end "
                f"(Jinja noticed on line {line})",
                at,
                column,
            )
    return Problem(where, f"syntax error: {message}", line, 1)


def undefined_problem(error: UndefinedError, where: str, line: int, source: str, context: dict[str, Any]) -> Problem:
    """A name the template uses that the email's data does not have, with the name it most likely meant."""
    message = error.message or str(error)
    text = source.splitlines()[line - 1] if 0 < line <= len(source.splitlines()) else ""
    missing = _MISSING_ATTRIBUTE.search(message)
    if missing:
        name = missing.group(1)
        used = re.search(rf"([A-Za-z_][\w.]*)\.{re.escape(name)}\b", text)
        parent = used.group(1) if used else ""
        candidates = _keys_at(context, parent) or _all_keys(context)
        shown = f"{parent}.{name}" if parent else name
        column = used.start() + 1 if used else _column(source, line, re.escape(name))
        return Problem(where, f"{shown} does not exist{did_you_mean(name, candidates)}", line, column)
    undefined = _UNDEFINED.search(message)
    if undefined:
        name = undefined.group(1)
        return Problem(
            where,
            f"{name} is not defined{did_you_mean(name, context)}",
            line,
            _column(source, line, rf"\b{re.escape(name)}\b"),
        )
    return Problem(where, message, line, 1)


def _keys_at(context: dict[str, Any], dotted: str) -> list[str]:
    value: Any = context
    for part in dotted.split(".") if dotted else []:
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return list(value) if isinstance(value, dict) and dotted else []


def _all_keys(value: Any, depth: int = 0) -> set[str]:
    """Every key in the email's data, a few levels deep (for a loop variable the lint cannot resolve)."""
    if depth > 3:
        return set()
    if isinstance(value, dict):
        found = {key for key in value if isinstance(key, str)}
        for item in value.values():
            found |= _all_keys(item, depth + 1)
        return found
    if isinstance(value, list | tuple) and value:
        return _all_keys(value[0], depth + 1)
    return set()
