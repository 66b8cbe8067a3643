"""The collection run: local re-check, conditional writes, checkpoints that never lose items."""

from __future__ import annotations

from datetime import UTC, datetime

from stormwatch.collector import collect_source, collect_topic
from stormwatch.http import AccessRefused, HttpError
from stormwatch.models import FetchResult, Mention
from stormwatch.watchlist import Topic

from tests.support.fakes import MemoryStore, ScriptedSource

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def topic(**overrides) -> Topic:
    data = {
        "name": "apple",
        "terms": ["apple"],
        "exclude": ["apple pie"],
        "languages": ["en"],
        "sources": {"hackernews": {}},
    }
    data.update(overrides)
    return Topic.model_validate(data)


def mention(native_id: str, text: str, **extra) -> Mention:
    return Mention(
        topic="apple",
        source="fake",
        native_id=native_id,
        published=datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
        text=text,
        **extra,
    )


def test_items_the_fuzzy_source_returned_are_rechecked_locally():
    # Given a source that returns one real mention, a near miss and an excluded phrase
    source = ScriptedSource(
        results=[
            FetchResult(
                mentions=[
                    mention("1", "Apple's keynote was great"),
                    mention("2", "what they did should be applauded"),
                    mention("3", "grandma's apple pie recipe"),
                ],
                cursor="100",
            )
        ]
    )
    store = MemoryStore()
    # When the topic is collected
    report = collect_topic(source, topic(), store, http=None, now=NOW)
    # Then only the real mention is stored and the others are counted as not matching
    assert report.new == 1 and report.not_matching == 2
    assert [m.native_id for m in store.mentions.values()] == ["1"]


def test_checkpoint_moves_only_after_items_are_written_and_repeats_are_no_ops():
    # Given two runs returning the same item
    item = mention("1", "apple outage")
    source = ScriptedSource(
        results=[
            FetchResult(mentions=[item], cursor="100"),
            FetchResult(mentions=[item], cursor="100"),
        ]
    )
    store = MemoryStore()
    # When collected twice
    first = collect_topic(source, topic(), store, http=None, now=NOW)
    second = collect_topic(source, topic(), store, http=None, now=NOW)
    # Then the item is stored once, the second run sees the saved cursor, and counts a duplicate
    assert (first.new, second.new, second.duplicates) == (1, 0, 1)
    assert source.seen_cursors == [None, "100"]
    assert store.get_checkpoint("fake", "apple").cursor == "100"


def test_failing_source_keeps_its_checkpoint_and_records_the_error():
    # Given a source that succeeded once and then fails
    source = ScriptedSource(
        results=[
            FetchResult(mentions=[], cursor="100"),
            ConnectionError("HTTP 503 from hn.algolia.com"),
        ]
    )
    store = MemoryStore()
    collect_topic(source, topic(), store, http=None, now=NOW)
    # When the next run fails
    report = collect_topic(source, topic(), store, http=None, now=NOW)
    # Then the run reports the error, the cursor is unchanged and the failure is counted
    checkpoint = store.get_checkpoint("fake", "apple")
    assert not report.ok and "503" in report.error
    assert checkpoint.cursor == "100"
    assert checkpoint.consecutive_failures == 1 and checkpoint.health() == "degraded"


def test_write_failure_keeps_the_old_checkpoint_so_nothing_is_lost():
    # Given a store that fails after the first write
    source = ScriptedSource(
        results=[
            FetchResult(mentions=[mention("1", "apple a"), mention("2", "apple b")], cursor="200")
        ]
    )
    store = MemoryStore(fail_writes_after=1)
    # When collecting
    report = collect_topic(source, topic(), store, http=None, now=NOW)
    # Then the checkpoint did not move (the next run fetches both again; the repeat is a no-op)
    assert not report.ok and report.error.startswith("store:")
    assert store.get_checkpoint("fake", "apple").cursor is None


def test_items_in_another_language_are_not_stored():
    # Given a German-tagged item for an English-only topic
    source = ScriptedSource(
        results=[
            FetchResult(
                mentions=[
                    mention("1", "Apple ist toll", lang="de"),
                    mention("2", "apple is great", lang="en-US"),
                ],
                cursor="1",
            )
        ]
    )
    store = MemoryStore()
    # When collected, Then the German one is counted as other language
    report = collect_topic(source, topic(), store, http=None, now=NOW)
    assert (report.new, report.other_language) == (1, 1)


def test_spent_time_budget_skips_remaining_topics_without_touching_their_checkpoints():
    # Given a deadline that has already passed
    source = ScriptedSource(results=[])
    store = MemoryStore()
    # When a source runs for two topics
    reports = collect_source(
        source,
        [topic(), topic(name="pear", terms=["pear"])],
        store,
        http=None,
        now=NOW,
        deadline=10.0,
        monotonic=lambda: 11.0,
    )
    # Then both are reported as skipped for time and nothing was recorded as a failure
    assert all("time budget" in r.error for r in reports)
    assert store.checkpoint_rows == {}


def test_a_refused_source_is_recorded_as_refused_not_just_failing():
    """Given a source whose platform refuses the client (AccessRefused: HTTP 403, an app
    without approval)
    When the run fails
    Then the checkpoint keeps its cursor and records the failure as "refused", which health
    reports as such from the first run; a later success clears it."""
    refused = AccessRefused("Reddit refused keyless access (HTTP 403)", status=403)
    source = ScriptedSource(results=[refused, FetchResult(cursor="c2")])
    store = MemoryStore()

    report = collect_topic(source, topic(), store, http=None, now=NOW)

    checkpoint = store.get_checkpoint("fake", "apple")
    assert not report.ok and "HTTP 403" in report.error
    assert checkpoint.last_error_kind == "refused"
    assert checkpoint.health() == "refused"
    collect_topic(source, topic(), store, http=None, now=NOW)
    assert store.get_checkpoint("fake", "apple").health() == "ok"


def test_an_ordinary_failure_is_not_refused():
    """Given a source failing with an HTTP 503
    When the run fails
    Then it is an ordinary failure (degraded, then down), not "refused"."""
    source = ScriptedSource(results=[HttpError("HTTP 503", status=503)])
    store = MemoryStore()
    collect_topic(source, topic(), store, http=None, now=NOW)
    checkpoint = store.get_checkpoint("fake", "apple")
    assert checkpoint.last_error_kind == "" and checkpoint.health() == "degraded"
