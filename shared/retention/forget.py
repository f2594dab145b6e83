"""Deleting a customer on request (GDPR art. 17): profile, orders, timers, journeys, coupons,
contact state, every send record with its tracking markers, the referral marker naming them, and
the shop webhook's links from their order ids to them.

What stays: the journey counters, which hold numbers per journey × day × step × variant and
nothing about any person. SES keeps its own suppression list and sending logs (see the README).

Send records live under their message id, so their ids are recomputed from the journey states
(every cycle × every step of the journey as defined now) and from the contact's recent sends;
an id that was never sent is simply not found. Data access: store/erasure.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from retention.journeys.definitions import load_journeys
from retention.journeys.rules import message_id_for
from retention.models.journeys import JourneyFile
from retention.store.erasure import ErasureStore


@dataclass(frozen=True)
class Forgotten:
    customer_items: int
    send_records: int
    referral_markers: int
    order_links: int = 0


def forget_customer(store: ErasureStore, definitions: JourneyFile, customer_id: str) -> Forgotten:
    partition = store.partition(customer_id)
    message_ids = set(partition.recent_message_ids)
    for journey, cycles in partition.journey_cycles.items():
        steps = [step.id for step in definitions.journeys[journey].steps] if journey in definitions.journeys else []
        for cycle in range(1, cycles + 1):
            message_ids.update(message_id_for(customer_id, journey, cycle, step) for step in steps)
    sends = store.existing_messages(message_ids)
    referral = store.referral_marker(partition.referred_by, customer_id) if partition.referred_by else []
    links = store.shop_order_links(partition.order_ids)
    store.delete(partition.item_keys + sends + referral + links)
    return Forgotten(len(partition.item_keys), len(sends), len(referral), len(links))


def eraser(table_name: str) -> Callable[[str], Forgotten]:
    """Erasure bound to a table and the journeys in use: what a shop's ``CustomerDeleted`` runs."""
    return lambda customer_id: forget_customer(ErasureStore(table_name), load_journeys(), customer_id)
