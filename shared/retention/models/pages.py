"""The words of the pages a reader may see after clicking an email's footer link, per language.

Marketers translate them in ``templates/pages/<language>.yaml`` (no Python, no HTML): the page
layout and its forms stay in :mod:`retention.tracking.pages`, which escapes every word before it
fills in the ``$shop``, ``$pause_days`` and ``$until`` placeholders, so a file can change what a
page says but never what it does.
"""

from __future__ import annotations

from string import Template
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

Words = Annotated[str, Field(min_length=1, max_length=400)]

PLACEHOLDERS: dict[str, frozenset[str]] = {
    "unsubscribe": frozenset({"shop", "pause_days"}),
    "preferences": frozenset({"shop", "pause_days"}),
    "unsubscribed": frozenset({"shop"}),
    "paused": frozenset({"shop", "until"}),
    "invalid": frozenset({"shop"}),
    "thanks": frozenset({"shop"}),
}
"""The placeholders each page can fill in; any other ``$name`` is a typo the lint reports."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PageText(_Strict):
    title: Words
    text: Words


class UnsubscribePage(PageText):
    button: Words
    pause_offer: Words
    """The link to the preference page, offered instead of leaving for good."""


class PreferencesPage(PageText):
    pause_button: Words
    unsubscribe_button: Words


class PageWords(_Strict):
    """Every word on the reader's pages in one language."""

    shop_fallback: Words = "Our shop"
    unsubscribe: UnsubscribePage
    preferences: PreferencesPage
    unsubscribed: PageText
    paused: PageText
    invalid: PageText
    thanks: PageText = PageText(
        title="Thank you",
        text="Thank you for your answer - it helps $shop get better. Want to say more? Just reply to the email.",
    )
    """After a one-click feedback answer; the default keeps older page files valid."""

    @field_validator("unsubscribe", "preferences", "unsubscribed", "paused", "invalid", "thanks")
    @classmethod
    def _known_placeholders(cls, page: PageText, info: object) -> PageText:
        name = getattr(info, "field_name", "")
        for field, words in page.model_dump().items():
            unknown = set(Template(words).get_identifiers()) - PLACEHOLDERS[name]
            if unknown or not Template(words).is_valid():
                allowed = ", ".join(f"${p}" for p in sorted(PLACEHOLDERS[name]))
                shown = ", ".join(f"${u}" for u in sorted(unknown)) or "a lone $ (write $$ for a dollar sign)"
                raise ValueError(f"{field}: {shown} is not a placeholder this page has (it has {allowed})")
        return page


ENGLISH = PageWords(
    unsubscribe=UnsubscribePage(
        title="Unsubscribe",
        text=(
            "Do you want to stop receiving these emails from $shop? Order confirmations and receipts are not affected."
        ),
        button="Unsubscribe",
        pause_offer="Or pause emails for $pause_days days instead.",
    ),
    preferences=PreferencesPage(
        title="Email preferences",
        text=(
            "Too many emails? Take a break: we will not email you for $pause_days days, then pick up where we left off."
        ),
        pause_button="Pause for $pause_days days",
        unsubscribe_button="Unsubscribe from all",
    ),
    unsubscribed=PageText(
        title="You are unsubscribed",
        text="You will not receive these emails any more. It can take a moment for emails already on their way.",
    ),
    paused=PageText(title="Emails paused", text="Done: no emails from us until $until."),
    invalid=PageText(
        title="Link not valid", text="This link does not work. If you copied it, please check it is complete."
    ),
)
"""Built in, so a page always renders: used when a language has no file, or its file is broken."""
