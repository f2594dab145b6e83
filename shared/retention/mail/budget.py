"""What one email's render may spend: the size of any value, the output, loop steps and time.

Marketers' templates are untrusted. The sandbox stops them reaching Python internals; this
budget stops them spending memory or CPU. The environment (:mod:`retention.mail.environment`)
routes every call, filter, intercepted operator, ``~`` concatenation, loop iteration and output
write of a template through :class:`Spending`, which

- refuses, *before* the work is done, an operation whose result would be larger than the budget
  (``'x'.ljust(10**9)``, ``'%1000000s' | format``, ``'{:>1000000}'.format(x)``, ``replace``,
  ``expandtabs``, ``join``, ``center``, ``indent``, ``wordwrap``, ``batch``, ``slice``, ``range``);
- checks the size of every result afterwards and adds it to what the render has built, so a
  loop that doubles a string with ``~`` stops when the doubling gets too large;
- counts loop iterations and calls, and checks a deadline at each, so nested loops end early.
  The deadline is CPU time of the rendering thread, not wall clock: a container descheduled or
  sharing its core (a busy host, a small Lambda) must not fail an honest email; what a template
  itself spends is what is bounded.

One :class:`Spending` covers one email (subject, preheader, HTML and text together); it lives in
a context variable so every template the email includes or imports draws on the same budget.
Outside a render nothing is allowed (so Jinja's compile-time constant folding never runs a
filter on marketer input: it falls back to the render, where the budget applies).
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from itertools import islice
from typing import Any

from retention.mail.errors import TemplateTooExpensive


@dataclass(frozen=True)
class RenderBudget:
    """Per-email limits. Gmail clips a message above 102 KB, so no honest email needs more than these."""

    max_string: int = 200_000  # characters in any one value a template builds
    max_items: int = 20_000  # items in any one list, range or loop
    max_built: int = 2_000_000  # characters and items built by the template's own operations, in total
    max_output: int = 1_000_000  # characters written, every part, block and macro body together
    max_steps: int = 100_000  # loop iterations, calls and filters
    max_seconds: float = 0.25  # CPU time of the rendering thread for the whole email
    max_int_bits: int = 256  # size of an integer a template computes


DEFAULT_BUDGET = RenderBudget()

_current: ContextVar[Spending | None] = ContextVar("retention_render_spending", default=None)


class Spending:
    """What the current email's render has spent so far; every method raises when a limit is passed."""

    __slots__ = ("budget", "built", "deadline", "output", "steps", "unread_until")

    def __init__(self, budget: RenderBudget) -> None:
        self.budget = budget
        self.deadline = time.thread_time() + budget.max_seconds
        self.built = 0
        self.output = 0
        self.steps = 0
        self.unread_until = 0.0  # the first step reads the CPU clock

    def step(self) -> None:
        """One loop iteration, call or filter; over the step limit or past the CPU deadline raises.

        Reading the thread's CPU clock is a system call (most of a microsecond, and an email takes
        dozens of steps); the wall clock is read in a fraction of that. A thread spends at most
        the wall time that passes, so until the wall clock has moved as far as the CPU time that
        was left at the last reading, the deadline cannot have passed and the CPU clock is not
        read: a step raises exactly when reading the CPU clock at every step would.
        """
        self.steps += 1
        if self.steps > self.budget.max_steps:
            raise TemplateTooExpensive(f"more than {self.budget.max_steps:,} loop iterations and calls")
        wall = time.perf_counter()
        if wall < self.unread_until:
            return
        left = self.deadline - time.thread_time()
        if left < 0:
            raise TemplateTooExpensive(f"took more than {self.budget.max_seconds * 1000:.0f} ms of CPU")
        self.unread_until = wall + left

    @contextmanager
    def off_the_clock(self) -> Iterator[None]:
        """Leave out of the CPU limit work the environment does for the template, not the template's code.

        Loading and compiling an included or imported template on a cold cache costs tens of
        milliseconds (more on a busy machine); charging it to the email made the first render
        after a deploy or a publish fail its budget while the same render passed warm.
        """
        started = time.thread_time()
        try:
            yield
        finally:
            self.deadline += time.thread_time() - started

    def expect(self, size: int, what: str) -> None:
        """Refuse an operation whose result would hold ``size`` characters or items, before it runs."""
        if size > self.budget.max_string:
            raise TemplateTooExpensive(f"{what} would build {size:,} characters, above {self.budget.max_string:,}")

    def expect_items(self, count: int, what: str) -> None:
        if count > self.budget.max_items:
            raise TemplateTooExpensive(f"{what} would make {count:,} items, above {self.budget.max_items:,}")

    def built_value(self, value: Any) -> Any:
        """Check one value a template operation produced and add it to the render's total."""
        if isinstance(value, str | bytes):
            size = len(value)
            if size > self.budget.max_string:
                raise TemplateTooExpensive(f"a value of {size:,} characters, above {self.budget.max_string:,}")
        elif isinstance(value, list | tuple | dict | set | frozenset | range):
            size = len(value)
            if size > self.budget.max_items:
                raise TemplateTooExpensive(f"a collection of {size:,} items, above {self.budget.max_items:,}")
        elif isinstance(value, int) and not isinstance(value, bool):
            if value.bit_length() > self.budget.max_int_bits:
                raise TemplateTooExpensive(f"a number larger than {self.budget.max_int_bits} bits")
            return value
        else:
            return value
        self.built += size
        if self.built > self.budget.max_built:
            raise TemplateTooExpensive(f"built more than {self.budget.max_built:,} characters and items in all")
        return value

    def iterate(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """A template loop over ``iterable``, one step per iteration."""
        for item in iterable:
            self.step()
            yield item

    def materialised(self, iterable: Iterable[Any], what: str) -> list[Any] | tuple[Any, ...]:
        """``iterable`` as a list, refused when it is longer than a list may be (for sizing before a join)."""
        if isinstance(iterable, list | tuple):
            return iterable
        items = list(islice(iterable, self.budget.max_items + 1))
        self.expect_items(len(items), what)
        return items


def active() -> Spending | None:
    """The budget of the render under way in this context, if any."""
    return _current.get()


def written(chunk: str) -> str:
    """Account for one piece of output of the render under way (into the email or into a macro's
    or block's buffer). The generated code of every template calls it for each piece of output,
    a hundred and more per email, so it is one function call.

    No clock here: output that repeats comes from a loop or a call, which check the deadline.
    """
    spent = _current.get()
    if spent is None:
        raise TemplateTooExpensive("template code ran outside a render budget")
    spent.output += len(chunk)
    if spent.output > spent.budget.max_output:
        raise TemplateTooExpensive(f"wrote more than {spent.budget.max_output:,} characters")
    return chunk


def current() -> Spending:
    spending = _current.get()
    if spending is None:
        raise TemplateTooExpensive("template code ran outside a render budget")
    return spending


@contextmanager
def spending(budget: RenderBudget) -> Iterator[Spending]:
    """Open one email's budget; a render nested inside an open one (include, import) draws on it."""
    active = _current.get()
    if active is not None:
        yield active
        return
    opened = Spending(budget)
    token = _current.set(opened)
    # No automatic garbage collection inside the CPU limit: a full collection sweeps the whole
    # process's heap (100 ms and more on a warm container with a large heap), which is not the
    # template's spending. The render's own allocations are bounded by the budget; whatever they
    # leave is collected after it, at the next allocation threshold.
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield opened
    finally:
        if collecting:
            gc.enable()
        _current.reset(token)


# -- sizes of results, estimated before the work is done ------------------------------------------

_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_FORMAT_SPEC = re.compile(r"^(?:.?[<>=^])?[+\- ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?")


def _length(value: Any) -> int:
    return len(value) if isinstance(value, Sized) else len(str(value))


def _ints(values: Iterable[Any]) -> list[int]:
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def printf_size(template: Any, args: Any) -> int:
    """Upper bound of ``template % args`` from the widths and precisions of its conversions."""
    text = str(template)
    values = args.values() if isinstance(args, dict) else args if isinstance(args, tuple) else (args,)
    widths = 0
    star = max(_ints(values), default=0)
    for match in _PRINTF.finditer(text):
        for part in (match[1], match[2]):
            if part == "*":
                widths += abs(star)
            elif part:
                widths += int(part)
    return len(text) + widths + sum(_length(v) for v in values)


def format_spec_size(spec: str) -> int:
    """Width plus precision of a ``str.format`` field specification (what it can add to a value)."""
    match = _FORMAT_SPEC.match(spec)
    if not match:
        return len(spec)
    return int(match[1] or 0) + int(match[2] or 0)


def replace_size(text: str, old: Any, new: Any, count: Any = -1) -> int:
    old_len, new_len = _length(old), _length(new)
    places = len(text) + 1 if old_len == 0 else len(text) // old_len
    if isinstance(count, int) and count >= 0:
        places = min(places, count)
    return len(text) + places * max(0, new_len - old_len)


def _width(value: Any) -> int:
    return value if isinstance(value, int) else _length(value)


def _lines(text: str) -> int:
    return text.count("\n") + 1


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: Any) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


Estimate = Callable[[Spending, Any, tuple[Any, ...], dict[str, Any]], None]


def _str_method_estimates() -> dict[str, Estimate]:
    def width(s: Spending, text: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        s.expect(max(len(text), _width(_arg(args, kwargs, 0, "width", 0))), "padding")

    def expandtabs(s: Spending, text: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        s.expect(len(text) * max(1, _width(_arg(args, kwargs, 0, "tabsize", 8))), "expandtabs")

    def replace(s: Spending, text: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        old, new = _arg(args, kwargs, 0, "old", ""), _arg(args, kwargs, 1, "new", "")
        s.expect(replace_size(text, old, new, _arg(args, kwargs, 2, "count", -1)), "replace")

    def translate(s: Spending, text: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        table = _arg(args, kwargs, 0, "table", {})
        values = table.values() if isinstance(table, dict) else ()
        longest = max((_length(v) for v in values if v is not None), default=1)
        s.expect(len(text) * max(1, longest), "translate")

    return {
        "ljust": width,
        "rjust": width,
        "center": width,
        "zfill": width,
        "expandtabs": expandtabs,
        "replace": replace,
        "translate": translate,
    }


STR_METHODS = _str_method_estimates()


def check_str_join(s: Spending, separator: str, items: list[Any] | tuple[Any, ...]) -> None:
    s.expect(sum(_length(item) for item in items) + max(0, len(items) - 1) * len(separator), "join")


def _filter_estimates() -> dict[str, Estimate]:
    def center(s: Spending, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        s.expect(max(_length(value), _width(_arg(args, kwargs, 0, "width", 80))), "center")

    def indent(s: Spending, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        text = str(value)
        s.expect(len(text) + _lines(text) * _width(_arg(args, kwargs, 0, "width", 4)), "indent")

    def wordwrap(s: Spending, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        wrap = _arg(args, kwargs, 2, "wrapstring", None) or "\n"
        s.expect(len(str(value)) * (1 + _length(wrap)), "wordwrap")

    def printf(s: Spending, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        s.expect(printf_size(value, kwargs or args), "format")

    def replace(s: Spending, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        old, new = _arg(args, kwargs, 0, "old", ""), _arg(args, kwargs, 1, "new", "")
        s.expect(replace_size(str(value), old, new, _arg(args, kwargs, 2, "count", None)), "replace")

    def batch(s: Spending, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        s.expect_items(_width(_arg(args, kwargs, 0, "linecount", 1)), "batch")

    def slice_(s: Spending, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        s.expect_items(_width(_arg(args, kwargs, 0, "slices", 1)), "slice")

    return {
        "center": center,
        "indent": indent,
        "wordwrap": wordwrap,
        "format": printf,
        "replace": replace,
        "batch": batch,
        "slice": slice_,
    }


FILTERS = _filter_estimates()


def check_sequence_filter(
    s: Spending, name: str, items: list[Any] | tuple[Any, ...], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """``join`` and ``sum`` build one value from many: sized from the (materialised) input first."""
    if name == "join" and _arg(args, kwargs, 1, "attribute", None) is None:
        check_str_join(s, str(_arg(args, kwargs, 0, "d", "")), items)
    if name == "sum":
        start = _arg(args, kwargs, 1, "start", 0)
        if isinstance(start, Sized) or any(isinstance(item, Sized) for item in items):
            s.expect_items(_length(start) + sum(_length(item) for item in items), "sum")


#: filters whose input is a sequence that is sized (materialised if lazy) before they run
SEQUENCE_FILTERS = frozenset({"join", "sum"})
