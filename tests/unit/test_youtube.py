"""YouTube collection: key from secrets, search + comments, the daily quota budget, errors."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stormwatch.collector import collect_topic
from stormwatch.http import HttpError, HttpResponse
from stormwatch.secrets import NoSecrets, StaticSecrets
from stormwatch.sources import get_source
from stormwatch.sources.base import parse_timestamp as parse_time
from stormwatch.sources.youtube import (
    COMMENTS_URL,
    SEARCH_URL,
    YouTubeSource,
    YtCursor,
    parse_comment_thread,
    parse_video,
)
from stormwatch.watchlist import Topic

from tests.support.fakes import MemoryStore

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "sources" / "youtube"
SHARED = Path(os.environ.get("STORMWATCH_SHARED", REPO.parent / "shared"))
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
NOW_I = int(NOW.timestamp())
KEY = StaticSecrets({"youtube/api_key": "AIza-test"})


def topic(**yt) -> Topic:
    return Topic(
        name="acme-cloud",
        phrases=["acme cloud"],
        terms=["acmecloud"],
        exclude=["acme anvil"],
        sources={"youtube": yt},
    )


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def quota_error() -> HttpError:
    body = {
        "error": {
            "code": 403,
            "message": "The request cannot be completed because you have exceeded your quota.",
            "errors": [{"reason": "quotaExceeded", "domain": "youtube.quota"}],
        }
    }
    return HttpError("GET … failed: HTTP 403", status=403, body=json.dumps(body).encode())


class FakeYouTube:
    """search.list answers from `search` (a body or an exception); commentThreads.list from
    `comments[videoId]`. Records every request."""

    def __init__(self, search=None, comments=None) -> None:
        self.search = search if search is not None else fixture("search_edge_cases.json")
        self.comments = comments or {}
        self.requests: list[tuple[str, dict]] = []

    def get(self, url, params=None, headers=None):
        params = dict(params or {})
        self.requests.append((url, params))
        if url == SEARCH_URL:
            answer = self.search
        else:
            assert url == COMMENTS_URL
            answer = self.comments.get(params["videoId"], {"items": []})
        if isinstance(answer, Exception):
            raise answer
        return HttpResponse(200, {}, json.dumps(answer).encode(), url=url)

    def urls(self) -> list[str]:
        return [u for u, _ in self.requests]


def source(secrets=KEY) -> YouTubeSource:
    return YouTubeSource(secrets, sleep=lambda s: None)


def test_without_a_key_the_run_fails_as_not_configured_instead_of_crashing():
    """Given no youtube/api_key in the secrets
    When the collector runs the YouTube source
    Then the run reports 'not configured' as the source's health and makes no request."""
    api = FakeYouTube()
    store = MemoryStore()

    report = collect_topic(get_source("youtube", secrets=NoSecrets()), topic(), store, api, now=NOW)

    assert api.requests == []
    assert report.error is not None and "not configured" in report.error
    checkpoint = store.get_checkpoint("youtube", "acme-cloud")
    assert checkpoint.consecutive_failures == 1 and "youtube/api_key" in checkpoint.last_error


def test_search_then_comments_of_matching_videos_with_key_and_one_or_query():
    """Given a search with a matching video, an excluded near miss and a channel result
    When collected
    Then one search (terms ORed with |) and one commentThreads call for the matching video are
    made, and comments carry the video's title so they match the topic locally."""
    api = FakeYouTube(comments={"acmeVid0001": fixture("comment_threads_edge_cases.json")})

    result = source().fetch(topic(region_code="US", relevance_language="en"), None, api, now=NOW)

    (url, search), (curl, comments) = api.requests
    assert url == SEARCH_URL and curl == COMMENTS_URL
    assert search == {
        "part": "snippet",
        "type": "video",
        "order": "date",
        "q": '"acme cloud"|acmecloud',
        "publishedAfter": "2026-11-24T08:45:00Z",
        "maxResults": 50,
        "regionCode": "US",
        "relevanceLanguage": "en",
        "key": "AIza-test",
    }
    assert comments["videoId"] == "acmeVid0001" and comments["order"] == "time"
    by_id = {m.native_id: m for m in result.mentions}
    assert set(by_id) == {"acmeVid0001", "acmeVid0002", "UgyC1", "UgyC2"}
    assert by_id["UgyC1"].title == "AcmeCloud is DOWN – what we know & what to do"
    assert by_id["UgyC1"].channel == "comment" and by_id["UgyC1"].engagement == 25
    assert by_id["UgyC1"].url == "https://www.youtube.com/watch?v=acmeVid0001&lc=UgyC1"
    assert any("no date" in s or "publishedAt" in s for s in result.skipped)
    state = YtCursor.parse(result.cursor)
    assert state.units == 101 and state.day == "2026-11-25"
    assert list(state.videos) == ["acmeVid0001"]


def test_the_daily_budget_stops_collection_with_the_digest_note():
    """Given a cursor whose day already spent 1,950 of a 2,000-unit budget
    When collected
    Then no search is made and the result says the budget stopped collection."""
    cursor = YtCursor(day="2026-11-25", units=1950).dump()
    api = FakeYouTube()

    result = source().fetch(topic(max_search_calls_per_day=20), cursor, api, now=NOW)

    assert SEARCH_URL not in api.urls()
    assert "youtube: daily quota budget of 2000 units reached; resumes tomorrow" in result.skipped
    assert result.truncated


def test_the_budget_resets_on_a_new_pacific_day():
    """Given yesterday's (Pacific time) budget fully spent
    When collected after midnight Pacific time
    Then the units start from zero and the search runs."""
    cursor = YtCursor(day="2026-11-24", units=2000).dump()
    api = FakeYouTube()
    after_midnight_pt = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)  # 00:30 PST

    result = source().fetch(topic(), cursor, api, now=after_midnight_pt)

    assert SEARCH_URL in api.urls()
    assert YtCursor.parse(result.cursor).units >= 100 and not result.truncated


def test_searches_are_spread_over_the_day_but_comments_are_still_read():
    """Given a search made 30 minutes ago and a budget of 20 searches a day (one per 72 min)
    When collected
    Then no search is made, and the tracked video's new comments are read."""
    state = YtCursor(
        day="2026-11-25",
        units=100,
        last_search=NOW_I - 1800,
        since=NOW_I - 1800,
        videos={"acmeVid0001": {"t": "AcmeCloud is down", "p": NOW_I - 4000, "c": NOW_I - 4000}},
    )
    api = FakeYouTube(comments={"acmeVid0001": fixture("comment_threads_edge_cases.json")})

    result = source().fetch(topic(), state.dump(), api, now=NOW)

    assert api.urls() == [COMMENTS_URL]
    assert {m.native_id for m in result.mentions} == {"UgyC1", "UgyC2"}
    after = YtCursor.parse(result.cursor)
    assert after.videos["acmeVid0001"]["c"] == int(parse_time("2026-11-25T08:20:00.5Z").timestamp())


def test_quota_exceeded_on_the_first_call_is_a_failure_naming_the_quota():
    """Given the API answers 403 quotaExceeded
    When collected
    Then the run fails with a message that says the YouTube quota is used up."""
    api = FakeYouTube(search=quota_error())

    with pytest.raises(HttpError, match=r"quotaExceeded.*daily YouTube quota"):
        source().fetch(topic(), None, api, now=NOW)


def test_quota_exceeded_after_the_search_keeps_what_was_collected():
    """Given a successful search and then quotaExceeded on the comments call
    When collected
    Then the videos are returned, the run is truncated and the day's units are used up."""
    api = FakeYouTube(comments={"acmeVid0001": quota_error()})

    result = source().fetch(topic(), None, api, now=NOW)

    assert {m.native_id for m in result.mentions} == {"acmeVid0001", "acmeVid0002"}
    assert result.truncated and any("quotaExceeded" in s for s in result.skipped)
    assert YtCursor.parse(result.cursor).units >= 2000


def test_disabled_comments_drop_the_video_from_tracking():
    """Given a tracked video whose comments are disabled
    When collected
    Then the video is noted and no longer followed."""
    disabled = HttpError(
        "HTTP 403",
        status=403,
        body=b'{"error": {"errors": [{"reason": "commentsDisabled"}]}}',
    )
    api = FakeYouTube(comments={"acmeVid0001": disabled})

    result = source().fetch(topic(), None, api, now=NOW)

    assert "acmeVid0001" not in YtCursor.parse(result.cursor).videos
    assert any("commentsDisabled" in s for s in result.skipped)


def test_edge_cases_entities_timestamps_and_broken_items():
    """Given our fixtures (HTML entities, an emoji, fractional seconds and a +01:00 offset,
    a channel result without a videoId, a comment without a date, markup in textDisplay)
    When parsed
    Then text is unescaped, times are UTC, and broken items raise ValueError with a reason."""
    items = fixture("search_edge_cases.json")["items"]
    first = parse_video(items[0], "acme-cloud")
    second = parse_video(items[1], "acme-cloud")
    with pytest.raises(ValueError, match="no videoId"):
        parse_video(items[2], "acme-cloud")
    comments = fixture("comment_threads_edge_cases.json")["items"]
    dns = parse_comment_thread(comments[1], "acme-cloud", "video title")
    with pytest.raises(ValueError, match="publishedAt"):
        parse_comment_thread(comments[2], "acme-cloud")

    assert first.title == "AcmeCloud is DOWN – what we know & what to do"
    assert first.author == "Cloud & Ops Weekly" and "🔥" in first.text
    assert second.published == datetime(2026, 11, 24, 17, 2, 33, 417000, tzinfo=UTC)
    assert dns.text == "Bold claim: it's DNS" and dns.title == "video title"
    assert dns.published == datetime(2026, 11, 25, 8, 20, 0, 500000, tzinfo=UTC)
    assert parse_time("2026-11-25T09:00:00+00:00") == NOW
    with pytest.raises(ValueError):
        parse_time("2026-11-25T09:00:00")  # no zone: not RFC 3339


def test_very_long_descriptions_are_bounded():
    """Given a video with a 50,000-character description
    When parsed
    Then the stored text is bounded."""
    item = {"id": {"videoId": "v1"}, "snippet": {"publishedAt": "2026-11-25T08:00:00Z"}}
    item["snippet"]["description"] = "AcmeCloud " * 5000
    assert len(parse_video(item, "acme-cloud").text) <= 4000


def _body(name: str) -> dict:
    path = SHARED / "payloads" / name
    if not path.is_file():
        pytest.skip(f"real payload {path} not found (set STORMWATCH_SHARED to the shared folder)")
    data = json.loads(path.read_text(encoding="utf-8"))
    return data.get("body", data)


def test_real_search_videos_and_comment_threads_payloads_parse():
    """Given the real recorded search.list, videos.list and commentThreads.list responses
    When their items are parsed
    Then every item parses: the search title's &#39; is decoded, videos.list statistics become
    engagement with its language, and comments keep author, likes and RFC 3339 times."""
    search = [parse_video(i, "t") for i in _body("youtube_search.json")["items"]]
    videos = [parse_video(i, "t") for i in _body("youtube_videos.json")["items"]]
    threads = [parse_comment_thread(i, "t") for i in _body("youtube_commentThreads.json")["items"]]

    assert search[0].title == "MKBHD's New Power Bank Is Brilliant But..."
    assert search[0].published == datetime(2026, 7, 16, 10, 30, 23, tzinfo=UTC)
    assert videos[0].native_id == "zzjq7_ddb0U" and videos[0].engagement == 132 + 48
    assert videos[0].lang == "en"
    assert threads[0].author == "@PulseCorpST" and threads[0].engagement == 13 + 2
    assert threads[0].published == datetime(2026, 7, 17, 9, 48, 57, tzinfo=UTC)
    assert threads[0].url.endswith("&lc=Ugxdn2pX4uwWHOdRVwh4AaABAg")
    assert all(m.published < NOW - timedelta(days=30) for m in search + threads)
