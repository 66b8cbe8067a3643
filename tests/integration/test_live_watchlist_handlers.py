"""The collect handler runs the live watchlist: a term pushed to the store is matched once the
cache period has passed, not before (moto in-process, the demo recordings, a fake clock)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import yaml
from stormwatch import local
from stormwatch.cycle import DEMO_NOW, CycleConfig, watchlist_store, wire_handlers
from stormwatch.watchlist_store import LOCAL_LOCATION, MAX_AGE_SECONDS, LiveWatchlist

# a tagesschau headline in demo/recordings that names no Deutsche Bahn term of the shipped list
HEADLINE = "Streik bei der Bahn: Pendler steigen aufs Auto um"


class FakeClock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wired(table, tmp_path):
    """The handlers on moto with the shipped watchlist live in the store and a fake clock."""
    saved = dict(os.environ)
    config = CycleConfig(
        watchlist_path=local.repo_path("watchlist.yaml"),
        templates_dir=local.repo_path("templates"),
        out_dir=tmp_path,
        table_name=table,
        replay_dir=local.repo_path("demo", "recordings"),
        clock=lambda: DEMO_NOW,
    )
    store = watchlist_store(LOCAL_LOCATION)
    store.ensure_bucket()
    store.push(config.watchlist_path.read_text(encoding="utf-8"), file="watchlist.yaml")
    wired = wire_handlers(config)
    clock = FakeClock()
    live = LiveWatchlist(config.watchlist_path, store, clock=clock)
    wired["handlers"]["collect"].deps_factory().watchlist = live
    wired["handlers"]["dispatch"].deps_factory().watchlist = live
    assert "pendler" not in live.get().topic("deutsche-bahn").terms  # running the first version
    yield {**wired, "clock": clock, "watchlist_store": store}
    os.environ.clear()
    os.environ.update(saved)


def push_pendler(store) -> None:
    raw = yaml.safe_load(store.latest().text)
    topic = next(t for t in raw["topics"] if t["name"] == "deutsche-bahn")
    topic["terms"].append("pendler")
    store.push(yaml.safe_dump(raw, allow_unicode=True), file="watchlist.yaml", note="pendler")


def collected_headlines(wired) -> list[str]:
    wired["collect"]({"source": "rss", "topic": "deutsche-bahn"})
    mentions = wired["store"].mentions_between(
        "deutsche-bahn", DEMO_NOW - timedelta(days=30), DEMO_NOW + timedelta(days=1)
    )
    return [m.mention.title or m.mention.text for m in mentions]


def test_collect_matches_a_pushed_term_once_the_cache_period_has_passed(wired):
    # Given a new term pushed while the function runs the first version
    push_pendler(wired["watchlist_store"])
    # When the schedule invokes collect after the cache period
    wired["clock"].now += MAX_AGE_SECONDS
    # Then the headline with the new term is collected, without a deploy
    assert any(HEADLINE in text for text in collected_headlines(wired))


def test_collect_keeps_its_version_within_the_cache_period(wired):
    # Given a new term pushed a moment ago
    push_pendler(wired["watchlist_store"])
    # When collect runs within the cache period
    wired["clock"].now += MAX_AGE_SECONDS - 1
    headlines = collected_headlines(wired)
    # Then it still runs the version it had: the headline is not a mention (yet)
    assert headlines and not any(HEADLINE in text for text in headlines)
