"""The handlers' Powertools metrics, silent when switched off.

Powertools (3.x) skips the flush of a disabled ``Metrics`` but not the print it makes when one
metric holds 100 values, and a disabled flush never clears the values: a warm container with
metrics off (template.yaml's ``CustomMetrics: Disabled``, the default) would print an EMF
document every 100 invocations, each a billed custom metric, and hold the values in memory.
:class:`HandlerMetrics` adds nothing while metrics are off (Powertools' own rule, read per call).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

Handler = Callable[..., Any]


class HandlerMetrics:
    """Counts a handler reports, through Powertools when metrics are on."""

    def __init__(self) -> None:
        self._metrics = Metrics()

    def log_metrics(self, lambda_handler: Handler) -> Handler:
        return self._metrics.log_metrics(lambda_handler)

    def count(self, name: str, value: int) -> None:
        if not is_metrics_disabled():
            self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
