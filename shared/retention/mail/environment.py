"""The Jinja2 environment marketers' templates run in: sandboxed, autoescaped, strict, cached.

- ``ImmutableSandboxedEnvironment``: no dunder or private attributes, no ``|attr`` way around
  that, a safe ``str.format``, no mutation of lists and dicts passed in.
- A render budget (:mod:`retention.mail.budget`) enforced by the environment itself: every call,
  filter, ``+ * ** %``, ``~``, loop iteration and output write of a template is sized and
  counted, so no template can build a gigabyte string or loop for minutes; over budget is a
  :class:`~retention.mail.errors.TemplateTooExpensive` that says which limit.
- Autoescaping for ``.html`` (customer data never reaches HTML unescaped), none for ``.txt``,
  and no way for a template to switch it off (:mod:`retention.mail.template_policy`).
- ``StrictUndefined``: a misspelt variable is an error (the lint finds it), never an empty hole.
- CSS is inlined into each ``.html`` source when it is loaded, so the compiled template that is
  cached for the life of the container already carries inline styles.
- Locale-aware ``money``, ``date``, ``number`` and ``percent`` filters (Babel), in the
  customer's language and time zone.
"""

from __future__ import annotations

import functools
import unicodedata
import weakref
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, numbers
from babel import dates as babel_dates
from jinja2 import FileSystemLoader, StrictUndefined, Template, nodes, pass_context, select_autoescape
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter, SecurityError
from jinja2.utils import _PassArg
from markupsafe import Markup

from retention.mail import budget
from retention.mail.budget import DEFAULT_BUDGET, RenderBudget, Spending, current, spending, written
from retention.mail.css import inline_template_source
from retention.mail.errors import TemplateTooExpensive
from retention.mail.promotion import MARKERS, PromotionExtension
from retention.mail.template_policy import refuse_unescaping

CSS_FILE = "layout/email.css"
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


#: the filter every ``{% for %}`` iterable is wrapped in at compile time (a name no template can type)
LOOP_FILTER = "budgeted loop"


class _BudgetedCodeGenerator(CodeGenerator):
    """Jinja's code generator with every output write, ``~`` and loop routed through the budget."""

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        return f"environment.written({super()._output_const_repr(group)})"

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write("environment.written(")
        super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        super()._output_child_post(node, frame, finalize)
        self.write(")")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:  # noqa: N802 - Jinja's visitor name
        self.write("environment.built(")
        super().visit_Concat(node, frame)
        self.write(")")


class BudgetedTemplate(Template):
    """A template whose render opens a budget when none is open yet (a render outside :class:`Renderer`)."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        with spending(self.environment.budget):  # type: ignore[attr-defined]
            try:
                return super().render(*args, **kwargs)
            except RecursionError:
                raise TemplateTooExpensive("templates or macros call themselves too deeply") from None

    def generate(self, *args: Any, **kwargs: Any) -> Iterator[str]:
        with spending(self.environment.budget):  # type: ignore[attr-defined]
            yield from super().generate(*args, **kwargs)


class _BudgetedFormatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        current().expect(len(str(value)) + budget.format_spec_size(format_spec), "format")
        return super().format_field(value, format_spec)


class _BudgetedEscapeFormatter(SandboxedEscapeFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        current().expect(len(str(value)) + budget.format_spec_size(format_spec), "format")
        return super().format_field(value, format_spec)


def _budgeted_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` sized before (where it can amplify) and after, one step per use."""
    estimate = budget.FILTERS.get(name)
    sequence = name in budget.SEQUENCE_FILTERS
    offset = 0 if _PassArg.from_obj(func) is None else 1

    @functools.wraps(func)
    def budgeted(*args: Any, **kwargs: Any) -> Any:
        spent = current()
        spent.step()
        if sequence and len(args) > offset:
            items = spent.materialised(args[offset], name)
            args = (*args[:offset], items, *args[offset + 1 :])
            budget.check_sequence_filter(spent, name, items, args[offset + 1 :], kwargs)
        if estimate is not None and len(args) > offset:
            estimate(spent, args[offset], args[offset + 1 :], kwargs)
        return spent.built_value(func(*args, **kwargs))

    return budgeted


def _loop(iterable: Iterable[Any]) -> Iterator[Any]:
    return current().iterate(iterable)


def _range(*args: int) -> range:
    numbers = range(*args)
    current().expect_items(len(numbers), "range")
    return numbers


_DICT_ATTRIBUTES = frozenset(dir(dict))


class RetentionEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with a per-email budget and escaping that templates cannot switch off."""

    intercepted_binops = frozenset({"+", "*", "**", "%"})
    code_generator_class = _BudgetedCodeGenerator
    template_class = BudgetedTemplate
    budget: RenderBudget = DEFAULT_BUDGET

    def _generate(
        self, source: nodes.Template, name: str | None, filename: str | None, defer_init: bool = False
    ) -> str:
        """Jinja's documented hook: refuse unescaping constructs, count every loop, then generate."""
        refuse_unescaping(source, name)
        for loop in source.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, LOOP_FILTER, [], [], None, None, lineno=loop.lineno)
        return super()._generate(source, name, filename, defer_init)

    def _load_template(self, name: str, globals: MutableMapping[str, Any] | None) -> Template:
        """Load (and on a cold cache compile) a template without charging it to the email being rendered."""
        active = budget.active()
        if active is None or self._compiled(name):
            return super()._load_template(name, globals)
        with active.off_the_clock():
            return super()._load_template(name, globals)

    def _compiled(self, name: str) -> bool:
        """Is ``name`` compiled and cached for good (no reload)? Then loading it is a dict lookup,
        and reading the thread's CPU clock twice around it (an email's layout, its macros and
        their parents: six loads) would cost more than the load."""
        if self.auto_reload or self.cache is None or self.loader is None:
            return False
        return (weakref.ref(self.loader), name) in self.cache

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``customer.first_name`` on the plain dicts of the context without raising an AttributeError first.

        The sandbox tries ``getattr`` and falls back to the item when a dict has no such
        attribute; a name that is not an attribute of ``dict`` fails that ``getattr`` for sure, so
        the item is what the sandbox would return (a missing key still takes the sandbox's path).
        """
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    # Called by the generated code of every template (see _BudgetedCodeGenerator).
    written = staticmethod(written)

    def built(self, value: Any) -> Any:
        return current().built_value(value)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        spent = current()
        spent.step()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            method = getattr(__obj, "__name__", "")
            estimate = budget.STR_METHODS.get(method)
            if estimate is not None:
                estimate(spent, owner, args, kwargs)
            elif method == "join" and args:
                items = spent.materialised(args[0], "join")
                budget.check_str_join(spent, owner, items)
                args = (items, *args[1:])
        return spent.built_value(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        spent = current()
        spent.step()
        _expect_binop(spent, operator, left, right)
        return spent.built_value(super().call_binop(context, operator, left, right))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Jinja's sandboxed ``str.format``, with every field's width and precision sized first."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        f_self: str = value.__self__
        formatter = (
            _BudgetedEscapeFormatter(self, escape=f_self.escape)
            if isinstance(f_self, Markup)
            else _BudgetedFormatter(self)
        )
        is_format_map = value.__name__ == "format_map"

        def budgeted(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                args, kwargs = (), args[0]
            return type(f_self)(formatter.vformat(f_self, args, kwargs))

        return functools.update_wrapper(budgeted, value)


def _expect_binop(spent: Spending, operator: str, left: Any, right: Any) -> None:
    """Refuse ``+``, ``*``, ``**`` and ``%`` whose result would be over budget, before computing it."""
    if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
        raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
    powers = operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0
    if powers and left.bit_length() * right > spent.budget.max_int_bits:
        raise TemplateTooExpensive(f"a number larger than {spent.budget.max_int_bits} bits")
    if operator == "*":
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, str) and isinstance(times, int):
                spent.expect(len(sequence) * times, "repeating a string")
            elif isinstance(sequence, list | tuple) and isinstance(times, int):
                spent.expect_items(len(sequence) * times, "repeating a list")
    if operator == "+":
        if isinstance(left, str) and isinstance(right, str):
            spent.expect(len(left) + len(right), "joining two strings")
        elif isinstance(left, list | tuple) and isinstance(right, list | tuple):
            spent.expect_items(len(left) + len(right), "joining two lists")
    if operator == "%" and isinstance(left, str):
        spent.expect(budget.printf_size(left, right), "formatting with %")


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
    env.filters = {
        name: _budgeted_filter(name, func) for name, func in env.filters.items() if name not in ("safe", "tojson")
    }
    env.filters[LOOP_FILTER] = _loop
    env.globals["range"] = _range
    env.globals.pop("lipsum", None)  # placeholder text never reaches a customer (and lipsum(10**6) is a bomb)
    return env
