"""Reading one marketer-editable YAML file under ``templates/`` into a validated model.

Its own module so that handlers which read only their rules (``tracking.yaml``, journeys) do
not import the email catalog and its models. LibYAML's C loader is used when the wheel has it
(it does on Lambda's x86_64 and arm64): it parses ten times faster than the pure-Python one, and
both build the same plain values from the safe subset of YAML.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from retention.paths import templates_dir

Model = TypeVar("Model", bound=BaseModel)
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(ValueError):
    """A file under templates/ is invalid; the message names the file and the field."""


def problems(error: ValidationError) -> str:
    """A validation error as ``field.path: message; …`` (no input echoed, no URLs)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or '(top)'}: {problem['msg']}"
        for problem in error.errors(include_url=False, include_input=False)
    )


def load_yaml(path: Path, model: type[Model]) -> Model:
    """``path`` parsed as YAML and validated as ``model``; errors name the file (relative to templates/)."""
    try:
        shown = path.relative_to(templates_dir())
    except ValueError:
        shown = path
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)  # noqa: S506 - the safe loader
    except OSError as error:
        raise CatalogError(f"{shown}: cannot read: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise CatalogError(f"{shown}: not valid YAML: {error}") from error
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise CatalogError(f"{shown}: {problems(error)}") from error
