"""X-Ray only when tracing is on: the handlers' tracer and the rule that switches it."""

from __future__ import annotations

import pytest
from stormwatch.tracing import NoTracer, handler_tracer, tracing_enabled

IN_LAMBDA = {"LAMBDA_TASK_ROOT": "/var/task"}


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({**IN_LAMBDA}, True),
        ({**IN_LAMBDA, "POWERTOOLS_TRACE_DISABLED": "false"}, True),
        ({**IN_LAMBDA, "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({**IN_LAMBDA, "POWERTOOLS_TRACE_DISABLED": "1"}, False),
        ({**IN_LAMBDA, "AWS_SAM_LOCAL": "true"}, False),
        ({}, False),  # not in Lambda: no daemon to send to
    ],
)
def test_tracing_follows_powertools_rule(environ, expected):
    # Given an environment / When asked whether tracing is on / Then Powertools' rule decides
    assert tracing_enabled(environ) is expected


def test_with_tracing_off_the_handler_runs_undecorated():
    # Given tracing switched off (the template's default)
    tracer = handler_tracer({**IN_LAMBDA, "POWERTOOLS_TRACE_DISABLED": "true"})

    def handler(event, context):
        return {"ok": event}

    # When a handler is decorated / Then it is the same function and still works
    assert isinstance(tracer, NoTracer)
    assert tracer.capture_lambda_handler(handler) is handler
    assert handler(1, None) == {"ok": 1}


def test_with_tracing_on_the_handler_gets_a_powertools_tracer():
    # Given tracing switched on in Lambda
    from aws_lambda_powertools import Tracer

    # When the handler's tracer is built / Then it is Powertools' Tracer
    assert isinstance(handler_tracer({**IN_LAMBDA, "POWERTOOLS_TRACE_DISABLED": "false"}), Tracer)
