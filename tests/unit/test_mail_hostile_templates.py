"""Marketers' templates are untrusted: no memory or CPU bomb gets past the render budget, escaping
cannot be switched off, and only https and mailto links, with no script, frame, form, handler or
refresh, leave the engine (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import TemplateError
from jinja2.sandbox import SecurityError
from mail_helpers import REPO_TEMPLATES, add_template, composed, html_email, profile, render, template_root, text_email

from retention.mail.budget import DEFAULT_BUDGET, RenderBudget, spending
from retention.mail.compose import UnsafeEmail
from retention.mail.environment import RetentionEnvironment, build_environment
from retention.mail.errors import RenderError, TemplateRefused, TemplateTooExpensive
from retention.mail.html_policy import read_tags, unsafe_markup
from retention.mail.render import Renderer
from retention_tools.authoring.lint import lint


@pytest.fixture(scope="module")
def env() -> RetentionEnvironment:
    return build_environment(REPO_TEMPLATES)


LOOP_40 = "{{% for i in range(40) %}}{}{{% endfor %}}"
NESTED = "{{% for i in range({0}) %}}{{% for j in range({0}) %}}{1}{{% endfor %}}{{% endfor %}}"

MEMORY_BOMBS = {
    "str method padding": "{{ 'x'.ljust(10**6) }}",
    "padding of a billion": "{{ 'x'.rjust(10**9) }}",
    "zfill": "{{ '1'.zfill(10**6) }}",
    "center filter": "{{ 'x' | center(10**6) }}",
    "printf filter": "{{ '%1000000s' | format('x') }}",
    "printf operator": "{{ '%1000000s' % 'x' }}",
    "printf star width": "{{ '%*s' | format(10**6, 'x') }}",
    "format width": "{{ '{:>1000000}'.format('x') }}",
    "format precision": "{{ '{:.1000000f}'.format(1.5) }}",
    "format nested width": "{{ '{:>{}}'.format('x', 10**8) }}",
    "format_map": "{{ '{a:>1000000}'.format_map({'a': 'x'}) }}",
    "str replace": "{{ ('x' * 1000).replace('x', 'y' * 1000) }}",
    "replace filter": "{{ ('x' * 1000) | replace('x', 'y' * 1000) }}",
    "replace of empty": "{{ ('x' * 1000).replace('', 'y' * 1000) }}",
    "expandtabs": "{{ ('\\t' * 1000).expandtabs(10000) }}",
    "translate": "{{ ('a' * 1000).translate({97: 'b' * 1000}) }}",
    "doubling with ~": "{% set ns = namespace(s='x') %}" + LOOP_40.format("{% set ns.s = ns.s ~ ns.s %}"),
    "doubling with +": "{% set ns = namespace(s='x') %}" + LOOP_40.format("{% set ns.s = ns.s + ns.s %}"),
    "doubling a list": "{% set ns = namespace(s=[1]) %}" + LOOP_40.format("{% set ns.s = ns.s + ns.s %}"),
    "repeat": "{{ 'x' * 100000000 }}",
    "repeat a list": "{{ [1, 2] * 100000000 }}",
    "join of many refs": "{{ (['x' * 20000] * 20000) | join }}",
    "str join": "{{ ''.join(['x' * 20000] * 20000) }}",
    "join of a generator": "{{ ''.join(range(20000) | map('string') | map('center', 20000)) }}",
    "map amplifier": "{{ range(20000) | map('center', 200000) | list | length }}",
    "indent": "{{ ('x\\n' * 10000) | indent(10000) }}",
    "wordwrap": "{{ ('x ' * 10000) | wordwrap(1, wrapstring='y' * 1000) }}",
    "batch fill": "{{ [1] | batch(10**9, 0) | list }}",
    "slice": "{{ [1] | slice(10**9) | list }}",
    "sum of lists": "{{ ([[1] * 1000] * 20000) | sum(start=[]) | length }}",
    "output in a loop": "{% set s = 'x' * 20000 %}{% for i in range(20000) %}{{ s }}{% endfor %}",
    "set block buffer": "{% set s = 'x' * 20000 %}{% set b %}"
    "{% for i in range(20000) %}{{ s }}{% endfor %}{% endset %}",
    "macro buffer": "{% macro m(s) %}{% for i in range(20000) %}{{ s }}{% endfor %}{% endmacro %}{{ m('x' * 20000) }}",
    "big integers": "{% set ns = namespace(n=3) %}{% for i in range(100) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
    "power tower": "{{ (10 ** 60) ** 60 }}",
    "exponent": "{{ 9 ** 999999 }}",
    "huge range": "{{ range(10**9) | list | length }}",
}

CPU_BOMBS = {
    "nested loops over range(100000)": NESTED.format(100000, ""),
    "nested loops under the range cap": NESTED.format(20000, ""),
    "loop over a long string": "{% for c in 'x' * 200000 %}{% endfor %}",
    "macro fan-out": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
    "endless recursion": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "filter calls in a loop": NESTED.format(20000, "{{ j | string }}"),
}


@pytest.mark.parametrize("source", MEMORY_BOMBS.values(), ids=MEMORY_BOMBS.keys())
def test_memory_bomb_is_refused_by_the_budget(env: RetentionEnvironment, source: str) -> None:
    # Given a template that would build a value far larger than any email
    # When it is rendered, Then the sandbox refuses it, naming the limit
    with pytest.raises((TemplateTooExpensive, SecurityError)) as refused:
        env.from_string(source).render()
    assert "too expensive" in str(refused.value) or "exponent" in str(refused.value)


@pytest.mark.parametrize("source", CPU_BOMBS.values(), ids=CPU_BOMBS.keys())
def test_cpu_bomb_stops_within_the_step_budget(env: RetentionEnvironment, source: str) -> None:
    # Given a budget with no clock limit, so only the counted steps can stop the render
    env_without_clock = build_environment(REPO_TEMPLATES)
    env_without_clock.budget = RenderBudget(max_seconds=3600)
    # When the template runs, Then it is stopped by what it does, not by how long it took
    with pytest.raises(TemplateTooExpensive) as refused:
        env_without_clock.from_string(source).render()
    assert "took longer" not in refused.value.budget_reason


def test_a_render_past_its_deadline_is_stopped() -> None:
    # Given a budget whose deadline has passed before the first step
    env = build_environment(REPO_TEMPLATES)
    env.budget = RenderBudget(max_seconds=-1)
    # When any loop runs, Then the deadline stops it
    with pytest.raises(TemplateTooExpensive, match="ms of CPU"):
        env.from_string("{% for i in range(3) %}{{ i }}{% endfor %}").render()


def test_loading_an_included_template_is_not_charged_to_the_email(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a CPU clock that only moves while a template is loaded and compiled (a cold cache on a busy machine)
    from jinja2 import FileSystemLoader

    from retention.mail import budget

    clock = [0.0]
    monkeypatch.setattr(budget.time, "thread_time", lambda: clock[0])
    (tmp_path / "part.html").write_text("{% for i in range(2) %}{{ i }}{% endfor %}", encoding="utf-8")
    env = build_environment(REPO_TEMPLATES)
    env.loader = FileSystemLoader(tmp_path)
    loading = env.loader.load

    def slow_load(*args: object, **kwargs: object) -> object:
        clock[0] += 10.0
        return loading(*args, **kwargs)

    monkeypatch.setattr(env.loader, "load", slow_load)
    # When an email includes it on a 250 ms budget, Then the compile time is left out and the render passes
    assert env.from_string('{% include "part.html" %}|{% for i in range(2) %}{{ i }}{% endfor %}').render() == "01|01"
    # And the template's own work still runs on the clock
    with pytest.raises(TemplateTooExpensive, match="ms of CPU"), spending(DEFAULT_BUDGET):
        clock[0] += 10.0
        env.from_string("{% for i in range(2) %}{{ i }}{% endfor %}").render()


def test_the_cpu_deadline_stops_the_first_step_past_it_while_the_cpu_clock_is_read_only_when_it_could_be(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a thread that is busy all the time (its CPU clock moves with the wall clock)
    from retention.mail import budget

    clock = {"wall": 100.0, "cpu": 5.0}
    reads = []
    monkeypatch.setattr(budget.time, "perf_counter", lambda: clock["wall"])
    monkeypatch.setattr(budget.time, "thread_time", lambda: reads.append(clock["cpu"]) or clock["cpu"])
    spent = budget.Spending(budget.RenderBudget(max_seconds=0.25))
    # When steps follow each other 40 ms apart
    stopped_at = None
    for number in range(1, 20):
        clock["wall"] += 0.04
        clock["cpu"] += 0.04
        try:
            spent.step()
        except TemplateTooExpensive:
            stopped_at = number
            break
    # Then the seventh step, the first past the 250 ms deadline, stops the render
    assert stopped_at == 7 and reads[-1] > spent.deadline
    # And the CPU clock was read only when the wall time since the last reading could have used up
    # what was left: when the budget opened, at the first step and at the step that stopped
    assert len(reads) == 3


def test_a_template_already_compiled_is_loaded_without_reading_the_cpu_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an environment that has compiled the layout once (a warm container)
    from retention.mail import budget

    env = build_environment(REPO_TEMPLATES)
    env.get_template("layout/base.html")
    reads = []
    monkeypatch.setattr(budget.time, "thread_time", lambda: reads.append(1) or 0.0)
    # When an email's render loads it again (extends, import)
    with spending(DEFAULT_BUDGET):
        reads.clear()
        env.get_template("layout/base.html")
        # Then nothing was left off the clock: there was nothing to load
        assert reads == []
        # And a template not compiled yet is still loaded off the clock
        env.get_template("layout/blocks.txt")
        assert len(reads) == 2


def test_no_garbage_collection_pause_is_charged_to_an_email() -> None:
    # Given automatic collection on (a warm container's heap can take 100 ms to sweep)
    import gc

    assert gc.isenabled()
    env = build_environment(REPO_TEMPLATES)
    # When an email renders, Then no automatic collection can run inside its CPU limit
    with spending(DEFAULT_BUDGET):
        assert not gc.isenabled()
        with spending(DEFAULT_BUDGET):  # an include or import draws on the same budget
            assert not gc.isenabled()
        assert not gc.isenabled()
        assert env.from_string("{% for i in range(2) %}{{ i }}{% endfor %}").render() == "01"
    # And collection is back on after it, also after a render that failed
    assert gc.isenabled()
    with pytest.raises(TemplateTooExpensive), spending(DEFAULT_BUDGET):
        env.from_string("{{ 'x'.ljust(10**6) }}").render()
    assert gc.isenabled()


def test_one_budget_covers_every_part_of_an_email(env: RetentionEnvironment) -> None:
    # Given one open budget and two renders that each write 600,000 characters (under the limit alone)
    writes = "{% set s = 'x' * 20000 %}{% for i in range(30) %}{{ s }}{% endfor %}"
    with spending(DEFAULT_BUDGET):
        env.from_string(writes).render()
        # When the second part renders under the same budget, Then the total is over
        with pytest.raises(TemplateTooExpensive, match="wrote more than"):
            env.from_string(writes).render()


def test_ordinary_padding_formatting_and_loops_still_work(env: RetentionEnvironment) -> None:
    source = (
        "{{ 'a'.ljust(3) }}|{{ '%4s' | format('b') }}|{{ '{:>3}'.format('c') }}|{{ 'x' | center(3) }}|"
        "{% for i in range(3) %}{{ i }}{% endfor %}|{{ ['d', 'e'] | join('-') }}|{{ [1, 2] | sum }}|{{ 'f' ~ 'g' }}"
    )
    assert env.from_string(source).render() == "a  |   b|  c| x |012|d-e|3|fg"


def test_a_bomb_in_the_text_part_is_refused_with_the_template_name(tmp_path: Path) -> None:
    root = template_root(tmp_path)
    add_template(root, "bomb", html_email("<p>Useful text</p>"), text_email("{{ 'x'.ljust(10**6) }}"))
    with pytest.raises(TemplateTooExpensive) as refused:
        render(Renderer(root), "bomb")
    assert refused.value.template == "bomb" and "padding" in str(refused.value)


def test_the_lint_reports_an_over_budget_template(tmp_path: Path) -> None:
    root = template_root(tmp_path)
    add_template(root, "bomb", html_email("<p>Useful {{ '%1000000s' | format('x') }}</p>"), text_email("Useful"))
    problems = [str(problem) for problem in lint(root, check_inlining=False)]
    assert any(problem.startswith("emails/bomb") and "too expensive" in problem for problem in problems), problems


UNESCAPING = {
    "safe filter": "<p>{{ customer.first_name | safe }}</p>",
    "safe by name": "<p>{{ [customer.first_name] | map('safe') | join }}</p>",
    "filter block": "{% filter safe %}<p>{{ customer.first_name }}</p>{% endfilter %}",
    "autoescape off": "{% autoescape false %}<p>{{ customer.first_name }}</p>{% endautoescape %}",
    "autoescape by variable": "{% autoescape customer.vip %}<p>{{ customer.first_name }}</p>{% endautoescape %}",
    "tojson": '<p title="{{ customer.first_name | tojson }}">x</p>',
    "include a text template": '{% include "layout/base.txt" %}',
    "import from a text template": '{% import "layout/blocks.txt" as text %}{{ text.suggestions([], "x") }}',
    "include by variable": "{% include customer.first_name %}",
}


@pytest.mark.parametrize("content", UNESCAPING.values(), ids=UNESCAPING.keys())
def test_switching_escaping_off_is_refused_at_compile_time(tmp_path: Path, content: str) -> None:
    # Given a template that tries to let customer data into the HTML unescaped
    root = template_root(tmp_path)
    add_template(root, "raw", html_email(content), text_email("Useful"))
    # When it is compiled for a send, Then it is refused
    with pytest.raises(RenderError) as refused:
        render(Renderer(root), "raw", profile(name="<script>alert(1)</script> Smith"))
    assert refused.value.template == "raw"
    assert refused.value.reason.endswith("customer data must stay escaped")
    # And the lint names the file and the line
    problems = [str(problem) for problem in lint(root, check_inlining=False)]
    assert any(problem.startswith("emails/raw.html:1:") for problem in problems), problems


def test_unescaping_is_refused_in_a_string_template_too(env: RetentionEnvironment) -> None:
    with pytest.raises(TemplateRefused, match="safe"):
        env.from_string("{{ x | safe }}")
    assert "safe" not in env.filters and "tojson" not in env.filters


def test_the_shipped_templates_never_switch_escaping_off() -> None:
    renderer = Renderer()
    assert renderer.precompile() > 0  # compiling every shipped template passes the policy


UNSAFE_HTML = {
    "javascript link": '<p>Useful</p><a href="javascript:alert(1)">x</a>',
    "entity-spelt javascript link": '<p>Useful</p><a href="&#106;avascript:alert(1)">x</a>',
    "javascript link split by a tab": '<p>Useful</p><a href="java&#9;script:alert(1)">x</a>',
    "data link": '<p>Useful</p><a href="data:text/html,hi">x</a>',
    "http link": '<p>Useful</p><a href="http://shop.example.com/x">x</a>',
    "relative link": '<p>Useful</p><a href="/x">x</a>',
    "script": "<p>Useful</p><script>alert(1)</script>",
    "iframe": '<p>Useful</p><iframe src="https://shop.example.com"></iframe>',
    "handler attribute": '<p onmouseover="alert(1)">Useful</p>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example.com"><p>Useful</p>',
    "form": '<form action="https://shop.example.com/x"><p>Useful</p></form>',
    "code in a style": '<p style="background: url(javascript:alert(1))">Useful</p>',
    "data image": '<p>Useful</p><img src="data:image/png;base64,AAAA" alt="x">',
}


@pytest.mark.parametrize("content", UNSAFE_HTML.values(), ids=UNSAFE_HTML.keys())
def test_unsafe_markup_is_refused_by_compose_and_the_lint(tmp_path: Path, content: str) -> None:
    # Given a template that writes what a mail client could run or follow somewhere unsafe
    root = template_root(tmp_path)
    add_template(root, "unsafe", html_email(content), text_email("Useful"))
    # When it is composed for a send, Then nothing is sent
    with pytest.raises(UnsafeEmail) as refused:
        composed(Renderer(root), "unsafe")
    assert refused.value.template == "unsafe"
    # And the lint reports the same problem
    problems = [str(problem) for problem in lint(root, check_inlining=False)]
    assert any(problem.startswith("emails/unsafe") and refused.value.problems[0] in problem for problem in problems)


def test_mailto_and_https_links_are_sent(tmp_path: Path) -> None:
    root = template_root(tmp_path)
    content = (
        '<p>Useful <a href="mailto:hello@shop.example.com">write</a> <a href="https://shop.example.com/a">a</a></p>'
    )
    add_template(root, "links", html_email(content), text_email("Useful"))
    email = composed(Renderer(root), "links")
    assert 'href="mailto:hello@shop.example.com"' in email.html and email.urls == ("https://shop.example.com/a",)


@pytest.mark.parametrize(
    ("content", "name"),
    [
        ('<p>Useful <a href="{{ customer.first_name }}">x</a></p>', "javascript:alert(1)"),
        ('<p>Useful <a {{ customer.name }} href="https://shop.example.com">x</a></p>', "onclick=alert(1)"),
    ],
)
def test_customer_data_in_a_careless_href_cannot_make_an_unsafe_link(tmp_path: Path, content: str, name: str) -> None:
    # Given a template that puts customer data in a link, or carelessly inside a tag
    root = template_root(tmp_path)
    add_template(root, "careless", html_email(content), text_email("Useful"))
    # When the customer's data is a script link or smuggles a handler attribute, Then nothing is sent
    with pytest.raises(UnsafeEmail):
        composed(Renderer(root), "careless", profile(name=f"{name} Smith"))


# -- properties -----------------------------------------------------------------------------------

_BIG = st.sampled_from([10, 1000, 10**5, 10**6, 10**9])
_STRING = st.sampled_from(["'x'", "('ab' * 100)", "customer"])
_AMPLIFIER = st.one_of(
    st.builds(lambda s, n: f"{s}.ljust({n})", _STRING, _BIG),
    st.builds(lambda s, n: f"{s}.center({n})", _STRING, _BIG),
    st.builds(lambda s, n: f"({s} ~ '\\t').expandtabs({n})", _STRING, _BIG),
    st.builds(lambda s, n: f"{s}.replace('x', 'y' * {n})", _STRING, st.sampled_from([1, 100, 10**4])),
    st.builds(lambda s, n: f"'%{n}s' | format({s})", _STRING, _BIG),
    st.builds(lambda s, n: f"'{{:>{n}}}'.format({s})", _STRING, _BIG),
    st.builds(lambda s, n: f"{s} | center({n})", _STRING, _BIG),
    st.builds(lambda s, n: f"{s} | indent({n}, true)", _STRING, _BIG),
    st.builds(lambda s, n: f"[{s}] * {n}", _STRING, _BIG),
    st.builds(lambda s, n: f"{s} * {n}", _STRING, _BIG),
)
_LOOP = st.sampled_from([10, 1000, 20000, 100000])


@st.composite
def hostile_templates(draw: st.DrawFn) -> str:
    body = "{{ " + draw(_AMPLIFIER) + " }}"
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["for", "double", "macro", "set"]))
        if kind == "for":
            body = f"{{% for i in range({draw(_LOOP)}) %}}{body}{{% endfor %}}"
        elif kind == "double":
            body = (
                "{% set ns = namespace(s=" + draw(_STRING) + ") %}"
                f"{{% for i in range({draw(st.integers(1, 40))}) %}}{{% set ns.s = ns.s ~ ns.s %}}{{% endfor %}}"
                "{{ ns.s }}" + body
            )
        elif kind == "macro":
            body = f"{{% macro m() %}}{body}{{% endmacro %}}{{{{ m() }}}}{{{{ m() }}}}"
        else:
            body = f"{{% set b %}}{body}{{% endset %}}{{{{ b }}}}{{{{ b }}}}"
    return body


@settings(
    max_examples=120, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], deadline=None
)
@given(source=hostile_templates())
def test_a_generated_hostile_template_is_refused_or_renders_within_the_budget(
    env: RetentionEnvironment, source: str
) -> None:
    # Given a template built from amplifiers, loops, doubling, macros and captured blocks
    budget = env.budget
    # When it is rendered, Then it is either refused with a reason or its output fits the budget
    try:
        with spending(budget) as spent:
            output = env.from_string(source).render(customer="Leyla")
    except (TemplateTooExpensive, SecurityError) as refused:
        assert str(refused)
        return
    except (TemplateError, TypeError, ValueError):
        return  # refused as a broken template (what the lint reports)
    assert len(output) <= budget.max_output
    assert spent.output <= budget.max_output and spent.steps <= budget.max_steps


_ATTRIBUTE_NAMES = st.sampled_from(["href", "HREF", "src", "onclick", "style", "title", "x", "http-equiv", "srcset"])
_VALUES = st.sampled_from(
    ["https://a.example", "javascript:x", "JaVaScRiPt:x", "&#106;avascript:x", "mailto:a@b", "/r", "refresh", "x>y", ""]
)
_QUOTES = st.sampled_from(['"', "'", ""])


@st.composite
def markup(draw: st.DrawFn) -> str:
    pieces = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            pieces.append(draw(st.sampled_from(["text ", " href=javascript:x ", "once = ", "<!-- ", " -->", "'", '"'])))
            continue
        tag = draw(st.sampled_from(["a", "img", "p", "meta", "SCRIPT", "svg"]))
        attributes = "".join(
            f"{draw(st.sampled_from([' ', '/', '']))}{draw(_ATTRIBUTE_NAMES)}={q}{draw(_VALUES)}{q}"
            for q in [draw(_QUOTES) for _ in range(draw(st.integers(0, 3)))]
        )
        pieces.append(f"<{tag}{attributes}>")
    return "".join(pieces)


@settings(max_examples=400, deadline=None)
@given(html=markup())
def test_the_quick_scan_never_passes_what_the_tag_by_tag_reading_refuses(html: str) -> None:
    assert unsafe_markup(html) == read_tags(html)


@settings(max_examples=300, deadline=None)
@given(html=markup(), tail=st.sampled_from([" – 12,90 €", "ÉCLAIR «x»", "\u0130 \u212a", "\u00a0href=javascript:x"]))
def test_the_quick_scan_reads_markup_beside_letters_outside_ascii_the_same(html: str, tail: str) -> None:
    # Given markup in a text that is not all ASCII (a price, an accented capital, the two letters
    # whose lowercase is ASCII, a no-break space), When the quick scan lowers only ASCII letters,
    # Then it still never passes what the tag-by-tag reading refuses
    document = f"{tail}{html}{tail}"
    assert unsafe_markup(document) == read_tags(document)


def test_only_the_deployments_own_tracking_base_may_be_plain_http() -> None:
    # The engine's footer links point at the tracking API; a local run serves it on loopback http.
    footer = '<a href="http://127.0.0.1:8787/u/u.abc.0.k1.sig">Unsubscribe</a>'
    assert unsafe_markup(footer, trusted_base="http://127.0.0.1:8787") == []
    assert unsafe_markup(footer) != []
    # A prefix of the host is not the base: the next character must start the path.
    lookalike = '<a href="http://127.0.0.1:8787.evil.example/x">x</a>'
    assert unsafe_markup(lookalike, trusted_base="http://127.0.0.1:8787") != []
    assert unsafe_markup('<a href="javascript:alert(1)">x</a>', trusted_base="http://127.0.0.1:8787") != []
