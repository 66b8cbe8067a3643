"""YouTube's daily quota planned across topics, and the backfill that spends the day's pool.

The fake archive below answers `search.list` in the documented response shape
(https://developers.google.com/youtube/v3/docs/search/list: `items[].id.videoId`,
`items[].snippet.publishedAt`, `nextPageToken`), filtering by `publishedAfter`/`publishedBefore`
and paging by an offset token; no recorded response covers a date-windowed search."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from stormwatch.backfill import MAX_DAYS
from stormwatch.collector import collect_source
from stormwatch.http import HttpResponse
from stormwatch.secrets import StaticSecrets
from stormwatch.source_state import MemorySourceState
from stormwatch.sources import get_source
from stormwatch.sources.base import parse_timestamp
from stormwatch.sources.youtube import SEARCH_URL
from stormwatch.sources.youtube_quota import plan_day
from stormwatch.watchlist import Topic

from tests.support.fakes import MemoryStore

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # 10:00 Pacific
KEY = StaticSecrets({"youtube/api_key": "AIza-test"})


def topic(name: str = "acme-cloud", **yt) -> Topic:
    return Topic(name=name, terms=["acmecloud"], sources={"youtube": yt})


def video(n: int, at: datetime) -> dict:
    return {
        "kind": "youtube#searchResult",
        "id": {"kind": "youtube#video", "videoId": f"vid{n:05d}"},
        "snippet": {
            "publishedAt": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "title": f"AcmeCloud video {n}",
            "description": "",
            "channelTitle": f"channel {n}",
        },
    }


class FakeArchive:
    """search.list over `videos`: newest first, publishedAfter/Before, 50 a page."""

    def __init__(self, videos: list[dict]) -> None:
        self.videos = videos
        self.requests: list[dict] = []

    def get(self, url, params=None, headers=None):
        assert url == SEARCH_URL
        params = dict(params or {})
        self.requests.append(params)
        after = parse_timestamp(params["publishedAfter"])
        before = parse_timestamp(params.get("publishedBefore", "2100-01-01T00:00:00Z"))
        hits = sorted(
            (v for v in self.videos if after <= self._at(v) < before),
            key=lambda v: self._at(v),
            reverse=True,
        )
        start = int(params.get("pageToken", 0))
        body: dict = {"kind": "youtube#searchListResponse", "items": hits[start : start + 50]}
        if start + 50 < len(hits):
            body["nextPageToken"] = str(start + 50)
        return HttpResponse(200, {}, json.dumps(body).encode(), url=url)

    @staticmethod
    def _at(item: dict) -> datetime:
        return parse_timestamp(item["snippet"]["publishedAt"])


def test_the_quota_is_dealt_fairly_and_every_topic_gets_its_turn():
    # Given 5 topics, then 200 topics, on the default 10,000-unit project quota
    five = [topic(f"t{n}") for n in range(5)]
    many = [topic(f"t{n:03d}") for n in range(200)]
    # When the day is planned
    plan = plan_day(five, NOW)
    # Then a tenth is the backfill pool and the rest is shared equally (capped at each topic's
    # own 20 searches a day)
    assert plan.backfill_units == 1_000
    assert set(plan.live_units.values()) == {1_800}
    assert plan.describe("t0") == (
        "YouTube: 5 of 5 topics searched today, quota 10,000 units a day: 1,800 for this "
        "topic, 1,000 for backfills"
    )
    # And with 200 topics 90 get one search a day, none two, and in three days every one had
    # its turn
    days = [plan_day(many, NOW + timedelta(days=d)) for d in range(3)]
    assert all(sorted(set(p.live_units.values())) == [0, 100] for p in days)
    assert all(len(p.searched()) == 90 for p in days)
    assert set().union(*(p.searched() for p in days)) == {t.name for t in many}
    # And a topic's own cap holds: its unused share goes to the others
    capped = plan_day([topic("small", max_search_calls_per_day=2), topic("big")], NOW)
    assert capped.live_units == {"big": 2_000, "small": 200}


def test_a_topic_without_a_search_today_waits_and_its_run_says_why():
    # Given 200 topics planned and one whose turn is not today
    many = [topic(f"t{n:03d}") for n in range(200)]
    source = get_source("youtube", secrets=KEY)
    source.plan_across(many, NOW)
    waiting = next(t for t in many if t.name not in source.plan.searched())
    archive = FakeArchive([video(1, NOW - timedelta(hours=1))])
    # When it is collected
    result = source.fetch(waiting, None, archive, now=NOW)
    # Then no call is made, and the notes say how the quota was dealt and why it waits (not
    # that it ran into a quota)
    assert archive.requests == []
    assert result.skipped[0].startswith("YouTube: 90 of 200 topics searched today")
    assert any("its turn in the quota plan" in note for note in result.skipped)
    assert not any("budget" in note for note in result.skipped) and result.truncated


def test_a_new_topic_backfills_its_month_of_videos_from_the_days_pool():
    # Given 120 matching videos over the 28 days before a new topic was added, and no others
    month = (MAX_DAYS - 2) * 86400
    videos = [video(n, NOW - timedelta(days=1, seconds=month * n // 120)) for n in range(120)]
    archive, store, state = FakeArchive(videos), MemoryStore(), MemorySourceState()
    source = get_source("youtube", secrets=KEY, state=state)
    source.plan_across([topic()], NOW)
    # When the collector runs it twice, an hour apart
    runs = [
        collect_source(source, [topic()], store, archive, now=NOW + timedelta(hours=h))
        for h in range(2)
    ]
    # Then each backfill step searched the owed range (publishedBefore) within two calls,
    # continued where the first stopped, and stored every video of the month
    steps = [r for run in runs for r in run if r.backfill]
    assert [s.backfill_done for s in steps] == [False, True]
    assert len(store.mentions) == 120
    backfill_searches = sum("publishedBefore" in p for p in archive.requests)
    assert backfill_searches == 3
    # And the day's backfill pool counts them, for every topic to see
    assert state.get_source_state("youtube", "backfill-quota")["units"] == 300


def test_a_spent_backfill_pool_leaves_the_range_owed_until_the_next_pacific_day():
    # Given today's backfill pool already spent by other topics
    state = MemorySourceState()
    state.put_source_state("youtube", "backfill-quota", {"day": "2026-11-25", "units": 1_000})
    source = get_source("youtube", secrets=KEY, state=state)
    archive = FakeArchive([video(1, NOW - timedelta(days=3))])
    lo, hi = int((NOW - timedelta(days=28)).timestamp()), int(NOW.timestamp())
    step = json.dumps({"high": hi, "gap": [lo, hi]})
    # When a backfill step runs today, and again after midnight Pacific
    today = source.fetch(topic(), step, archive, now=NOW)
    tomorrow = source.fetch(topic(), step, archive, now=NOW + timedelta(hours=15))
    # Then today nothing is searched and the range stays owed, saying why; tomorrow it is read
    assert today.truncated and json.loads(today.cursor)["gap"] == [lo, hi]
    assert any("backfill quota of 1000 units is used" in note for note in today.skipped)
    assert not tomorrow.truncated and [m.native_id for m in tomorrow.mentions] == ["vid00001"]
