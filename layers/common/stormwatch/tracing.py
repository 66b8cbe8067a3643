"""X-Ray tracing of the handlers, loaded only when tracing is switched on.

Powertools' ``Tracer()`` imports the X-Ray SDK and patches botocore even when tracing is
disabled (``POWERTOOLS_TRACE_DISABLED`` only stops it sending), about 0.15 s of CPU in every cold
start. So a handler asks :func:`handler_tracer`, which builds a ``Tracer`` only when tracing is
on and otherwise hands back :class:`NoTracer`, whose decorator leaves the handler as it is.

On and off follow Powertools' own rule: off when ``POWERTOOLS_TRACE_DISABLED`` is true or when
not running in Lambda (no ``LAMBDA_TASK_ROOT``, or SAM local). template.yaml sets the variable
from its ``TracingMode`` parameter, so X-Ray is loaded exactly where Lambda traces.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol

Handler = Callable[[Any, Any], Any]

_TRUE = frozenset({"1", "y", "yes", "t", "true", "on"})


class HandlerTracer(Protocol):
    def capture_lambda_handler(self, lambda_handler: Handler) -> Handler: ...


class NoTracer:
    """Tracing off: the handler runs undecorated."""

    def capture_lambda_handler(self, lambda_handler: Handler) -> Handler:
        return lambda_handler


def tracing_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether Powertools would trace here (its rule; see the module doc)."""
    if environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in _TRUE:
        return False
    return bool(environ.get("LAMBDA_TASK_ROOT")) and not environ.get("AWS_SAM_LOCAL")


def handler_tracer(environ: Mapping[str, str] = os.environ) -> HandlerTracer:
    """A Powertools Tracer when tracing is on, else a NoTracer (X-Ray SDK not imported)."""
    if not tracing_enabled(environ):
        return NoTracer()
    from aws_lambda_powertools import Tracer

    return Tracer()
