"""Stack Exchange collection: requests, paging, backoff and quota, parsing, the cursor."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from stormwatch.attribution import credit_of
from stormwatch.http import HttpError, HttpResponse
from stormwatch.secrets import StaticSecrets
from stormwatch.sources import get_source
from stormwatch.sources.stackexchange import (
    API_URL,
    OVERLAP_SECONDS,
    StackExchangeSource,
    parse_question,
)
from stormwatch.sources.window import WindowCursor
from stormwatch.watchlist import Topic

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "sources" / "stackexchange"
SHARED = Path(os.environ.get("STORMWATCH_SHARED", REPO.parent / "shared"))
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
NOW_I = int(NOW.timestamp())


def topic(**se) -> Topic:
    return Topic(
        name="acme-cloud",
        phrases=["acme cloud"],
        terms=["acmecloud"],
        sources={"stackexchange": se},
    )


def question(qid: int, created: int, **fields) -> dict:
    base = {
        "question_id": qid,
        "creation_date": created,
        "title": f"AcmeCloud question {qid}",
        "link": f"https://stackoverflow.com/questions/{qid}",
        "owner": {"display_name": f"user{qid}", "link": f"https://stackoverflow.com/users/{qid}"},
        "score": 1,
        "answer_count": 0,
        "content_license": "CC BY-SA 4.0",
    }
    base.update(fields)
    return base


class FakeSE:
    """Answers like /2.3/search/advanced over fixed questions: fromdate/todate (inclusive),
    newest first, `page`/`pagesize`, `has_more`; extra wrapper fields can be scripted."""

    def __init__(self, items: list[dict], wrapper: dict | None = None) -> None:
        self.items = items
        self.wrapper = wrapper or {}
        self.requests: list[dict] = []

    def get(self, url, params=None, headers=None):
        assert url == API_URL
        params = dict(params or {})
        self.requests.append(params)
        lo = int(params["fromdate"])
        hi = int(params.get("todate", 2**40))
        selected = sorted(
            (q for q in self.items if lo <= q["creation_date"] <= hi),
            key=lambda q: -q["creation_date"],
        )
        size, page = int(params["pagesize"]), int(params["page"])
        body = {
            "items": selected[(page - 1) * size : page * size],
            "has_more": len(selected) > page * size,
            "quota_max": 300,
            "quota_remaining": 250,
            **self.wrapper,
        }
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(body).encode())


def source(**kwargs) -> tuple[StackExchangeSource, list[float]]:
    sleeps: list[float] = []
    return StackExchangeSource(sleep=sleeps.append, **kwargs), sleeps


def test_one_search_per_site_and_term_with_window_sort_filter_and_no_key():
    """Given a topic with a phrase and a term on two sites and no key configured
    When Stack Exchange is collected for the first time
    Then each site gets one search per term over the lookback window, newest first, with body."""
    api = FakeSE([])
    se, _ = source()

    se.fetch(topic(sites=["stackoverflow", "serverfault"]), None, api, now=NOW)

    assert [(r["site"], r["q"]) for r in api.requests] == [
        ("stackoverflow", '"acme cloud"'),
        ("stackoverflow", "acmecloud"),
        ("serverfault", '"acme cloud"'),
        ("serverfault", "acmecloud"),
    ]
    assert api.requests[0] == {
        "site": "stackoverflow",
        "q": '"acme cloud"',
        "fromdate": NOW_I - 24 * 3600 - OVERLAP_SECONDS + 1,
        "sort": "creation",
        "order": "desc",
        "pagesize": 100,
        "page": 1,
        "filter": "withbody",
    }


def test_the_key_from_secrets_and_tags_are_sent():
    """Given a configured key and tags
    When collected
    Then every request carries key= and tagged=a;b."""
    api = FakeSE([])
    se = get_source("stackexchange", secrets=StaticSecrets({"stackexchange/key": "k3y((("}))
    se.sleep = lambda s: None

    se.fetch(topic(tagged=["acme", "cloud"]), None, api, now=NOW)

    assert {r["key"] for r in api.requests} == {"k3y((("}
    assert {r["tagged"] for r in api.requests} == {"acme;cloud"}


def test_pages_are_followed_while_has_more_and_the_cursor_is_the_newest_item():
    """Given 250 questions in the window
    When collected
    Then pages 1-3 are read, all are returned once and the cursor is the newest creation date."""
    api = FakeSE([question(i, NOW_I - 10 * i) for i in range(1, 251)])
    se, _ = source()

    result = se.fetch(topic(), None, api, now=NOW)

    pages = [r["page"] for r in api.requests if r["q"] == "acmecloud"]
    assert pages == [1, 2, 3]
    assert len(result.mentions) == 250
    assert WindowCursor.parse(result.cursor) == WindowCursor(high=NOW_I - 10)
    assert not result.truncated


def test_the_page_cap_keeps_the_unread_older_part_owed_and_the_next_run_reads_it():
    """Given 250 questions and a budget of 2 pages per search
    When collected twice
    Then run 1 stops with the older part owed in the cursor, and run 2 reads exactly that."""
    items = [question(i, NOW_I - 10 * i) for i in range(1, 251)]
    api = FakeSE(items)
    se, _ = source()

    first = se.fetch(topic(max_pages=2), None, api, now=NOW)
    cursor = WindowCursor.parse(first.cursor)
    second = se.fetch(topic(max_pages=2), first.cursor, api, now=NOW)

    assert first.truncated and len(first.mentions) == 200
    assert cursor.high == NOW_I - 10 and cursor.gap == (
        NOW_I - 24 * 3600 - OVERLAP_SECONDS,
        NOW_I - 2000,
    )
    got = {m.native_id for m in first.mentions} | {m.native_id for m in second.mentions}
    assert got == {f"stackoverflow:{i}" for i in range(1, 251)}
    assert not second.truncated and WindowCursor.parse(second.cursor).gap is None


def test_a_short_backoff_is_slept_before_the_next_request():
    """Given responses that carry backoff=3
    When several pages are read
    Then the source sleeps about 3 s before each following request."""
    api = FakeSE([question(i, NOW_I - i) for i in range(1, 151)], wrapper={"backoff": 3})
    clock = [0.0]
    sleeps: list[float] = []

    def sleep(s):
        sleeps.append(s)
        clock[0] += s

    se = StackExchangeSource(sleep=sleep, clock=lambda: clock[0])
    result = se.fetch(topic(), None, api, now=NOW)

    assert len(result.mentions) == 150
    assert len(api.requests) == 4  # two pages for each of the two searches
    assert sum(1 for s in sleeps if s >= 2.9) == 3


def test_a_long_backoff_stops_the_run_and_is_obeyed_by_the_next_run():
    """Given a response asking to back off 120 s while more pages exist
    When collected, and again 60 s later
    Then run 1 stops with not_before in the cursor, and run 2 makes no request at all."""
    api = FakeSE([question(i, NOW_I - i) for i in range(1, 151)], wrapper={"backoff": 120})
    se, _ = source()

    first = se.fetch(topic(), None, api, now=NOW)
    calls = len(api.requests)
    second = se.fetch(topic(), first.cursor, api, now=datetime.fromtimestamp(NOW_I + 60, UTC))

    assert calls == 1 and first.truncated
    assert WindowCursor.parse(first.cursor).not_before == NOW_I + 121
    assert len(api.requests) == calls
    assert second.mentions == [] and second.cursor == first.cursor
    assert "back" in second.skipped[0] and second.truncated


def test_a_used_up_quota_stops_the_run_with_a_clear_note():
    """Given quota_remaining 0 on the first page and more pages
    When collected
    Then no further request is made and the note says the quota is used up."""
    api = FakeSE(
        [question(i, NOW_I - i) for i in range(1, 151)],
        wrapper={"quota_remaining": 0, "quota_max": 300},
    )
    se, _ = source()

    result = se.fetch(topic(), None, api, now=NOW)

    assert len(api.requests) == 1 and result.truncated
    assert any("quota of 300 used up" in s for s in result.skipped)


def test_a_throttle_violation_becomes_a_clear_error():
    """Given the API answers 400 with a throttle_violation error body
    When collected
    Then the source fails with the API's error name and the wait in the message."""
    body = {
        "error_id": 502,
        "error_name": "throttle_violation",
        "error_message": "too many requests from this IP, more requests available in 3600 seconds",
    }

    class Throttled:
        def get(self, url, params=None, headers=None):
            raise HttpError(
                f"GET {url} failed: HTTP 400", url=url, status=400, body=json.dumps(body).encode()
            )

    se, _ = source()
    with pytest.raises(HttpError, match=r"throttle_violation \(502\).*again in 3600 s"):
        se.fetch(topic(), None, Throttled(), now=NOW)


def test_edge_cases_parse_entities_markup_emoji_long_text_and_skip_broken_items():
    """Given our fixture with entities, markup, an emoji, a very long body and broken items
    When parsed
    Then titles and names are unescaped, bodies are text, and each broken item has a reason."""
    data = json.loads((FIXTURES / "search_edge_cases.json").read_text(encoding="utf-8"))
    api = _static(data)
    se, _ = source()

    result = se.fetch(topic(sites=["stackoverflow"]), None, api, now=NOW)

    by_id = {m.native_id: m for m in result.mentions}
    first = by_id["stackoverflow:80000001"]
    assert first.title == 'AcmeCloud deploy fails with "503 & retry" <since today>'
    assert first.author == "Zoë O'Brien"
    assert "😡" in first.text and "alert(1)" not in first.text and "<code>" not in first.text
    assert first.channel == (
        "stackoverflow · CC BY-SA 4.0 · https://stackoverflow.com/users/501/zoe-obrien"
    )
    credit = credit_of(first.source, first.channel)  # what the e-mails show (CC BY-SA)
    assert credit is not None and (credit.site, credit.licence) == ("stackoverflow", "CC BY-SA 4.0")
    assert credit.profile_url == "https://stackoverflow.com/users/501/zoe-obrien"
    assert first.published == datetime.fromtimestamp(1795588200, UTC)
    assert first.engagement == 5
    long = by_id["stackoverflow:80000002"]
    assert len(long.text) <= 4000 and long.text.endswith("…")
    assert long.engagement == 0 and long.channel == "stackoverflow · CC BY-SA"
    skipped = " | ".join(result.skipped)
    assert "missing creation_date" in skipped and "missing question_id" in skipped
    assert "expected an object" in skipped


def test_a_body_that_is_not_utf8_is_decoded_with_replacement_instead_of_failing():
    """Given a response whose bytes contain Latin-1 (not UTF-8)
    When collected
    Then the page still parses and the damaged character is replaced."""
    raw = json.dumps(
        {"items": [question(1, NOW_I - 60, title="Acme Cloud caf\u00e9")]}, ensure_ascii=False
    )
    api = _static_bytes(raw.encode("latin-1"))
    se, _ = source()

    result = se.fetch(topic(), None, api, now=NOW)

    assert [m.title for m in result.mentions] == ["Acme Cloud caf\ufffd"]


def test_a_question_with_a_site_language_gets_that_language():
    """Given a question from es.stackoverflow
    When parsed
    Then its language is Spanish."""
    mention = parse_question(question(5, NOW_I), "acme-cloud", "es.stackoverflow")
    assert mention.lang == "es" and mention.native_id == "es.stackoverflow:5"


def test_real_search_advanced_payload_parses():
    """Given the real recorded /search/advanced response (shared payloads)
    When its items are parsed
    Then all three parse, the &amp; in the third title is decoded and the licence is kept."""
    path = SHARED / "payloads" / "stackexchange_search_advanced.json"
    if not path.is_file():
        pytest.skip(f"real payload {path} not found (set STORMWATCH_SHARED to the shared folder)")
    data = json.loads(path.read_text(encoding="utf-8"))
    body = data.get("body", data)

    mentions = [parse_question(item, "mcp", "stackoverflow") for item in body["items"]]

    assert len(mentions) == 3
    assert "(macOS) & attributeKey1" in mentions[2].title
    assert all("CC BY-SA 4.0" in m.channel for m in mentions)
    assert mentions[0].author == "Masood Ahmad"
    assert mentions[0].published == datetime.fromtimestamp(1748665466, UTC)
    assert body["has_more"] is True and body["quota_remaining"] == 299


def _static(data: dict):
    return _static_bytes(json.dumps(data, ensure_ascii=False).encode("utf-8"))


def _static_bytes(content: bytes):
    class Static:
        def get(self, url, params=None, headers=None):
            return HttpResponse(200, {"content-type": "application/json"}, content, url=url)

    return Static()
