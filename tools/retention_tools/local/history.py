"""A realistic, seeded year of shop events for demos, benchmarks and soak tests.

A specialty coffee-and-tea shop: customers register over the year and behave by type —
one-time buyers, occasional buyers, regulars, VIPs, regulars who lapse, prospects who never
order — and some are referred by others. Most say yes to marketing e-mail when they register
or check out (about 85 %; the rest say no or are never asked); a few orders are refunded in part
or in full, or cancelled, and a few customers later withdraw consent or change their e-mail
address (``CustomerUpdated`` without an order). The same seed always gives the same events.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

HISTORY_START = datetime(2025, 11, 1, tzinfo=UTC)
HISTORY_END = datetime(2026, 10, 31, 23, 59, tzinfo=UTC)
SOURCE = "shop.orders"

CATALOG: tuple[tuple[str, str, str, Decimal], ...] = (
    ("BEAN-ETH-250", "Ethiopia Yirgacheffe 250 g", "coffee-beans", Decimal("14.50")),
    ("BEAN-COL-250", "Colombia Huila 250 g", "coffee-beans", Decimal("12.90")),
    ("BEAN-ESP-1K", "House Espresso 1 kg", "coffee-beans", Decimal("34.00")),
    ("BEAN-DEC-250", "Swiss Water Decaf 250 g", "coffee-beans", Decimal("13.50")),
    ("TEA-SEN-100", "Japanese Sencha 100 g", "tea", Decimal("11.00")),
    ("TEA-ASS-200", "Assam Breakfast 200 g", "tea", Decimal("9.50")),
    ("TEA-OOL-100", "Tieguanyin Oolong 100 g", "tea", Decimal("16.00")),
    ("GEAR-V60", "V60 Dripper", "brewing-gear", Decimal("24.00")),
    ("GEAR-AERO", "AeroPress Go", "brewing-gear", Decimal("39.00")),
    ("GEAR-KETTLE", "Gooseneck Kettle", "brewing-gear", Decimal("59.00")),
    ("GRIND-HAND", "Hand Grinder", "grinders", Decimal("79.00")),
    ("GRIND-ELEC", "Burr Grinder", "grinders", Decimal("189.00")),
    ("ACC-FILTER", "Paper Filters x100", "accessories", Decimal("6.50")),
    ("ACC-SCALE", "Brew Scale", "accessories", Decimal("29.00")),
    ("ACC-MUG", "Stoneware Mug", "accessories", Decimal("15.00")),
    ("GIFT-BOX", "Tasting Gift Box", "gifts", Decimal("45.00")),
)
CONSUMABLES = [p for p in CATALOG if p[2] in ("coffee-beans", "tea", "accessories")]

FIRST_NAMES = (
    "Aysel",
    "Leyla",
    "Elvin",
    "Nigar",
    "Olena",
    "Taras",
    "Iryna",
    "Dmytro",
    "Dilnoza",
    "Sardor",
    "Malika",
    "Aziz",
    "Elif",
    "Mehmet",
    "Zeynep",
    "Emre",
    "Anna",
    "James",
    "Sofia",
    "Lukas",
    "Maria",
    "Noah",
    "Emma",
    "Jonas",
    "Chloé",
    "Mateo",
    "Amira",
    "Kenji",
    "Priya",
    "Oliver",
)
LAST_NAMES = (
    "Aliyeva",
    "Mammadov",
    "Huseynova",
    "Shevchenko",
    "Kovalenko",
    "Bondarenko",
    "Karimova",
    "Rakhimov",
    "Yusupova",
    "Yılmaz",
    "Demir",
    "Şahin",
    "Müller",
    "Schmidt",
    "García",
    "Rossi",
    "Smith",
    "Brown",
    "Dubois",
    "Nowak",
    "Tanaka",
    "Patel",
    "Okafor",
    "Silva",
)
LOCALES = (
    ("en_GB", "Europe/London", 30),
    ("de_DE", "Europe/Berlin", 20),
    ("tr_TR", "Europe/Istanbul", 15),
    ("uk_UA", "Europe/Kyiv", 12),
    ("az_AZ", "Asia/Baku", 10),
    ("uz_UZ", "Asia/Tashkent", 8),
    ("en_US", "America/New_York", 5),
)

# archetype: weight, (min, max) days between orders, basket size range, premium bias
ARCHETYPES: dict[str, tuple[int, tuple[int, int] | None, tuple[int, int], float]] = {
    "one_time": (38, None, (1, 3), 0.2),
    "occasional": (22, (45, 120), (1, 3), 0.3),
    "regular": (18, (25, 45), (1, 4), 0.4),
    "vip": (5, (12, 24), (2, 6), 0.8),
    "lapsing": (11, (20, 40), (1, 3), 0.3),
    "prospect": (6, None, (0, 0), 0.0),
}


@dataclass(frozen=True)
class ShopEventRecord:
    """One event as the shop would put it on the bus."""

    time: datetime
    detail_type: str
    detail: dict[str, Any]
    source: str = SOURCE


CONSENT_SOURCES = ("checkout checkbox", "newsletter form", "account page")
REFUND_SHARE = 0.04
"""Orders with a partial refund (one item back); a quarter as many again are refunded in full."""
CANCEL_SHARE = 0.015
WITHDRAW_SHARE = 0.03
"""Consenting customers who later withdraw consent; as many again change their e-mail address."""


def generate_history(customers: int = 3000, seed: int = 7, malformed: int = 0) -> list[ShopEventRecord]:
    """Events of ``customers`` customers over the year, sorted by time; ``malformed`` bad ones mixed in.

    Consent, refunds, cancellations and updates are drawn from a random stream of their own, so
    the orders and registrations of a seed are the same as before they existed."""
    rng = random.Random(seed)
    facts = random.Random(f"{seed}:facts")
    events: list[ShopEventRecord] = []
    archetype_names = list(ARCHETYPES)
    weights = [ARCHETYPES[name][0] for name in archetype_names]
    span = (HISTORY_END - HISTORY_START).total_seconds()
    advocates: list[tuple[str, datetime]] = []
    order_seq = 0
    for index in range(1, customers + 1):
        customer_id = f"C{index:06d}"
        archetype = rng.choices(archetype_names, weights)[0]
        _, gap_range, basket_range, premium = ARCHETYPES[archetype]
        locale, zone, _ = rng.choices(LOCALES, [w for *_, w in LOCALES])[0]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        # Regulars and VIPs tend to be older customers; everyone else joins all year round.
        early = archetype in ("regular", "vip", "lapsing")
        offset = rng.random() ** (2.2 if early else 1.0) * span * (0.55 if early else 0.97)
        registered_at = HISTORY_START + timedelta(seconds=offset)
        profile: dict[str, Any] = {
            "customer_id": customer_id,
            "email": f"{first.lower()}.{customer_id.lower()}@example.com",
            "name": f"{first} {last}",
            "locale": locale,
            "time_zone": zone,
        }
        if rng.random() < 0.6:
            profile["birthday"] = date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28)).isoformat()
        consent = _consent(facts, registered_at)
        registration = {**profile, **consent, "registered_at": registered_at}
        events.append(ShopEventRecord(registered_at, "CustomerRegistered", registration))
        if advocates and rng.random() < 0.08:
            referrer_id, since = rng.choice(advocates)
            if since < registered_at:
                events.append(
                    ShopEventRecord(
                        registered_at + timedelta(minutes=1),
                        "CustomerReferred",
                        {"referrer_id": referrer_id, "referred_id": customer_id, "referred_at": registered_at},
                    )
                )
        if archetype == "prospect":
            continue
        if archetype in ("regular", "vip") and rng.random() < 0.5:
            advocates.append((customer_id, registered_at))
        stop_at = HISTORY_END
        if archetype == "lapsing":
            stop_at = registered_at + (HISTORY_END - registered_at) * rng.uniform(0.3, 0.6)
        placed_at = registered_at + timedelta(hours=rng.uniform(0.2, 240))
        orders = 0
        while placed_at < stop_at:
            order_seq += 1
            events.append(
                ShopEventRecord(
                    placed_at, "OrderPlaced", _order(rng, order_seq, profile, placed_at, basket_range, premium, orders)
                )
            )
            orders += 1
            if gap_range is None or (archetype == "occasional" and orders >= rng.randint(2, 4)):
                break
            placed_at += timedelta(days=rng.uniform(*gap_range), hours=rng.uniform(-6, 6))
    changes, sources = _after_the_fact(facts, events)
    events += changes
    events.sort(key=lambda e: (e.time, e.detail_type))
    # The order a refund or cancellation names, and the registration of a customer who later
    # updates, stay well-formed: the point of those changes is that they apply.
    kept = {id(e) for e in sources}
    spoilable = [i for i, e in enumerate(events) if id(e) not in kept]
    for position in rng.sample(spoilable, k=min(malformed, len(spoilable))):
        events[position] = malform(rng, events[position])
    return events


def _consent(facts: random.Random, at: datetime) -> dict[str, Any]:
    """What a registration says about marketing e-mail: yes (85 %), no (5 %), nothing (10 %)."""
    draw = facts.random()
    if draw >= 0.95:
        return {}
    return {
        "marketing_consent": draw < 0.85,
        "consent_at": at,
        "consent_source": facts.choice(CONSENT_SOURCES),
    }


def _after_the_fact(
    facts: random.Random, events: list[ShopEventRecord]
) -> tuple[list[ShopEventRecord], list[ShopEventRecord]]:
    """Refunds (partial and full), cancellations, consent withdrawals and e-mail changes for a few
    of ``events``' orders and customers (at least one of each in any history with orders), and
    the events they change."""
    orders = [e for e in events if e.detail_type == "OrderPlaced"]
    registrations = [e for e in events if e.detail_type == "CustomerRegistered"]
    if not orders:
        return [], []
    picked = facts.sample(orders, k=min(len(orders), max(3, round(len(orders) * (REFUND_SHARE * 1.25 + CANCEL_SHARE)))))
    cancels = max(1, round(len(orders) * CANCEL_SHARE))
    fulls = max(1, round(len(orders) * REFUND_SHARE / 4))
    changes: list[ShopEventRecord] = []
    for n, order in enumerate(picked):
        detail = order.detail
        if n < cancels:
            at = order.time + timedelta(hours=facts.uniform(0.5, 20))
            cancel = {"order_id": detail["order_id"], "customer_id": detail["customer_id"], "cancelled_at": at}
            changes.append(ShopEventRecord(at, "OrderCancelled", {**cancel, "reason": "changed their mind"}))
            continue
        at = order.time + timedelta(days=facts.uniform(3, 25))
        item = facts.choice(detail["items"])
        amount = Decimal(detail["total"]) if n < cancels + fulls else Decimal(item["price"])
        refund = {
            "refund_id": f"R{detail['order_id'][1:]}",
            "order_id": detail["order_id"],
            "customer_id": detail["customer_id"],
            "refunded_at": at,
            "currency": detail["currency"],
            "amount": str(amount),
            "items": [{"sku": item["sku"], "qty": 1}],
            "reason": "returned",
        }
        changes.append(ShopEventRecord(at, "OrderRefunded", refund))
    consenting = [e for e in registrations if e.detail.get("marketing_consent")]
    movers = facts.sample(consenting, k=min(len(consenting), 2 * max(1, round(len(consenting) * WITHDRAW_SHARE))))
    for n, registration in enumerate(movers):
        at = registration.time + timedelta(days=facts.uniform(5, 120))
        customer_id = registration.detail["customer_id"]
        update: dict[str, Any] = {"customer_id": customer_id, "updated_at": at, "update_id": f"U{customer_id}-{n}"}
        if n % 2 == 0:
            update |= {"marketing_consent": False, "consent_at": at, "consent_source": "unsubscribed in the shop"}
        else:
            local = registration.detail["email"].split("@")[0]
            update["email"] = f"{local}.new@example.com"
        changes.append(ShopEventRecord(at, "CustomerUpdated", update))
    return [change for change in changes if change.time <= HISTORY_END], [*picked, *movers]


def _order(
    rng: random.Random,
    seq: int,
    profile: dict[str, Any],
    placed_at: datetime,
    basket_range: tuple[int, int],
    premium: float,
    previous_orders: int,
) -> dict[str, Any]:
    size = rng.randint(*basket_range)
    pool = CATALOG if previous_orders == 0 or rng.random() < premium else CONSUMABLES
    items = []
    for product in rng.sample(pool, k=min(size, len(pool))):
        sku, name, category, price = product
        qty = 1 if category in ("brewing-gear", "grinders", "gifts") else rng.randint(1, 3)
        items.append({"sku": sku, "name": name, "category": category, "price": str(price), "qty": qty})
    total = sum(Decimal(i["price"]) * i["qty"] for i in items)
    detail = {
        "order_id": f"O{seq:07d}",
        "customer_id": profile["customer_id"],
        "email": profile["email"],
        "name": profile["name"],
        "placed_at": placed_at,
        "currency": "EUR",
        "total": str(total),
        "items": items,
        "locale": profile["locale"],
        "time_zone": profile["time_zone"],
    }
    return detail


def malform(rng: random.Random, event: ShopEventRecord) -> ShopEventRecord:
    """The kinds of mistakes real shop integrations make."""
    detail = dict(event.detail)
    flaws = ["naive_time", "missing_field"]
    flaws += ["bad_money"] if "total" in detail else []
    flaws += ["bad_email"] if "email" in detail else []  # only where the field exists: else it is ignored
    flaw = rng.choice(flaws)
    if flaw == "naive_time":
        key = next(
            k
            for k in ("placed_at", "registered_at", "referred_at", "refunded_at", "cancelled_at", "updated_at")
            if k in detail
        )
        detail[key] = event.time.replace(tzinfo=None).isoformat()
    elif flaw == "missing_field":
        detail.pop(next(iter(detail)))
    elif flaw == "bad_money":
        detail["total"] = "-12.5"
    else:
        detail["email"] = "not-an-email"
    return ShopEventRecord(event.time, event.detail_type, detail, event.source)
