"""Simulated readers for the demo: some customers open their email, most not every time.

Each customer gets a fixed open propensity (from a hash of their id, between 10 % and 80 %);
each email they receive is opened with that probability, which resets their unopened streak
the way a tracked human open does. Customers who never open drift into the
slow-down and finally the sunset, as they would in production.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

from retention.local.outbox import sent_count, sent_mail
from retention.store.messaging import MessagingStore


def open_propensity(customer_id: str) -> float:
    digest = hashlib.sha256(f"reader|{customer_id}".encode()).digest()
    return 0.10 + 0.70 * (int.from_bytes(digest[:4], "big") / 2**32)


@dataclass
class Readers:
    store: MessagingStore
    seed: int = 5
    opened: int = 0
    delivered: int = 0
    _seen: int = field(default=0, init=False)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._seen = sent_count()

    def read_new_mail(self) -> None:
        """Open (or not) every email sent since the last call."""
        for mail in sent_mail(self._seen):
            self._seen += 1
            self.delivered += 1
            record = self.store.send_record(mail.message_id) if mail.message_id else None
            if record is None or record.sent_at is None:
                continue
            if self._rng.random() < open_propensity(record.customer_id):
                self.store.record_open(record.customer_id, record.sent_at)
                self.opened += 1
