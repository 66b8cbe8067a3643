"""Collect: the (source, topic) tasks of one SQS batch (stormwatch.dispatch), each on its own.

Invoked by the event source mapping of each source's task queue. A topic whose collection
raises is reported back alone (ReportBatchItemFailures) and retried, then dead-lettered; the
others of the batch are done. A source's failure is not an exception: it is recorded as the
topic's health (checkpoint kept), and the next period tries again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from stormwatch.collector import CollectBatch, totals
from stormwatch.dispatch import PACES, CollectTask
from stormwatch.handler_metrics import HandlerMetrics
from stormwatch.http import HttpClient, default_user_agent
from stormwatch.models import now_utc
from stormwatch.privacy import pseudonymiser_for
from stormwatch.runtime import aws_client
from stormwatch.secrets import NoSecrets, SsmSecrets
from stormwatch.settings import CollectSettings
from stormwatch.sources import get_source
from stormwatch.store import Store
from stormwatch.tracing import handler_tracer
from stormwatch.watchlist_store import LiveWatchlist, running_watchlist

logger = Logger()
# metrics through HandlerMetrics: silent when CustomMetrics is Disabled (Powertools is not)
metrics = HandlerMetrics()
# X-Ray only when tracing is on: Powertools' Tracer loads its SDK even when disabled
tracer = handler_tracer()

# stop starting work this long before the Lambda timeout, so checkpoints are always saved
SAFETY_MARGIN_SECONDS = 20
# a failed task holds back only its own message group (a topic, or a serial source)
processor = SqsFifoPartialProcessor(skip_group_on_error=True)


@dataclass
class Deps:
    settings: CollectSettings
    store: Store
    http: Any
    clock: Any = now_utc
    # the live watchlist (store + packaged fallback); None: the container's own
    watchlist: LiveWatchlist | None = None
    # source credentials (stormwatch.secrets.Secrets); SSM in Lambda, none by default
    secrets: Any = field(default_factory=NoSecrets)
    sleep: Callable[[float], None] = time.sleep
    # source name -> a source; None: the registry's, with the secrets and the store as state
    # (bench/scale.py passes offline fakes)
    build_source: Callable[[str], Any] | None = None


@cache
def _default_deps() -> Deps:
    settings = CollectSettings.from_environment()
    store = Store(
        aws_client("dynamodb"), settings.table_name, retention_days=settings.retention_days
    )
    http = HttpClient(default_user_agent(settings.contact))
    secrets = SsmSecrets(settings.ssm_prefix)
    return Deps(settings=settings, store=store, http=http, secrets=secrets)


# the local runner and tests replace this with their own collaborators
deps_factory = _default_deps


def _deadline(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return time.monotonic() + remaining() / 1000 - SAFETY_MARGIN_SECONDS


def _batch(deps: Deps, deadline: float | None) -> CollectBatch:
    watchlist = running_watchlist(deps.settings, deps.watchlist)
    return CollectBatch(
        # once per source and batch: listing walks the whole watchlist (~5 ms at 1,000 topics)
        topics_of=cache(watchlist.topics_for_source),
        build_source=deps.build_source
        or (lambda name: get_source(name, secrets=deps.secrets, state=deps.store)),
        store=deps.store,
        # no request, retry or body read runs past the deadline: a hanging feed cannot keep
        # the batch's other topics from being run and recorded
        http=deps.http.until(deadline),
        now=deps.clock(),
        deadline=deadline,
        # privacy: pseudonymous without its key raises here: nothing stored with handles
        pseudonymise=pseudonymiser_for(watchlist, deps.secrets),
    )


def _hold_serial_groups(batch: CollectBatch, deps: Deps, deadline: float | None) -> None:
    """A serial source's next batch starts as soon as this one returns: wait out its pace so
    that batch's first request keeps the API's spacing too (stormwatch.dispatch)."""
    if not getattr(deps.http, "paced", True):
        return  # recorded responses: no server to be polite to
    gaps = [PACES[name].gap_seconds for name in batch.sources_used if PACES[name].serial]
    if gaps:
        left = float("inf") if deadline is None else deadline - time.monotonic()
        deps.sleep(max(0.0, min(max(gaps), left)))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = deps_factory()
    deadline = _deadline(context)
    batch = _batch(deps, deadline)

    def collect_one(record: SQSRecord) -> None:
        batch.run(CollectTask.model_validate_json(record.body))

    response = process_partial_response(event, collect_one, processor, context)
    reports = batch.finish()
    _hold_serial_groups(batch, deps, deadline)
    summary = totals(reports)
    metrics.count("MentionsCollected", summary["new"])
    metrics.count("SourceFailed", summary["failed"])
    metrics.count("TasksFailed", len(response["batchItemFailures"]))
    for report in reports:
        log = logger.warning if report.error else logger.info
        # the notes say why items were skipped (malformed, dated in the future, ...)
        log("source run", extra={**report.summary(), "notes": report.skipped})
    return {**response, **summary, "topics": [r.summary() for r in reports]}
