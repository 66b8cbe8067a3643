"""Absurd publish dates: no source lets one item from the future move its cursor past now or
reach the table, and every item refused is said, in every source."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stormwatch.collector import collect_topic
from stormwatch.config import load_watchlist
from stormwatch.cycle import DEMO_NOW, local_secrets
from stormwatch.http import ReplayHttpClient
from stormwatch.models import Checkpoint, FetchResult, Mention
from stormwatch.source_state import MemorySourceState
from stormwatch.sources import FACTORIES, get_source
from stormwatch.sources.base import published_problem
from stormwatch.sources.window import WindowCursor, plan_next
from stormwatch.watchlist import Topic

from tests.conftest import REPO
from tests.support.fakes import MemoryStore, ScriptedSource

# The recorded outage burst is 07:00-09:00 on the demo day: three hours earlier it lies in the
# future, more than the hour of tolerance for clock skew
EARLY = DEMO_NOW - timedelta(hours=3)
EPOCH_SECONDS = re.compile(r"(?<![\d.])(1[5-9]\d{8}|[2-9]\d{9}|\d{11})(?![\d])")
# the GitHub recordings answer one created: window, the one a run from this cursor asks for
START_CURSORS = {"github": str(int((DEMO_NOW - timedelta(hours=24)).timestamp()))}
ISO_TIMES = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")


def cursor_times(cursor: str | None) -> list[datetime]:
    """Every timestamp in a cursor: epoch seconds (ids of other sizes are not times) and ISO."""
    if not cursor:
        return []
    text = json.dumps(json.loads(cursor)) if cursor.strip()[:1] in "{[" else cursor
    times = [datetime.fromtimestamp(int(n), UTC) for n in EPOCH_SECONDS.findall(text)]
    times += [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in ISO_TIMES.findall(text)]
    return times


def demo_topic_for(source: str) -> Topic:
    watchlist = load_watchlist(REPO / "watchlist.yaml")
    return next(t for t in watchlist.topics if source in t.sources.enabled())


@pytest.mark.parametrize("source_name", sorted(FACTORIES))
def test_items_from_the_future_are_skipped_and_never_move_the_cursor_past_now(source_name):
    # Given the demo recordings, read by a collector whose clock is three hours earlier
    source = get_source(source_name, secrets=local_secrets(replay=True), state=MemorySourceState())
    topic = demo_topic_for(source_name)
    store = MemoryStore()
    store.checkpoint_rows[(source_name, topic.name)] = Checkpoint(
        source=source_name, topic=topic.name, cursor=START_CURSORS.get(source_name)
    )
    replay = ReplayHttpClient(REPO / "demo" / "recordings")
    # When the source is collected
    report = collect_topic(source, topic, store, replay, now=EARLY)
    # Then nothing published more than an hour after "now" was stored
    assert report.ok, report.error
    assert all(m.published <= EARLY + timedelta(hours=1) for m in store.mentions.values())
    # And the cursor points nowhere past now, so the next run still finds new items
    cursor = store.get_checkpoint(source_name, topic.name).cursor
    assert all(t <= EARLY for t in cursor_times(cursor)), cursor


def test_the_recordings_hold_items_from_the_future_for_every_source():
    """The test above means something only if every source's recordings reach past EARLY."""
    replay = ReplayHttpClient(REPO / "demo" / "recordings")
    for name in sorted(FACTORIES):
        source = get_source(name, secrets=local_secrets(replay=True), state=MemorySourceState())
        result = source.fetch(demo_topic_for(name), START_CURSORS.get(name), replay, now=DEMO_NOW)
        ahead = [m for m in result.mentions if m.published > EARLY + timedelta(hours=1)]
        assert ahead, f"{name}: no recorded item after {EARLY + timedelta(hours=1)}"


def mention(published: datetime, native_id: str = "1") -> Mention:
    return Mention(
        topic="acme",
        source="fake",
        native_id=native_id,
        published=published,
        title="acme is down",
    )


def test_hits_from_the_year_3000_or_1970_are_skipped_and_said_and_the_rest_is_stored():
    # Given a source answering one good item, one dated in the year 3000 and one in 1970
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    future = mention(datetime(3000, 1, 1, tzinfo=UTC), "future")
    good = mention(now - timedelta(minutes=5), "good")
    epoch = mention(datetime(1970, 1, 1, tzinfo=UTC), "epoch")  # a zero timestamp
    source = ScriptedSource(results=[FetchResult(mentions=[future, good, epoch], cursor="c")])
    topic = Topic.model_validate({"name": "acme", "terms": ["acme"], "sources": {"hackernews": {}}})
    store = MemoryStore()
    # When collected
    report = collect_topic(source, topic, store, None, now=now)
    # Then the good item is stored, the future one is not, and the run says why
    assert [m.native_id for m in store.mentions.values()] == ["good"]
    assert report.ok and report.new == 1
    assert any("future" in note and "fake:future" in note for note in report.skipped)
    assert any("before 2000" in note and "fake:epoch" in note for note in report.skipped)
    assert report.summary()["skipped"] == 2


@pytest.mark.parametrize(
    ("offset", "problem"),
    [
        (timedelta(minutes=59), False),  # clock skew between servers is tolerated
        (timedelta(hours=1, seconds=1), True),
        (timedelta(days=365 * 974), True),
        (-timedelta(days=3650), False),
        (
            datetime(1999, 12, 31, 23, 59, tzinfo=UTC) - datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
            True,
        ),
        (datetime(1970, 1, 1, tzinfo=UTC) - datetime(2026, 11, 25, 9, 0, tzinfo=UTC), True),
    ],
)
def test_a_publish_date_is_plausible_from_2000_to_an_hour_ahead(offset, problem):
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert (published_problem(now + offset, now) is not None) is problem


EPOCHS = st.integers(946_684_800, 32_503_680_000)  # 2000 to 3000


@given(
    start=EPOCHS,
    newest=st.none() | EPOCHS,
    now=EPOCHS,
    owed=st.lists(st.tuples(EPOCHS, EPOCHS), max_size=3),
)
def test_a_window_cursor_never_points_past_now(start, newest, now, owed):
    # Given any stored start (even one past now), newest item seen and ranges still owed
    cursor = plan_next(WindowCursor(), start=start, newest=newest, owed=owed, now=now)
    # Then the next run's cursor lies at or before now, and so does where it starts
    assert cursor.high is not None and cursor.high <= now
    assert cursor.gap is None or cursor.gap[1] <= now
    assert cursor.start(now, 3600) <= now
