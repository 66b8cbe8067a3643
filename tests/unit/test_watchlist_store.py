"""The live watchlist: versions in a versioned S3 object (moto), checked before they go live,
picked up by the functions after the cache period, the packaged file as first version and
fallback."""

from __future__ import annotations

import logging

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stormwatch.config import WatchlistError, cached_watchlist
from stormwatch.watchlist_store import (
    MAX_AGE_SECONDS,
    PACKAGED,
    LiveWatchlist,
    StoreUnavailable,
    WatchlistLocation,
    WatchlistStore,
    validated_watchlist,
)

LOCATION = WatchlistLocation.parse("s3://stormwatch-test-watchlist/watchlist.yaml")


def watchlist_text(*terms: str, example: str = "acme is down") -> str:
    return (
        "version: 1\n"
        "topics:\n"
        "  - name: acme\n"
        f"    terms: [{', '.join(terms)}]\n"
        "    sources:\n"
        "      hackernews: {}\n"
        "    examples:\n"
        f"      match: [{example!r}]\n"
    )


GOOD = watchlist_text("acme")
WITH_HASHTAG = watchlist_text("acme", "acmedown")
# valid YAML and model, but its own match example does not match: `check` fails it
EXAMPLE_FAILS = watchlist_text("acme", example="globex is down")
WITH_HASHTAG_EXAMPLE_FAILS = watchlist_text("acme", "acmedown", example="globex is down")
BROKEN = GOOD.replace("      hackernews: {}\n", "      hackernews: {max_pages: 99}\n")


@pytest.fixture
def store(aws) -> WatchlistStore:
    store = WatchlistStore(boto3.client("s3"), LOCATION)
    store.ensure_bucket()
    return store


@pytest.fixture
def packaged(tmp_path):
    path = tmp_path / "watchlist.yaml"
    path.write_text(GOOD, encoding="utf-8")
    cached_watchlist.cache_clear()
    yield path
    cached_watchlist.cache_clear()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def terms(live: LiveWatchlist) -> list[str]:
    return live.get().topic("acme").terms


# --- push / pull / history / rollback ----------------------------------------------------------


def test_push_makes_a_new_live_version_and_pull_returns_its_text(store):
    # Given an empty store
    assert store.latest() is None
    # When two watchlists are pushed
    first = store.push(GOOD, file="watchlist.yaml", note="first version")
    second = store.push(WITH_HASHTAG, file="watchlist.yaml", note="add #acmedown")
    # Then the second is live, the first still readable by its version id
    assert first.changed and second.changed and first.version_id != second.version_id
    assert store.latest().text == WITH_HASHTAG
    assert store.get(first.version_id).text == GOOD


def test_pushing_the_live_text_again_writes_nothing(store):
    # Given a live version
    first = store.push(GOOD, file="watchlist.yaml")
    # When the same text is pushed again
    again = store.push(GOOD, file="watchlist.yaml")
    # Then no new version is made
    assert not again.changed and again.version_id == first.version_id
    assert len(store.history()) == 1


def test_history_lists_versions_newest_first_with_notes_and_the_live_one_marked(store):
    # Given three pushes
    ids = [
        store.push(watchlist_text("acme", *extra), file="w.yaml", note=note).version_id
        for extra, note in (((), "first"), (("acmedown",), "add hashtag — während Sturm"))
    ]
    # When the history is listed
    history = store.history()
    # Then newest first, with the notes (non-ASCII intact), and only the newest is live
    assert [v.version_id for v in history] == ids[::-1]
    assert [v.note for v in history] == ["add hashtag — während Sturm", "first"]
    assert [v.live for v in history] == [True, False]


def test_a_version_that_fails_check_is_refused_with_file_line_topic_and_field(store):
    # Given a live version
    live = store.push(GOOD, file="watchlist.yaml")
    # When a watchlist whose match example fails is pushed
    with pytest.raises(WatchlistError) as refused:
        store.push(EXAMPLE_FAILS, file="new.yaml")
    # Then it is refused naming file, line, topic and field, and the live version is unchanged
    (problem,) = refused.value.problems
    assert (problem.file, problem.line, problem.topic) == ("new.yaml", 8, "acme")
    assert problem.field == "examples.match"
    assert "globex is down" in problem.message
    assert store.latest().version_id == live.version_id
    assert len(store.history()) == 1


def test_a_version_that_fails_the_model_is_refused_too(store):
    # Given an empty store; When a watchlist with an out-of-range option is pushed
    with pytest.raises(WatchlistError) as refused:
        store.push(BROKEN, file="new.yaml")
    # Then it is refused at its line and nothing is stored
    assert refused.value.problems[0].line == 6
    assert refused.value.problems[0].field == "sources.hackernews.max_pages"
    assert store.latest() is None


def test_rollback_makes_the_previous_version_live_as_a_new_version(store):
    # Given two versions
    first = store.push(GOOD, file="w.yaml", note="first")
    store.push(WITH_HASHTAG, file="w.yaml", note="second")
    # When rolled back without naming a version
    rolled = store.rollback()
    # Then the first version's text is live again as a third version, and history says why
    assert store.latest().text == GOOD
    history = store.history()
    assert history[0].version_id == rolled.version_id and len(history) == 3
    assert history[0].note == f"rollback to {first.version_id}"


def test_rollback_to_a_named_version_and_with_nothing_earlier(store):
    # Given one version only
    first = store.push(GOOD, file="w.yaml")
    # Then there is nothing to roll back to
    with pytest.raises(StoreUnavailable, match="no earlier version"):
        store.rollback()
    # And after a second push, rolling back to the named first version makes it live
    store.push(WITH_HASHTAG, file="w.yaml")
    store.rollback(first.version_id)
    assert store.latest().text == GOOD


def test_a_missing_bucket_is_unavailable_not_empty(aws):
    # Given a location whose bucket does not exist
    store = WatchlistStore(boto3.client("s3"), LOCATION)
    # Then reading it says the store is unavailable
    with pytest.raises(StoreUnavailable):
        store.latest()


@pytest.mark.parametrize(
    "uri",
    [
        "stormwatch/watchlist.yaml",
        "s3://bucket",
        "s3:///key",
        "s3://UPPER_case/key",
        "s3://Acme/key",
    ],
)
def test_a_location_is_an_s3_uri_with_bucket_and_key(uri):
    with pytest.raises(ValueError):
        WatchlistLocation.parse(uri)


# --- what the functions run --------------------------------------------------------------------


def test_a_function_picks_up_a_new_term_after_the_cache_period(store, packaged):
    # Given a function running the live version, with a fake clock
    store.push(GOOD, file="w.yaml")
    clock = FakeClock()
    live = LiveWatchlist(packaged, store, clock=clock)
    assert terms(live) == ["acme"]
    # When a new hashtag is pushed
    store.push(WITH_HASHTAG, file="w.yaml")
    # Then within the cache period the function still runs the version it has
    clock.now += MAX_AGE_SECONDS - 1
    assert terms(live) == ["acme"]
    # And once the cache period has passed it runs the new one, without a deploy
    clock.now += 1
    assert terms(live) == ["acme", "acmedown"]


def test_a_bad_version_in_the_store_is_refused_and_the_running_one_keeps_working(
    store, packaged, caplog
):
    # Given a function running a good version
    good = store.push(WITH_HASHTAG, file="w.yaml")
    clock = FakeClock()
    live = LiveWatchlist(packaged, store, clock=clock)
    assert live.version == good.version_id
    # When a version the model refuses lands in the bucket past the CLI (a plain `aws s3 cp`)
    boto3.client("s3").put_object(Bucket=LOCATION.bucket, Key=LOCATION.key, Body=BROKEN)
    clock.now += MAX_AGE_SECONDS
    with caplog.at_level(logging.ERROR, logger="stormwatch.watchlist_store"):
        # Then the function keeps running the good version and logs the refusal
        assert terms(live) == ["acme", "acmedown"]
    assert live.version == good.version_id
    assert "refused" in caplog.text and "sources.hackernews.max_pages" in caplog.text


def test_a_function_leaves_the_match_examples_to_push(store, packaged):
    """The examples are the publisher's check (`push`, `rollback`, `check`): run at every cold
    start they would decode the German dictionary in functions that never match text."""
    # Given a function running a good version
    store.push(GOOD, file="w.yaml")
    clock = FakeClock()
    live = LiveWatchlist(packaged, store, clock=clock)
    # When a version whose model and query are valid but whose example fails lands past the CLI
    put = boto3.client("s3").put_object(
        Bucket=LOCATION.bucket, Key=LOCATION.key, Body=WITH_HASHTAG_EXAMPLE_FAILS
    )
    clock.now += MAX_AGE_SECONDS
    # Then the function runs it (push would have refused it; see above)
    assert terms(live) == ["acme", "acmedown"] and live.version == put["VersionId"]


def test_an_empty_store_runs_the_packaged_file_and_says_so(store, packaged, caplog):
    # Given an empty store
    live = LiveWatchlist(packaged, store, clock=FakeClock())
    # When the function reads its watchlist
    with caplog.at_level(logging.WARNING, logger="stormwatch.watchlist_store"):
        watchlist = live.get()
    # Then it runs the packaged file, and the log says why
    assert watchlist.topic("acme").terms == ["acme"] and live.version == PACKAGED
    assert "packaged" in caplog.text and "no version yet" in caplog.text


def test_an_unreachable_store_falls_back_then_keeps_the_running_version(
    aws, packaged, caplog, monkeypatch
):
    # Given a store whose bucket does not exist yet (unreachable)
    store = WatchlistStore(boto3.client("s3"), LOCATION)
    clock = FakeClock()
    live = LiveWatchlist(packaged, store, clock=clock)
    # Then a cold function runs the packaged file
    with caplog.at_level(logging.WARNING, logger="stormwatch.watchlist_store"):
        assert live.version == PACKAGED
    assert "unreachable" in caplog.text
    # When the store gets a version, it is picked up after the cache period
    store.ensure_bucket()
    pushed = store.push(WITH_HASHTAG, file="w.yaml")
    clock.now += MAX_AGE_SECONDS
    assert live.version == pushed.version_id

    # And when the store becomes unreachable again, the running version stays
    def unreachable():
        raise StoreUnavailable("connection refused")

    monkeypatch.setattr(store, "latest", unreachable)
    clock.now += MAX_AGE_SECONDS
    assert terms(live) == ["acme", "acmedown"] and live.version == pushed.version_id


def test_validated_watchlist_accepts_the_shipped_watchlist(repo):
    # Given the packaged watchlist.yaml, which is the first version; Then it passes
    text = (repo / "watchlist.yaml").read_text(encoding="utf-8")
    assert validated_watchlist(text, "watchlist.yaml").topics


@given(st.text(max_size=80))
def test_parsing_any_text_as_a_location_either_round_trips_or_says_why(text):
    # Given any text; When it is parsed as a location
    try:
        location = WatchlistLocation.parse(text)
    except ValueError:
        return  # Then it is refused with a ValueError (pydantic's included) ...
    # ... or it is a location that prints as the text it came from
    assert str(location) == text and WatchlistLocation.parse(str(location)) == location
