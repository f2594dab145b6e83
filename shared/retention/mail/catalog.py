"""The marketer-editable files under ``templates/``, validated with errors that name file and field.

- ``emails.yaml``: every email template's kind (content, feedback, promotion), what it needs
  (a coupon) and the rendering settings (default locale, subject length, stream window).
- ``content/<category>[.<lang>].yaml``: useful content (tips, guides, care, how-tos) and product
  suggestions per product category; ``general`` serves customers with no purchases yet.
- ``locales/<lang>.yaml``: the layout's words (footer, greeting fallback) per language.
- ``samples.yaml``: sample customers, one or more per segment, for lint, preview and serve.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from retention import nps
from retention.config_files import CatalogError, load_yaml
from retention.models.emails import TemplateKind
from retention.models.types import CurrencyCode, CustomerId
from retention.paths import templates_dir

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TemplateEntry(_Strict):
    kind: TemplateKind
    description: Annotated[str, Field(min_length=1, max_length=300)]
    audience: list[str] = Field(default_factory=list, description="segments or tags it is written for")
    requires: list[Literal["coupon"]] = Field(default_factory=list)
    answers: Annotated[list[Name], Field(max_length=20)] = Field(
        default_factory=list,
        description="one-click answers of a feedback email (links.feedback.<answer>); append, never reorder:"
        " a sent link names its answer by its place in this list",
    )

    @model_validator(mode="after")
    def _answers_fit(self) -> TemplateEntry:
        if self.answers and self.kind is not TemplateKind.FEEDBACK:
            raise ValueError("answers: only a template of kind feedback asks for answers")
        if any(nps.score_of(answer) is not None for answer in self.answers) and not nps.is_survey(self.answers):
            raise ValueError("answers: an NPS survey's answers are score_0 … score_10, all eleven, in that order")
        repeated = sorted({answer for answer in self.answers if self.answers.count(answer) > 1})
        if repeated:
            raise ValueError(f"answers: {', '.join(repeated)} listed more than once")
        return self


class CatalogSettings(_Strict):
    default_locale: Annotated[str, Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")] = "en"
    subject_max_chars: Annotated[int, Field(ge=20, le=150)] = 70
    preheader_max_chars: Annotated[int, Field(ge=20, le=200)] = 110
    stream_window: Annotated[int, Field(ge=1, le=100)] = 10
    content_items: Annotated[int, Field(ge=1, le=10)] = 3
    suggestions: Annotated[int, Field(ge=0, le=6)] = 2


class Catalog(_Strict):
    settings: CatalogSettings = CatalogSettings()
    templates: Annotated[dict[Name, TemplateEntry], Field(min_length=1)]


class ContentItem(_Strict):
    id: Name
    kind: Literal["tip", "guide", "care", "how-to"]
    title: Annotated[str, Field(min_length=1, max_length=120)]
    body: Annotated[str, Field(min_length=1, max_length=1500)]
    url: HttpUrl | None = None
    link_label: Annotated[str, Field(max_length=80)] = ""


class ProductSuggestion(_Strict):
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=120)]
    url: HttpUrl
    price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
    currency: CurrencyCode
    pitch: Annotated[str, Field(max_length=300)] = ""


class CategoryContent(_Strict):
    category: Name
    label: Annotated[str, Field(min_length=1, max_length=80)]
    items: list[ContentItem] = Field(default_factory=list)
    products: list[ProductSuggestion] = Field(default_factory=list)


class LayoutWords(_Strict):
    greeting_fallback: str
    unsubscribe: str
    preferences: str
    why_you_get_this: str
    sent_by: str


class SampleCustomer(_Strict):
    """A sample customer: enough of a profile to render every template the way a real one would."""

    customer_id: CustomerId
    label: Annotated[str, Field(min_length=1, max_length=80)]
    name: str = ""
    email: str = "sample@example.com"
    locale: str | None = None
    time_zone: str | None = None
    lifecycle: str
    customer_type: str = "satisfied"
    tags: list[str] = Field(default_factory=list)
    order_count: Annotated[int, Field(ge=0)] = 0
    total_spent: Decimal = Decimal(0)
    currency: CurrencyCode = "EUR"
    categories: dict[str, int] = Field(default_factory=dict)
    last_items: list[dict[str, Any]] = Field(default_factory=list)
    birthday: date | None = None
    referrals: int = 0


class SampleCoupon(_Strict):
    code: str
    percent_off: Annotated[int, Field(ge=1, le=100)]
    valid_days: Annotated[int, Field(ge=1, le=365)]


class Samples(_Strict):
    customers: Annotated[list[SampleCustomer], Field(min_length=1)]
    coupon: SampleCoupon


# Each file is read once per templates folder: a published version is a folder of its own, so
# switching versions (retention.published) reads the new files and keeps nothing stale.
def catalog(root: Path | None = None) -> Catalog:
    return _catalog(root or templates_dir())


@cache
def _catalog(root: Path) -> Catalog:
    return load_yaml(root / "emails.yaml", Catalog)


def samples(root: Path | None = None) -> Samples:
    return _samples(root or templates_dir())


@cache
def _samples(root: Path) -> Samples:
    return load_yaml(root / "samples.yaml", Samples)


def layout_words(language: str, root: Path | None = None) -> LayoutWords:
    return _layout_words(language, root or templates_dir())


@cache
def _layout_words(language: str, base: Path) -> LayoutWords:
    path = base / "locales" / f"{language}.yaml"
    if not path.exists():
        path = base / "locales" / f"{catalog(base).settings.default_locale.split('_')[0]}.yaml"
    return load_yaml(path, LayoutWords)


def content_library(language: str, root: Path | None = None) -> dict[str, CategoryContent]:
    """Content per category for ``language``: ``<category>.<language>.yaml`` where it exists, else the default."""
    return _content_library(language, root or templates_dir())


@cache
def _content_library(language: str, root: Path) -> dict[str, CategoryContent]:
    folder = root / "content"
    library: dict[str, CategoryContent] = {}
    for path in sorted(folder.glob("*.yaml")):
        parts = path.name.split(".")
        if len(parts) != 2:
            continue
        localised = folder / f"{parts[0]}.{language}.yaml"
        chosen = load_yaml(localised if localised.exists() else path, CategoryContent)
        if chosen.category != parts[0]:
            raise CatalogError(f"content/{path.name}: category {chosen.category!r} does not match the file name")
        library[chosen.category] = chosen
    return library


def clear_caches() -> None:
    """Forget every parsed file (lint and serve reload after a marketer's edit)."""
    for loader in (_catalog, _samples, _layout_words, _content_library):
        loader.cache_clear()
