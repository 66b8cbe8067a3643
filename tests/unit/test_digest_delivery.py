"""Delivering the digest and the alert: one e-mail per recipient in their language, exactly once
per (topic, local day, recipient) and per (surge, tier, recipient), whatever repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stormwatch.models import (
    BackfillProgress,
    Checkpoint,
    HourBucket,
    Mention,
    ScoredMention,
    Sentiment,
    Surge,
    recipient_hash,
)
from stormwatch.reporting import notify, send_digest
from stormwatch.watchlist import Watchlist

from tests.support.fakes import OnceOnly

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 09:00 in Berlin


def watchlist(**acme) -> Watchlist:
    topic = {
        "name": "acme-cloud",
        "display_name": "AcmeCloud",
        "terms": ["acme"],
        "sources": {"hackernews": {}},
        "digest": {
            "timezone": "Europe/Berlin",
            "language": "en",
            "recipients": [
                "comms@example.com",
                {"address": "presse@example.de", "language": "de"},
            ],
        },
        "competitors": ["globex"],
    }
    topic.update(acme)
    globex = {"name": "globex", "display_name": "Globex", "terms": ["globex"], "sources": {}}
    return Watchlist.model_validate({"name": "Brand team", "topics": [topic, globex]})


class MemoryReportStore:
    """What send_digest reads, in memory."""

    def __init__(self):
        mention = Mention(
            topic="acme-cloud",
            source="hackernews",
            native_id="1",
            published=NOW - timedelta(hours=2),
            url="https://news.example.com/1",
            title="Acme is down",
            author="alice",
            engagement=10,
        )
        self.mentions = [
            ScoredMention(mention=mention, sentiment=Sentiment(label="negative", score=-0.8))
        ]
        self.buckets = {
            "acme-cloud": [
                HourBucket(topic="acme-cloud", hour=NOW - timedelta(hours=h), count=2, negative=1)
                for h in range(1, 24 * 9)
            ],
            "globex": [HourBucket(topic="globex", hour=NOW - timedelta(hours=3), count=6)],
        }
        self.reads: list[str] = []

    def mentions_between(self, topic, start, end):
        self.reads.append("mentions")
        return [m for m in self.mentions if start <= m.mention.published < end]

    def surges_between(self, topic, start, end):
        return []

    def checkpoints(self, topic, sources):
        return [Checkpoint(source=s, topic=topic, last_run=NOW, last_success=NOW) for s in sources]

    def buckets_between(self, topic, start, end):
        return [b for b in self.buckets.get(topic, []) if start <= b.hour <= end]

    def known_authors(self, *a, **kw):
        return set()

    def remember_authors(self, *a):
        return False

    def count_between(self, topic, start, end):
        return sum(b.count for b in self.buckets.get(topic, []) if start <= b.hour < end)

    def channel_health(self, topic):
        return []


def digest_run(wl: Watchlist, deliver, store=None, now=NOW):
    return send_digest(
        wl.topic("acme-cloud"),
        store=store or MemoryReportStore(),
        deliver=deliver,
        templates_dir=TEMPLATES,
        now=now,
        watchlist_name=wl.name,
        watchlist=wl,
    )


def test_each_recipient_gets_the_digest_in_their_own_language():
    # Given an English topic with one recipient who reads German
    deliver = OnceOnly()

    # When the digest goes out
    outcome = digest_run(watchlist(), deliver)

    # Then each gets one e-mail, in their language, with the competitor's share of voice
    by_recipient = {recipient: email for email, recipient in deliver.sent.values()}
    assert set(by_recipient) == {"comms@example.com", "presse@example.de"}
    assert "Erwähnung" in by_recipient["presse@example.de"].subject
    assert "mention" in by_recipient["comms@example.com"].subject
    assert "Share of voice" in by_recipient["comms@example.com"].text
    assert "Globex" in by_recipient["presse@example.de"].text
    # and out/ keeps both renderings, the German one marked
    assert [name for name, _ in outcome.rendered] == [
        "digest-acme-cloud-2026-11-25",
        "digest-acme-cloud-2026-11-25-de",
    ]


class StoreWithGdeltTone(MemoryReportStore):
    """The store after GDELT runs kept the topic's tone points (time, tone, articles)."""

    def __init__(self, points):
        super().__init__()
        self.points = points

    def get_source_state(self, source, key):
        assert (source, key) == ("gdelt", "tone#acme-cloud")
        return {"points": self.points}


def test_the_digest_shows_gdelt_news_tone_beside_our_sentiment_in_each_language():
    """Given a topic that collects from GDELT, with tone points inside and outside the period
    When the digest goes out
    Then each language shows one line with the article-weighted tone of the period and the
    number of articles behind it (the point before the period is left out)."""
    at = int(NOW.timestamp())
    points = [[at - 3600, -3.0, 3], [at - 7200, 1.0, 1], [at - 30 * 3600, 9.0, 50]]
    deliver = OnceOnly()
    wl = watchlist(sources={"hackernews": {}, "gdelt": {}})
    digest_run(wl, deliver, store=StoreWithGdeltTone(points))
    by_recipient = {recipient: email for email, recipient in deliver.sent.values()}
    english, german = by_recipient["comms@example.com"], by_recipient["presse@example.de"]
    assert "GDELT news tone: -2.0 (4 articles;" in english.text
    assert "GDELT news tone: -2.0 (4 articles;" in english.html
    assert "GDELT-Nachrichtenton: -2,0 (4 Artikel;" in german.text
    # GDELT's terms: any use cites the GDELT Project with a link
    assert "The GDELT Project, https://www.gdeltproject.org/" in english.text
    assert 'href="https://www.gdeltproject.org/"' in english.html


def test_without_gdelt_or_without_tone_points_there_is_no_tone_line():
    """Given a topic without GDELT, and one with GDELT but nothing kept yet
    When their digests go out
    Then neither shows a GDELT tone line (no invented number)."""
    plain, empty = OnceOnly(), OnceOnly()
    digest_run(watchlist(), plain)
    digest_run(watchlist(sources={"gdelt": {}}), empty, store=StoreWithGdeltTone([]))
    for deliver in (plain, empty):
        assert all("GDELT" not in email.text for email, _ in deliver.sent.values())


def test_retries_overlaps_and_a_replayed_schedule_send_each_digest_once_per_day():
    # Given the same digest asked for three times the same morning (a retry, an overlapping
    # invocation, a replayed schedule an hour later)
    deliver = OnceOnly()
    runs = [digest_run(watchlist(), deliver, now=NOW + timedelta(minutes=m)) for m in (0, 3, 59)]

    # Then each recipient got one e-mail; the repeats are recognised as such
    assert len(deliver.sent) == 2
    assert [o.sent for o in runs] == [2, 0, 0]
    assert [o.repeats for o in runs] == [0, 2, 2]
    # and the key is (topic, local day, recipient): the language plays no part in it
    assert set(deliver.sent) == {
        f"digest#acme-cloud#2026-11-25#{recipient_hash('comms@example.com')}",
        f"digest#acme-cloud#2026-11-25#{recipient_hash('presse@example.de')}",
    }

    # And the next day is a new digest
    digest_run(watchlist(), deliver, now=NOW + timedelta(days=1))
    assert len(deliver.sent) == 4


def test_the_previous_day_is_counted_from_its_hourly_buckets():
    # Given two mentions an hour in the buckets of the day before, and no stored mentions then
    deliver = OnceOnly()
    digest_run(watchlist(), deliver)

    email = next(e for e, r in deliver.sent.values() if r == "comms@example.com")

    assert "vs. previous day: 48" in email.text  # 24 hours x 2, not a day of mention reads
    assert "per day" in email.text


def surge(tier: str, minutes: int = 0, **kw) -> Surge:
    return Surge(
        topic="acme-cloud",
        detected_at=NOW + timedelta(minutes=minutes),
        tier=tier,
        observed=40,
        expected=5,
        score=8,
        threshold=5,
        negative_share=0.8,
        usual_negative_share=0.2,
        **kw,
    )


def alert_run(wl, event, deliver):
    return notify(
        wl.topic("acme-cloud"),
        event,
        deliver=deliver,
        templates_dir=TEMPLATES,
        watchlist_name=wl.name,
    )


def test_alerts_go_once_per_episode_and_again_on_escalation_in_each_language():
    wl = watchlist(alerts={"recipients": ["oncall@example.com"]})
    deliver = OnceOnly()
    first = surge("warning")

    # When the stream delivers the surge twice (a retried batch) and then an escalation
    alert_run(wl, first, deliver)
    alert_run(wl, first, deliver)
    escalation = surge(
        "firestorm", 30, escalation=True, episode_start=first.detected_at,
        evidence={"previous_tier": "warning"},
    )  # fmt: skip
    alert_run(wl, escalation, deliver)

    # Then the on-call address got two alerts: the warning and the escalation
    subjects = [email.subject for email, _ in deliver.sent.values()]
    assert len(subjects) == 2
    assert "surge (warning)" in subjects[0]
    assert "surge escalated to firestorm" in subjects[1]


@pytest.mark.parametrize(
    ("recipients", "expected"),
    [
        ([{"address": "redaktion@example.de", "language": "de"}], "Frühwarnung"),
        (["oncall@example.com"], "Surge alert"),
    ],
)
def test_an_alert_is_written_in_the_recipients_language(recipients, expected):
    wl = watchlist(alerts={"recipients": recipients})
    deliver = OnceOnly()

    alert_run(wl, surge("warning"), deliver)

    ((email, _),) = deliver.sent.values()
    assert expected in email.text


class VoiceRecordingStore(MemoryReportStore):
    """The store, noting what the digest asks of its "new voices" summaries."""

    def __init__(self, backfill: BackfillProgress | None):
        super().__init__()
        self.backfill = backfill
        self.kept: list[str] = []

    def checkpoints(self, topic, sources):
        return [
            c.model_copy(update={"backfill": self.backfill})
            for c in super().checkpoints(topic, sources)
        ]

    def known_authors(self, topic, start, end, *, keep=True):
        self.kept.append(f"known keep={keep}")
        return set()

    def remember_authors(self, topic, start, end, mentions):
        self.kept.append("remember")
        return True


@pytest.mark.parametrize(
    ("owed", "kept"),
    [
        ((1, 2), ["known keep=False"]),  # still reading the past: nothing is summarised
        (None, ["known keep=True", "remember"]),  # done and scored: the day is kept
    ],
)
def test_a_digest_keeps_no_summary_of_who_was_heard_while_a_backfill_may_add_to_it(owed, kept):
    # Given a source whose backfill of the last month is running, or finished and scored
    backfill = BackfillProgress(
        since=NOW - timedelta(days=30), until=NOW - timedelta(days=1), owed=owed, done_at=None
    )
    store = VoiceRecordingStore(backfill)
    # When the digest goes out
    digest_run(watchlist(), OnceOnly(), store=store)
    # Then who was heard is summarised for later digests only once the backfill is over
    assert store.kept == kept
