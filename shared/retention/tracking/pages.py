"""The few pages a reader may see: unsubscribe confirmation, preferences, done, and a neutral error.

Plain templates (``string.Template``) with every value HTML-escaped: nothing a customer typed
appears on them (the shop's name and address come from the deployment's settings), and the
tracking function stays free of the email renderer. A neutral page says only that the link does
not work, never why (no oracle for token forgers).

The words come from ``templates/pages/<language>.yaml`` (:mod:`retention.models.pages`) in the
language the email was sent in; they are escaped too, so a marketer's file changes what a page
says, never its markup or its forms.
"""

from __future__ import annotations

from functools import cache
from html import escape
from pathlib import Path
from string import Template

from retention.config_files import CatalogError, load_yaml
from retention.models.pages import ENGLISH, PageWords
from retention.observability import logger
from retention.paths import templates_dir

FALLBACK_LANGUAGE = "en"

_LAYOUT = Template("""<!doctype html>
<html lang="$lang"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>$title · $shop</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f6f4f1;color:#2b2b2b;margin:0}
main{max-width:32rem;margin:10vh auto;background:#fff;padding:2rem 2.2rem;border-radius:10px;
box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:1.35rem;margin:0 0 .8rem}p{line-height:1.5}
button{font:inherit;padding:.65rem 1.1rem;border-radius:6px;border:1px solid #7a4b2a;background:#7a4b2a;
color:#fff;cursor:pointer;margin:.3rem .4rem .3rem 0}
button.quiet{background:#fff;color:#7a4b2a}form{display:inline}
small{color:#6b6b6b}a{color:#7a4b2a}
</style></head><body><main>
<h1>$title</h1>
$body
<p><small>$shop$shop_link</small></p>
</main></body></html>""")

PAGES = {
    "unsubscribe": Template(
        """<p>$text</p>
<form method="post" action="$action"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">$button</button></form>$pause_offer"""
    ),
    "preferences": Template(
        """<p>$text</p>
<form method="post" action="$action"><input type="hidden" name="action" value="pause">
<button type="submit">$pause_button</button></form>
<form method="post" action="$unsubscribe"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit" class="quiet">$unsubscribe_button</button></form>"""
    ),
    "unsubscribed": Template("<p>$text</p>"),
    "paused": Template("<p>$text</p>"),
    "invalid": Template("<p>$text</p>"),
    "thanks": Template("<p>$text</p>"),
}
PAUSE_OFFER = Template('\n<p><a href="$preferences">$offer</a></p>')


def page(name: str, shop: str, shop_url: str = "", language: str = "", **values: object) -> str:
    """The page ``name`` in ``language`` with ``values`` filled in, every word and value escaped."""
    words = page_words(language)
    safe = {key: escape(str(value), quote=True) for key, value in values.items() if value is not None}
    safe["shop"] = escape(shop or words.shop_fallback, quote=True)
    texts = {
        field: Template(escape(text, quote=True)).safe_substitute(safe)
        for field, text in getattr(words, name).model_dump().items()
    }
    if name == "unsubscribe":
        offer = texts.pop("pause_offer")
        texts["pause_offer"] = PAUSE_OFFER.substitute(safe, offer=offer) if "preferences" in safe else ""
    link = escape(shop_url, quote=True)
    shop_link = f' · <a href="{link}">{link}</a>' if shop_url else ""
    body = PAGES[name].substitute({**safe, **texts})
    return _LAYOUT.substitute(
        lang=escape(language_of(language)), title=texts["title"], shop=safe["shop"], shop_link=shop_link, body=body
    )


def language_of(language: str) -> str:
    """The language whose words a page for ``language`` shows (``de-AT`` → ``de``, unknown → English)."""
    code = language.replace("_", "-").split("-")[0].lower()
    return code if code and code.isalpha() and _file(code, templates_dir()).exists() else FALLBACK_LANGUAGE


def preferred_language(accept_language: str) -> str:
    """The first language of an ``Accept-Language`` header the pages speak (for a link with no
    readable token, where the email's language is unknown)."""
    ranked = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        ranked.append((-weight, position, tag.strip()))
    for _, _, tag in sorted(ranked):
        code = tag.split("-")[0].lower()
        if code.isalpha() and language_of(code) == code:
            return code
    return FALLBACK_LANGUAGE


def page_words(language: str) -> PageWords:
    return _words(language_of(language), templates_dir())


def _file(language: str, root: Path) -> Path:
    return root / "pages" / f"{language}.yaml"


@cache
def _words(language: str, root: Path) -> PageWords:
    """A broken file must not break an unsubscribe page: it is logged and English is shown
    (``retention templates lint`` reports the same problem before anything is published)."""
    path = _file(language, root)
    if not path.exists():
        return ENGLISH
    try:
        return load_yaml(path, PageWords)
    except CatalogError as error:
        logger.error("page words unreadable, showing English", extra={"problem": str(error)})
        return ENGLISH
