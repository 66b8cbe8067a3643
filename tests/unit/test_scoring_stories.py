"""The scorer counts stories next to mentions, holds "one story, many copies" at watch, marks
the hours a failing source missed as incomplete, and the collector raises one notice per
outage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stormwatch.collector import collect_topic
from stormwatch.digest import build_notice
from stormwatch.http import AccessRefused
from stormwatch.models import (
    SOURCE_DOWN_AFTER_FAILURES,
    Checkpoint,
    FetchResult,
    HourBucket,
    Mention,
    ScoredMention,
    Sentiment,
)
from stormwatch.render import render_notice
from stormwatch.scoring import MAX_INCOMPLETE_HOURS, check_topic, incomplete_from, write_scores
from stormwatch.store import ScoreWriteResult
from stormwatch.watchlist import Topic

from tests.support.channels import TEMPLATES
from tests.support.fakes import MemoryStore, ScriptedSource, in_stream_order

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
HOUR = NOW.replace(minute=0)
# each its own words: 40 different comments
VOICES = [
    f"{who} {what}"
    for who in (
        "Our CI",
        "My shop",
        "The whole team",
        "Prod",
        "Billing",
        "Login",
        "Every VM",
        "DNS",
    )
    for what in (
        "is down again",
        "has been dead since six",
        "times out",
        "cannot reach us-east",
        "lost all sessions",
    )
]


def topic() -> Topic:
    return Topic.model_validate(
        {
            "name": "acme-cloud",
            "terms": ["acme"],
            "sources": {"hackernews": {}, "rss": {"feeds": ["https://ex.com/f"]}},
        }
    )


class SurgeStore:
    """What check_topic reads: a quiet 21-day history, then a burst in the current hour."""

    def __init__(self, burst: list[ScoredMention], failing: list[Checkpoint] = ()):
        self.buckets: list[HourBucket] = []
        self.story_sets: dict[datetime, set[str]] = {}
        for h in range(1, 21 * 24):
            hour = HOUR - timedelta(hours=h)
            count = 1 + (h % 3 == 0)
            self.buckets.append(
                HourBucket(
                    topic="acme-cloud", hour=hour, count=count, negative=h % 7 == 0, authors=count
                )
            )
        self.burst = burst
        self.failing = list(failing)
        self.asked_hours: list[datetime] = []

    def write(self, keys: dict[str, str]) -> None:
        negatives = sum(1 for m in self.burst if m.sentiment.label == "negative")
        authors = len({m.mention.author for m in self.burst})
        self.buckets.append(
            HourBucket(
                topic="acme-cloud",
                hour=HOUR,
                count=len(self.burst),
                negative=negatives,
                authors=authors,
                engagement=len(self.burst) * 50,
                stories=len(set(keys.values())),
            )
        )
        self.story_sets[HOUR] = set(keys.values())

    def buckets_between(self, topic, start, end):
        return [b for b in self.buckets if start <= b.hour <= end]

    def detector_history(self, topic, start, end, state=None):
        return self.buckets_between(topic, start, end)

    def update_detector_state(self, topic, buckets, keep_from):
        return None  # detector_history reads the buckets themselves

    def stories_between(self, topic, start, end):
        out: set[str] = set()
        for hour, keys in self.story_sets.items():
            if start <= hour <= end:
                out |= keys
        return out

    def checkpoints(self, topic, sources):
        return self.failing

    def latest_surge(self, topic, since):
        return None

    def mentions_between(self, topic, start, end):
        return [m for m in self.burst if start <= m.mention.published < end]

    def apply_scores(self, topic, hour, items):
        self.write({i.mention.sort_key: i.scored.story for i in items})

        return ScoreWriteResult(written=[i.mention.sort_key for i in items])


def burst(titles: list[str], *, channel: str = "") -> list[ScoredMention]:
    return [
        ScoredMention(
            mention=Mention(
                topic="acme-cloud",
                source="rss",
                native_id=str(n),
                published=HOUR + timedelta(minutes=n % 29),
                title=title,
                text="" if not channel else VOICES[n % len(VOICES)] + f" (ticket {n * 7919})",
                author=f"outlet{n}",
                channel=channel,
                url=f"https://news{n}.example/a",
                engagement=50,
            ),
            sentiment=Sentiment(label="negative", score=-0.8, terms=("outage",)),
        )
        for n, title in enumerate(titles)
    ]


def run(items: list[ScoredMention], failing=()) -> tuple:
    store = SurgeStore(items, failing)
    write_scores(store, in_stream_order(items))
    return check_topic(store, topic(), now=NOW), store


def test_forty_copies_of_one_press_release_are_one_story_and_held_at_watch():
    # Given forty outlets carrying the same negative press release in the current hour
    copies = burst([f"AcmeCloud outage hits thousands - Outlet {n}" for n in range(40)])
    # When the scorer writes the batch and checks the topic
    surge, _ = run(copies)
    # Then the surge is visible, but as one story: watch, with the reason and the tier it held
    assert surge is not None
    assert surge.evidence.held_by_stories in ("warning", "firestorm")
    assert surge.evidence.stories == 1
    assert surge.tier == "watch"
    assert any("one story, many copies" in r for r in surge.evidence.reasons)


def test_forty_different_voices_are_forty_stories_and_keep_their_tier():
    # Given forty people writing their own comments in the same hour
    voices = burst(["AcmeCloud outage hits thousands"] * 40, channel="comment")
    # When checked
    surge, _ = run(voices)
    # Then every comment is its own story and the tier is not held back
    assert surge is not None
    assert surge.evidence.stories == 40
    assert surge.evidence.held_by_stories is None
    assert surge.tier != "watch"


def test_hours_since_a_failing_sources_last_success_are_incomplete():
    # Given rss failing since 05:10 and hackernews fine
    failing = Checkpoint(
        source="rss",
        topic="acme-cloud",
        last_run=NOW,
        last_success=NOW - timedelta(hours=4, minutes=20),
        consecutive_failures=4,
    )
    # Then the hours from 05:00 on are incomplete, not only the current one
    assert incomplete_from([failing], NOW) == HOUR - timedelta(hours=4)
    # And a source that never succeeded leaves the current hour incomplete; a long outage at most
    never = failing.model_copy(update={"last_success": None})
    assert incomplete_from([never], NOW) == HOUR
    old = failing.model_copy(update={"last_success": NOW - timedelta(days=10)})
    assert incomplete_from([old], NOW) == HOUR - timedelta(hours=MAX_INCOMPLETE_HOURS)
    assert incomplete_from([], NOW) is None
    # And a surge checked meanwhile is incomplete and says since when the source failed
    surge, _ = run(burst(["AcmeCloud outage hits thousands"] * 40, channel="comment"), [failing])
    assert surge is not None and not surge.complete
    assert surge.evidence.failing_since == {"rss": NOW - timedelta(hours=4, minutes=20)}


def test_the_nth_failure_in_a_row_writes_one_notice_per_outage():
    # Given a source that fails five runs, recovers, and fails three more
    store = MemoryStore()
    results = [OSError("HTTP 503")] * 5 + [FetchResult(cursor="1")] + [OSError("HTTP 502")] * 3
    source = ScriptedSource(results=results)
    subject = Topic.model_validate(
        {"name": "apple", "terms": ["apple"], "sources": {"hackernews": {}}}
    )
    times = [NOW + timedelta(minutes=15 * i) for i in range(len(results))]
    # When it is collected each time
    for at in times:
        collect_topic(source, subject, store, http=None, now=at)
    # Then a notice was written at the 3rd failure of each outage, and not at the 4th or 5th
    notices = sorted(store.notices.values(), key=lambda n: n.detected_at)
    assert [n.detected_at for n in notices] == [times[2], times[8]]
    assert all(n.failures == SOURCE_DOWN_AFTER_FAILURES for n in notices)
    assert notices[0].since is None and notices[1].since == times[5]
    assert notices[1].last_error == "OSError: HTTP 502"


def test_a_topic_added_today_has_no_baseline_yet_so_its_first_burst_does_not_alert():
    # Given a topic just added to the watchlist: no buckets before this hour
    voices = burst(["AcmeCloud outage hits thousands"] * 40, channel="comment")
    store = SurgeStore(voices)
    store.buckets.clear()
    write_scores(store, in_stream_order(voices))
    # When its first mentions are checked
    surge = check_topic(store, topic(), now=NOW)
    # Then no alert: the hours before the topic was watched are unknown, not 28 quiet days
    assert surge is None


def test_a_refused_source_is_not_available_rather_than_leaving_hours_incomplete():
    # Given a source the platform refuses for days (as Reddit refuses an unapproved app)
    refused = Checkpoint(
        source="rss",
        topic="acme-cloud",
        last_run=NOW,
        last_success=None,
        consecutive_failures=40,
        last_error_kind="refused",
    )
    assert refused.health() == "refused"
    # Then no hour is incomplete because of it: it is not available, not behind
    assert incomplete_from([refused], NOW) is None
    # And a surge checked meanwhile is complete and does not name it as failing
    surge, _ = run(burst(["AcmeCloud outage hits thousands"] * 40, channel="comment"), [refused])
    assert surge is not None and surge.complete
    assert surge.evidence.failing_sources == []


def test_a_refused_source_sends_a_needs_approval_notice_not_a_down_one():
    # Given a source the platform refuses, three runs in a row
    store = MemoryStore()
    refusal = AccessRefused("Reddit refused keyless access (HTTP 403)", status=403)
    source = ScriptedSource(results=[refusal] * SOURCE_DOWN_AFTER_FAILURES)
    subject = Topic.model_validate(
        {"name": "apple", "terms": ["apple"], "sources": {"hackernews": {}}}
    )
    # When it is collected each time
    for i in range(SOURCE_DOWN_AFTER_FAILURES):
        collect_topic(source, subject, store, http=None, now=NOW + timedelta(minutes=15 * i))
    # Then the one notice says "needs approval / refused", and nowhere "down"
    (notice,) = store.notices.values()
    assert notice.health == "refused"
    view = build_notice(subject, notice, watchlist_name="w")
    email = render_notice(view, TEMPLATES)
    assert "needs approval / refused" in email.subject
    assert "needs approval / refused" in email.text
    assert "down" not in email.subject.lower() and "down" not in email.text.lower()
