"""What can go wrong with a marketer's template, as domain exceptions that name the template and the reason.

They live apart from the renderer so the environment (which raises them from inside template
code) and the renderer (which adds the template's name) can both import them. Every one is a
``ValueError``: a bad template fails its email visibly and alone, never the batch.
"""

from __future__ import annotations

from jinja2 import TemplateSyntaxError


class RenderError(ValueError):
    """A template could not be rendered; the message names the template and the reason, never customer data."""

    def __init__(self, template: str, reason: str) -> None:
        super().__init__(f"template {template!r}: {reason}")
        self.template = template
        self.reason = reason


class TemplateTooExpensive(RenderError):
    """A render went over its budget (size of a value, output, loop steps or time); the reason says which.

    Raised from inside template code with an empty template name; the renderer raises it again
    with the email's name.
    """

    def __init__(self, reason: str, template: str = "") -> None:
        super().__init__(template, f"too expensive to render: {reason}")
        self.budget_reason = reason
        if not template:
            self.args = (self.reason,)


class TemplateRefused(TemplateSyntaxError):
    """A template uses a construct that could switch escaping off; refused when it is compiled."""
