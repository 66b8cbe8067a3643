"""Metrics switched off stay off, however many invocations a warm container serves."""

from __future__ import annotations

import json

from stormwatch.handler_metrics import HandlerMetrics


def _emf_lines(text: str) -> list[dict]:
    docs = []
    for line in text.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and "_aws" in doc:
            docs.append(doc)
    return docs


def _handler(metrics: HandlerMetrics):
    @metrics.log_metrics
    def handler(event, context):
        metrics.count("MentionsScored", 3)
        return {}

    return handler


def test_no_metric_is_printed_when_metrics_are_off_even_after_100_invocations(monkeypatch, capsys):
    # Given metrics switched off (CustomMetrics: Disabled) and a warm container
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Stormwatch")
    handler = _handler(HandlerMetrics())
    # When it serves 150 invocations (Powertools prints on its own at 100 values of a metric)
    for _ in range(150):
        handler({}, None)
    # Then no EMF document was printed (none would be billed)
    assert _emf_lines(capsys.readouterr().out) == []


def test_metrics_are_printed_once_per_invocation_when_on(monkeypatch, capsys):
    # Given metrics switched on
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Stormwatch")
    handler = _handler(HandlerMetrics())
    # When it serves two invocations
    handler({}, None)
    handler({}, None)
    # Then each flushed its count
    docs = _emf_lines(capsys.readouterr().out)
    assert [doc["MentionsScored"] for doc in docs] == [[3.0], [3.0]]
