"""Bluesky: the session kept between runs, searchPosts paging, the cursor, failures."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stormwatch.backfill import MAX_DAYS
from stormwatch.collector import collect_source, collect_topic
from stormwatch.http import HttpError, HttpResponse
from stormwatch.secrets import StaticSecrets
from stormwatch.source_state import MemorySourceState
from stormwatch.sources import get_source
from stormwatch.sources.bluesky import BskyCursor, jwt_exp, parse_post
from stormwatch.watchlist import Topic

from tests.support.fakes import MemoryStore

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
NOW_TS = int(NOW.timestamp())
REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("STORMWATCH_SHARED", REPO.parent / "shared")) / "payloads"
FIXTURES = REPO / "tests" / "fixtures" / "sources" / "bluesky"
CREDS = {"bluesky/handle": "brand.bsky.social", "bluesky/app_password": "abcd-efgh-ijkl-mnop"}
SEARCH = "https://bsky.social/xrpc/app.bsky.feed.searchPosts"


def topic(**opts) -> Topic:
    return Topic(name="acme-cloud", phrases=["acme cloud"], sources={"bluesky": opts})


def jwt(exp: int, tag: str) -> str:
    def enc(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    return f"{enc({'alg': 'ES256K'})}.{enc({'exp': exp, 'tag': tag})}.c2ln"


def post(n: int, minutes_ago: float) -> dict:
    t = (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "uri": f"at://did:plc:u{n}/app.bsky.feed.post/rk{n}",
        "author": {"did": f"did:plc:u{n}", "handle": f"u{n}.bsky.social"},
        "record": {"createdAt": t, "text": f"Acme Cloud post {n}", "langs": ["en"]},
        "indexedAt": t,
        "likeCount": 1,
    }


class FakeBluesky:
    """createSession/refreshSession plus searchPosts over `posts` (since/until, offset cursor)."""

    def __init__(self, posts: list[dict], page_size: int = 100, depth: int = 10**9) -> None:
        self.posts = posts
        self.page_size = page_size
        self.depth = depth  # no next cursor beyond this many results (the lexicon allows it)
        self.logins = self.refreshes = 0
        self.access_exp = NOW_TS + 7200
        self.valid_tokens: set[str] = set()
        self.refresh_fails = False
        self.login_error: HttpError | None = None
        self.searches: list[dict] = []
        self.auth_headers: list[str] = []

    def _session(self, tag: str) -> HttpResponse:
        access = jwt(self.access_exp, f"access-{tag}")
        self.valid_tokens.add(access)
        body = {"accessJwt": access, "refreshJwt": jwt(NOW_TS + 90 * 86400, f"refresh-{tag}")}
        return HttpResponse(200, {}, json.dumps(body).encode())

    def post(self, url, *, data=None, json=None, headers=None, auth=None):
        if url.endswith("createSession"):
            assert json == {"identifier": "brand.bsky.social", "password": "abcd-efgh-ijkl-mnop"}
            if self.login_error:
                raise self.login_error
            self.logins += 1
            return self._session(f"login{self.logins}")
        assert url.endswith("refreshSession") and headers["Authorization"].startswith("Bearer ")
        if self.refresh_fails:
            raise HttpError("POST refresh: HTTP 400", status=400, body=b'{"error":"ExpiredToken"}')
        self.refreshes += 1
        return self._session(f"refresh{self.refreshes}")

    def get(self, url, params=None, headers=None):
        assert url == SEARCH
        token = headers["Authorization"].removeprefix("Bearer ")
        self.auth_headers.append(token)
        if token not in self.valid_tokens:
            raise HttpError("GET search: HTTP 400", status=400, body=b'{"error":"ExpiredToken"}')
        params = dict(params)
        self.searches.append(params)
        since = datetime.fromisoformat(params["since"])
        until = datetime.fromisoformat(params["until"]) if "until" in params else None
        hits = [
            p
            for p in sorted(self.posts, key=lambda p: p["indexedAt"], reverse=True)
            if datetime.fromisoformat(p["indexedAt"]) >= since
            and (until is None or datetime.fromisoformat(p["indexedAt"]) < until)
        ]
        start = int(params.get("cursor", 0))
        page = hits[start : start + self.page_size]
        body = {"posts": page}
        if start + self.page_size < min(len(hits), self.depth):
            body["cursor"] = str(start + self.page_size)
        return HttpResponse(200, {}, json.dumps(body).encode(), url)


def source(state=None, secrets=CREDS):
    return get_source("bluesky", secrets=StaticSecrets(secrets), state=state)


def test_real_search_payload_parses_into_post_links():
    """Given the recorded authenticated searchPosts response (25 posts)
    When each post is parsed
    Then every one is usable, keyed by at:// uri, linked on bsky.app, dated by sortAt."""
    path = SHARED / "bluesky_searchPosts.json"
    if not path.exists():
        pytest.skip(f"shared payload {path} not found (set STORMWATCH_SHARED to ../shared)")
    body = json.loads(path.read_text(encoding="utf-8"))["body"]
    now = datetime(2025, 5, 20, tzinfo=UTC)

    mentions = [parse_post(p, "t", now=now) for p in body["posts"]]

    assert len(mentions) == 25
    first = mentions[0]
    assert (
        first.native_id == "at://did:plc:kkergqgbhb56ptpwj2wenkje/app.bsky.feed.post/3lpk2u6qo222m"
    )
    assert first.url == "https://bsky.app/profile/socpaperbot.bsky.social/post/3lpk2u6qo222m"
    assert first.published == datetime(2025, 5, 19, 17, 10, 9, 561858, tzinfo=UTC)


def test_edge_cases_timestamps_invalid_handles_markup_and_junk():
    """Given posts dated in the future, with nanoseconds or an offset, an invalid handle,
    markup in the text, and broken ones
    When parsed
    Then dates are the earlier of createdAt/indexedAt (capped at now), the link uses the DID
    for an invalid handle, text stays literal, and the broken ones are refused."""
    raw = json.loads((FIXTURES / "searchPosts_edge_cases.json").read_text(encoding="utf-8"))
    ok, bad = [], []
    for item in raw["posts"]:
        try:
            ok.append(parse_post(item, "t", now=NOW))
        except ValueError as exc:
            bad.append(str(exc))

    future, invalid, offset, norecord = ok
    assert future.published == datetime(2026, 11, 25, 8, 50, tzinfo=UTC) and future.lang is None
    assert invalid.url == "https://bsky.app/profile/did:plc:inv/post/3kinvalid"
    assert invalid.text == "Acme Cloud &amp; <b>markup</b> stays literal 🌩️"
    assert invalid.lang == "en" and invalid.engagement == 10
    assert offset.published == datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
    assert norecord.text == ""
    assert len(bad) == 2


def test_one_login_then_the_stored_session_is_reused_across_runs():
    """Given no stored session
    When Bluesky is collected twice with the same state store
    Then createSession runs once, the second run reuses the stored access token, the search
    is sort=latest with since, and no token shows in the cursor or skipped notes."""
    bsky = FakeBluesky([post(1, 10)])
    state = MemorySourceState()

    first = source(state).fetch(topic(), None, bsky, now=NOW)
    second = source(state).fetch(topic(), first.cursor, bsky, now=NOW)

    assert bsky.logins == 1 and bsky.refreshes == 0
    assert bsky.searches[0]["q"] == '"acme cloud"' and bsky.searches[0]["sort"] == "latest"
    assert bsky.searches[0]["since"] == "2026-11-24T09:00:00Z"
    assert bsky.searches[1]["since"] == "2026-11-25T08:45:00Z"  # newest − 5 min overlap
    assert state.items[("bluesky", "session")]["handle"] == "brand.bsky.social"
    assert state.expires[("bluesky", "session")] == NOW_TS + 90 * 86400
    for text in (first.cursor, second.cursor, *first.skipped, *second.skipped):
        assert "eyJ" not in text


def test_an_expired_access_token_is_refreshed_not_logged_in_again():
    """Given a stored session whose access token has expired
    When collected
    Then refreshSession is used and no new login happens."""
    bsky = FakeBluesky([post(1, 10)])
    state = MemorySourceState()
    state.put_source_state(
        "bluesky",
        "session",
        {
            "handle": "brand.bsky.social",
            "accessJwt": jwt(NOW_TS - 10, "old"),
            "refreshJwt": jwt(NOW_TS + 86400, "r"),
        },
    )

    result = source(state).fetch(topic(), None, bsky, now=NOW)

    assert (bsky.logins, bsky.refreshes) == (0, 1) and len(result.mentions) == 1


def test_a_failed_refresh_falls_back_to_one_login():
    """Given an expired access token and a refresh token the server rejects
    When collected
    Then the source logs in once and goes on."""
    bsky = FakeBluesky([post(1, 10)])
    bsky.refresh_fails = True
    source_ = source()
    source_._session = {
        "handle": "brand.bsky.social",
        "accessJwt": jwt(NOW_TS - 10, "old"),
        "refreshJwt": jwt(NOW_TS + 86400, "r"),
    }

    result = source_.fetch(topic(), None, bsky, now=NOW)

    assert bsky.logins == 1 and len(result.mentions) == 1


def test_a_search_rejecting_the_token_refreshes_once_and_retries():
    """Given a stored access token that looks valid but the server has revoked
    When collected
    Then the search says ExpiredToken, the session is refreshed once and the search repeated."""
    bsky = FakeBluesky([post(1, 10)])
    state = MemorySourceState()
    state.put_source_state(
        "bluesky",
        "session",
        {
            "handle": "brand.bsky.social",
            "accessJwt": jwt(NOW_TS + 3600, "revoked"),
            "refreshJwt": jwt(NOW_TS + 86400, "r"),
        },
    )

    result = source(state).fetch(topic(), None, bsky, now=NOW)

    assert bsky.refreshes == 1 and len(result.mentions) == 1
    assert len(bsky.auth_headers) == 2


def test_missing_credentials_show_as_not_configured_in_health():
    """Given no Bluesky credentials
    When the collector runs the source
    Then the run fails with "not configured" and nothing is requested."""
    bsky = FakeBluesky([post(1, 10)])
    store = MemoryStore()

    report = collect_topic(source(secrets={}), topic(), store, bsky, now=NOW)

    assert not report.ok and "not configured" in report.error
    assert bsky.searches == [] and bsky.logins == 0


def test_a_rate_limited_login_fails_the_run_and_keeps_the_checkpoint():
    """Given createSession answering 429 (30 logins per 5 minutes)
    When collected
    Then the run fails, the checkpoint stays, and the password is not in the error."""
    bsky = FakeBluesky([post(1, 10)])
    bsky.login_error = HttpError("POST createSession failed: HTTP 429", status=429)
    store = MemoryStore()
    store.record_success("bluesky", "acme-cloud", cursor='{"high":"x"}', count=0, at=NOW)

    report = collect_topic(source(), topic(), store, bsky, now=NOW)

    assert not report.ok and "429" in report.error and "abcd-efgh" not in report.error
    assert store.get_checkpoint("bluesky", "acme-cloud").cursor == '{"high":"x"}'


def test_a_page_cap_leaves_a_gap_the_next_run_fills_without_loss_or_repeats():
    """Given 7 new posts, pages of 2 and a cap of 2 pages
    When collected, then again with a larger cap after 2 more posts
    Then the first run is truncated with an owed range, and the two runs together return
    every post, and storing both stores each post exactly once."""
    posts = [post(n, 60 - 5 * n) for n in range(1, 8)]
    bsky = FakeBluesky(posts, page_size=2)
    state = MemorySourceState()
    start = BskyCursor(high=NOW - timedelta(hours=2)).dump()

    first = source(state).fetch(topic(max_pages=2), start, bsky, now=NOW)
    posts += [post(8, 1), post(9, 0.5)]
    second = source(state).fetch(topic(max_pages=20), first.cursor, bsky, now=NOW)

    assert first.truncated and "gap" in json.loads(first.cursor)
    assert not second.truncated and "gap" not in json.loads(second.cursor)
    got = [m.native_id for m in first.mentions] + [m.native_id for m in second.mentions]
    assert set(got) == {p["uri"] for p in posts}
    store = MemoryStore()
    new = sum(store.put_mention(m) for m in first.mentions + second.mentions)
    assert new == len(posts) == len(store.mentions)  # overlap re-reads are no-op writes


def test_a_looping_cursor_and_an_empty_page_end_the_search():
    """Given a server that repeats its cursor, and one that answers an empty page
    When collected
    Then each search stops (the loop with a note) instead of running to the page cap."""

    class Loop(FakeBluesky):
        def get(self, url, params=None, headers=None):
            self.searches.append(dict(params))
            return HttpResponse(
                200, {}, json.dumps({"posts": [post(1, 1)], "cursor": "7"}).encode()
            )

    loop = Loop([])
    result = source().fetch(topic(), None, loop, now=NOW)
    assert len(loop.searches) == 2 and any("repeated" in s for s in result.skipped)

    empty = FakeBluesky([])
    assert source().fetch(topic(), None, empty, now=NOW).mentions == []
    assert len(empty.searches) == 1


def test_malformed_json_fails_the_run_and_keeps_the_checkpoint():
    """Given a search answered with a body that is not JSON
    When the collector runs
    Then the run fails naming the problem and the checkpoint is unchanged."""

    class Broken(FakeBluesky):
        def get(self, url, params=None, headers=None):
            return HttpResponse(200, {}, b"{not json", url)

    store = MemoryStore()

    report = collect_topic(source(), topic(), store, Broken([]), now=NOW)

    assert not report.ok and "not valid JSON" in report.error
    assert store.get_checkpoint("bluesky", "acme-cloud").cursor is None


def test_jwt_expiry_is_read_without_verification_and_garbage_is_none():
    """Given a JWT and some junk
    When their exp is read
    Then the JWT's claim comes back and junk gives None."""
    assert jwt_exp(jwt(123, "x")) == 123
    assert jwt_exp("not-a-jwt") is None and jwt_exp("a.!!!.c") is None


def month_of_posts(count: int) -> list[dict]:
    """`count` posts spread over days 3..27 before NOW (none in the live run's first day)."""
    span = (MAX_DAYS - 4) * 24 * 60
    return [post(n, 3 * 24 * 60 + span * n / count) for n in range(1, count + 1)]


def test_a_new_topic_is_backfilled_28_days_in_steps_within_the_page_budget():
    """Given a new topic with 250 posts over the past 28 days and one page per term and run
    When the collector runs three times an hour apart
    Then each run collects live first, then one backfill step reads the next 100 posts of the
    month (since/until), continuing where it stopped, until every post is stored and done."""
    bsky, store, state = FakeBluesky(month_of_posts(250)), MemoryStore(), MemorySourceState()
    runs = []
    for hour in range(3):
        now = NOW + timedelta(hours=hour)
        runs.append(collect_source(source(state), [topic(max_pages=1)], store, bsky, now=now))
    assert [[r.backfill for r in run] for run in runs] == [[False, True]] * 3
    assert [run[1].fetched for run in runs][:2] == [100, 100]
    assert [run[1].backfill_done for run in runs] == [False, False, True]
    assert len(store.mentions) == 250
    checkpoint = store.get_checkpoint("bluesky", "acme-cloud")
    assert checkpoint.backfill.since == NOW - timedelta(days=MAX_DAYS)


def test_a_search_that_stops_paging_on_a_full_page_walks_down_below_its_oldest_post():
    """Given a server that serves no next cursor after the first 100 results
    When a backfill step asks for the past month with pages to spare
    Then the source narrows `until` to the oldest post seen and reads on: all 250 posts."""
    bsky = FakeBluesky(month_of_posts(250), depth=100)
    lo, hi = NOW - timedelta(days=MAX_DAYS), NOW
    step = json.dumps({"high": NOW_TS, "gap": [int(lo.timestamp()), int(hi.timestamp())]})
    result = source().fetch(topic(max_pages=5), step, bsky, now=NOW)
    assert len(result.mentions) == 250 and not result.truncated
    assert len(bsky.searches) == 3
