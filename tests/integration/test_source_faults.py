"""The source fault suite: every source, through the real HttpClient and a real Store (moto),
against recorded HTTP faults (the `responses` library; no sockets).

For each fault the same story is checked: run 1 meets the fault and survives (the source is
marked failing with the reason, or reports what it skipped), nothing is stored twice, the
checkpoint does not move past anything unwritten; run 2 meets a healthy API and afterwards every
item is stored exactly once and the source is healthy again.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
import requests
import responses
from stormwatch.collector import collect_topic
from stormwatch.http import HttpClient
from stormwatch.secrets import StaticSecrets
from stormwatch.sources.gdelt import GdeltSource
from stormwatch.sources.github import GitHubSource
from stormwatch.sources.hackernews import HackerNewsSource
from stormwatch.sources.rss import RssSource
from stormwatch.sources.stackexchange import StackExchangeSource
from stormwatch.sources.youtube import YouTubeSource
from stormwatch.store import Store
from stormwatch.watchlist import Topic

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
NOW_I = int(NOW.timestamp())
UA = "stormwatch-test/0 (+https://example.org)"
FEED = "https://feeds.example/acme.xml"
ITEMS = 5


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- healthy answers per source, built from item numbers (item i is i·30 minutes old, so the
# items span more than the RSS source's one-hour overlap) ------------------------------------


def ts(i: int) -> int:
    return NOW_I - 1800 * i


def hn_body(n: int, *, loop: bool = False) -> dict:
    hits = [
        {
            "objectID": str(i),
            "created_at_i": ts(i),
            "title": f"AcmeCloud outage report {i}",
            "author": f"u{i}",
            "_tags": ["story"],
        }
        for i in range(1, n + 1)
    ]
    pages = 50 if loop else 1
    return {"hits": hits, "nbHits": n * pages, "nbPages": pages, "page": 0, "hitsPerPage": n}


def rss_body(n: int) -> str:
    items = "".join(
        f"<item><title>AcmeCloud outage report {i}</title><link>https://news.example/{i}</link>"
        f"<guid>https://news.example/{i}</guid>"
        f"<pubDate>{format_datetime(datetime.fromtimestamp(ts(i), UTC), usegmt=True)}</pubDate>"
        "</item>"
        for i in range(1, n + 1)
    )
    channel = f"<channel><title>Acme news</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def se_body(n: int, *, loop: bool = False) -> dict:
    items = [
        {
            "question_id": i,
            "creation_date": ts(i),
            "title": f"AcmeCloud outage question {i}",
            "link": f"https://stackoverflow.com/q/{i}",
            "owner": {"display_name": f"u{i}"},
        }
        for i in range(1, n + 1)
    ]
    return {"items": items, "has_more": loop, "quota_max": 300, "quota_remaining": 200}


def gh_body(n: int, *, loop: bool = False) -> dict:
    count = 100 if loop else n  # a loop needs full pages to claim more
    items = [
        {
            "html_url": f"https://github.com/acme/cli/issues/{i}",
            "repository_url": "https://api.github.com/repos/acme/cli",
            "number": i,
            "title": f"AcmeCloud outage issue {i}",
            "user": {"login": f"u{i}"},
            "created_at": iso(NOW_I - 30 * i),
        }
        for i in range(1, count + 1)
    ]
    return {"total_count": 5000 if loop else count, "incomplete_results": False, "items": items}


def yt_body(n: int, *, loop: bool = False) -> dict:
    items = [
        {
            "id": {"kind": "youtube#video", "videoId": f"vid{i:08d}"},
            "snippet": {"publishedAt": iso(ts(i)), "title": f"AcmeCloud outage video {i}"},
        }
        for i in range(1, n + 1)
    ]
    body: dict = {"items": items}
    if loop:
        body["nextPageToken"] = "SAME"
    return body


def gdelt_body(n: int, *, loop: bool = False) -> dict:
    count = 250 if loop else n  # a full answer (GDELT's maximum) claims more
    articles = [
        {
            "url": f"https://news.example/acme/{i}",
            "title": f"AcmeCloud outage article {i}",
            "seendate": datetime.fromtimestamp(ts(min(i, n or 1)), UTC).strftime("%Y%m%dT%H%M%SZ"),
            "domain": "news.example",
            "language": "English",
        }
        for i in range(1, count + 1)
    ]
    return {"articles": articles} if articles else {}


@dataclass
class Case:
    name: str
    url: re.Pattern
    make: Callable[[], object]  # the source
    ok: Callable[[bool], tuple[str, str]]  # loop -> (content type, body)
    expected: int  # items stored after the catch-up run (kinds etc. multiply)
    topic_sources: dict


def _json(body: dict) -> tuple[str, str]:
    return "application/json", json.dumps(body)


CASES = [
    Case(
        "hackernews",
        re.compile(r"https://hn\.algolia\.com/.*"),
        HackerNewsSource,
        lambda loop: _json(hn_body(ITEMS, loop=loop)),
        ITEMS,
        {"hackernews": {"tags": ["story"], "max_pages": 3}},
    ),
    Case(
        "rss",
        re.compile(re.escape(FEED)),
        RssSource,
        lambda loop: ("application/rss+xml", rss_body(ITEMS)),
        ITEMS,
        {"rss": {"feeds": [FEED]}},
    ),
    Case(
        "stackexchange",
        re.compile(r"https://api\.stackexchange\.com/2\.3/search/advanced.*"),
        lambda: StackExchangeSource(sleep=lambda s: None),
        lambda loop: _json(se_body(ITEMS, loop=loop)),
        ITEMS,
        {"stackexchange": {"max_pages": 3}},
    ),
    Case(
        "github",
        re.compile(r"https://api\.github\.com/search/issues.*"),
        lambda: GitHubSource(sleep=lambda s: None),
        lambda loop: _json(gh_body(ITEMS, loop=loop)),
        ITEMS,
        {"github": {"kinds": ["issue"], "max_pages": 3}},
    ),
    Case(
        "youtube",
        re.compile(r"https://www\.googleapis\.com/youtube/v3/search.*"),
        lambda: YouTubeSource(StaticSecrets({"youtube/api_key": "k"}), sleep=lambda s: None),
        lambda loop: _json(yt_body(ITEMS, loop=loop)),
        ITEMS,
        {"youtube": {"max_comment_calls_per_run": 0}},
    ),
    Case(
        "gdelt",
        re.compile(r"https://api\.gdeltproject\.org/api/v2/doc/doc.*"),
        lambda: GdeltSource(sleep=lambda s: None),
        lambda loop: _json(gdelt_body(ITEMS, loop=loop)),
        ITEMS,
        {"gdelt": {"max_pages": 3, "tone": False}},
    ),
]


def topic(case: Case) -> Topic:
    return Topic(name="acme-cloud", terms=["acmecloud"], sources=case.topic_sources)


# --- faults ---------------------------------------------------------------------------------

# each fault: (name, applies to, answer for every request of run 1 or a callable raising)
FAULTS = {
    "429 with Retry-After": lambda case: (429, {"Retry-After": "7"}, "slow down"),
    "503": lambda case: (503, {}, "<html>unavailable</html>"),
    "connection reset": lambda case: requests.ConnectionError("Connection reset by peer"),
    "timeout": lambda case: requests.exceptions.ReadTimeout("read timed out"),
    "malformed body": lambda case: (
        200,
        {"Content-Type": "application/rss+xml" if case.name == "rss" else "application/json"},
        case.ok(False)[1][: len(case.ok(False)[1]) // 2],  # cut in half: truncated JSON/XML
    ),
}


def client(sleeps: list[float]) -> HttpClient:
    return HttpClient(UA, sleep=sleeps.append, rng=random.Random(7), max_retries=2)


def _serve(mock: responses.RequestsMock, case: Case, answer) -> list[int]:
    calls: list[int] = []

    def callback(request):
        calls.append(1)
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    mock.add_callback(responses.GET, case.url, callback=callback)
    # YouTube asks commentThreads for matched videos; the cases set that to 0 calls a run
    return calls


def stored(store: Store) -> list[str]:
    return [
        m.mention.native_id
        for m in store.mentions_between("acme-cloud", datetime(2026, 1, 1, tzinfo=UTC), NOW)
    ]


def healthy(case: Case, loop: bool = False):
    content_type, body = case.ok(loop)
    return (200, {"Content-Type": content_type}, body)


@pytest.fixture
def store(table, dynamodb) -> Store:
    return Store(dynamodb, table, clock=lambda: NOW)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_failed_run_keeps_the_checkpoint_and_the_next_run_catches_up(case, fault, store):
    # Given a source whose API fails with `fault` on every attempt of run 1
    source = case.make()
    sleeps: list[float] = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        _serve(mock, case, FAULTS[fault](case))
        # When run 1 collects
        first = collect_topic(source, topic(case), store, client(sleeps), now=NOW)
    after_first = store.get_checkpoint(case.name, "acme-cloud")
    stored_first = stored(store)

    # Then run 1 survived: it is marked failing with the reason, and its checkpoint did not move
    # (RSS: a truncated feed may still yield its first items; they are stored, and the feed's
    # mark does not move past what was not read)
    if case.name == "rss" and fault == "malformed body":
        assert first.error is None and 0 < len(stored_first) < case.expected
        assert any("not well-formed" in s for s in first.skipped)
    else:
        assert first.error is not None, first
        assert after_first.consecutive_failures == 1
        assert after_first.last_error and after_first.cursor is None
        assert stored_first == []
    if fault == "429 with Retry-After":
        assert sleeps == [7.0, 7.0]  # Retry-After honoured on each retry, no real sleeping
        assert "429" in after_first.last_error

    # When run 2 meets a healthy API
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        _serve(mock, case, healthy(case))
        second = collect_topic(source, topic(case), store, client([]), now=NOW)

    # Then every item is stored exactly once and the source is healthy again
    ids = stored(store)
    assert second.error is None, second.error
    assert len(ids) == len(set(ids)) == case.expected
    after = store.get_checkpoint(case.name, "acme-cloud")
    assert after.consecutive_failures == 0 and after.cursor is not None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_an_empty_page_first_loses_nothing_when_the_items_appear(case, store):
    # Given run 1 sees a valid but empty answer, and run 2 sees the items
    source = case.make()
    empty = {
        "hackernews": _json(hn_body(0)),
        "rss": ("application/rss+xml", rss_body(0)),
        "stackexchange": _json(se_body(0)),
        "github": _json(gh_body(0)),
        "youtube": _json(yt_body(0)),
        "gdelt": _json(gdelt_body(0)),
    }[case.name]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        _serve(mock, case, (200, {"Content-Type": empty[0]}, empty[1]))
        first = collect_topic(source, topic(case), store, client([]), now=NOW)
    # When run 2 collects from a healthy API (a spread-out YouTube search is due again later)
    later = NOW if case.name != "youtube" else NOW.replace(hour=11)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        _serve(mock, case, healthy(case))
        second = collect_topic(source, topic(case), store, client([]), now=later)
    # Then run 1 was healthy with nothing new, and run 2 stored every item once
    assert first.error is None and first.new == 0
    assert second.error is None and second.new == case.expected
    ids = stored(store)
    assert len(ids) == len(set(ids)) == case.expected


PAGED = [c for c in CASES if c.name != "rss"]  # a feed has no pages to loop over


@pytest.mark.parametrize("case", PAGED, ids=[c.name for c in PAGED])
def test_a_looping_cursor_ends_the_run_and_the_next_run_catches_up(case, store):
    # Given an API that serves the same page forever while claiming more
    source = case.make()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        calls = _serve(mock, case, healthy(case, loop=True))
        # When run 1 collects
        first = collect_topic(source, topic(case), store, client([]), now=NOW)
    # Then the run ends within its page budget and stores each looping item once
    assert first.error is None
    assert len(calls) <= 3
    ids = stored(store)
    assert len(ids) == len(set(ids)) == first.new > 0
    # And when run 2 meets a healthy API, nothing is stored twice and the source is healthy
    later = NOW if case.name != "youtube" else NOW.replace(hour=11)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        _serve(mock, case, healthy(case))
        second = collect_topic(source, topic(case), store, client([]), now=later)
    ids = stored(store)
    assert second.error is None and len(ids) == len(set(ids)) >= case.expected
    assert store.get_checkpoint(case.name, "acme-cloud").consecutive_failures == 0
