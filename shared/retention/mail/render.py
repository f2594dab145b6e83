"""Rendering one email: the locale variant chosen, subject, preheader, HTML and text parts, promotion measured.

A :class:`Renderer` lives for the life of a container: the environment compiles each template
once (CSS already inlined at load) and keeps it. :meth:`Renderer.render` does no AWS call and no
tracking; :func:`retention.mail.compose.compose` adds the signed links and the MIME envelope.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from jinja2 import Template, TemplateError, TemplateNotFound, nodes
from jinja2.runtime import Context

from retention.mail import catalog as files
from retention.mail.budget import spending
from retention.mail.context import CouponOffer, Links, Shop, build_context
from retention.mail.environment import RetentionEnvironment, build_environment
from retention.mail.errors import RenderError, TemplateRefused, TemplateTooExpensive
from retention.mail.promotion import Share, measure_html, measure_text, strip_markers
from retention.models.profile import CustomerProfile
from retention.paths import templates_dir

_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class RenderedEmail:
    template: str
    language: str
    subject: str
    preheader: str
    html: str
    text: str
    html_share: Share
    text_share: Share

    @property
    def promotion_share(self) -> float:
        """The larger of the two parts' promotion shares: what the 80/20 rule is checked against."""
        return max(self.html_share.ratio, self.text_share.ratio)


def _plain(fragment: str) -> str:
    return _SPACES.sub(" ", html_lib.unescape(_TAGS.sub("", strip_markers(fragment)))).strip()


def parse_locale(value: str | None) -> Locale | None:
    if not value:
        return None
    try:
        return _parsed_locale(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


@lru_cache(maxsize=256)
def _parsed_locale(name: str) -> Locale:
    """``Locale.parse``, which parses anew on every call; the names are few (refusals are not cached)."""
    return Locale.parse(name)


class Renderer:
    """Templates of one ``templates/`` folder, compiled once and rendered many times."""

    def __init__(self, root: Path | None = None, *, auto_reload: bool = False) -> None:
        self.root = root or templates_dir()
        self.env: RetentionEnvironment = build_environment(self.root, auto_reload=auto_reload)
        self._names = frozenset(self.env.list_templates(extensions=("html", "txt")))
        self._parents: dict[str, str | None] = {}

    @property
    def catalog(self) -> files.Catalog:
        return files.catalog(self.root)

    def variant(self, template: str, requested: str | None) -> tuple[str, Locale]:
        """The language whose variant exists (customer's first, then the default) and the formatting locale."""
        default = _parsed_locale(self.catalog.settings.default_locale)
        wanted = parse_locale(requested)
        if wanted and f"emails/{template}.{wanted.language}.html" in self._names:
            return wanted.language, wanted
        if wanted and wanted.language == default.language:
            return default.language, wanted
        return default.language, default

    def precompile(self) -> int:
        """Compile every template now (at cold start), so no send pays for it; returns how many."""
        for name in self._names:
            self.env.get_template(name)
        return len(self._names)

    def render(
        self,
        template: str,
        profile: CustomerProfile,
        *,
        shop: Shop,
        links: Links,
        now: datetime,
        coupon: CouponOffer | None = None,
    ) -> RenderedEmail:
        entry = self.catalog.templates.get(template)
        if entry is None:
            raise RenderError(template, "not listed in emails.yaml")
        if "coupon" in entry.requires and coupon is None:
            raise RenderError(template, "needs a coupon and none was given")
        language, locale = self.variant(template, profile.locale)
        context = build_context(
            profile,
            template=template,
            locale=locale,
            words=files.layout_words(language, self.root),
            library=files.content_library(language, self.root),
            settings=self.catalog.settings,
            shop=shop,
            links=links,
            now=now,
            coupon=coupon,
        )
        return self.render_context(template, language, context)

    def _block(self, template: str, html_template: Template, name: str) -> Callable[[Context], Iterator[str]]:
        """The block as defined by the template or, for a variant that extends another email, its parent."""
        current: Template | None = html_template
        while current is not None:
            if name in current.blocks:
                return current.blocks[name]
            parent = self._parent(current.name or "")
            current = self.env.get_template(parent) if parent and parent.startswith("emails/") else None
        raise RenderError(template, f"the HTML template has no {name!r} block")

    def _parent(self, name: str) -> str | None:
        if name not in self._parents:
            source = self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]
            extends = self.env.parse(source).find(nodes.Extends)
            parent = extends.template if extends else None
            self._parents[name] = parent.value if isinstance(parent, nodes.Const) else None
        return self._parents[name]

    def render_context(self, template: str, language: str, context: dict[str, Any]) -> RenderedEmail:
        """Render with a prepared context (the lint uses it with StrictUndefined samples)."""
        context = {**context, "language": language}
        suffix = "" if language == _parsed_locale(self.catalog.settings.default_locale).language else f".{language}"
        try:
            html_template = self.env.get_template(f"emails/{template}{suffix}.html")
            text_template = self.env.get_template(f"emails/{template}{suffix}.txt")
            blocks = {name: self._block(template, html_template, name) for name in ("subject", "preheader", "content")}
            _load_locale_data(context.get("_locale"))
            with spending(self.env.budget):
                html, shown = _render_showing(html_template, context, ("subject", "preheader"))
                for name, written in shown.items():
                    if written is None:  # not in the HTML exactly once: rendered on its own
                        shown[name] = "".join(blocks[name](html_template.new_context(context)))
                subject = _plain(shown["subject"] or "")
                preheader = _plain(shown["preheader"] or "")
                text = text_template.render(context)
        except TemplateTooExpensive as error:
            raise TemplateTooExpensive(error.budget_reason, template) from None
        except RecursionError:
            raise TemplateTooExpensive("templates or macros call themselves too deeply", template) from None
        except RenderError:
            raise
        except TemplateRefused as error:
            raise RenderError(template, f"line {error.lineno} of {error.name}: {error.message}") from error
        except TemplateNotFound as error:
            raise RenderError(template, f"template file {error.name} is missing") from error
        except TemplateError as error:
            line = f" (line {error.lineno})" if getattr(error, "lineno", None) else ""
            raise RenderError(template, f"{type(error).__name__}{line}: {error.message}") from error
        except (ValueError, TypeError, ArithmeticError) as error:
            raise RenderError(template, f"{type(error).__name__}: {error}") from error
        if not subject:
            raise RenderError(template, "the subject is empty")
        return RenderedEmail(
            template=template,
            language=language,
            subject=subject,
            preheader=preheader,
            html=strip_markers(html),
            text=strip_markers(text),
            html_share=measure_html(html),
            text_share=measure_text(text),
        )


def _render_showing(
    template: Template, context: dict[str, Any], names: tuple[str, ...]
) -> tuple[str, dict[str, str | None]]:
    """``template`` rendered, and what each of the blocks ``names`` wrote into it.

    The layout shows the subject and the preheader (the title, the hidden preheader), so the
    render that writes the HTML keeps what those blocks write as it passes instead of rendering
    them a second time. A block the template itself does not define (an email that extends
    another) or that the HTML does not show exactly once is None: the caller renders it alone.
    """
    block_context = template.new_context(context)
    kept: dict[str, list[str]] = {}
    for name in names:
        if name in block_context.blocks:
            block_context.blocks[name][0] = _keeping(block_context.blocks[name][0], kept.setdefault(name, []))
    try:
        html = template.environment.concat(template.root_render_func(block_context))  # type: ignore[attr-defined]
    except Exception:
        template.environment.handle_exception()
    return html, {name: written[0] if len(written := kept.get(name, [])) == 1 else None for name in names}


def _keeping(block: Callable[[Context], Iterator[str]], sink: list[str]) -> Callable[[Context], Iterator[str]]:
    """``block`` writing what it writes, once joined, and adding it to ``sink`` as well."""

    def render(context: Context) -> Iterator[str]:
        written = "".join(block(context))
        sink.append(written)
        yield written

    return render


def renderer() -> Renderer:
    """The container's renderer for the templates version in use, every template compiled at first use."""
    return _renderer_of(templates_dir())


@lru_cache(maxsize=2)
def _renderer_of(root: Path) -> Renderer:
    instance = Renderer(root)
    instance.precompile()
    return instance


def _load_locale_data(locale: object) -> None:
    """Read the language's CLDR data before the CPU budget opens: babel loads it lazily, once per process."""
    if isinstance(locale, Locale):
        locale.number_symbols  # noqa: B018 - the property loads the data
