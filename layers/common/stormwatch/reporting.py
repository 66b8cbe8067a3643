"""Reporting: which digests are due, build + render + deliver each exactly once; surge alerts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from stormwatch.digest import build_alert, build_digest
from stormwatch.models import RenderedEmail, Surge, recipient_hash, utc
from stormwatch.render import render_alert, render_digest
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
) -> ReportOutcome:
    outcome = outcome or ReportOutcome()
    end = utc(now).replace(minute=0, second=0, microsecond=0)
    start = end - DAY
    mentions = store.mentions_between(topic.name, start, end)
    previous = len(store.mentions_between(topic.name, start - DAY, start))
    surges = store.surges_between(topic.name, start, end)
    sources = store.checkpoints(topic.name, topic.sources.enabled())
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
    )
    email = render_digest(view, templates_dir, lang=topic.digest.language)
    outcome.rendered.append((f"digest-{topic.name}-{digest_day(topic, end)}", email))
    for recipient in topic.digest.recipients:
        key = f"digest#{topic.name}#{digest_day(topic, end)}#{recipient_hash(recipient)}"
        message_id, repeat = deliver(key, email, recipient)
        outcome.deliveries.append(
            Delivery(
                "digest", topic.name, recipient_hash(recipient), message_id, repeat, email.subject
            )
        )
    return outcome


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
    view = build_alert(topic, surge, watchlist_name=watchlist_name, settings_url=settings_url)
    email = render_alert(view, templates_dir, lang=topic.digest.language)
    stamp = surge.detected_at.strftime("%Y%m%dT%H%M%S")
    outcome.rendered.append((f"alert-{topic.name}-{stamp}-{surge.tier}", email))
    recipients = topic.alerts.recipients or topic.digest.recipients
    for recipient in recipients:
        key = f"alert#{topic.name}#{surge.sort_key}#{surge.tier}#{recipient_hash(recipient)}"
        message_id, repeat = deliver(key, email, recipient)
        outcome.deliveries.append(
            Delivery(
                "alert", topic.name, recipient_hash(recipient), message_id, repeat, email.subject
            )
        )
    return outcome
