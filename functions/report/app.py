"""Report: the hourly digest dispatcher (Scheduler); surge alerts and "source down" notices
(inserts of S# and N# items on the table's stream)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from stormwatch.channels.base import Channel, JsonPoster
from stormwatch.channels.registry import ChannelParts, build_channels
from stormwatch.events import DigestEvent, StreamRecord
from stormwatch.handler_metrics import HandlerMetrics
from stormwatch.links import LINK_KEY_PARAMETER, LinkBuilder, LinkSigner
from stormwatch.mailer import Mailer
from stormwatch.models import now_utc
from stormwatch.reporting import (
    Deliver,
    DeliveryFailed,
    ReportOutcome,
    Responses,
    due_topics,
    notify,
    send_digest,
)
from stormwatch.runtime import aws_client, make_deliver
from stormwatch.secrets import NoSecrets, Secrets, SsmSecrets
from stormwatch.settings import ReportSettings
from stormwatch.store import Store, notice_from_item, surge_from_item
from stormwatch.tracing import handler_tracer
from stormwatch.watchlist_store import LiveWatchlist, running_watchlist

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )

logger = Logger()
# metrics through HandlerMetrics: silent when CustomMetrics is Disabled (Powertools is not)
metrics = HandlerMetrics()
# X-Ray only when tracing is on: Powertools' Tracer loads its SDK even when disabled
tracer = handler_tracer()


@dataclass
class Deps:
    settings: ReportSettings
    store: Store
    mailer: Mailer
    dynamodb: Any
    clock: Any = now_utc
    # the live watchlist (store + packaged fallback); None: the container's own
    watchlist: LiveWatchlist | None = None
    # the local runner keeps every rendered e-mail to write it under out/
    keep_rendered: list | None = None
    # chat webhook URLs and signing secrets (SSM), the SNS client for SMS, the HTTP poster
    secrets: Secrets = field(default_factory=NoSecrets)
    sns: Any = None
    poster: JsonPoster = field(default_factory=JsonPoster)
    # signed links to the web function (storm page, feedback, unsubscribe); None: no WEB_URL
    links: LinkBuilder | None = None

    def channels(self) -> dict[str, Channel]:
        return build_channels(
            ChannelParts(self.mailer, self.secrets, self.poster, self.sns, self.links)
        )

    @property
    def responses(self) -> Responses | None:
        return Responses(self.links, self.store) if self.links else None

    def deliver(self, context: Any) -> Deliver:
        return make_deliver(self.channels(), self.dynamodb, self.settings.table_name, context)


@cache
def _default_deps() -> Deps:
    settings = ReportSettings.from_environment()
    dynamodb = aws_client("dynamodb")
    store = Store(dynamodb, settings.table_name, retention_days=settings.retention_days)
    mailer = Mailer(
        aws_client("sesv2"),
        settings.sender_address,
        configuration_set=settings.ses_configuration_set or None,
    )
    secrets = SsmSecrets(settings.ssm_prefix)
    return Deps(
        settings=settings,
        store=store,
        mailer=mailer,
        dynamodb=dynamodb,
        secrets=secrets,
        sns=aws_client("sns"),
        links=link_builder(settings.web_url, secrets),
    )


def link_builder(web_url: str, secrets: Secrets) -> LinkBuilder | None:
    """Links when the web function's URL is configured. Its key must then exist: without it
    an unsubscribed recipient could not be recognised, so sending stops with a clear error."""
    if not web_url:
        return None
    key = secrets.get(LINK_KEY_PARAMETER)
    if not key:
        raise RuntimeError(
            f"WEB_URL is set but the SSM parameter {LINK_KEY_PARAMETER} (the link key) is not; "
            "create it (README: Web function) so links can be signed and unsubscribes honoured"
        )
    return LinkBuilder(LinkSigner(key), web_url)


deps_factory = _default_deps


def _digests(event: dict[str, Any], deps: Deps, context: Any) -> ReportOutcome:
    request = DigestEvent.model_validate(event)
    watchlist = running_watchlist(deps.settings, deps.watchlist)
    when = request.scheduled_time or deps.clock()
    if request.topic:
        topics = [watchlist.topic(request.topic)]
    else:
        topics = watchlist.topics if request.force else due_topics(watchlist, when)
    deliver = deps.deliver(context)
    outcome = ReportOutcome()
    for topic in topics:
        send_digest(
            topic,
            store=deps.store,
            deliver=deliver,
            templates_dir=deps.settings.templates_dir,
            now=when,
            watchlist_name=watchlist.name,
            settings_url=deps.settings.settings_url,
            outcome=outcome,
            watchlist=watchlist,
            health=deps.store,
            responses=deps.responses,
        )
    if outcome.failures:
        # every topic had its turn; fail now so the retry sends what is missing (only that)
        raise DeliveryFailed(outcome.failures)
    return outcome


def _alerts(event: dict[str, Any], deps: Deps, context: Any) -> tuple[ReportOutcome, dict]:
    # the stream's path alone takes a batch: the hourly digests do not load Powertools' batch
    # utility (with asyncio behind it) at their cold start
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    watchlist = running_watchlist(deps.settings, deps.watchlist)
    outcome = ReportOutcome()
    options: dict[str, Any] = {
        "deliver": deps.deliver(context),
        "templates_dir": deps.settings.templates_dir,
        "watchlist_name": watchlist.name,
        "settings_url": deps.settings.settings_url,
        "outcome": outcome,
        "health": deps.store,
        "responses": deps.responses,
    }

    def alert_record(record: DynamoDBRecord) -> None:
        parsed = StreamRecord.from_raw(record.raw_event)
        if not parsed.is_insert_of("S#", "N#"):
            logger.warning(
                "skipped: not an insert of a surge or notice item",
                extra={"event_name": parsed.event_name, "sort_key": parsed.sort_key[:40]},
            )
            return
        is_notice = parsed.sort_key.startswith("N#")
        item = (notice_from_item if is_notice else surge_from_item)(parsed.new_image)
        topic = watchlist.find(item.topic)
        if topic is None:
            # the topic left the watchlist after the item was written: nobody to tell, and a
            # retry would not change that
            logger.warning("item for a topic not in the watchlist", extra={"topic": item.topic})
            return
        failed_before = len(outcome.failures)
        notify(topic, item, now=deps.clock(), **options)
        if len(outcome.failures) > failed_before:
            # the record is retried (the delivered targets are repeats then, not resent)
            raise DeliveryFailed(outcome.failures[failed_before:])

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    with processor(records=event["Records"], handler=alert_record, lambda_context=context):
        processor.process()
    return outcome, processor.response()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = deps_factory()
    if "Records" in event:
        outcome, response = _alerts(event, deps, context)
        metrics.count("AlertSent", outcome.sent)
    else:
        outcome, response = _digests(event, deps, context), {}
        metrics.count("DigestSent", outcome.sent)
    if deps.keep_rendered is not None:
        deps.keep_rendered.extend(outcome.rendered)
    if outcome.failures:
        metrics.count("DeliveryFailed", len(outcome.failures))
    logger.info("report done", extra={"sent": outcome.sent, "repeats": outcome.repeats})
    return {
        **response,
        "sent": outcome.sent,
        "repeats": outcome.repeats,
        "deliveries": [
            {
                "kind": d.kind,
                "topic": d.topic,
                "recipient": d.recipient_hash,
                "message_id": d.message_id,
                "repeat": d.repeat,
                "subject": d.subject,
                "channel": d.channel,
            }
            for d in outcome.deliveries
        ],
    }
