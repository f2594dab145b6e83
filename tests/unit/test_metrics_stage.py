"""Every metric carries its stage, so each stage's alarms count only its own (template.yaml)."""

from __future__ import annotations

import os

from aws_lambda_powertools.metrics import MetricUnit

from retention.observability import metrics


def test_every_metric_carries_the_stage_dimension(monkeypatch):
    monkeypatch.setattr(metrics, "namespace", "RetentionEngine")  # the template sets it per function
    monkeypatch.setattr(metrics, "service", "retention-engine")
    metrics.add_metric(name="Probe", unit=MetricUnit.Count, value=1)
    try:
        blob = metrics.serialize_metric_set()
    finally:
        metrics.clear_metrics()
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    assert ["service", "stage"] in [sorted(d) for d in directive["Dimensions"]]
    assert blob["stage"] == os.environ.get("STAGE", "dev")
    # and it survives the flush that clears each invocation's metrics
    metrics.add_metric(name="Probe", unit=MetricUnit.Count, value=1)
    try:
        assert metrics.serialize_metric_set()["stage"] == blob["stage"]
    finally:
        metrics.clear_metrics()
