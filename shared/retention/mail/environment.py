"""The Jinja2 environment marketers' templates run in: sandboxed, autoescaped, strict, cached.

- ``ImmutableSandboxedEnvironment``: no dunder or private attributes, no ``|attr`` way around
  that, a safe ``str.format``, no mutation of lists and dicts passed in, and ``*``/``**`` capped
  so a template cannot build a gigabyte string.
- Autoescaping for ``.html`` (customer data never reaches HTML unescaped), none for ``.txt``.
- ``StrictUndefined``: a misspelt variable is an error (the lint finds it), never an empty hole.
- CSS is inlined into each ``.html`` source when it is loaded, so the compiled template that is
  cached for the life of the container already carries inline styles.
- Locale-aware ``money``, ``date``, ``number`` and ``percent`` filters (Babel), in the
  customer's language and time zone.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, numbers
from babel import dates as babel_dates
from jinja2 import FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from retention.mail.css import inline_template_source
from retention.mail.promotion import MARKERS, PromotionExtension

CSS_FILE = "layout/email.css"
MAX_SEQUENCE = 20_000
MAX_EXPONENT = 64


class _InliningLoader(FileSystemLoader):
    """Loads ``.html`` templates with the shared stylesheet already inlined."""

    def __init__(self, root: Path) -> None:
        super().__init__(str(root))
        self.root = root

    def get_source(self, environment: Any, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        source, filename, uptodate = super().get_source(environment, template)
        if template.endswith(".html"):
            css = (self.root / CSS_FILE).read_text(encoding="utf-8")
            source = inline_template_source(source, css, environment)
        return source, filename, uptodate


class RetentionEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                repeated = isinstance(sequence, str | list | tuple) and isinstance(times, int)
                if repeated and len(sequence) * times > MAX_SEQUENCE:
                    raise SecurityError(f"repeating a sequence beyond {MAX_SEQUENCE} items is not allowed")
        return super().call_binop(context, operator, left, right)


def _locale(context: Context) -> Locale:
    return context.get("_locale") or Locale.parse("en")


def _zone(context: Context) -> ZoneInfo:
    return context.get("_zone") or ZoneInfo("UTC")


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as error:
        raise ValueError(f"not a number: {value!r}") from error


@pass_context
def money(context: Context, value: Any, currency: str | None = None) -> str:
    currency = currency or context.get("customer", {}).get("currency") or "EUR"
    return numbers.format_currency(_decimal(value), currency, locale=_locale(context))


@pass_context
def number(context: Context, value: Any) -> str:
    return numbers.format_decimal(_decimal(value), locale=_locale(context))


@pass_context
def percent(context: Context, value: Any) -> str:
    return numbers.format_percent(_decimal(value), locale=_locale(context))


@pass_context
def format_date(context: Context, value: date | datetime | None, style: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(_zone(context)).date()
    if style not in ("short", "medium", "long", "full"):
        raise ValueError("date style must be short, medium, long or full")
    return babel_dates.format_date(value, style, locale=_locale(context))


def clean_text(value: Any) -> str:
    """Customer-supplied text without control characters or the measurement markers."""
    text = str(value or "")
    return "".join(ch for ch in text if ch == " " or (ch not in MARKERS and unicodedata.category(ch)[0] != "C"))


def build_environment(root: Path, *, auto_reload: bool = False) -> RetentionEnvironment:
    """One environment per container; ``auto_reload`` only for a marketer's local preview server."""
    env = RetentionEnvironment(
        loader=_InliningLoader(root),
        autoescape=select_autoescape(
            enabled_extensions=("html",), disabled_extensions=("txt",), default_for_string=True, default=True
        ),
        undefined=StrictUndefined,
        extensions=[PromotionExtension],
        auto_reload=auto_reload,
        cache_size=-1,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(money=money, number=number, percent=percent, date=format_date)
    return env
