"""The one place Logger, Tracer and Metrics are created; handlers import them from here.

The logger masks every email address in every record it writes (message, extra keys, the
validation reasons that quote an input): ``anna.k@example.com`` becomes ``a***@example.com``.
Logs are kept for weeks and read by more people than the customer table; an address in a log
line is personal data that a forget request could not reach.
"""

from __future__ import annotations

import os
import re

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

EMAIL = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")


def mask_emails(text: str) -> str:
    return EMAIL.sub(r"\1***@\2", text)


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with email addresses masked in the serialized record."""

    def serialize(self, log: dict) -> str:
        return mask_emails(super().serialize(log))


logger = Logger(logger_formatter=MaskingFormatter())
tracer = Tracer(patch_modules=["botocore"])
"""Only botocore is patched (every AWS call is traced): the default patches every library the
X-Ray SDK knows, which imports ``requests`` and friends into handlers that never use them
(about 20 ms of cold start, bench/bench_imports.py)."""
metrics = Metrics()
metrics.set_default_dimensions(stage=os.environ.get("STAGE", "dev"))
"""Every metric carries the stage (template.yaml's ``Stage``) next to ``service``: dev and prod in
one account count apart, and each stage's alarms filter on their own (``stage`` dimension)."""
