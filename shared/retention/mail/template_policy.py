"""Constructs a marketer's template may not use, refused when it is compiled (and so by the lint).

Customer data reaches the HTML part escaped, always. Anything that would let a template switch
that off is refused with its line number:

- the ``|safe`` filter (also by name, as in ``map('safe')``) and ``{% filter safe %}``;
- ``{% autoescape false %}`` (or any value but a literal ``true``);
- an HTML template extending, including or importing a ``.txt`` one (text templates are not
  escaped, so their output would reach the HTML raw), or a template named by a variable, which
  could be either.

The environment also has no ``safe`` or ``tojson`` filter at all (``tojson`` does not escape
``"``, so in a double-quoted attribute it lets data out of the attribute); the only markup
(``Markup``) values a template sees are the ones Jinja made by escaping: macro and block output.
"""

from __future__ import annotations

from jinja2 import nodes

from retention.mail.errors import TemplateRefused

_BY_NAME = frozenset({"map", "select", "reject", "selectattr", "rejectattr"})
_NOT_AVAILABLE = frozenset({"safe", "tojson"})


def _refuse(node: nodes.Node, name: str | None, reason: str) -> TemplateRefused:
    return TemplateRefused(reason, node.lineno, name, None)


def _is_text(name: str | None) -> bool:
    return bool(name) and str(name).endswith(".txt")


def _names(template: nodes.Expr) -> list[str] | None:
    """The template names a tag refers to, or ``None`` when any is computed at render time."""
    if isinstance(template, nodes.Const) and isinstance(template.value, str):
        return [template.value]
    if isinstance(template, nodes.List | nodes.Tuple) and all(
        isinstance(item, nodes.Const) and isinstance(item.value, str) for item in template.items
    ):
        return [item.value for item in template.items]  # type: ignore[attr-defined]
    return None


def refuse_unescaping(source: nodes.Template, name: str | None) -> None:
    """Raise :class:`TemplateRefused` for the first construct that could switch escaping off."""
    for node in source.find_all(nodes.Filter):
        if node.name in _NOT_AVAILABLE:
            raise _refuse(node, name, f"the |{node.name} filter is not allowed: customer data must stay escaped")
        first = node.args[0] if node.args else None
        if node.name in _BY_NAME and isinstance(first, nodes.Const) and first.value in _NOT_AVAILABLE:
            raise _refuse(node, name, f"{node.name}('{first.value}') is not allowed: customer data must stay escaped")
    for node in source.find_all(nodes.EvalContextModifier):
        for option in node.options:
            literal_true = isinstance(option.value, nodes.Const) and option.value.value is True
            if option.key == "autoescape" and not literal_true:
                raise _refuse(node, name, "{% autoescape false %} is not allowed: customer data must stay escaped")
    for node in source.find_all((nodes.MarkSafe, nodes.MarkSafeIfAutoescape)):
        raise _refuse(node, name, "markup marked safe is not allowed: customer data must stay escaped")
    for node in source.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        names = _names(node.template)
        if names is None:
            raise _refuse(
                node,
                name,
                "extends, include and import must name the template literally: customer data must stay escaped",
            )
        for other in names:
            if _is_text(other) != _is_text(name):
                kind = "a text" if _is_text(other) else "an HTML"
                raise _refuse(
                    node,
                    name,
                    f"{other!r} is {kind} template, and HTML and text may not mix: customer data must stay escaped",
                )
