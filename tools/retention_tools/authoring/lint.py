"""``retention templates lint``: everything a marketer can get wrong, found before a customer sees it.

Every template is rendered for every sample customer (with StrictUndefined, so a misspelt
variable is an error) and checked: required blocks, unsubscribe link and postal address in both
parts, promotion share within the limit, subject and preheader length, image alt text, the link
and markup policy compose applies (https or mailto links only; no script, frame, form, handler
attribute or refresh), no "Hello ," left by an empty field, and CSS inlining that kept the markup.
Templates that could switch escaping off are refused when compiled, and a render over its
budget (:mod:`retention.mail.budget`) is reported with the limit it passed.
"""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError, UndefinedError

from retention.mail import catalog as files
from retention.mail.catalog import SampleCustomer
from retention.mail.css import inline_rendered
from retention.mail.environment import CSS_FILE
from retention.mail.errors import TemplateRefused
from retention.mail.html_policy import unsafe_markup
from retention.mail.promotion import visible_text
from retention.mail.render import RenderedEmail, Renderer, RenderError
from retention.mail.settings import MailSettings
from retention.models.pages import PageWords
from retention.paths import templates_dir
from retention_tools.authoring.findings import WARNING, Problem, did_you_mean, errors, per_sample
from retention_tools.authoring.markup_balance import describe, unclosed_tags
from retention_tools.authoring.preview import Preview, preview_settings, render_sample
from retention_tools.authoring.template_errors import syntax_problem, template_line, undefined_problem
from retention_tools.authoring.yaml_errors import check_file

_EMPTY_FIELD = re.compile(r"\s[,;]|,\s*[,!?.]|\(\s*\)")
_WS_BETWEEN_TAGS = re.compile(r">\s+<")
_HREF = re.compile(r'href="([^"]+)"')
_URL = re.compile(r"https://[^\s<>\"')\]]+")
_ANSWER_LINK = re.compile(r"""\blinks\.feedback(?:\.([A-Za-z0-9_-]+)|\[\s*["']([^"']*)["']\s*\])""")


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))


def _check_preview(preview: Preview, settings: MailSettings, catalog: files.Catalog) -> list[str]:
    found: list[str] = []
    rendered = preview.rendered
    if not preview.within_limit:
        found.append(
            f"promotion is {rendered.html_share.percent} (HTML) / {rendered.text_share.percent} (text) "
            f"of the visible text, above the {settings.promotion_share_limit * 100:.0f} % limit"
        )
    limit = catalog.settings.subject_max_chars
    if len(rendered.subject) > limit:
        found.append(f"subject is {len(rendered.subject)} characters, longer than {limit}: {rendered.subject!r}")
    if not rendered.preheader:
        found.append("the preheader is empty (inboxes then show the first body text instead)")
    elif len(rendered.preheader) > catalog.settings.preheader_max_chars:
        found.append(f"preheader is longer than {catalog.settings.preheader_max_chars} characters")
    if _EMPTY_FIELD.search(rendered.subject):
        found.append(f"subject looks like an empty field left a gap: {rendered.subject!r}")
    found += unsafe_markup(rendered.html)
    parsed = _Images()
    parsed.feed(rendered.html)
    for image in parsed.images:
        src = image.get("src") or ""
        if image.get("alt") is None or (not image.get("alt") and image.get("role") != "presentation"):
            found.append(f"image {src[:80]!r} has no alt text")
    visible = visible_text(rendered.html)
    gap = _EMPTY_FIELD.search(visible)
    if gap:
        context = visible[max(0, gap.start() - 30) : gap.end() + 10]
        found.append(f"the HTML part reads like an empty field left a gap: …{context}…")
    unsubscribe = preview.tracked.html.count("/u/")
    if not unsubscribe or "/u/" not in preview.tracked.text:
        found.append("no unsubscribe link in both parts (the layout's footer must stay)")
    postal = settings.postal_address
    if postal not in rendered.text or postal.replace(",", "") not in rendered.html.replace(",", ""):
        found.append("the sender's postal address is missing from a part (the layout's footer must stay)")
    return found


def _check_inlining(preview: Preview, raw: Renderer, css: str) -> list[str]:
    """Load-time inlining must give the same email as inlining the finished HTML would."""
    plain = render_sample(raw, preview.template, preview.sample, now=_NOW, root=raw.root)
    expected = _normalised(inline_rendered(plain.rendered.html, css))
    actual = _normalised(preview.rendered.html)
    if expected != actual:
        at = next((i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b), 0)
        return [f"CSS inlining changed the markup near …{actual[max(0, at - 60) : at + 40]}… (check unclosed tags)"]
    return []


def _normalised(html: str) -> str:
    """Markup with entity spelling and inter-tag whitespace evened out (serialisers differ there)."""
    return " ".join(html_lib.unescape(_WS_BETWEEN_TAGS.sub("><", html)).split())


_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def lint(root: Path | None = None, *, check_inlining: bool = True) -> list[Problem]:
    """Every problem found in ``templates/`` (empty when all is well), errors and warnings."""
    files.clear_caches()
    root = root or templates_dir()
    problems = _check_yaml(root)
    if errors(problems):
        return problems
    try:
        renderer = _RecordingRenderer(root)
        catalog = renderer.catalog
        samples = files.samples(renderer.root).customers
        for language in _languages(renderer):
            files.content_library(language, renderer.root)
            files.layout_words(language, renderer.root)
    except files.CatalogError as error:
        return [*problems, Problem("templates", str(error))]
    problems += _check_files(renderer, catalog)
    wrong_answers = _check_answers(renderer, catalog)
    problems += wrong_answers
    problems += _check_translations(renderer, catalog, _languages(renderer))
    problems += _check_pages(renderer.root, _languages(renderer))
    unbalanced = _check_markup(renderer.root)
    problems += unbalanced
    settings = preview_settings()
    raw = _UninlinedRenderer(renderer.root) if check_inlining else None
    css = (renderer.root / CSS_FILE).read_text(encoding="utf-8")
    found: dict[Problem, set[str]] = {}
    for template in catalog.templates:
        where = f"emails/{template}.html"
        if any(Path(p.where).name.split(".")[0] == template for p in wrong_answers):
            continue  # rendering would only repeat the unknown answer once per sample
        for sample in samples:
            for problem in _check_sample(renderer, raw, css, template, sample, settings, catalog):
                if problem.message.startswith("CSS inlining") and any(
                    u.where.startswith(where[:-5]) for u in unbalanced
                ):
                    continue  # the unclosed tag already says why
                found.setdefault(problem, set()).add(sample.customer_id)
    return list(dict.fromkeys(problems + per_sample(found, len(samples))))


def _check_sample(
    renderer: _RecordingRenderer,
    raw: Renderer | None,
    css: str,
    template: str,
    sample: SampleCustomer,
    settings: MailSettings,
    catalog: files.Catalog,
) -> list[Problem]:
    where = f"emails/{template}.html"
    try:
        preview = render_sample(renderer, template, sample, settings=settings, now=_NOW)
    except RenderError as error:
        problem = _render_problem(renderer, template, error)
        return [] if problem is None else [problem]
    problems = [Problem(where, message) for message in _check_preview(preview, settings, catalog)]
    problems += _check_parity(preview, template)
    if raw is not None:
        problems += [Problem(where, message) for message in _check_inlining(preview, raw, css)]
    return problems


def _render_problem(renderer: _RecordingRenderer, template: str, error: RenderError) -> Problem | None:
    """A render error at the template line it came from; None for a compile error, which
    :func:`_check_files` reports once for the file rather than once per sample."""
    cause = error.__cause__
    if isinstance(cause, TemplateSyntaxError):
        return None
    located = template_line(cause, renderer.root) if cause is not None else None
    where, line = located if located else (f"emails/{template}.html", None)
    if isinstance(cause, UndefinedError) and line is not None:
        source = (renderer.root / where).read_text(encoding="utf-8")
        return undefined_problem(cause, where, line, source, renderer.last_context)
    return Problem(where, error.reason, line)


def _check_parity(preview: Preview, template: str) -> list[Problem]:
    """What one part offers and the other lacks: a reader of the text part must not miss a sale,
    a coupon or a link the HTML part has (and the other way round)."""
    rendered, where = preview.rendered, f"emails/{template}.txt"
    found: list[Problem] = []
    html_text = visible_text(rendered.html)
    coupon = preview.coupon_code
    if coupon and (coupon in html_text) != (coupon in rendered.text):
        part = "HTML" if coupon in html_text else "text"
        found.append(Problem(where, f"the coupon code is only in the {part} part", severity=WARNING))
    if (rendered.html_share.promotion > 0) != (rendered.text_share.promotion > 0):
        part = "HTML" if rendered.html_share.promotion > 0 else "text"
        found.append(Problem(where, f"a {{% promo %}} block is only in the {part} part", severity=WARNING))
    html_links = {link for link in _HREF.findall(rendered.html) if link.startswith("https://")}
    text_links = set(_URL.findall(rendered.text))
    for link in sorted(html_links ^ text_links):
        part = "HTML" if link in html_links else "text"
        found.append(Problem(where, f"the link {link[:100]} is only in the {part} part", severity=WARNING))
    return found


def _check_markup(root: Path) -> list[Problem]:
    problems = []
    for path in sorted((root / "emails").glob("*.html")) + sorted((root / "layout").glob("*.html")):
        shown = path.relative_to(root).as_posix()
        for tag, line, column in unclosed_tags(path.read_text(encoding="utf-8")):
            problems.append(Problem(shown, describe(tag), line, column))
    return problems


def _check_yaml(root: Path) -> list[Problem]:
    """The marketer-editable YAML the templates need, each problem at its line."""
    problems = check_file(root / "emails.yaml", "emails.yaml", files.Catalog, "templates")
    problems += check_file(root / "samples.yaml", "samples.yaml", files.Samples, "templates")
    for path in sorted((root / "content").glob("*.yaml")):
        problems += check_file(path, f"content/{path.name}", files.CategoryContent, "templates")
    for path in sorted((root / "locales").glob("*.yaml")):
        problems += check_file(path, f"locales/{path.name}", files.LayoutWords, "templates")
    for path in sorted((root / "pages").glob("*.yaml")):
        problems += check_file(path, f"pages/{path.name}", PageWords, "templates")
    return problems


def _languages(renderer: Renderer) -> set[str]:
    languages = {renderer.catalog.settings.default_locale.split("_")[0]}
    for name in renderer.env.list_templates(extensions=("html",)):
        parts = Path(name).name.split(".")
        if name.startswith("emails/") and len(parts) == 3:
            languages.add(parts[1])
    return languages


def _check_translations(renderer: Renderer, catalog: files.Catalog, languages: set[str]) -> list[Problem]:
    """Once one email is translated, every email is: a journey must not switch language halfway
    (a German customer got win-back step 1 in German and step 2 in English)."""
    default = renderer.catalog.settings.default_locale.split("_")[0]
    names = set(renderer.env.list_templates(extensions=("html",)))
    return [
        Problem(
            f"emails/{template}.{language}.html",
            f"missing: customers whose language is {language!r} would get {template!r} in {default!r} "
            f"while their other emails are in {language!r}",
        )
        for template in catalog.templates
        for language in sorted(languages - {default})
        if f"emails/{template}.{language}.html" not in names
    ]


def _check_pages(root: Path, languages: set[str]) -> list[Problem]:
    """The reader's pages (unsubscribe, pause) speak every language an email is written in."""
    return [
        Problem(f"pages/{language}.yaml", f"missing: readers of the {language!r} emails would see English pages")
        for language in sorted(languages)
        if not (root / "pages" / f"{language}.yaml").exists()
    ]


def _check_files(renderer: Renderer, catalog: files.Catalog) -> list[Problem]:
    problems: list[Problem] = []
    names = set(renderer.env.list_templates(extensions=("html", "txt")))
    for template in catalog.templates:
        for extension in ("html", "txt"):
            if f"emails/{template}.{extension}" not in names:
                problems.append(Problem(template, f"emails/{template}.{extension} is missing"))
    for name in sorted(names):
        stem = Path(name).name.split(".")[0]
        if name.startswith("emails/") and stem not in catalog.templates:
            problems.append(Problem(name, "not listed in emails.yaml (add it there or delete the file)"))
        if name.startswith("emails/") and len(Path(name).name.split(".")) == 3:
            sibling = name.rsplit(".", 1)[0] + (".txt" if name.endswith(".html") else ".html")
            if sibling not in names:
                problems.append(Problem(name, f"{sibling} is missing (each language needs both parts)"))
        try:
            renderer.env.get_template(name)
        except TemplateRefused as error:
            problems.append(Problem(name, error.message or str(error), error.lineno, 1))
        except TemplateSyntaxError as error:
            failing = error.name or name
            source = (renderer.root / failing).read_text(encoding="utf-8")
            problems.append(syntax_problem(error, failing, source, renderer.env))
    return problems


def _check_answers(renderer: Renderer, catalog: files.Catalog) -> list[Problem]:
    """Every ``links.feedback.<answer>`` a template uses is one of its ``answers`` in emails.yaml
    (a link to an answer that is not there could never be recorded)."""
    problems: list[Problem] = []
    for name in sorted(renderer.env.list_templates(extensions=("html", "txt"))):
        stem = Path(name).name.split(".")[0]
        if not name.startswith("emails/") or stem not in catalog.templates:
            continue
        known = catalog.templates[stem].answers
        source = (renderer.root / name).read_text(encoding="utf-8")
        for match in _ANSWER_LINK.finditer(source):
            answer = match[1] or match[2] or ""
            if answer in known:
                continue
            line = source.count("\n", 0, match.start()) + 1
            column = match.start() - (source.rfind("\n", 0, match.start()) + 1) + 1
            listed = ", ".join(known) if known else "none"
            problems.append(
                Problem(
                    name,
                    f"links to the answer {answer!r}, which is not among {stem}'s answers in emails.yaml "
                    f"({listed}){did_you_mean(answer, known)}",
                    line,
                    column,
                )
            )
    return problems


class _RecordingRenderer(Renderer):
    """The real renderer, keeping the last email's data so an unknown name can be matched to a known one."""

    last_context: dict[str, Any]

    def render_context(self, template: str, language: str, context: dict[str, Any]) -> RenderedEmail:
        self.last_context = context
        return super().render_context(template, language, context)


class _UninlinedRenderer(Renderer):
    """The same templates without load-time inlining: the reference for the inlining check."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        from jinja2 import FileSystemLoader

        self.env.loader = FileSystemLoader(str(root))
