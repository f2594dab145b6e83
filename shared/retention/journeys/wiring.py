"""The dispatcher of this container, built from its settings (the handler's only dependency)."""

from __future__ import annotations

from functools import cache

from retention import published
from retention.journeys.definitions import load_journeys
from retention.journeys.dispatcher import Dispatcher
from retention.journeys.sending import Mailer
from retention.mail.keys import key_ring
from retention.mail.render import renderer
from retention.mail.ses import SesSender, sender_for
from retention.mail.settings import mail_settings
from retention.settings import settings
from retention.store import bus
from retention.store.journeys import JourneyStore
from retention.tracking.machine import tracking_rules


@cache
def _sender(address: str, configuration_set: str | None, concurrency: int) -> SesSender:
    return sender_for(address, configuration_set, concurrency)


def dispatcher() -> Dispatcher:
    """Cheap to build: renderer, sender and journeys are cached per container; the key ring
    is re-read through its five-minute cache so a key rotation reaches warm containers, and the
    templates version through its own (a publication reaches warm containers within minutes)."""
    published.refresh()
    mail = mail_settings()
    mailer = Mailer(
        renderer=renderer(),
        ring=key_ring(),
        settings=mail,
        sender=_sender(mail.sender_address, mail.configuration_set, mail.dispatch_concurrency),
    )
    store = JourneyStore(settings().customers_table)
    return Dispatcher(store, load_journeys(), mailer, _publish, tracking_rules(), settings().consent_policy)


def _publish(events: list) -> None:
    bus.publish(settings().event_bus_name, events)
