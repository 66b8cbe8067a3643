"""Reporting: which digests are due, build + render + deliver each exactly once; surge alerts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from stormwatch.digest import (
    CHART_HOURS,
    NEW_VOICE_DAYS,
    WEEK,
    build_alert,
    build_digest,
    build_notice,
)
from stormwatch.models import NewsTone, RenderedEmail, SourceNotice, Surge, recipient_hash, utc
from stormwatch.render import render_alert, render_digest, render_notice
from stormwatch.sources.gdelt import GdeltSource, tone_key, tone_over
from stormwatch.watchlist import Topic, Watchlist

DAY = timedelta(hours=24)

# deliver(key, email, recipient) -> (message_id, repeat): sends once per key, however often
# it is called (Powertools idempotency in Lambda, see functions/report)
Deliver = Callable[[str, RenderedEmail, str], tuple[str, bool]]


@dataclass
class Delivery:
    kind: str
    topic: str
    recipient_hash: str
    message_id: str
    repeat: bool
    subject: str


@dataclass
class ReportOutcome:
    deliveries: list[Delivery] = field(default_factory=list)
    rendered: list[tuple[str, RenderedEmail]] = field(default_factory=list)  # (name, email)

    @property
    def sent(self) -> int:
        return sum(1 for d in self.deliveries if not d.repeat)

    @property
    def repeats(self) -> int:
        return sum(1 for d in self.deliveries if d.repeat)


def due_topics(watchlist: Watchlist, scheduled_time: datetime) -> list[Topic]:
    """Topics whose digest hour, in their own time zone, is the hour of `scheduled_time`."""
    due = []
    for topic in watchlist.topics:
        local = utc(scheduled_time).astimezone(ZoneInfo(topic.digest.timezone))
        if local.hour == topic.digest.hour:
            due.append(topic)
    return due


def digest_day(topic: Topic, now: datetime) -> str:
    """The local date a digest is for: the idempotency unit together with topic and recipient."""
    return utc(now).astimezone(ZoneInfo(topic.digest.timezone)).date().isoformat()


def send_digest(
    topic: Topic,
    *,
    store: Any,
    deliver: Deliver,
    templates_dir: Path,
    now: datetime,
    watchlist_name: str,
    settings_url: str = "",
    outcome: ReportOutcome | None = None,
    watchlist: Watchlist | None = None,
) -> ReportOutcome:
    """Build, render (once per recipient language) and deliver one topic's daily digest.

    Reads, all bounded Queries on the topic's partition (and its competitors'): the period's
    mentions, the period's surges, the hourly buckets of the chart, the previous day and the
    7-day average (8 days), the author sets of the 30 days before (new voices), and the
    competitors' bucket counts. `watchlist` gives the competitors' display names."""
    outcome = outcome or ReportOutcome()
    end = utc(now).replace(minute=0, second=0, microsecond=0)
    start = end - DAY
    mentions = store.mentions_between(topic.name, start, end)
    surges = store.surges_between(topic.name, start, end)
    sources = store.checkpoints(topic.name, topic.sources.enabled())
    first_hour = min(end - timedelta(hours=CHART_HOURS), start - WEEK)
    buckets = store.buckets_between(topic.name, first_hour, end - timedelta(hours=1))
    # the previous day from its hourly buckets (24 items, not a day of mentions); the same
    # counting as the 7-day average next to it
    previous = sum(b.count for b in buckets if start - DAY <= utc(b.hour) < start)
    known = store.authors_between(topic.name, start - timedelta(days=NEW_VOICE_DAYS), start)
    competitors = []
    for name in topic.competitors:
        title = name
        if watchlist is not None:
            competitor = watchlist.find(name)
            if competitor is None:
                continue
            title = competitor.title
        competitors.append((name, title, store.count_between(name, start, end)))
    day = digest_day(topic, end)
    news_tone = _news_tone(store, topic, start, end)
    for lang, recipients in _languages(topic, topic.digest.recipients).items():
        view = build_digest(
            topic,
            now=end,
            period_start=start,
            mentions=mentions,
            previous_count=previous,
            surges=surges,
            sources=sources,
            watchlist_name=watchlist_name,
            settings_url=settings_url,
            buckets=buckets,
            known_authors=known,
            competitors=competitors,
            language=lang,
            news_tone=news_tone,
        )
        email = render_digest(view, templates_dir, lang=lang)
        suffix = "" if lang == topic.digest.language else f"-{lang}"
        outcome.rendered.append((f"digest-{topic.name}-{day}{suffix}", email))
        for recipient in recipients:
            _deliver_digest(topic, day, email, recipient, deliver, outcome)
    return outcome


def _news_tone(store: Any, topic: Topic, start: datetime, end: datetime) -> NewsTone | None:
    """GDELT's tone of the period's news, when the topic collects from GDELT."""
    if GdeltSource.name not in topic.sources.enabled():
        return None
    return tone_over(store.get_source_state(GdeltSource.name, tone_key(topic.name)), start, end)


def _deliver_digest(
    topic: Topic,
    day: str,
    email: RenderedEmail,
    recipient: str,
    deliver: Deliver,
    outcome: ReportOutcome,
) -> None:
    """The key is (topic, local day, recipient): the language does not change what is sent
    once, so a retry after a language change still sends nothing twice."""
    key = f"digest#{topic.name}#{day}#{recipient_hash(recipient)}"
    message_id, repeat = deliver(key, email, recipient)
    outcome.deliveries.append(
        Delivery("digest", topic.name, recipient_hash(recipient), message_id, repeat, email.subject)
    )


def send_alert(
    topic: Topic,
    surge: Surge,
    *,
    deliver: Deliver,
    templates_dir: Path,
    watchlist_name: str,
    settings_url: str = "",
    outcome: ReportOutcome | None = None,
) -> ReportOutcome:
    outcome = outcome or ReportOutcome()
    if not topic.alerts.enabled:
        return outcome
    stamp = surge.detected_at.strftime("%Y%m%dT%H%M%S")

    def render(lang: str) -> RenderedEmail:
        view = build_alert(
            topic, surge, watchlist_name=watchlist_name, settings_url=settings_url, language=lang
        )
        return render_alert(view, templates_dir, lang=lang)

    _send_to_alert_recipients(
        topic,
        "alert",
        render,
        name=f"alert-{topic.name}-{stamp}-{surge.tier}",
        key=f"alert#{topic.name}#{surge.sort_key}#{surge.tier}",
        deliver=deliver,
        outcome=outcome,
    )
    return outcome


def send_notice(
    topic: Topic,
    notice: SourceNotice,
    *,
    deliver: Deliver,
    templates_dir: Path,
    watchlist_name: str,
    settings_url: str = "",
    outcome: ReportOutcome | None = None,
) -> ReportOutcome:
    """The "source down" e-mail, to the alert recipients, once per (notice, recipient)."""
    outcome = outcome or ReportOutcome()
    if not topic.alerts.enabled:
        return outcome
    stamp = notice.detected_at.strftime("%Y%m%dT%H%M%S")

    def render(lang: str) -> RenderedEmail:
        view = build_notice(
            topic, notice, watchlist_name=watchlist_name, settings_url=settings_url, language=lang
        )
        return render_notice(view, templates_dir, lang=lang)

    _send_to_alert_recipients(
        topic,
        "notice",
        render,
        name=f"notice-{topic.name}-{notice.source}-{stamp}",
        key=f"notice#{topic.name}#{notice.sort_key}",
        deliver=deliver,
        outcome=outcome,
    )
    return outcome


def _send_to_alert_recipients(
    topic: Topic,
    kind: str,
    render: Callable[[str], RenderedEmail],
    *,
    name: str,
    key: str,
    deliver: Deliver,
    outcome: ReportOutcome,
) -> None:
    """Render the e-mail once per language the alert recipients read (the topic's language
    first, and always, for the preview) and send it once per recipient. `name` is the rendered
    e-mail's name and `key` the delivery key, each without the language/recipient part."""
    recipients = topic.alerts.recipients or topic.digest.recipients
    emails: dict[str, RenderedEmail] = {}
    for lang in _languages(topic, recipients, alert=True):
        emails[lang] = render(lang)
        suffix = "" if lang == topic.digest.language else f"-{lang}"
        outcome.rendered.append((f"{name}{suffix}", emails[lang]))
    for recipient in recipients:
        email = emails[topic.language_for(recipient, alert=True)]
        message_id, repeat = deliver(f"{key}#{recipient_hash(recipient)}", email, recipient)
        outcome.deliveries.append(
            Delivery(kind, topic.name, recipient_hash(recipient), message_id, repeat, email.subject)
        )


def _languages(topic: Topic, recipients: list[str], *, alert: bool = False) -> dict[str, list[str]]:
    """The recipients by the language they read, the topic's own language first; with no
    recipients, just the topic's language (the e-mail is still rendered, for the preview)."""
    by_language: dict[str, list[str]] = {}
    for recipient in recipients:
        by_language.setdefault(topic.language_for(recipient, alert=alert), []).append(recipient)
    order = sorted(by_language or [topic.digest.language], key=lambda c: c != topic.digest.language)
    return {lang: by_language.get(lang, []) for lang in order}
