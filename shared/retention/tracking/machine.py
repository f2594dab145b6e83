"""Telling machine opens and clicks from human ones, with reasons a marketer can read.

Nothing is dropped: a machine event is stored and counted in the "all" figures; only the human
rates leave it out. Each rule is cheap and local (no lookups): the user agent, the source
network, the request method, how soon after sending it came, and the hidden honeypot link.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from functools import cache
from pathlib import Path

from retention.config_files import load_yaml
from retention.models.tracking import MachineOpenRules, TrackingRules, Visit
from retention.paths import templates_dir


def tracking_rules() -> TrackingRules:
    """templates/tracking.yaml, validated once per container and templates version."""
    return _rules_in(templates_dir())


@cache
def _rules_in(root: Path) -> TrackingRules:
    return load_yaml(root / "tracking.yaml", TrackingRules)


def _agent_reason(visit: Visit, rules: MachineOpenRules) -> str | None:
    agent = visit.user_agent.strip()
    if not agent:
        return "no user agent"
    if agent in rules.exact_user_agents:
        return f"proxy user agent {agent!r}"
    lowered = agent.lower()
    for marker in rules.user_agents:
        if marker.lower() in lowered:
            return f"user agent contains {marker!r}"
    return None


def _network_reason(visit: Visit, rules: MachineOpenRules) -> str | None:
    try:
        address = ipaddress.ip_address(visit.source_ip)
    except ValueError:
        return None
    for network in _networks(tuple(rules.ip_ranges)):
        if address.version == network.version and address in network:
            return f"source network {network}"
    return None


@cache
def _networks(cidrs: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]


def _too_soon(visit: Visit, sent_at: datetime | None, seconds: int) -> str | None:
    if sent_at is not None and 0 <= (visit.at - sent_at).total_seconds() < seconds:
        return f"within {seconds} s of sending"
    return None


def machine_open(visit: Visit, sent_at: datetime | None, rules: TrackingRules) -> str | None:
    """Why this open is a machine's, or None for a human one."""
    opens = rules.machine_opens
    return (
        _agent_reason(visit, opens)
        or _network_reason(visit, opens)
        or _too_soon(visit, sent_at, opens.seconds_after_send)
    )


def machine_click(
    visit: Visit, sent_at: datetime | None, honeypot_at: datetime | None, rules: TrackingRules
) -> str | None:
    """Why this click is a link scanner's, or None for a human one."""
    clicks = rules.machine_clicks
    if visit.method.upper() == "HEAD":
        return "HEAD request"
    if honeypot_at is not None and abs((visit.at - honeypot_at).total_seconds()) <= clicks.seconds_around_honeypot:
        return "near a hit on the hidden honeypot link"
    return (
        _agent_reason(visit, clicks)
        or _network_reason(visit, clicks)
        or _too_soon(visit, sent_at, clicks.seconds_after_send)
    )
