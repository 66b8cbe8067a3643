"""Backfill: a new topic's past read in steps after live collection, progress on the checkpoint,
and a baseline that counts backfilled hours only where every source that can look back has
read them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from pydantic import ValidationError
from stormwatch import backfill
from stormwatch.collector import collect_source
from stormwatch.events import CollectEvent
from stormwatch.models import BackfillProgress, Checkpoint, FetchResult, HourBucket, Mention
from stormwatch.scoring import HISTORY, check_topic, hourly_points
from stormwatch.watchlist import Topic

from tests.support.fakes import MemoryStore, ScriptedSource

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class DeepSource(ScriptedSource):
    """A scripted source that can search 90 days back."""

    history: ClassVar[timedelta] = timedelta(days=90)


def topic(name: str = "acme") -> Topic:
    return Topic.model_validate(
        {"name": name, "terms": ["acme"], "sources": {"hackernews": {}}, "digest": {}}
    )


def mention(at: datetime, n: int = 0) -> Mention:
    return Mention(
        topic="acme", source="fake", native_id=f"{at:%s}-{n}", published=at, title="acme"
    )


def gap_cursor(lo: datetime, hi: datetime) -> str:
    return json.dumps(
        {"high": int(NOW.timestamp()), "gap": [int(lo.timestamp()), int(hi.timestamp())]}
    )


def test_a_source_reads_at_most_its_own_history_and_the_baseline_window():
    # Given sources with 90 days, 3 days and no history
    # When 60 days are asked for
    deep = backfill.plan(timedelta(days=90), days=60, now=NOW)
    shallow = backfill.plan(timedelta(days=3), days=60, now=NOW)
    # Then each reads what it can, never more than the detector's baseline window
    assert deep is not None and deep.since == NOW - timedelta(days=backfill.MAX_DAYS)
    assert shallow is not None and shallow.since == NOW - 3 * DAY
    assert backfill.plan(timedelta(0), days=28, now=NOW) is None
    assert timedelta(days=backfill.MAX_DAYS) == HISTORY


def test_a_new_topic_is_backfilled_after_its_live_run_and_done_when_nothing_is_owed():
    # Given a source that can look back and a topic it has never run for
    store = MemoryStore()
    live = FetchResult(mentions=[mention(NOW - timedelta(minutes=5))], cursor="live")
    past = FetchResult(mentions=[mention(NOW - 5 * DAY, n) for n in range(3)], cursor="{}")
    source = DeepSource(name="deep", results=[live, past])
    # When it collects
    reports = collect_source(source, [topic()], store, None, now=NOW)
    # Then the live run came first with the live cursor, then one backfill step asking for
    # the owed 28 days as the source's gap
    assert source.seen_cursors[0] is None
    step = json.loads(source.seen_cursors[1])
    assert step["gap"] == [int((NOW - 28 * DAY).timestamp()), int(NOW.timestamp())]
    assert [r.backfill for r in reports] == [False, True]
    assert reports[1].new == 3 and reports[1].backfill_done
    # And the live cursor is untouched by the backfill; its progress says done
    checkpoint = store.get_checkpoint("deep", "acme")
    assert checkpoint.cursor == "live"
    assert checkpoint.backfill is not None and checkpoint.backfill.done
    # once the scorer has counted the 3 backfilled mentions, the month is covered
    assert checkpoint.covered_from(NOW) == NOW
    store.count_backfill_scored("deep", "acme", 3)
    assert store.get_checkpoint("deep", "acme").covered_from(NOW) == NOW - 28 * DAY


def test_a_backfill_that_does_not_fit_continues_in_the_next_invocation():
    # Given a backfill step that read only the newest part of the owed range
    store = MemoryStore()
    owed_top = NOW - 20 * DAY
    first = FetchResult(cursor=gap_cursor(NOW - 28 * DAY, owed_top), truncated=True)
    source = DeepSource(
        name="deep",
        results=[FetchResult(cursor="a"), first, FetchResult(cursor="b"), FetchResult()],
    )
    collect_source(source, [topic()], store, None, now=NOW)
    progress = store.get_checkpoint("deep", "acme").backfill
    assert progress is not None and not progress.done
    # Then the covered part reaches back to the top of what is still owed
    assert progress.covered_from == owed_top
    # When the next invocation runs
    later = NOW + timedelta(hours=1)
    collect_source(source, [topic()], store, None, now=later)
    # Then it asks for exactly the rest, and finishes
    assert json.loads(source.seen_cursors[3])["gap"] == [
        int((NOW - 28 * DAY).timestamp()),
        int(owed_top.timestamp()),
    ]
    assert store.get_checkpoint("deep", "acme").backfill.done


def test_live_collection_is_never_starved_by_a_backfill():
    # Given an invocation whose time budget is spent by the live runs
    store = MemoryStore()
    clock = iter([0.0, 100.0])  # before the live run; before the backfill
    source = DeepSource(name="deep", results=[FetchResult(cursor="live")])
    # When it collects with a deadline at 50
    reports = collect_source(
        source, [topic()], store, None, now=NOW, deadline=50.0, monotonic=lambda: next(clock)
    )
    # Then the live run happened, no backfill step did, and the backfill stays owed
    assert [r.backfill for r in reports] == [False]
    progress = store.get_checkpoint("deep", "acme").backfill
    assert progress is not None and progress.owed is not None and progress.steps == 0


def test_a_failed_backfill_step_loses_nothing_and_leaves_the_live_health_alone():
    # Given a backfill step that fails
    store = MemoryStore()
    source = DeepSource(name="deep", results=[FetchResult(cursor="live"), OSError("timeout")])
    reports = collect_source(source, [topic()], store, None, now=NOW)
    # Then the step reports the error, the progress is unchanged, the source stays healthy
    assert reports[1].error and "backfill" in reports[1].error
    checkpoint = store.get_checkpoint("deep", "acme")
    assert checkpoint.consecutive_failures == 0 and checkpoint.health() == "ok"
    assert checkpoint.backfill.owed == (int((NOW - 28 * DAY).timestamp()), int(NOW.timestamp()))


def test_a_source_without_history_gets_no_backfill():
    # Given a source that cannot look back (ScriptedSource: history 0), on a new topic
    store = MemoryStore()
    source = ScriptedSource(name="feed", results=[FetchResult(cursor="live")])
    reports = collect_source(source, [topic()], store, None, now=NOW)
    # Then only the live run happens
    assert len(reports) == 1 and store.get_checkpoint("feed", "acme").backfill is None


@pytest.mark.parametrize("days", [0, -1, backfill.MAX_DAYS + 1])
def test_a_collect_event_asking_for_an_impossible_backfill_is_refused(days):
    with pytest.raises(ValidationError, match="backfill_days"):
        CollectEvent.model_validate({"source": "hackernews", "backfill_days": days})
    ok = CollectEvent.model_validate({"source": "hackernews", "topic": "T", "backfill_days": 28})
    assert ok.backfill_days == 28


def done_backfill(source: str, since: datetime) -> Checkpoint:
    return Checkpoint(
        source=source,
        topic="acme",
        last_run=NOW,
        first_success=NOW,
        backfill=BackfillProgress(since=since, until=NOW, owed=None, done_at=NOW),
    )


def test_the_baseline_is_complete_from_where_every_source_that_can_look_back_has_read():
    # Given two deep sources backfilled 28 and 21 days, and an RSS feed with no history
    checkpoints = [
        done_backfill("hackernews", NOW - 28 * DAY),
        done_backfill("gdelt", NOW - 21 * DAY),
        Checkpoint(source="rss", topic="acme", last_run=NOW, first_success=NOW),
    ]
    history = {"hackernews": timedelta(days=3650), "gdelt": timedelta(days=89)}
    coverage = backfill.baseline_coverage(checkpoints, history, NOW)
    # Then the baseline is complete from the shorter backfill on, and says where it came from
    assert coverage.complete_from == NOW - 21 * DAY
    assert coverage.backfilled_days(NOW) == 21
    assert (coverage.backfilled, coverage.no_history) == (("gdelt", "hackernews"), ("rss",))


def test_a_backfill_in_progress_holds_the_baseline_back_to_what_it_has_read():
    # Given a deep source whose backfill still owes everything before 10 days ago
    progress = BackfillProgress(
        since=NOW - 28 * DAY,
        until=NOW,
        owed=(int((NOW - 28 * DAY).timestamp()), int((NOW - 10 * DAY).timestamp())),
    )
    running = Checkpoint(
        source="hackernews", topic="acme", last_run=NOW, first_success=NOW, backfill=progress
    )
    coverage = backfill.baseline_coverage([running], {"hackernews": timedelta(days=3650)}, NOW)
    # Then only the last 10 days are baseline
    assert coverage.complete_from == NOW - 10 * DAY


def test_a_topic_without_backfill_has_no_history_before_its_first_run_not_zeros():
    # Given a topic collected only by a feed, first run three days ago
    feed = Checkpoint(source="rss", topic="acme", last_run=NOW, first_success=NOW - 3 * DAY)
    coverage = backfill.baseline_coverage([feed], {}, NOW)
    points = hourly_points([], NOW - HISTORY, NOW, complete_from=coverage.complete_from)
    # Then the hours before that run are incomplete (left out of the baseline), later ones not
    complete = {p.time: p.complete for p in points}
    assert not complete[NOW - 4 * DAY] and complete[NOW - 3 * DAY] and complete[NOW]
    assert coverage.backfilled_days(NOW) == 0 and not coverage.backfilled


class SurgeStore:
    """The slice of the store check_topic reads."""

    def __init__(self, buckets: list[HourBucket], checkpoints: list[Checkpoint]):
        self.buckets, self.rows = buckets, checkpoints

    def buckets_between(self, topic, start, end):
        return [b for b in self.buckets if start <= b.hour <= end]

    def detector_history(self, topic, start, end, state=None):
        return self.buckets_between(topic, start, end)

    def update_detector_state(self, topic, buckets, keep_from):
        return None  # detector_history reads the buckets themselves

    def checkpoints(self, topic, sources):
        return self.rows

    def latest_surge(self, topic, since):
        return None

    def mentions_between(self, topic, start, end):
        return []

    def stories_between(self, topic, start, end):
        return set()


def test_backfilled_mentions_never_raise_an_alert_about_the_past():
    # Given a backfilled month, quiet but for a storm three days ago, and a quiet hour now
    buckets = [
        HourBucket(topic="acme", hour=NOW - timedelta(hours=h), count=1, negative=0, neutral=1)
        for h in range(1, 28 * 24)
    ]
    storm = NOW - 3 * DAY
    buckets += [
        HourBucket(topic="acme", hour=storm + timedelta(hours=h), count=60, negative=50)
        for h in range(3)
    ]
    subject = Topic.model_validate(
        {"name": "acme", "terms": ["acme"], "sources": {"hackernews": {}}, "digest": {}}
    )
    store = SurgeStore(buckets, [done_backfill("hackernews", NOW - 28 * DAY)])
    # When the scorer checks the topic at its own clock
    # Then there is no alert: the past storm is baseline, not news
    assert check_topic(store, subject, now=NOW) is None
    # But the same storm happening now is reported, with where its baseline came from
    storm_now = [
        HourBucket(topic="acme", hour=NOW - timedelta(hours=h), count=60, negative=50)
        for h in range(2)
    ]
    store.buckets = [b for b in buckets if b.hour < NOW - timedelta(hours=1)] + storm_now
    surge = check_topic(store, subject, now=NOW + timedelta(minutes=50))
    assert surge is not None
    assert surge.evidence.baseline_coverage.backfilled == ["hackernews"]
    assert surge.evidence.baseline_coverage.backfilled_days == 28


def test_a_backfill_counts_for_the_baseline_only_once_the_scorer_has_counted_it():
    """The stream may deliver a backfill's mentions after the live ones: until they are scored
    the backfilled hours look empty, and a live burst would be compared with zeros."""
    # Given a finished backfill that stored 40 mentions, 39 of them scored so far
    progress = BackfillProgress(
        since=NOW - 28 * DAY, until=NOW, owed=None, done_at=NOW, expected_scored=40
    )
    checkpoint = Checkpoint(
        source="hackernews",
        topic="acme",
        last_run=NOW,
        first_success=NOW,
        backfill=progress,
        backfill_scored=39,
    )
    history = {"hackernews": timedelta(days=3650)}
    # Then the baseline does not reach into the backfilled month yet
    assert backfill.baseline_coverage([checkpoint], history, NOW).complete_from == NOW
    # But it does once the last one is counted, or an hour after the backfill finished
    counted = checkpoint.model_copy(update={"backfill_scored": 40})
    assert backfill.baseline_coverage([counted], history, NOW).complete_from == NOW - 28 * DAY
    later = NOW + timedelta(hours=1)
    assert backfill.baseline_coverage([checkpoint], history, later).complete_from == NOW - 28 * DAY


def test_a_source_that_can_look_back_but_has_not_run_yet_holds_the_baseline():
    # Given a new topic whose feed has run and whose Hacker News collector has not
    feed = Checkpoint(source="rss", topic="acme", last_run=NOW, first_success=NOW)
    never = Checkpoint(source="hackernews", topic="acme")
    coverage = backfill.baseline_coverage([feed, never], {"hackernews": timedelta(days=3650)}, NOW)
    # Then there is no baseline yet: its past would look like zeros
    assert coverage.complete_from == NOW


def test_the_backfill_command_refuses_an_unknown_topic_or_impossible_days(capsys):
    """Given `stormwatch backfill` with a topic the watchlist does not have, or 29 days
    Then it stops before touching any endpoint, saying why."""
    from stormwatch.cli import main

    assert main(["backfill", "--topic", "no-such-topic", "--days", "7"]) == 2
    assert "no topic 'no-such-topic'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["backfill", "--topic", "acme-cloud", "--days", str(backfill.MAX_DAYS + 1)])
    assert exit_info.value.code == 2
    assert "whole days from 1 to 28" in capsys.readouterr().err


def test_a_source_that_collected_before_this_rule_keeps_its_history_as_baseline():
    """A regression test: the first deploy must not blind the detector for existing topics.
    Given a checkpoint written before coverage was kept (it has run and succeeded, but has no
    first_success)
    When it collects again
    Then its coverage stays unknown (left out), not "from now on"."""
    store = MemoryStore()
    store.checkpoint_rows[("deep", "acme")] = Checkpoint(
        source="deep", topic="acme", last_run=NOW - DAY, last_success=NOW - DAY, cursor="old"
    )
    source = DeepSource(name="deep", results=[FetchResult(cursor="new")])
    reports = collect_source(source, [topic()], store, None, now=NOW)
    checkpoint = store.get_checkpoint("deep", "acme")
    assert [r.backfill for r in reports] == [False] and checkpoint.backfill is None
    assert checkpoint.first_success is None
    coverage = backfill.baseline_coverage([checkpoint], {"deep": timedelta(days=90)}, NOW)
    assert coverage.complete_from is None


def test_the_baseline_note_names_every_backfilled_source_not_only_the_first_five():
    # Given a baseline backfilled from six sources (as the demo's acme-cloud now is)
    from stormwatch.backfill import BaselineCoverage
    from stormwatch.digest import BaselineNote

    six = ("bluesky", "gdelt", "github", "hackernews", "mastodon", "stackexchange")
    coverage = BaselineCoverage(complete_from=NOW - 28 * DAY, backfilled=six, no_history=("rss",))
    # When the digest's and the alert's notes are built
    notes = [BaselineNote.of(coverage, NOW), BaselineNote.from_evidence(coverage.evidence(NOW))]
    # Then both name all six
    assert all(note is not None and note.backfilled == list(six) for note in notes)
