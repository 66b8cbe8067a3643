"""Hacker News collection through Algolia: requests, paging, the 1,000-hit cap, the cursor."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from stormwatch.http import HttpError, HttpResponse
from stormwatch.sources import get_source
from stormwatch.sources.hackernews import HackerNewsSource, HnCursor, parse_hit
from stormwatch.watchlist import Topic

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
NOW_I = int(NOW.timestamp())


def topic(**hn) -> Topic:
    return Topic(
        name="acme-cloud",
        phrases=["acme cloud"],
        terms=["acmecloud"],
        sources={"hackernews": {"tags": ["story", "comment"], **hn}},
    )


def hit(object_id: int, created: int, *, query: str = "acmecloud", **fields) -> dict:
    base = {
        "objectID": str(object_id),
        "created_at_i": created,
        "author": f"user{object_id}",
        "title": f"AcmeCloud story {object_id}",
        "url": f"https://news.example/{object_id}",
        "points": 3,
        "num_comments": 1,
        "_tags": ["story", f"author_user{object_id}"],
        "_query": query,
    }
    base.update(fields)
    return base


class FakeAlgolia:
    """Answers like hn.algolia.com search_by_date over a fixed set of hits: filters by query and
    numericFilters, sorts newest first, pages, and never serves more than `limit` hits."""

    def __init__(self, hits: list[dict], limit: int = 1000) -> None:
        self.hits = hits
        self.limit = limit
        self.requests: list[dict] = []

    def get(self, url, params=None, headers=None):
        assert url == "https://hn.algolia.com/api/v1/search_by_date"
        params = dict(params or {})
        self.requests.append(params)
        query = params["query"].strip('"')
        selected = [h for h in self.hits if h.get("_query", query) == query]
        for op, value in re.findall(r"created_at_i(>|<=|<)(\d+)", params["numericFilters"]):
            test = {">": int.__gt__, "<=": int.__le__, "<": int.__lt__}[op]
            # a hit without created_at_i (malformed) is passed through, as seen in the wild
            selected = [
                h
                for h in selected
                if "created_at_i" not in h or test(h["created_at_i"], int(value))
            ]
        selected.sort(key=lambda h: -h.get("created_at_i", NOW_I))
        per_page, page = int(params["hitsPerPage"]), int(params["page"])
        reachable = selected[: self.limit]
        nb_pages = -(-len(reachable) // per_page)
        body = {
            "hits": reachable[page * per_page : (page + 1) * per_page],
            "nbHits": len(selected),
            "nbPages": nb_pages,
            "page": page,
            "hitsPerPage": per_page,
        }
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(body).encode())


def test_one_search_per_term_with_tags_window_and_page_size():
    """Given a topic with a phrase and a term and no cursor
    When Hacker News is collected
    Then one search per term is made, the phrase quoted, over the lookback window."""
    algolia = FakeAlgolia([])

    get_source("hackernews").fetch(topic(hits_per_page=50), None, algolia, now=NOW)

    assert [r["query"] for r in algolia.requests] == ['"acme cloud"', "acmecloud"]
    assert algolia.requests[0] == {
        "query": '"acme cloud"',
        "tags": "(story,comment)",
        "numericFilters": f"created_at_i>{NOW_I - 24 * 3600}",
        "hitsPerPage": 50,
        "page": 0,
    }


def test_results_of_all_searches_are_merged_once_each():
    """Given two searches that both find the same story
    When collected
    Then the union is returned and the shared story appears once."""
    algolia = FakeAlgolia(
        [
            hit(1, NOW_I - 100, query="acme cloud"),
            hit(2, NOW_I - 200, query="acme cloud"),
            hit(2, NOW_I - 200, query="acmecloud"),
            hit(3, NOW_I - 300, query="acmecloud"),
        ]
    )

    result = HackerNewsSource().fetch(topic(), None, algolia, now=NOW)

    assert sorted(m.native_id for m in result.mentions) == ["1", "2", "3"]
    assert result.cursor == str(NOW_I - 100)
    assert not result.truncated


def test_pages_are_followed_until_the_last_one():
    """Given 250 matching hits and 100 per page
    When collected
    Then pages 0, 1 and 2 are read and every hit is returned."""
    algolia = FakeAlgolia([hit(i, NOW_I - i) for i in range(1, 251)])

    result = HackerNewsSource().fetch(topic(), None, algolia, now=NOW)

    pages = [r["page"] for r in algolia.requests if r["query"] == "acmecloud"]
    assert pages == [0, 1, 2]
    assert len(result.mentions) == 250
    assert result.pages == 4  # 1 for the phrase search + 3


def test_the_1000_hit_cap_is_walked_around_by_narrowing_the_window():
    """Given 2,500 hits in the window while Algolia serves at most 1,000 per query
    When collected
    Then the search narrows to older timestamps and nothing is lost."""
    hits = [hit(i, NOW_I - 10 * i) for i in range(1, 2501)]
    algolia = FakeAlgolia(hits)

    result = HackerNewsSource().fetch(
        topic(max_pages=50, initial_lookback_hours=24), None, algolia, now=NOW
    )

    assert len(result.mentions) == 2500
    assert not result.truncated
    assert any("created_at_i<=" in r["numericFilters"] for r in algolia.requests)
    assert all(int(r["page"]) * int(r["hitsPerPage"]) < 1000 for r in algolia.requests)


def test_running_out_of_pages_keeps_the_unseen_older_part_in_the_cursor():
    """Given more hits than the page budget allows
    When collected twice
    Then the first run is marked truncated without skipping the older hits, and the second run
    fetches the new ones and then the owed older range."""
    hits = [hit(i, NOW_I - 60 * i) for i in range(1, 251)]
    algolia = FakeAlgolia(hits)
    options = {"max_pages": 2, "hits_per_page": 100}

    first = HackerNewsSource().fetch(topic(**options), None, algolia, now=NOW)

    assert first.truncated
    assert len(first.mentions) == 200
    cursor = HnCursor.parse(first.cursor)
    assert cursor.high == NOW_I - 60
    assert cursor.gap == (NOW_I - 24 * 3600, NOW_I - 60 * 200)

    later = NOW.replace(minute=30)
    algolia.hits.append(hit(999, int(later.timestamp()) - 5))
    second = HackerNewsSource().fetch(topic(**options), first.cursor, algolia, now=later)

    ids = {m.native_id for m in second.mentions}
    assert "999" in ids
    assert {str(i) for i in range(200, 251)} <= ids
    assert not second.truncated
    assert second.cursor == str(int(later.timestamp()) - 5)
    narrowed = [r for r in algolia.requests[-4:] if "<=" in r["numericFilters"]]
    assert narrowed, "the second run should have asked for the owed range"


def test_next_run_starts_at_the_cursor_with_a_short_overlap():
    """Given a cursor from the previous run
    When collected
    Then only items newer than the cursor minus five minutes are requested."""
    algolia = FakeAlgolia([])

    result = HackerNewsSource().fetch(topic(), "1795590000", algolia, now=NOW)

    assert algolia.requests[0]["numericFilters"] == "created_at_i>1795589700"
    assert result.cursor == "1795590000"  # nothing new: the checkpoint stays


def test_a_deadline_stops_paging_cleanly_and_the_cursor_does_not_move_past_unseen_items():
    """Given a deadline that has already passed
    When collected
    Then no request is made, the result is truncated, and the window will be read next time."""
    algolia = FakeAlgolia([hit(1, NOW_I - 100)])
    source = HackerNewsSource(clock=lambda: 100.0)

    result = source.fetch(topic(), "1795590000", algolia, now=NOW, deadline=50.0)

    assert algolia.requests == []
    assert result.truncated
    assert result.mentions == []
    assert int(HnCursor.parse(result.cursor).high or 0) <= 1795590000


def test_malformed_hits_are_skipped_with_a_reason_and_the_rest_kept():
    """Given a page with a hit missing created_at_i and one missing objectID
    When collected
    Then both are described in skipped and the good hit is returned."""
    good = hit(10, NOW_I - 50)
    no_time = hit(11, 0)
    del no_time["created_at_i"]
    no_id = hit(12, NOW_I - 60)
    del no_id["objectID"]
    algolia = FakeAlgolia([good, no_time, no_id])

    result = HackerNewsSource().fetch(topic(), None, algolia, now=NOW)

    assert [m.native_id for m in result.mentions] == ["10"]
    assert "malformed hit objectID=11: missing created_at_i" in result.skipped
    assert "malformed hit: missing objectID" in result.skipped


def test_a_comment_is_mapped_with_html_stripped_and_story_context():
    """Given an Algolia comment hit with HTML and entities
    When parsed
    Then the text is plain, paragraphs become lines, and the story gives title and link."""
    comment = {
        "objectID": "7919418",
        "created_at_i": 1403235154,
        "author": "fleitz",
        "points": None,
        "num_comments": None,
        "comment_text": "They aren&#x27;t <i>wrong</i>.<p>See "
        '<a href="https:&#x2F;&#x2F;x.example">https:&#x2F;&#x2F;x.example</a> '
        "&amp; &lt;script&gt;alert(1)&lt;&#x2F;script&gt;",
        "story_title": "Starbucks admits it's not contributing",
        "story_url": "http://news.example/starbucks",
        "_tags": ["comment", "author_fleitz", "story_7918547"],
    }

    mention = parse_hit(comment, "coffee")

    assert mention.text == "They aren't wrong.\nSee https://x.example & <script>alert(1)</script>"
    assert mention.title == "Starbucks admits it's not contributing"
    assert mention.url == "http://news.example/starbucks"
    assert mention.channel == "comment"
    assert mention.engagement == 0
    assert mention.published == datetime(2014, 6, 20, 3, 32, 34, tzinfo=UTC)
    assert (mention.source, mention.topic, mention.lang) == ("hackernews", "coffee", None)


def test_a_story_without_a_safe_url_links_to_the_hn_item():
    """Given a text-only story and one with a javascript: URL
    When parsed
    Then both link to their news.ycombinator.com item, and engagement is points + comments."""
    text_only = hit(46220577, NOW_I, url=None, points=37, num_comments=4, story_text="<p>hi")
    del text_only["url"]
    hostile = hit(5, NOW_I, url="javascript:alert(1)", title="<script>alert(1)</script>")

    assert parse_hit(text_only, "t").url == "https://news.ycombinator.com/item?id=46220577"
    assert parse_hit(text_only, "t").engagement == 41
    assert parse_hit(hostile, "t").url == "https://news.ycombinator.com/item?id=5"
    assert parse_hit(hostile, "t").title == "<script>alert(1)</script>"  # literal text


def test_a_transport_failure_raises_so_the_runner_keeps_the_old_cursor():
    """Given Algolia failing
    When collected
    Then HttpError reaches the caller."""

    class Down:
        def get(self, url, params=None, headers=None):
            raise HttpError("GET https://hn.algolia.com/... failed: HTTP 503", status=503)

    with pytest.raises(HttpError, match="503"):
        HackerNewsSource().fetch(topic(), "1795590000", Down(), now=NOW)


def test_an_unreadable_cursor_is_noted_and_the_lookback_used():
    """Given a cursor this source never wrote
    When collected
    Then the run notes it and starts from the lookback window."""
    algolia = FakeAlgolia([])

    result = HackerNewsSource().fetch(topic(), "not-a-cursor", algolia, now=NOW)

    assert any("unreadable cursor" in s for s in result.skipped)
    assert algolia.requests[0]["numericFilters"] == f"created_at_i>{NOW_I - 24 * 3600}"


def test_a_backfill_reads_28_days_back_over_several_runs_within_the_page_budget():
    """Given a new topic with 250 hits spread over 28 days and a budget of 2 pages of 100 per
    search and run
    When the collector runs it three times an hour apart
    Then the live run comes first each time, the backfill reads the month from its top down,
    continuing where it stopped, until every hit is stored and the backfill is done (in two
    steps: a step spends no page on the newest minutes); the third run is live only."""
    from stormwatch.backfill import MAX_DAYS
    from stormwatch.collector import collect_source

    from tests.support.fakes import MemoryStore

    month = MAX_DAYS * 86400
    hits = [hit(i, NOW_I - 3 * 86400 - (month - 4 * 86400) * i // 250) for i in range(1, 251)]
    algolia, store = FakeAlgolia(hits), MemoryStore()
    subject = Topic(
        name="acme-cloud",
        terms=["acmecloud"],
        sources={"hackernews": {"max_pages": 2, "hits_per_page": 100}},
    )
    runs = []
    for hour in range(3):
        now = NOW + timedelta(hours=hour)
        runs.append(collect_source(HackerNewsSource(), [subject], store, algolia, now=now))
    assert [[r.backfill for r in run] for run in runs] == [[False, True]] * 2 + [[False]]
    assert [run[1].backfill_done for run in runs[:2]] == [False, True]
    assert len(store.mentions) == 250
    checkpoint = store.get_checkpoint("hackernews", "acme-cloud")
    assert checkpoint.backfill.since == NOW - timedelta(days=MAX_DAYS)
    assert checkpoint.cursor is not None and "gap" not in checkpoint.cursor


def test_a_backfill_moves_with_a_budget_of_one_page_per_search():
    """Given a new topic with 250 hits over 28 days and `max_pages: 1`
    When the collector runs it three times an hour apart
    Then each backfill step spends its one page on the owed month, not on the newest minutes
    (a step's cursor is at "now": nothing newer exists), and three steps read it all."""
    from stormwatch.backfill import MAX_DAYS
    from stormwatch.collector import collect_source

    from tests.support.fakes import MemoryStore

    month = MAX_DAYS * 86400
    hits = [hit(i, NOW_I - 3 * 86400 - (month - 4 * 86400) * i // 250) for i in range(1, 251)]
    algolia, store = FakeAlgolia(hits), MemoryStore()
    subject = Topic(
        name="acme-cloud",
        terms=["acmecloud"],
        sources={"hackernews": {"max_pages": 1, "hits_per_page": 100}},
    )
    runs = []
    for hour in range(3):
        now = NOW + timedelta(hours=hour)
        runs.append(collect_source(HackerNewsSource(), [subject], store, algolia, now=now))
    assert [run[1].backfill_done for run in runs] == [False, False, True]
    assert [run[1].fetched for run in runs][:2] == [100, 100]
    assert len(store.mentions) == 250
