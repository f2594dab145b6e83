"""The few pages a reader may see: unsubscribe confirmation, preferences, done, and a neutral error.

Rendered in Jinja2's sandbox with autoescaping like the emails, although nothing a customer
typed appears on them: the shop's name and address come from the deployment's settings. A
neutral page says only that the link does not work, never why (no oracle for token forgers).
"""

from __future__ import annotations

from functools import cache

from jinja2 import select_autoescape
from jinja2.sandbox import SandboxedEnvironment

_LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{{ title }} · {{ shop }}</title>
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
<h1>{{ title }}</h1>
{% block body %}{% endblock %}
<p><small>{{ shop }}{% if shop_url %} · <a href="{{ shop_url }}">{{ shop_url }}</a>{% endif %}</small></p>
</main></body></html>"""

PAGES = {
    "unsubscribe": """{% extends "layout" %}{% block body %}
<p>Do you want to stop receiving these emails from {{ shop }}? Order confirmations and receipts are not affected.</p>
<form method="post" action="{{ action }}"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form>
{% if preferences %}<p>Or <a href="{{ preferences }}">pause emails for {{ pause_days }} days</a> instead.</p>{% endif %}
{% endblock %}""",
    "preferences": """{% extends "layout" %}{% block body %}
<p>Too many emails? Take a break: we will not email you for {{ pause_days }} days, then pick up where we left off.</p>
<form method="post" action="{{ action }}"><input type="hidden" name="action" value="pause">
<button type="submit">Pause for {{ pause_days }} days</button></form>
<form method="post" action="{{ unsubscribe }}"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit" class="quiet">Unsubscribe from all</button></form>
{% endblock %}""",
    "unsubscribed": """{% extends "layout" %}{% block body %}
<p>You will not receive these emails any more. It can take a moment for emails already on their way.</p>
{% endblock %}""",
    "paused": """{% extends "layout" %}{% block body %}
<p>Done: no emails from us until {{ until }}.</p>
{% endblock %}""",
    "invalid": """{% extends "layout" %}{% block body %}
<p>This link does not work. If you copied it, please check it is complete.</p>
{% endblock %}""",
}

TITLES = {
    "unsubscribe": "Unsubscribe",
    "preferences": "Email preferences",
    "unsubscribed": "You are unsubscribed",
    "paused": "Emails paused",
    "invalid": "Link not valid",
}


@cache
def _environment() -> SandboxedEnvironment:
    from jinja2 import DictLoader

    environment = SandboxedEnvironment(
        loader=DictLoader({"layout": _LAYOUT, **PAGES}), autoescape=select_autoescape(default=True)
    )
    return environment


def page(name: str, shop: str, shop_url: str = "", **values: object) -> str:
    template = _environment().get_template(name)
    return template.render(title=TITLES[name], shop=shop or "Our shop", shop_url=shop_url, **values)
