"""Score: new mentions from the table's stream into hourly buckets, then surge checks.

The collector stores each mention scored; a mention stored unscored (before scoring moved
into the collector) is scored here, in memory: nothing is written back onto it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from stormwatch.codec import scored_from_item
from stormwatch.events import StreamRecord
from stormwatch.handler_metrics import HandlerMetrics
from stormwatch.models import ScoredMention, StreamedMention, now_utc
from stormwatch.runtime import aws_client
from stormwatch.scoring import (
    check_surges,
    counted_prefix,
    score_mention,
    topic_words,
    write_scores,
)
from stormwatch.settings import Settings
from stormwatch.store import Store
from stormwatch.tracing import handler_tracer
from stormwatch.watchlist_store import LiveWatchlist, running_watchlist

logger = Logger()
# metrics through HandlerMetrics: silent when CustomMetrics is Disabled (Powertools is not)
metrics = HandlerMetrics()
# X-Ray only when tracing is on: Powertools' Tracer loads its SDK even when disabled
tracer = handler_tracer()


@dataclass
class Deps:
    settings: Settings
    store: Store
    clock: Any = now_utc
    # the live watchlist (store + packaged fallback); None: the container's own
    watchlist: LiveWatchlist | None = None


@cache
def _default_deps() -> Deps:
    settings = Settings.from_environment()
    store = Store(
        aws_client("dynamodb"), settings.table_name, retention_days=settings.retention_days
    )
    return Deps(settings=settings, store=store)


deps_factory = _default_deps


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = deps_factory()
    watchlist = running_watchlist(deps.settings, deps.watchlist)
    streamed: list[StreamedMention] = []

    def score_record(record: DynamoDBRecord) -> None:
        # a malformed record fails (reported as a partial batch failure, see counted_prefix)
        parsed = StreamRecord.from_raw(record.raw_event)
        if not parsed.is_insert_of("M#"):
            logger.warning(
                "skipped: not an insert of a mention",
                extra={"event_name": parsed.event_name, "sort_key": parsed.sort_key[:40]},
            )
            return
        scored = scored_from_item(parsed.new_image)
        if scored.sentiment is None:
            scored = _score_late(scored, watchlist)
        streamed.append(StreamedMention(scored=scored, sequence=int(parsed.sequence_number)))

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    with processor(records=event.get("Records", []), handler=score_record, lambda_context=context):
        processor.process()
    response = processor.response()

    failed = [int(f["itemIdentifier"]) for f in response["batchItemFailures"]]
    counted, held_back = counted_prefix(streamed, failed)
    # buckets are written once per (topic, hour) for the whole batch
    now = deps.clock()
    outcome = write_scores(deps.store, counted, now=now)
    by_key = {r.mention.sort_key: r for r in counted}
    response["batchItemFailures"].extend(
        {"itemIdentifier": str(r.sequence)}
        for r in [*held_back, *(by_key[key] for key in outcome.failed_keys)]
    )
    surges = check_surges(deps.store, watchlist, outcome.topics, now=now, states=outcome.states)

    metrics.count("MentionsScored", outcome.written)
    metrics.count("SurgeDetected", len(surges))
    logger.info(
        "batch scored",
        extra={
            "records": len(event.get("Records", [])),
            "scored": outcome.written,
            "repeats": outcome.repeats,
            "failed": len(response["batchItemFailures"]),
            "surges": [{"topic": s.topic, "tier": s.tier} for s in surges],
        },
    )
    return response


def _score_late(scored: ScoredMention, watchlist: Any) -> ScoredMention:
    """Sentiment for a mention stored unscored; the analyzer loads only on this path."""
    from stormwatch import sentiment

    own_words = topic_words(watchlist.find(scored.mention.topic))
    return score_mention(scored.mention, sentiment.analyze, own_words).model_copy(
        update={"story": scored.story}
    )
