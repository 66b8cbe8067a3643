"""Dispatch: a source's schedule fans its topics out as collect tasks (stormwatch.dispatch).

Invoked by EventBridge Scheduler, one schedule per source. Sends this period's fair slice of
the topics that use the source to the source's FIFO queue; the collect function works them off.
`scheduled_time` (the schedule's own time) makes a retried invocation send the same tasks,
which the queue's deduplication drops.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from stormwatch.dispatch import PACES, plan_dispatch
from stormwatch.events import CollectEvent
from stormwatch.handler_metrics import HandlerMetrics
from stormwatch.models import now_utc
from stormwatch.runtime import aws_client
from stormwatch.settings import DispatchSettings
from stormwatch.taskqueue import SqsTaskQueues, TaskQueues
from stormwatch.tracing import handler_tracer
from stormwatch.watchlist_store import LiveWatchlist, running_watchlist

logger = Logger()
# metrics through HandlerMetrics: silent when CustomMetrics is Disabled (Powertools is not)
metrics = HandlerMetrics()
tracer = handler_tracer()


@dataclass
class Deps:
    settings: DispatchSettings
    queues: TaskQueues
    clock: Any = now_utc
    # the live watchlist (store + packaged fallback); None: the container's own
    watchlist: LiveWatchlist | None = None


@cache
def _default_deps() -> Deps:
    settings = DispatchSettings.from_environment()
    return Deps(settings=settings, queues=SqsTaskQueues(aws_client("sqs"), settings.collect_queues))


# the local runner and tests replace this with their own collaborators
deps_factory = _default_deps


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CollectEvent.model_validate(event)
    deps = deps_factory()
    watchlist = running_watchlist(deps.settings, deps.watchlist)
    topics = [t.name for t in watchlist.topics_for_source(request.source)]
    if request.topic:
        topics = [t for t in topics if t == request.topic]
    tasks = plan_dispatch(
        request.source,
        topics,
        at=request.scheduled_time or deps.clock(),
        pace=PACES[request.source],
        backfill_days=request.backfill_days,
    )
    sent = deps.queues.send(tasks)
    metrics.count("TasksDispatched", sent)
    waiting = len(topics) - sent
    logger.info("dispatched", extra={"source": request.source, "sent": sent, "waiting": waiting})
    return {"source": request.source, "dispatched": sent, "waiting": waiting}
