"""What a template sees: plain data built from the profile, never the profile object itself.

Only dicts, lists, strings, numbers and dates reach the sandbox, so a template cannot call
methods of internal objects. Customer-supplied text is cleaned of control characters here and
escaped by Jinja's autoescaping on output. Useful content and product suggestions are chosen
from the content library by what the customer bought; the choice rotates per template so two
emails to the same person do not repeat the same tips.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale

from retention.mail.catalog import CatalogSettings, CategoryContent, LayoutWords
from retention.mail.environment import clean_text
from retention.models.emails import CouponOffer
from retention.models.profile import CustomerProfile

GENERAL = "general"


@dataclass(frozen=True)
class Shop:
    name: str
    url: str
    postal_address: str


@dataclass(frozen=True)
class Links:
    unsubscribe: str
    preferences: str
    feedback: Mapping[str, str] = field(default_factory=dict)
    """The template's one-click answers by answer id (emails.yaml ``answers``): ``links.feedback.price``."""


def _stable_offset(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:4], "big")


def _ranked_categories(profile: CustomerProfile, library: dict[str, CategoryContent]) -> list[str]:
    bought = sorted(profile.categories.items(), key=lambda item: (-item[1], item[0]))
    return [category for category, _ in bought if category in library]


def choose_content(
    profile: CustomerProfile, library: dict[str, CategoryContent], template: str, count: int
) -> list[dict[str, Any]]:
    """Up to ``count`` useful items from the customer's categories (most bought first), then general ones."""
    chosen: list[dict[str, Any]] = []
    seen: set[str] = set()
    for category in [*_ranked_categories(profile, library), GENERAL]:
        items = library[category].items if category in library else []
        if not items:
            continue
        start = _stable_offset(profile.customer_id, template, category) % len(items)
        rotated = items[start:] + items[:start]
        per_category = 1 if category != GENERAL else count
        for item in rotated[:per_category]:
            if item.id in seen or len(chosen) >= count:
                continue
            seen.add(item.id)
            chosen.append(
                {
                    "id": item.id,
                    "kind": item.kind,
                    "category": category,
                    "category_label": library[category].label,
                    "title": item.title,
                    "body": item.body,
                    "url": str(item.url) if item.url else "",
                    "link_label": item.link_label,
                }
            )
    return chosen


def choose_suggestions(
    profile: CustomerProfile, library: dict[str, CategoryContent], count: int
) -> list[dict[str, Any]]:
    """Products from the customer's categories they have not just bought (the promotion part)."""
    recent = {item.sku for item in profile.last_items}
    suggestions: list[dict[str, Any]] = []
    for category in [*_ranked_categories(profile, library), GENERAL]:
        for product in library[category].products if category in library else []:
            if len(suggestions) >= count:
                return suggestions
            if product.sku in recent or any(s["sku"] == product.sku for s in suggestions):
                continue
            suggestions.append(
                {
                    "sku": product.sku,
                    "name": product.name,
                    "url": str(product.url),
                    "price": product.price,
                    "currency": product.currency,
                    "pitch": product.pitch,
                    "category": category,
                }
            )
    return suggestions


def customer_view(profile: CustomerProfile, words: LayoutWords, library: dict[str, CategoryContent]) -> dict[str, Any]:
    segment = profile.segment
    ranked = _ranked_categories(profile, library)
    first_name = clean_text(profile.first_name)
    return {
        "id": profile.customer_id,
        "first_name": first_name,
        "name": clean_text(profile.name),
        "greeting_name": first_name or words.greeting_fallback,
        "email": profile.email or "",
        "lifecycle": segment.lifecycle if segment else "prospect",
        "customer_type": segment.customer_type if segment else "",
        "tags": list(segment.tags) if segment else [],
        "order_count": profile.order_count,
        "total_spent": profile.total_spent,
        "average_order_value": profile.average_order_value,
        "currency": profile.currency or "EUR",
        "first_order_at": profile.first_order_at,
        "last_order_at": profile.last_order_at,
        "favourite_category": ranked[0] if ranked else "",
        "favourite_category_label": library[ranked[0]].label if ranked else "",
        "last_items": [{"name": clean_text(item.name), "category": item.category} for item in profile.last_items],
        "referral_count": profile.referral_count,
        "birthday": profile.birthday,
    }


def build_context(
    profile: CustomerProfile,
    *,
    template: str,
    locale: Locale,
    words: LayoutWords,
    library: dict[str, CategoryContent],
    settings: CatalogSettings,
    shop: Shop,
    links: Links,
    now: datetime,
    coupon: CouponOffer | None = None,
) -> dict[str, Any]:
    zone = ZoneInfo(profile.time_zone) if profile.time_zone else ZoneInfo("UTC")
    return {
        "customer": customer_view(profile, words, library),
        "content": choose_content(profile, library, template, settings.content_items),
        "suggestions": choose_suggestions(profile, library, settings.suggestions),
        "coupon": (
            {"code": coupon.code, "percent_off": coupon.percent_off, "expires_at": coupon.expires_at}
            if coupon
            else None
        ),
        "shop": {"name": shop.name, "url": shop.url, "postal_address": shop.postal_address},
        "links": {"unsubscribe": links.unsubscribe, "preferences": links.preferences, "feedback": dict(links.feedback)},
        "words": words.model_dump(),
        "now": now,
        "_locale": locale,
        "_zone": zone,
    }
