"""Collect: one source, every topic that uses it. Invoked by EventBridge Scheduler."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from stormwatch import __version__
from stormwatch.collector import collect_source, totals
from stormwatch.events import CollectEvent
from stormwatch.http import HttpClient
from stormwatch.models import now_utc
from stormwatch.privacy import pseudonymiser_for
from stormwatch.runtime import aws_client
from stormwatch.secrets import NoSecrets, SsmSecrets
from stormwatch.settings import CollectSettings
from stormwatch.sources import get_source
from stormwatch.sources.base import PlansAcrossTopics
from stormwatch.store import Store
from stormwatch.watchlist_store import LiveWatchlist, running_watchlist

logger = Logger()
metrics = Metrics()
tracer = Tracer()

# stop starting work this long before the Lambda timeout, so checkpoints are always saved
SAFETY_MARGIN_SECONDS = 20


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


@cache
def _default_deps() -> Deps:
    settings = CollectSettings()
    store = Store(
        aws_client("dynamodb"), settings.table_name, retention_days=settings.retention_days
    )
    http = HttpClient(f"stormwatch/{__version__} (+{settings.contact})")
    secrets = SsmSecrets(settings.ssm_prefix)
    return Deps(settings=settings, store=store, http=http, secrets=secrets)


# the local runner and tests replace this with their own collaborators
deps_factory = _default_deps


def _deadline(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return time.monotonic() + remaining() / 1000 - SAFETY_MARGIN_SECONDS


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CollectEvent.model_validate(event)
    deps = deps_factory()
    watchlist = running_watchlist(deps.settings, deps.watchlist)
    topics = watchlist.topics_for_source(request.source)
    source = get_source(request.source, secrets=deps.secrets, state=deps.store)
    if isinstance(source, PlansAcrossTopics):
        source.plan_across(topics, deps.clock())  # every topic's share, before any is run
    if request.topic:
        topics = [t for t in topics if t.name == request.topic]
    deadline = _deadline(context)
    reports = collect_source(
        source,
        topics,
        deps.store,
        # no request, retry or body read runs past the deadline: a hanging feed cannot keep
        # the remaining topics from being run and recorded
        deps.http.until(deadline),
        now=deps.clock(),
        deadline=deadline,
        # privacy: pseudonymous without its key raises here: nothing stored with handles
        pseudonymise=pseudonymiser_for(watchlist, deps.secrets),
        backfill_days=request.backfill_days,
    )
    summary = totals(reports)
    metrics.add_metric(name="MentionsCollected", unit=MetricUnit.Count, value=summary["new"])
    metrics.add_metric(name="SourceFailed", unit=MetricUnit.Count, value=summary["failed"])
    for report in reports:
        log = logger.warning if report.error else logger.info
        # the notes say why items were skipped (malformed, dated in the future, ...)
        log("source run", extra={**report.summary(), "notes": report.skipped})
    return {"source": request.source, **summary, "topics": [r.summary() for r in reports]}
