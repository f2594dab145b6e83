"""What may leave the engine in an HTML part: the one policy the lint and :func:`compose` both apply.

- Links (``href``, also ``xlink:href``) are absolute ``https://`` or ``mailto:``; resources a
  client fetches by itself (``src``, ``srcset``, ``background``, ``poster``, ...) are ``https://``.
  Anything else (``javascript:``, ``data:``, ``http:``, relative) is refused. The URL is read the
  way a browser reads it: entities decoded, tabs and newlines dropped, case ignored.
- No element that runs code or sends data (``script``, ``iframe``, ``object``, ``embed``,
  ``form``, ...), no ``on…=`` handler attribute, no ``<meta http-equiv=refresh>``, no
  ``javascript:`` or ``expression(`` in a ``style``.

Customer data cannot produce any of these (it is escaped, so it never makes a tag or an
attribute); the check is for what a template writes, including an expression placed where
escaping does not help (``<a href={{ url }}>`` without quotes, or ``<a {{ attributes }}>``).
It scans every tag-like span of the text, inside comments too (Outlook reads conditional
comments), so it errs on the side of refusing.

The one exception is the deployment's own tracking base (``trusted``): the engine puts its
signed unsubscribe and preference links into the footer before the check, and a local run
serves them on ``http://127.0.0.1``. The operator sets that URL, not the template.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator

# A start tag as a browser's tokenizer reads it: attribute names may hold quotes, values are
# quoted or run to whitespace; possessive, so a hostile tag cannot make the scan backtrack.
_TAG = re.compile(
    r"""<([a-zA-Z][^\s/>]*+)((?:[\s/]++|[^\s/>][^\s/>=]*+(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s>]*+))?+)*+)>"""
)
_ATTRIBUTE = re.compile(r"""([^\s/>][^\s/>=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?""")
_FORBIDDEN_START = re.compile(
    r"<\s*(script|iframe|frame|frameset|object|embed|applet|form|base|portal)(?![a-z0-9-])", re.IGNORECASE
)
_IGNORED_IN_URL = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_STYLE_CODE = re.compile(r"javascript:|expression\s*\(|behavior\s*:|-moz-binding", re.IGNORECASE)

# The quick scan reads a lower-cased copy, wherever an attribute could be, in tags or not: a
# superset of what the tag-by-tag reading finds. It matches names (each pattern starts with a
# literal, which the regex engine finds fast) and reads values after them, so no match can hide
# another inside its value.
_Q_HANDLER = re.compile(r"on[^\s\"'>/=]+\s*=")
_Q_URL_NAMES = ("href", "src", "background", "poster", "action", "ping", "http-equiv")  # also finds xlink:href, ...
# One ``str.find`` scan per name (in C, where one regex of seven alternatives stopped at every
# h, s, b, p or a): no name holds another and no name's end starts another, so the places found
# name by name are the places one scan for all of them found.
_Q_EQUALS = re.compile(r"\s*=\s*")
_Q_VALUE = re.compile(r"\"([^\"]*)\"|'([^']*)'|([^\s>]+)")
_Q_FORBIDDEN = re.compile(r"<\s*(?:script|iframe|frame|frameset|object|embed|applet|form|base|portal)(?![a-z0-9-])")
_Q_STYLE_CODE = (re.compile(r"expression\s*\("), re.compile(r"behavior\s*:"))
_Q_STYLE_ENTITY = re.compile(r"style\s*=\s*(?:\"[^\"&]*&|'[^'&]*&|[^\s>&]*&)")
_SEPARATORS = frozenset(" \t\n\r\f\"'/=")
LINK_ATTRIBUTES = frozenset({"href", "xlink:href"})
RESOURCE_ATTRIBUTES = frozenset(
    {"src", "srcset", "background", "poster", "action", "formaction", "lowsrc", "dynsrc", "ping"}
)


def _as_browser_reads(url: str) -> str:
    if "&" not in url and url.isprintable() and url == url.strip():
        return url
    return _IGNORED_IN_URL.sub("", html_lib.unescape(url)).strip(
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c \x0e\x0f"
    )


def link_allowed(url: str, trusted: tuple[str, ...] = ()) -> bool:
    """An ``href`` a reader may follow: an absolute https URL, a mailto address, or a link under
    the deployment's own tracking base (``trusted``: prefixes ending in ``/``)."""
    url = _as_browser_reads(url)
    if trusted and url.startswith(trusted):
        return True
    scheme = _SCHEME.match(url)
    if scheme is None:
        return False
    name = scheme[1].lower()
    return (name == "https" and url[6:8] == "//") or name == "mailto"


def resource_allowed(url: str) -> bool:
    """A URL a mail client fetches on its own (an image): absolute https only."""
    url = _as_browser_reads(url)
    return url[:8].lower() == "https://"


def _attributes(text: str) -> list[tuple[str, str]]:
    return [
        (m[1].lower(), m[2] if m[2] is not None else m[3] if m[3] is not None else m[4] or "")
        for m in _ATTRIBUTE.finditer(text)
    ]


def _lowered(text: str) -> str:
    """``text.lower()``, fast where that is the same for every pattern here: ASCII letters lowered in C.

    ``str.lower`` walks a text that is not all ASCII (an email with a euro sign or a dash) one
    character at a time; ``bytes.lower`` lowers ASCII letters only. The two differ only on
    letters outside ASCII, which no pattern here reads as letters, and the only ones whose
    lowercase holds ASCII are U+0130 and the Kelvin sign (then ``str.lower``, so positions and
    matches stay what they were).
    """
    if text.isascii() or "\u0130" in text or "\u212a" in text:
        return text.lower()
    return text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")


def _url_values(low: str) -> Iterator[tuple[str, str]]:
    """Each URL-carrying name of ``low`` followed by ``=``, and the value after it."""
    for name in _Q_URL_NAMES:
        found = low.find(name)
        while found >= 0:
            equals = _Q_EQUALS.match(low, found + len(name))
            if equals is None:
                found = low.find(name, found + 1)
                continue
            value = _Q_VALUE.match(low, equals.end())
            yield name, "" if value is None else value[value.lastindex or 0]
            found = low.find(name, equals.end())


def _suspect(html: str, trusted: tuple[str, ...] = ()) -> bool:
    """Quick proof of innocence: False when no tag of ``html`` can break the policy."""
    low = _lowered(html)
    lowered = tuple(_lowered(prefix) for prefix in trusted)
    if (
        "javascript:" in low
        or "-moz-binding" in low
        or "srcset" in low
        or _Q_FORBIDDEN.search(low)
        or ("&" in low and _Q_STYLE_ENTITY.search(low))  # it can only match an "&": most emails have none
    ):
        return True
    if any(pattern.search(low) for pattern in _Q_STYLE_CODE):
        return True
    if any(low[found.start() - 1] in _SEPARATORS for found in _Q_HANDLER.finditer(low)):
        return True
    for name, url in _url_values(low):
        if name == "http-equiv" or "&" in url:
            return True  # a refresh, or an entity in a URL: read them properly
        allowed = link_allowed(url, lowered) if name == "href" else resource_allowed(url)
        if not allowed:
            return True
    return False


def unsafe_markup(html: str, trusted_base: str | None = None) -> list[str]:
    """Every way ``html`` breaks the policy, as messages for a marketer (empty when it may be sent).

    The quick scan of the whole text settles the usual case (nothing wrong) in one pass; only a
    suspect part is read tag by tag, which is what gives the messages.
    """
    trusted = (trusted_base.rstrip("/") + "/",) if trusted_base else ()
    return read_tags(html, trusted) if _suspect(html, trusted) else []


def read_tags(html: str, trusted: tuple[str, ...] = ()) -> list[str]:
    """The policy read tag by tag, the way a browser's tokenizer splits attributes (slow, exact)."""
    problems: list[str] = []
    for found in _FORBIDDEN_START.finditer(html):
        problems.append(f"<{found[1].lower()}> is not allowed in an email")
    for tag in _TAG.finditer(html):
        name = tag[1].lower()
        for attribute, given in _attributes(tag[2]):
            if given is None:
                continue  # an attribute without a value runs and fetches nothing
            value = given
            if attribute.startswith("on") and len(attribute) > 2:
                problems.append(f"the event handler attribute {attribute}= on <{name}> is not allowed")
            elif attribute in LINK_ATTRIBUTES and not link_allowed(value, trusted):
                problems.append(f"link {value[:80]!r} is not an absolute https URL (or mailto:)")
            elif attribute == "srcset" and not all(
                resource_allowed(part.split()[0]) for part in value.split(",") if part.strip()
            ):
                problems.append(f"image {value[:80]!r} is not an absolute https URL")
            elif attribute in RESOURCE_ATTRIBUTES and attribute != "srcset" and not resource_allowed(value):
                what = "image" if name == "img" else f"{attribute}= of <{name}>"
                problems.append(f"{what} {value[:80]!r} is not an absolute https URL")
            elif attribute == "style" and _STYLE_CODE.search(html_lib.unescape(value) if "&" in value else value):
                problems.append(f"the style of a <{name}> runs code")
            elif name == "meta" and attribute == "http-equiv" and value.strip().lower() == "refresh":
                problems.append("<meta http-equiv=refresh> is not allowed in an email")
    return problems
