"""Least privilege in template.yaml: every function names its DynamoDB actions on the one table.

A policy granting ``*`` (all actions or all resources) on DynamoDB fails here, and so does a
Scan anywhere but the daily statistics job: the "no Scan per event or per tick" rule is enforced
by IAM, not only by review.
"""

from __future__ import annotations

from typing import Any

import pytest

from retention_tools.local.template import load_template

RESOURCES = load_template()["Resources"]
FUNCTIONS = {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}


def _statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in function["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy["Statement"])
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)


def _dynamodb_statements(name: str) -> list[dict[str, Any]]:
    return [s for s in _statements(FUNCTIONS[name]) if any(a.startswith("dynamodb:") for a in _actions(s))]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_no_function_grants_star_on_dynamodb(name: str) -> None:
    policies = FUNCTIONS[name]["Properties"].get("Policies", [])
    # SAM's DynamoDB policy templates grant more than a function uses (Scan, BatchWriteItem...)
    assert not [p for p in policies if isinstance(p, dict) and any(k.startswith("DynamoDB") for k in p)], name
    for statement in _dynamodb_statements(name):
        assert all("*" not in action for action in _actions(statement)), (name, statement)
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in resources, (name, statement)
        assert all("CustomersTable" in str(resource) for resource in resources), (name, statement)


def test_only_the_daily_statistics_job_may_scan() -> None:
    scanners = {name for name in FUNCTIONS for s in _dynamodb_statements(name) if "dynamodb:Scan" in _actions(s)}
    assert scanners == {"SegmentStatsFunction"}


def test_read_only_paths_cannot_write() -> None:
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
    for name in ("JourneyHealthFunction",):
        granted = {a for s in _dynamodb_statements(name) for a in _actions(s)}
        assert not granted & writes, name


def test_only_the_sweep_queries_the_due_index() -> None:
    on_index = {name for name in FUNCTIONS for s in _dynamodb_statements(name) if "/index/" in str(s["Resource"])}
    assert on_index == {"TimerSweepFunction"}
