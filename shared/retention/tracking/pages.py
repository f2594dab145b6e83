"""The few pages a reader may see: unsubscribe confirmation, preferences, done, and a neutral error.

Plain templates (``string.Template``) with every value HTML-escaped: nothing a customer typed
appears on them (the shop's name and address come from the deployment's settings), and the
tracking function stays free of the email renderer. A neutral page says only that the link does
not work, never why (no oracle for token forgers).
"""

from __future__ import annotations

from html import escape
from string import Template

_LAYOUT = Template("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
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
        """<p>Do you want to stop receiving these emails from $shop?
Order confirmations and receipts are not affected.</p>
<form method="post" action="$action"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form>$pause_offer"""
    ),
    "preferences": Template(
        """<p>Too many emails? Take a break: we will not email you for $pause_days days,
then pick up where we left off.</p>
<form method="post" action="$action"><input type="hidden" name="action" value="pause">
<button type="submit">Pause for $pause_days days</button></form>
<form method="post" action="$unsubscribe"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit" class="quiet">Unsubscribe from all</button></form>"""
    ),
    "unsubscribed": Template(
        "<p>You will not receive these emails any more. It can take a moment for emails already on their way.</p>"
    ),
    "paused": Template("<p>Done: no emails from us until $until.</p>"),
    "invalid": Template("<p>This link does not work. If you copied it, please check it is complete.</p>"),
}
PAUSE_OFFER = Template('\n<p>Or <a href="$preferences">pause emails for $pause_days days</a> instead.</p>')

TITLES = {
    "unsubscribe": "Unsubscribe",
    "preferences": "Email preferences",
    "unsubscribed": "You are unsubscribed",
    "paused": "Emails paused",
    "invalid": "Link not valid",
}


def page(name: str, shop: str, shop_url: str = "", **values: object) -> str:
    """The page ``name`` with ``values`` filled in, every value escaped."""
    safe = {key: escape(str(value), quote=True) for key, value in values.items() if value is not None}
    shop = escape(shop or "Our shop", quote=True)
    safe["shop"] = shop
    if name == "unsubscribe":
        safe["pause_offer"] = PAUSE_OFFER.substitute(safe) if "preferences" in safe else ""
    link = escape(shop_url, quote=True)
    shop_link = f' · <a href="{link}">{link}</a>' if shop_url else ""
    body = PAGES[name].substitute(safe)
    return _LAYOUT.substitute(title=escape(TITLES[name]), shop=shop, shop_link=shop_link, body=body)
