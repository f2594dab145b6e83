"""A marketer's YAML file checked against its model, every problem placed at its line and column
and said in plain words ("'delay_dayz' is not a setting here (did you mean 'delay_days'?)"
rather than pydantic's ``steps.2.delay_dayz: Extra inputs are not permitted``)."""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from retention.config_files import SafeLoader
from retention_tools.authoring.findings import Problem, did_you_mean

_UNKNOWN_NAME = re.compile(r"unknown (\w+) '([^']+)'.*?known \w+: (.+)$")
_EXPECTED = re.compile(r"'([^']+)'")


def check_file(path: Path, shown: str, model: type[BaseModel], check: str) -> list[Problem]:
    """Every problem in one file (empty when it is valid)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        return [Problem(shown, f"cannot read the file: {error.strerror}", check=check)]
    try:
        node = yaml.compose(text, Loader=SafeLoader)
        data = yaml.load(text, Loader=SafeLoader)  # noqa: S506 - the safe loader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return [Problem(shown, f"not valid YAML: {error.problem or error}", *where, check=check)]
    except yaml.YAMLError as error:
        return [Problem(shown, f"not valid YAML: {error}", check=check)]
    try:
        model.model_validate(data)
    except ValidationError as error:
        return [
            Problem(shown, plain_words(problem, model), *locate(node, problem["loc"], problem["type"]), check=check)
            for problem in error.errors(include_url=False)
        ]
    return []


def locate(node: yaml.Node | None, loc: tuple[Any, ...], kind: str = "") -> tuple[int | None, int | None]:
    """Line and column of the value at ``loc`` (of the key itself for a key that is not allowed)."""
    if node is None:
        return None, None
    current = node
    for position, part in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(current, yaml.MappingNode):
            match = next(((k, v) for k, v in current.value if getattr(k, "value", None) == str(part)), None)
            if match is None:
                continue  # a union's branch name or a model-level check: stay on the parent
            current = match[0] if last and kind == "extra_forbidden" else match[1]
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int) and part < len(current.value):
            current = current.value[part]
    return current.start_mark.line + 1, current.start_mark.column + 1


def find_value(node: yaml.Node | None, value: str, under: tuple[str, ...] = ()) -> tuple[int | None, int | None]:
    """Line and column of the first scalar ``value`` below the keys ``under`` (for cross-file checks)."""
    if node is None:
        return None, None
    for key in under:
        if not isinstance(node, yaml.MappingNode):
            break
        node = next((v for k, v in node.value if getattr(k, "value", None) == key), node)
    stack = [node]
    while stack:
        current = stack.pop(0)
        if isinstance(current, yaml.ScalarNode) and current.value == value:
            return current.start_mark.line + 1, current.start_mark.column + 1
        if isinstance(current, yaml.MappingNode):
            stack.extend(v for pair in current.value for v in pair)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return None, None


def plain_words(problem: dict[str, Any], model: type[BaseModel]) -> str:
    loc = problem["loc"]
    field = next((str(part) for part in reversed(loc) if isinstance(part, str) and _is_name(part)), "")
    kind = problem["type"]
    message = str(problem["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "extra_forbidden":
        return f"{field!r} is not a setting here{did_you_mean(field, fields_at(model, loc[:-1]))}"
    if kind == "missing":
        return f"{field!r} is missing: it is required here"
    if kind in {"literal_error", "enum"}:
        shown = str(problem.get("ctx", {}).get("expected", ""))
        given = problem.get("input")
        hint = did_you_mean(str(given), _EXPECTED.findall(shown)) if given is not None else ""
        return f"{field}: should be {shown}, not {given!r}{hint}"
    unknown = _UNKNOWN_NAME.search(message)
    if unknown:
        what, name, known = unknown.groups()
        return f"there is no {what} {name!r}{did_you_mean(name, [k.strip() for k in known.split(',')])}"
    prefix = f"{field}: " if field else ""
    return f"{prefix}{message[0].lower()}{message[1:]}" if message else prefix + kind


def _is_name(part: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][\w-]*", part)) and not part.startswith(("function-", "tagged-union"))


def fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The settings the model allows at ``loc`` (for "did you mean" on a key that is not allowed)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                continue
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) in (list, tuple, set, frozenset):
            current = get_args(current)[0]
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [name for name, field in current.model_fields.items()] + [
            field.alias for field in current.model_fields.values() if field.alias
        ]
    return []


def _unwrap(annotation: Any) -> Any:
    """``X | None`` and ``Annotated[X, …]`` as ``X`` (the first model in a union)."""
    while True:
        origin = get_origin(annotation)
        if origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            models = [a for a in options if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = (models or options or [annotation])[0]
            if get_origin(annotation) in (Union, types.UnionType):
                continue
            return annotation
        if hasattr(annotation, "__metadata__"):
            annotation = get_args(annotation)[0]
            continue
        return annotation
