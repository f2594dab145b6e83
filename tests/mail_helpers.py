"""Helpers for the email tests: a copy of templates/ to add crafted templates to, and a render call."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import yaml

from retention.mail import catalog as files
from retention.mail.compose import OutgoingEmail, compose
from retention.mail.context import Links, Shop
from retention.mail.render import RenderedEmail, Renderer
from retention.mail.settings import MailSettings
from retention.models.emails import CouponOffer
from retention.models.profile import CustomerProfile, ItemSummary
from retention.models.segments import Classification
from retention_tools.authoring.preview import PREVIEW_RING

REPO_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SHOP = Shop(name="The Coffee Corner", url="https://shop.example.com", postal_address="1 Example Street, Berlin")
LINKS = Links(
    unsubscribe="https://track.example.com/u/token",
    preferences="https://track.example.com/p/token",
    feedback={
        a: f"https://track.example.com/f/{a}"
        for a in ("price", "taste", "delivery", "elsewhere", "stock", *(f"score_{n}" for n in range(11)))
    },
)
COUPON = CouponOffer(code="SAVE-7K2Q", percent_off=15, expires_at=datetime(2026, 12, 14, 23, 0, tzinfo=UTC))
SETTINGS = MailSettings.model_validate(
    {
        "LINK_KEYS_SECRET": "test",
        "TRACKING_BASE_URL": "https://track.example.com",
        "SENDER_ADDRESS": "hello@shop.example.com",
        "SENDER_NAME": "The Coffee Corner",
        "SENDER_POSTAL_ADDRESS": "1 Example Street, Berlin",
        "SHOP_URL": "https://shop.example.com",
        "PROMOTION_SHARE_LIMIT": 0.2,
    }
)


def profile(**overrides: object) -> CustomerProfile:
    values: dict[str, object] = {
        "customer_id": "C1",
        "email": "leyla@example.com",
        "name": "Leyla Mammadova",
        "order_count": 2,
        "marketing_consent": True,
        "categories": {"coffee-beans": 2},
        "last_items": [
            ItemSummary(sku="BEAN-COL-250", name="Colombia Huila 250 g", category="coffee-beans", price="12.90", qty=1)
        ],
        "segment": Classification(lifecycle="at_risk", customer_type="satisfied"),
    }
    values.update(overrides)
    return CustomerProfile.model_validate(values)


def template_root(tmp_path: Path) -> Path:
    """A private copy of templates/ (so tests can add crafted templates without touching the repo)."""
    root = tmp_path / "templates"
    shutil.copytree(REPO_TEMPLATES, root)
    files.clear_caches()
    return root


def add_template(root: Path, name: str, html: str, text: str, kind: str = "content", **entry: object) -> None:
    (root / "emails" / f"{name}.html").write_text(html, encoding="utf-8")
    (root / "emails" / f"{name}.txt").write_text(text, encoding="utf-8")
    catalog_path = root / "emails.yaml"
    catalog = yaml.safe_load(catalog_path.read_text(encoding="utf-8"))
    catalog["templates"][name] = {"kind": kind, "description": f"test template {name}", **entry}
    catalog_path.write_text(yaml.safe_dump(catalog), encoding="utf-8")
    files.clear_caches()


def html_email(content: str, subject: str = "A subject", preheader: str = "A preheader") -> str:
    return (
        '{% extends "layout/base.html" %}'
        f"{{% block subject %}}{subject}{{% endblock %}}"
        f"{{% block preheader %}}{preheader}{{% endblock %}}"
        f"{{% block content %}}{content}{{% endblock %}}"
    )


def text_email(content: str) -> str:
    return f'{{% extends "layout/base.txt" %}}{{% block content %}}{content}{{% endblock %}}'


def render(
    renderer: Renderer, template: str, customer: CustomerProfile | None = None, **kwargs: object
) -> RenderedEmail:
    return renderer.render(template, customer or profile(), shop=SHOP, links=LINKS, now=NOW, **kwargs)  # type: ignore[arg-type]


def composed(
    renderer: Renderer, template: str, customer: CustomerProfile | None = None, **kwargs: object
) -> OutgoingEmail:
    return compose(
        renderer,
        template,
        customer or profile(),
        message_id="msg-0000000001",
        ring=PREVIEW_RING,
        settings=SETTINGS,
        now=NOW,
        **kwargs,  # type: ignore[arg-type]
    )
