"""Reporting: which digests are due, build + render + deliver each exactly once; surge alerts."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from stormwatch.channels.base import ChannelError, Target
from stormwatch.digest import (
    CHART_HOURS,
    NEW_VOICE_DAYS,
    WEEK,
    AlertView,
    DigestView,
    NoticeView,
    build_alert,
    build_digest,
    build_notice,
)
from stormwatch.feedback import SUMMARY_DAYS, FeedbackSummary, summarize
from stormwatch.links import LinkBuilder
from stormwatch.models import (
    ChannelHealth,
    Checkpoint,
    Feedback,
    HourBucket,
    NewsTone,
    RenderedEmail,
    ScoredMention,
    SourceNotice,
    Surge,
    SurgeTier,
    now_utc,
    utc,
)
from stormwatch.notification import Link, Notification, links_for, response_links
from stormwatch.render import render_alert, render_digest, render_notice
from stormwatch.sources.gdelt import GdeltSource, tone_key, tone_over
from stormwatch.timeutil import floor_hour
from stormwatch.watchlist import DigestSettings, Topic, Watchlist

DAY = timedelta(hours=24)
HOUR = timedelta(hours=1)
ERROR_CHARS = 300  # of a failed delivery's error, as kept and recorded


class DigestStore(Protocol):
    """What a digest reads (stormwatch.store.Store): one topic's period and its competitors'."""

    def mentions_between(
        self, topic: str, start: datetime, end: datetime
    ) -> list[ScoredMention]: ...

    def buckets_between(self, topic: str, start: datetime, end: datetime) -> list[HourBucket]: ...

    def count_between(self, topic: str, start: datetime, end: datetime) -> int: ...

    def surges_between(self, topic: str, start: datetime, end: datetime) -> list[Surge]: ...

    def known_authors(
        self, topic: str, start: datetime, end: datetime, *, keep: bool = True
    ) -> Container[str]: ...

    def remember_authors(
        self, topic: str, start: datetime, end: datetime, mentions: Sequence[ScoredMention]
    ) -> bool: ...

    def checkpoints(self, topic: str, sources: Iterable[str]) -> list[Checkpoint]: ...

    def channel_health(self, topic: str) -> list[ChannelHealth]: ...

    def get_source_state(self, source: str, key: str) -> dict[str, Any] | None: ...


class ChannelHealthLog(Protocol):
    """Where each delivery's outcome per (topic, channel) is noted (stormwatch.store.Store)."""

    def record_channel_result(
        self, topic: str, channel: str, *, at: datetime, error: str | None
    ) -> None: ...


class Audience(Protocol):
    """Who asked for less (stormwatch.store.Store): recipients who unsubscribed from a topic
    (keyed hashes, stormwatch.links) and a topic's alerts muted until a time."""

    def unsubscribed(self, topic: str) -> set[str]: ...

    def muted_until(self, topic: str) -> datetime | None: ...

    def surges_between(self, topic: str, start: datetime, end: datetime) -> list[Surge]: ...

    def feedback_between(self, topic: str, start: datetime, end: datetime) -> list[Feedback]: ...


@dataclass(frozen=True)
class Responses:
    """The web function's side of a message: signed links to the storm page, feedback and
    unsubscribe, and the audience whose wishes every send honours."""

    links: LinkBuilder
    audience: Audience

    def subscribed(self, topic: str, recipients: list[str]) -> list[str]:
        gone = self.audience.unsubscribed(topic)
        if not gone:
            return recipients
        return [r for r in recipients if self.links.signer.recipient_ref(r) not in gone]

    def muted(self, topic: str, now: datetime) -> bool:
        until = self.audience.muted_until(topic)
        return until is not None and utc(until) > utc(now)

    def feedback_summary(self, topic: str, now: datetime) -> FeedbackSummary:
        """The alerts of the last 30 days and what readers said about them (two Queries)."""
        start = utc(now) - timedelta(days=SUMMARY_DAYS)
        return summarize(
            self.audience.surges_between(topic, start, now),
            self.audience.feedback_between(topic, start, now),
        )


# deliver(key, notification, target) -> (delivery id, repeat): sends once per key, however
# often it is called, through the target's channel (Powertools idempotency in Lambda, see
# stormwatch.runtime.make_deliver)
Deliver = Callable[[str, Notification, Target], tuple[str, bool]]


@dataclass
class Delivery:
    kind: str
    topic: str
    recipient_hash: str
    message_id: str
    repeat: bool
    subject: str
    channel: str = "email"


@dataclass
class FailedDelivery:
    """A (notification, channel, target) that did not go out; the others still did."""

    kind: str
    topic: str
    channel: str
    target: str  # the target's ref: no address, number or URL
    error: str


class DeliveryFailed(Exception):
    """Some deliveries did not go out (the others did); raised so the invocation is retried.
    The message names channel, target ref and error only: no address, number or URL."""

    def __init__(self, failures: list[FailedDelivery]) -> None:
        self.failures = failures
        super().__init__(
            "; ".join(
                f"{f.kind} {f.topic} via {f.channel} ({f.target}): {f.error}" for f in failures
            )
        )


@dataclass
class ReportOutcome:
    deliveries: list[Delivery] = field(default_factory=list)
    rendered: list[tuple[str, RenderedEmail]] = field(default_factory=list)  # (name, email)
    failures: list[FailedDelivery] = field(default_factory=list)
    # the notifications that went (or were due) to chat channels, for the local demo
    notifications: list[Notification] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(1 for d in self.deliveries if not d.repeat)

    @property
    def repeats(self) -> int:
        return sum(1 for d in self.deliveries if d.repeat)


def due_topics(watchlist: Watchlist, scheduled_time: datetime) -> list[Topic]:
    """Topics whose digest falls in the hour starting at `scheduled_time` (the hourly UTC
    schedule): exactly one hour per local date, whatever the clock changes do."""
    scheduled = utc(scheduled_time)
    return [topic for topic in watchlist.topics if _digest_due(topic.digest, scheduled)]


def digest_instant(digest: DigestSettings, day: date) -> datetime:
    """When a local date's digest goes out, in UTC: the digest hour on the local clock. An hour
    the spring change skips becomes the first instant after the gap (02:00 -> 03:00 in Berlin);
    an hour the autumn change repeats counts once, at its first occurrence (fold=0, PEP 495)."""
    wall = datetime.combine(day, time(digest.hour), tzinfo=ZoneInfo(digest.timezone))
    return wall.astimezone(UTC)


def _digest_due(digest: DigestSettings, scheduled: datetime) -> bool:
    zone = ZoneInfo(digest.timezone)
    # the hour's own local date, and the one before for an instant pushed past midnight
    days = {scheduled.astimezone(zone).date(), (scheduled - HOUR).astimezone(zone).date()}
    return any(
        (instant := digest_instant(digest, day)) <= scheduled < instant + HOUR for day in days
    )


def digest_day(topic: Topic, now: datetime) -> str:
    """The local date a digest is for: the idempotency unit together with topic and recipient."""
    return utc(now).astimezone(ZoneInfo(topic.digest.timezone)).date().isoformat()


def send_digest(
    topic: Topic,
    *,
    store: DigestStore,
    deliver: Deliver,
    templates_dir: Path,
    now: datetime,
    watchlist_name: str,
    settings_url: str = "",
    outcome: ReportOutcome | None = None,
    watchlist: Watchlist | None = None,
    health: ChannelHealthLog | None = None,
    responses: Responses | None = None,
) -> ReportOutcome:
    """Build, render (once per recipient language) and deliver one topic's daily digest.

    Reads, all bounded Queries on the topic's partition (and its competitors'): the period's
    mentions, the period's surges, the hourly buckets of the chart, the previous day and the
    7-day average (8 days), who was heard in the 30 days before (new voices; the period's
    authors are kept for later digests), the competitors' bucket counts, and the health of its
    delivery channels (coverage). `watchlist` gives the competitors' display names; with
    `responses`, recipients who unsubscribed from the topic are left out."""
    outcome = outcome or ReportOutcome()
    end = floor_hour(now)
    start = end - DAY
    inputs = _digest_inputs(topic, store, start, end, watchlist)
    day = digest_day(topic, end)

    feedback = responses.feedback_summary(topic.name, end) if responses else None

    def build(lang: str) -> DigestView:
        view = build_digest(
            topic,
            now=end,
            period_start=start,
            watchlist_name=watchlist_name,
            settings_url=settings_url,
            language=lang,
            **inputs,
        )
        return view.model_copy(update={"feedback": feedback}) if feedback else view

    everyone = topic.digest.recipients
    recipients_left = responses.subscribed(topic.name, everyone) if responses else everyone
    by_language = _languages(topic, recipients_left)
    views = {lang: build(lang) for lang in by_language}
    emails, targets = _digest_emails(topic, views, by_language, templates_dir, day, outcome)
    # the key is (topic, local day, recipient): the language does not change what is sent
    # once, so a retry after a language change still sends nothing twice
    view = views.get(topic.digest.language) or build(topic.digest.language)  # what chat says
    notification = Notification(
        kind="digest",
        key=f"digest#{topic.name}#{day}",
        topic=topic.name,
        view=view,
        emails=emails,
        links=links_for(view),
    )
    _deliver_all(topic, notification, targets, deliver, outcome, health, now)
    return outcome


def _digest_emails(
    topic: Topic,
    views: dict[str, DigestView],
    by_language: dict[str, list[str]],
    templates_dir: Path,
    day: str,
    outcome: ReportOutcome,
) -> tuple[dict[str, RenderedEmail], list[Target]]:
    """One e-mail per language (kept in `outcome.rendered` for the preview) and whom it goes to."""
    emails: dict[str, RenderedEmail] = {}
    targets: list[Target] = []
    for lang, recipients in by_language.items():
        emails[lang] = render_digest(views[lang], templates_dir, lang=lang)
        suffix = "" if lang == topic.digest.language else f"-{lang}"
        outcome.rendered.append((f"digest-{topic.name}-{day}{suffix}", emails[lang]))
        targets += [Target(channel="email", address=r, language=lang) for r in recipients]
    return emails, targets


def _news_tone(store: DigestStore, topic: Topic, start: datetime, end: datetime) -> NewsTone | None:
    """GDELT's tone of the period's news, when the topic collects from GDELT."""
    if GdeltSource.name not in topic.sources.enabled():
        return None
    return tone_over(store.get_source_state(GdeltSource.name, tone_key(topic.name)), start, end)


def _digest_inputs(
    topic: Topic, store: DigestStore, start: datetime, end: datetime, watchlist: Watchlist | None
) -> dict[str, Any]:
    """What build_digest reads from the store, for the period [start, end)."""
    first_hour = min(end - timedelta(hours=CHART_HOURS), start - WEEK)
    buckets = store.buckets_between(topic.name, first_hour, end - timedelta(hours=1))
    competitors = []
    for name in topic.competitors:
        title = name
        if watchlist is not None:
            competitor = watchlist.find(name)
            if competitor is None:
                continue
            title = competitor.title
        competitors.append((name, title, store.count_between(name, start, end)))
    mentions = store.mentions_between(topic.name, start, end)
    sources = store.checkpoints(topic.name, topic.sources.enabled())
    return {
        "mentions": mentions,
        # the previous day from its hourly buckets (24 items, not a day of mentions); the same
        # counting as the 7-day average next to it
        "previous_count": sum(b.count for b in buckets if start - DAY <= utc(b.hour) < start),
        "surges": store.surges_between(topic.name, start, end),
        "sources": sources,
        "buckets": buckets,
        "known_authors": _known_authors(store, topic, start, end, mentions, sources),
        "competitors": competitors,
        "channels": store.channel_health(topic.name),  # how its delivery channels fared
        "news_tone": _news_tone(store, topic, start, end),
    }


def _known_authors(
    store: DigestStore,
    topic: Topic,
    start: datetime,
    end: datetime,
    mentions: list[ScoredMention],
    sources: list[Checkpoint],
) -> Container[str]:
    """Who was heard in the NEW_VOICE_DAYS before the period (new voices). The period's own
    authors are kept for the digests after it (one small item a day, off the hot bucket
    writes), and so are hours read from mentions, unless a backfill may still add to them."""
    settled = not any(c.backfilling(end) for c in sources)
    heard = store.known_authors(
        topic.name, start - timedelta(days=NEW_VOICE_DAYS), start, keep=settled
    )
    if settled:
        store.remember_authors(topic.name, start, end, mentions)
    return heard


def notify(
    topic: Topic,
    item: Surge | SourceNotice,
    *,
    deliver: Deliver,
    templates_dir: Path,
    watchlist_name: str,
    settings_url: str = "",
    outcome: ReportOutcome | None = None,
    health: ChannelHealthLog | None = None,
    now: datetime | None = None,
    responses: Responses | None = None,
) -> ReportOutcome:
    """A surge alert or a "source down" notice, to every target of the topic's alerts: the
    alert recipients by e-mail (each in their language) and the topic's chat/webhook/SMS
    channels whose tier filter lets it through. Once per (item, channel, target).

    With `responses`: an alert links to its storm page and feedback actions, recipients who
    unsubscribed from the topic get nothing, and a muted topic sends no alerts at all (its
    notices still go; the digest reports the topic as always)."""
    outcome = outcome or ReportOutcome()
    at = now or now_utc()
    if not topic.alerts.enabled:
        return outcome
    if responses and isinstance(item, Surge) and responses.muted(topic.name, at):
        return outcome
    event = _event(topic, item, watchlist_name, settings_url, templates_dir)
    recipients = topic.alerts.recipients or topic.digest.recipients
    if responses:
        recipients = responses.subscribed(topic.name, recipients)
    actions = []
    if responses and isinstance(item, Surge):
        actions = response_links(responses.links, topic.name, item.detected_at, now=at)
    emails: dict[str, RenderedEmail] = {}
    for lang in _languages(topic, recipients, alert=True):
        emails[lang] = event.render(_with_actions(event.build(lang), actions), lang)
        suffix = "" if lang == topic.digest.language else f"-{lang}"
        outcome.rendered.append((f"{event.name}{suffix}", emails[lang]))
    view = event.build(topic.digest.language)  # what chat, webhook and SMS say
    notification = Notification(
        kind=event.kind,
        key=event.key,
        topic=topic.name,
        tier=event.tier,
        view=view,
        emails=emails,
        # the storm page and feedback first: Teams shows at most five actions
        links=actions + links_for(view),
    )
    targets = [
        Target(channel="email", address=r, language=topic.language_for(r, alert=True))
        for r in recipients
    ]
    _deliver_all(topic, notification, targets, deliver, outcome, health, now)
    return outcome


def _with_actions(view: AlertView | NoticeView, actions: list[Link]) -> AlertView | NoticeView:
    """The alert e-mail shows the same storm-page and feedback links as chat."""
    if not actions or not isinstance(view, AlertView):
        return view
    return view.model_copy(update={"actions": [(a.purpose, a.url) for a in actions]})


@dataclass(frozen=True)
class _Event:
    """How one kind of alert item becomes a notification."""

    kind: Literal["alert", "notice"]
    key: str  # without channel and target
    name: str  # of the rendered e-mail, without language
    tier: SurgeTier | None
    build: Callable[[str], AlertView | NoticeView]
    render: Callable[[Any, str], RenderedEmail]


def _event(
    topic: Topic,
    item: Surge | SourceNotice,
    watchlist_name: str,
    settings_url: str,
    templates_dir: Path,
) -> _Event:
    options = {"watchlist_name": watchlist_name, "settings_url": settings_url}
    stamp = item.detected_at.strftime("%Y%m%dT%H%M%S")
    if isinstance(item, Surge):
        return _Event(
            kind="alert",
            key=f"alert#{topic.name}#{item.sort_key}#{item.tier}",
            name=f"alert-{topic.name}-{stamp}-{item.tier}",
            tier=item.tier,
            build=lambda lang: build_alert(topic, item, language=lang, **options),
            render=lambda view, lang: render_alert(view, templates_dir, lang=lang),
        )
    return _Event(
        kind="notice",
        key=f"notice#{topic.name}#{item.sort_key}",
        name=f"notice-{topic.name}-{item.source}-{stamp}",
        tier=None,
        build=lambda lang: build_notice(topic, item, language=lang, **options),
        render=lambda view, lang: render_notice(view, templates_dir, lang=lang),
    )


def _channel_targets(topic: Topic, notification: Notification) -> list[Target]:
    """The topic's chat/webhook/SMS targets that want this notification (kind and tier)."""
    return [
        Target(
            channel=settings.kind,
            address=address,
            secret=settings.secret_parameter,
            language=notification.view.language,
        )
        for settings in topic.alerts.channels
        if settings.wants(notification.kind, notification.tier)
        for address in settings.addresses
    ]


def delivery_key(notification: Notification, target: Target) -> str:
    """E-mail keeps the key it always had (key#recipient), so deliveries remembered before
    chat channels existed still count; other channels add their kind."""
    if target.channel == "email":
        return f"{notification.key}#{target.ref}"
    return f"{notification.key}#{target.channel}#{target.ref}"


def _deliver_all(
    topic: Topic,
    notification: Notification,
    email_targets: list[Target],
    deliver: Deliver,
    outcome: ReportOutcome,
    health: ChannelHealthLog | None,
    now: datetime | None,
) -> None:
    """The e-mail targets and the topic's channels that want the notification each get their
    try: a failing one is noted in `outcome.failures` and in the channel's health, and the rest
    go on (the caller fails the invocation afterwards so the failed ones are retried; the
    delivered ones are then repeats)."""
    chat = _channel_targets(topic, notification)
    if chat:
        outcome.notifications.append(notification)
    errors: dict[str, str | None] = {}  # channel -> last error, None: delivered
    for target in email_targets + chat:
        try:
            message_id, repeat = deliver(delivery_key(notification, target), notification, target)
        except Exception as exc:  # one failing channel never blocks another
            error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
            outcome.failures.append(
                FailedDelivery(
                    notification.kind, notification.topic, target.channel, target.ref, error
                )
            )
            if isinstance(exc, ChannelError):
                errors[target.channel] = error
            continue
        subject = notification.email_for(target.language).subject if notification.emails else ""
        outcome.deliveries.append(
            Delivery(
                notification.kind,
                notification.topic,
                target.ref,
                message_id,
                repeat,
                subject,
                target.channel,
            )
        )
        if not repeat:
            errors.setdefault(target.channel, None)
    if health is not None:
        at = now or now_utc()
        for channel, last_error in errors.items():
            health.record_channel_result(notification.topic, channel, at=at, error=last_error)


def _languages(topic: Topic, recipients: list[str], *, alert: bool = False) -> dict[str, list[str]]:
    """The recipients by the language they read, the topic's own language first; with no
    recipients, just the topic's language (the e-mail is still rendered, for the preview)."""
    by_language: dict[str, list[str]] = {}
    for recipient in recipients:
        by_language.setdefault(topic.language_for(recipient, alert=alert), []).append(recipient)
    order = sorted(by_language or [topic.digest.language], key=lambda c: c != topic.digest.language)
    return {lang: by_language.get(lang, []) for lang in order}
