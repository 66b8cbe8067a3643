"""Checkpoint IO per (source, topic) collection run, counted against moto: one read, a write only
when the run changed something a later reader needs, and health that stays true for a working
source and for one that starts failing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from stormwatch.collector import collect_source
from stormwatch.models import SUCCESS_REFRESH, FetchResult, Mention
from stormwatch.scoring import behind, incomplete_from
from stormwatch.store import Store
from stormwatch.timeutil import floor_hour
from stormwatch.watchlist import Topic

from tests.support.ddb_units import Units, counting
from tests.support.fakes import ScriptedSource

START = datetime(2026, 11, 25, 8, 5, tzinfo=UTC)
RUN = timedelta(minutes=15)  # the period of a 15-minute source
DAY = timedelta(days=1)


def acme() -> Topic:
    return Topic.model_validate({"name": "acme", "terms": ["acme"], "sources": {"hackernews": {}}})


def mention(at: datetime) -> Mention:
    return Mention(
        topic="acme",
        source="fake",
        native_id=f"{at:%s}",
        published=at,
        text="acme is down",
        author="someone",
    )


def found(*mentions: Mention, cursor: str = "100") -> FetchResult:
    return FetchResult(mentions=list(mentions), cursor=cursor)


def run(store: Store, source: ScriptedSource, at: datetime, dynamodb) -> dict[str, int]:
    """One live run of `source` for acme at `at`; the DynamoDB calls it made, by operation."""
    return run_units(store, source, at, dynamodb).calls


def run_units(store: Store, source: ScriptedSource, at: datetime, dynamodb) -> Units:
    with counting(dynamodb) as units:
        collect_source(source, [acme()], store, None, now=at, analyze=None)
    return units


def test_a_quiet_run_reads_the_checkpoint_once_and_writes_nothing(dynamodb, table):
    # Given a source that found a mention in its last run
    store = Store(dynamodb, table, clock=lambda: START)
    source = ScriptedSource(results=[found(mention(START)), found()])
    run(store, source, START, dynamodb)
    # When the next run, a period later, finds nothing new and keeps the cursor
    units = run_units(store, source, START + RUN, dynamodb)
    # Then it read the checkpoint once, eventually consistent (half a read unit), and wrote
    # nothing
    assert units.calls == {"GetItem": 1}
    assert (units.rru, units.wru) == (0.5, 0)
    # And the source still reads as working since the digest's period start
    checkpoint = store.get_checkpoint("fake", "acme")
    assert checkpoint.health(since=START + RUN - DAY) == "ok"
    assert behind([checkpoint]) == []


def test_a_run_with_news_writes_its_mentions_and_the_checkpoint_once(dynamodb, table):
    # Given a source with a stored checkpoint
    store = Store(dynamodb, table, clock=lambda: START)
    later = START + RUN
    source = ScriptedSource(results=[found(), found(mention(later), cursor="200")])
    run(store, source, START, dynamodb)
    # When a run finds a new mention
    calls = run(store, source, later, dynamodb)
    # Then it read the checkpoint once, put the mention, and moved the checkpoint once
    assert calls == {"GetItem": 1, "PutItem": 1, "UpdateItem": 1}
    checkpoint = store.get_checkpoint("fake", "acme")
    assert (checkpoint.cursor, checkpoint.last_count, checkpoint.last_run) == ("200", 1, later)


def test_a_quiet_source_is_recorded_once_per_refresh_period(dynamodb, table):
    # Given a source recorded at START that then finds nothing, run after run
    store = Store(dynamodb, table, clock=lambda: START)
    runs = int(SUCCESS_REFRESH / RUN)
    source = ScriptedSource(results=[found() for _ in range(runs + 1)])
    run(store, source, START, dynamodb)
    # When it runs every period for SUCCESS_REFRESH
    writes = [
        run(store, source, START + n * RUN, dynamodb).get("UpdateItem", 0)
        for n in range(1, runs + 1)
    ]
    # Then only the run SUCCESS_REFRESH after the recorded one wrote, and last_run is never
    # further behind the latest run than that
    assert writes == [0] * (runs - 1) + [1]
    checkpoint = store.get_checkpoint("fake", "acme")
    assert checkpoint.last_run == START + runs * RUN
    assert checkpoint.health(since=START + runs * RUN - SUCCESS_REFRESH) == "ok"


def test_a_source_failing_after_quiet_runs_keeps_its_cursor_and_catches_up(dynamodb, table):
    # Given a source recorded at START with cursor "100", quiet (unrecorded) for three runs
    store = Store(dynamodb, table, clock=lambda: START)
    missed = mention(START + 4 * RUN + timedelta(minutes=1))
    results = [found(), found(), found(), found(), OSError("HTTP 503"), found(missed, cursor="300")]
    source = ScriptedSource(results=results)
    for n in range(4):
        run(store, source, START + n * RUN, dynamodb)
    # When the next run fails
    failed_at = START + 4 * RUN
    calls = run(store, source, failed_at, dynamodb)
    # Then it wrote the failure (one read, one write) and kept the cursor
    assert calls == {"GetItem": 1, "UpdateItem": 1}
    checkpoint = store.get_checkpoint("fake", "acme")
    assert checkpoint.cursor == "100" and checkpoint.consecutive_failures == 1
    # And the surge check counts it behind, its hours incomplete from the recorded success's
    # hour: at most one hour before the true last success's, never after it
    assert behind([checkpoint]) == [checkpoint]
    first_incomplete = incomplete_from([checkpoint], failed_at)
    true_last_success = START + 3 * RUN
    assert first_incomplete is not None
    assert floor_hour(true_last_success) - timedelta(hours=1) <= first_incomplete
    assert first_incomplete <= floor_hour(true_last_success)
    # And when the source recovers, the next run starts from the kept cursor, stores what it
    # missed and ends the failure streak
    run(store, source, failed_at + RUN, dynamodb)
    assert source.seen_cursors[-1] == "100"
    recovered = store.get_checkpoint("fake", "acme")
    assert (recovered.cursor, recovered.consecutive_failures) == ("300", 0)
    assert recovered.health(since=failed_at + RUN - DAY) == "ok"


def test_changed_notes_are_recorded_even_without_news(dynamodb, table):
    # Given a source recorded without notes
    store = Store(dynamodb, table, clock=lambda: START)
    quota = FetchResult(mentions=[], cursor="100", skipped=["daily quota budget reached"])
    source = ScriptedSource(results=[found(), quota])
    run(store, source, START, dynamodb)
    # When the next run finds nothing but notes that its quota is spent
    calls = run(store, source, START + RUN, dynamodb)
    # Then the note is written for the digest
    assert calls.get("UpdateItem") == 1
    assert store.get_checkpoint("fake", "acme").last_notes == ["daily quota budget reached"]


class DeepSource(ScriptedSource):
    history: ClassVar[timedelta] = timedelta(days=90)


def test_a_run_with_an_open_backfill_reads_the_checkpoint_once(dynamodb, table):
    # Given a source that can look back, recorded once with a backfill still owed
    store = Store(dynamodb, table, clock=lambda: START)
    gap = [int((START - 10 * DAY).timestamp()), int((START - 5 * DAY).timestamp())]
    owed = json.dumps({"high": int(START.timestamp()), "gap": gap})
    past = found(mention(START - 3 * DAY), cursor=owed)
    source = DeepSource(results=[found(), past, found(), found(cursor="{}")])
    run(store, source, START, dynamodb)
    assert store.get_checkpoint("fake", "acme").backfill.owed is not None
    # When the next run does its live part and a backfill step
    calls = run(store, source, START + RUN, dynamodb)
    # Then the checkpoint was read once for both, the quiet live part wrote nothing, and the
    # step saved its progress
    assert calls == {"GetItem": 1, "UpdateItem": 1}
    assert store.get_checkpoint("fake", "acme").backfill.done
