"""Reddit: OAuth token handling, search paging with `after`, the cursor, rate limits, fallback."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from stormwatch.collector import collect_topic
from stormwatch.http import HttpClient, HttpError, HttpResponse
from stormwatch.secrets import StaticSecrets
from stormwatch.source_state import MemorySourceState
from stormwatch.sources import get_source
from stormwatch.sources.reddit import (
    RSS_PACE_SECONDS,
    RedditCursor,
    parse_post,
    reddit_queries,
    user_agent,
)
from stormwatch.watchlist import Topic

from tests.support.fakes import MemoryStore

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
NOW_TS = NOW.timestamp()
REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("STORMWATCH_SHARED", REPO.parent / "shared")) / "payloads"
FIXTURES = REPO / "tests" / "fixtures" / "sources" / "reddit"
CREDS = {
    "reddit/client_id": "cid-123",
    "reddit/client_secret": "csecret-456",
    "reddit/username": "brandwatcher",
}
TOKEN = "tok-SECRET-789"


def topic(**opts) -> Topic:
    return Topic(
        name="acme-cloud",
        phrases=["acme cloud"],
        terms=["acmecloud"],
        sources={"reddit": opts},
    )


def shared(name: str) -> dict:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"shared payload {path} not found (set STORMWATCH_SHARED to ../shared)")
    return json.loads(path.read_text(encoding="utf-8"))


def post(n: int, created: float, **data) -> dict:
    return {
        "kind": "t3",
        "data": {
            "name": f"t3_p{n}",
            "id": f"p{n}",
            "created_utc": created,
            "title": f"AcmeCloud post {n}",
            "selftext": "",
            "author": f"user{n}",
            "subreddit": "sysadmin",
            "permalink": f"/r/sysadmin/comments/p{n}/post/",
            "score": 2,
            "num_comments": 1,
            **data,
        },
    }


class FakeReddit:
    """Token endpoint plus a `sort=new` search over `posts`, paged with `after` like Reddit."""

    def __init__(self, posts: list[dict], *, page_size: int = 100, headers=None) -> None:
        self.posts = posts
        self.page_size = page_size
        self.headers = headers or {"x-ratelimit-remaining": "997.0", "x-ratelimit-reset": "15"}
        self.calls: list[tuple[str, str, dict, dict]] = []
        self.fail: list[Exception] = []  # raised by the next searches, in order
        self.token_posts = 0

    def post(self, url, *, data=None, json=None, headers=None, auth=None):
        self.calls.append(("POST", url, dict(data or {}), dict(headers or {})))
        assert url == "https://www.reddit.com/api/v1/access_token"
        assert auth == ("cid-123", "csecret-456") and data == {"grant_type": "client_credentials"}
        self.token_posts += 1
        body = {"access_token": TOKEN, "token_type": "bearer", "expires_in": 86400}
        return HttpResponse(200, {}, _dumps(body), url)

    def get(self, url, params=None, headers=None):
        params = dict(params or {})
        self.calls.append(("GET", url, params, dict(headers or {})))
        if self.fail:
            raise self.fail.pop(0)
        ordered = sorted(self.posts, key=lambda c: -float(c["data"]["created_utc"]))
        start = 0
        if params.get("after"):
            names = [c["data"]["name"] for c in ordered]
            start = names.index(params["after"]) + 1
        page = ordered[start : start + self.page_size]
        more = start + self.page_size < len(ordered)
        after = page[-1]["data"]["name"] if page and more else None
        body = {"kind": "Listing", "data": {"after": after, "children": page}}
        return HttpResponse(200, self.headers, _dumps(body), url)

    def searches(self) -> list[dict]:
        return [c[2] for c in self.calls if c[0] == "GET"]


def _dumps(value) -> bytes:
    return json.dumps(value).encode()


def source(state=None, secrets=CREDS, sleep=None):
    src = get_source("reddit", secrets=StaticSecrets(secrets), state=state)
    src.sleep = sleep or (lambda s: pytest.fail(f"unexpected sleep {s}"))
    return src


# ---- the query and the request -----------------------------------------------------------


def test_the_topic_becomes_one_ored_search_with_phrases_quoted():
    """Given a topic's search terms
    When they are turned into Reddit searches
    Then phrases are quoted, terms ORed, repeats dropped, and long lists split at 512 chars."""
    assert reddit_queries(["acme cloud", "acmecloud", "AcmeCloud"]) == ['"acme cloud" OR acmecloud']
    many = reddit_queries([f"term{i:03d}" for i in range(100)])
    assert len(many) > 1 and all(len(q) <= 512 for q in many)


def test_oauth_search_sends_the_reddit_user_agent_and_a_bearer_token_and_caches_the_token():
    """Given credentials, a state store and an empty checkpoint
    When Reddit is collected twice
    Then the first run gets an app-only token with basic auth, both runs search sort=new with
    a `platform:app:version (by /u/name)` User-Agent, and the token is reused, not re-fetched."""
    reddit = FakeReddit([post(1, NOW_TS - 60)])
    state = MemorySourceState()

    first = source(state).fetch(topic(), None, reddit, now=NOW)
    source(state).fetch(topic(), first.cursor, reddit, now=NOW)

    assert reddit.token_posts == 1
    _, url, params, headers = reddit.calls[1]
    assert url == "https://oauth.reddit.com/search"
    assert params["q"] == '"acme cloud" OR acmecloud'
    assert params["sort"] == "new" and params["raw_json"] == "1" and params["limit"] == "100"
    assert headers["Authorization"] == f"bearer {TOKEN}"
    assert headers["User-Agent"].startswith("aws-lambda:stormwatch:v")
    assert headers["User-Agent"].endswith("(by /u/brandwatcher)")
    assert state.get_source_state("reddit", "token")["access_token"] == TOKEN


def test_subreddits_restrict_the_search():
    """Given a topic limited to two subreddits
    When collected
    Then the search goes to /r/a+b/search with restrict_sr=1."""
    reddit = FakeReddit([])

    source().fetch(topic(subreddits=["sysadmin", "r/devops"]), None, reddit, now=NOW)

    _, url, params, _ = reddit.calls[1]
    assert url == "https://oauth.reddit.com/r/sysadmin+devops/search"
    assert params["restrict_sr"] == "1"


def test_an_expired_token_is_replaced_once_when_the_search_says_401():
    """Given a cached token that Reddit no longer accepts
    When collected
    Then a new token is fetched once and the search repeated with it."""
    reddit = FakeReddit([post(1, NOW_TS - 60)])
    state = MemorySourceState()
    state.put_source_state(
        "reddit",
        "token",
        {"client_id": "cid-123", "access_token": "old", "expires_at": NOW_TS + 9999},
    )
    reddit.fail = [HttpError("GET x failed: HTTP 401", status=401)]

    result = source(state).fetch(topic(), None, reddit, now=NOW)

    assert [m.native_id for m in result.mentions] == ["t3_p1"]
    assert reddit.token_posts == 1
    assert reddit.calls[-1][3]["Authorization"] == f"bearer {TOKEN}"


# ---- parsing -------------------------------------------------------------------------------


def test_real_oauth_listing_2026_parses_with_its_rate_limit_headers():
    """Given the recorded 2026 OAuth listing (headers verbatim, remaining "997.0")
    When it is served as a search result
    Then both posts become mentions with fullname ids, permalinks and r/ channels, no sleep."""
    recorded = shared("reddit_listing_hot_2026.json")
    headers = {k: v[0] for k, v in recorded["response_headers"].items()}
    children = recorded["body"]["data"]["children"]
    reddit = FakeReddit(children, headers=headers)
    newest = max(c["data"]["created_utc"] for c in children)

    result = source().fetch(topic(), None, reddit, now=datetime.fromtimestamp(newest + 60, tz=UTC))

    by_id = {m.native_id: m for m in result.mentions}
    assert set(by_id) == {c["data"]["name"] for c in children}
    steak = by_id["t3_1skl1i1"]
    assert steak.url == "https://www.reddit.com/r/StupidFood/comments/1skl1i1/a_medium_rare_steak/"
    assert steak.channel == "r/StupidFood" and steak.title == 'A medium rare "steak."'
    assert steak.engagement == 714 + 428
    assert steak.published == datetime.fromtimestamp(1776108121, tz=UTC)


def test_real_2016_search_listing_in_the_old_schema_parses():
    """Given the recorded 2016 search listing (no author_fullname, permalink with ?ref=)
    When each child is parsed
    Then every post is usable, its rendered HTML body reduced to text."""
    body = shared("reddit_search_listing_2016.json")["body"]

    mentions = [parse_post(c, "acme-cloud") for c in body["data"]["children"]]

    assert len(mentions) == 2 and mentions[0].native_id == "t3_3gpbiu"
    assert mentions[0].text.startswith("solved\nProblem solved with this:")
    assert mentions[0].author == "dClauzel"


def test_edge_cases_entities_emoji_long_text_and_broken_items():
    """Given posts with escaped HTML, emoji, a huge body, removed text, odd timestamps and junk
    When the listing is parsed
    Then usable posts come through cleaned and bounded, the rest are skipped with a reason."""
    children = json.loads((FIXTURES / "listing_edge_cases.json").read_text(encoding="utf-8"))[
        "data"
    ]["children"]
    ok, bad = {}, []
    for child in children:
        try:
            mention = parse_post(child, "acme-cloud")
            ok[mention.native_id] = mention
        except ValueError as exc:
            bad.append(str(exc))

    assert set(ok) == {"t3_edge1", "t3_edge2", "t3_edge3"}
    assert ok["t3_edge1"].text == "Fish & chips on Acme Cloud 🐟 link"
    assert ok["t3_edge1"].author == "" and ok["t3_edge1"].engagement == 2
    assert ok["t3_edge2"].text == "" and ok["t3_edge2"].published.year == 2025
    assert len(ok["t3_edge3"].text) == 4000 and ok["t3_edge3"].text.endswith("…")
    assert "😀" in ok["t3_edge3"].title
    assert len(bad) == 4 and any("t3_edge4" in b for b in bad)


# ---- paging and the cursor -------------------------------------------------------------------


def test_paging_stops_at_the_checkpoint_and_skips_what_was_seen_at_its_second():
    """Given a checkpoint at second T with post 5 seen there, and posts above and below it
    When collected with pages of two
    Then only the newer posts (and a new one at T) are returned, and paging stops there."""
    t = NOW_TS - 3600
    posts = [post(1, t + 30), post(2, t + 20), post(3, t + 10), post(4, t), post(5, t)]
    posts += [post(n, t - 10 * n) for n in range(6, 20)]
    reddit = FakeReddit(posts, page_size=2)
    cursor = RedditCursor(high=t, ids=["t3_p5"]).dump()

    result = source().fetch(topic(), cursor, reddit, now=NOW)

    assert sorted(m.native_id for m in result.mentions) == ["t3_p1", "t3_p2", "t3_p3", "t3_p4"]
    assert len(reddit.searches()) == 3
    assert json.loads(result.cursor) == {"high": int(t + 30), "ids": ["t3_p1"]}
    assert not result.truncated


def test_a_page_cap_leaves_a_gap_that_the_next_run_fills_without_loss_or_repeats():
    """Given 9 new posts, pages of two and a cap of two pages
    When collected, then again after 3 more posts arrive
    Then the first run is truncated with a gap, the cursor never passes unread posts, and the
    two runs together return every post exactly once."""
    t = NOW_TS - 7200
    posts = [post(n, t + 100 * n) for n in range(1, 10)]
    reddit = FakeReddit(posts, page_size=2)
    start = RedditCursor(high=t).dump()

    first = source().fetch(topic(max_pages=2), start, reddit, now=NOW)
    posts += [post(n, t + 100 * n) for n in range(10, 13)]
    second = source().fetch(topic(max_pages=10), first.cursor, reddit, now=NOW)

    assert first.truncated and "gap" in json.loads(first.cursor)
    assert not second.truncated and "gap" not in json.loads(second.cursor)
    seen = [m.native_id for m in first.mentions] + [m.native_id for m in second.mentions]
    assert sorted(seen) == sorted(f"t3_p{n}" for n in range(1, 13))
    assert len(seen) == len(set(seen))


def test_a_looping_after_cursor_stops_paging():
    """Given a listing that keeps answering with the same `after`
    When collected
    Then paging stops with a note instead of spinning to the page cap."""

    class Looping(FakeReddit):
        def get(self, url, params=None, headers=None):
            self.calls.append(("GET", url, dict(params or {}), dict(headers or {})))
            body = {"data": {"after": "t3_same", "children": [post(1, NOW_TS - 10)]}}
            return HttpResponse(200, self.headers, _dumps(body), url)

    reddit = Looping([])

    result = source().fetch(topic(), None, reddit, now=NOW)

    assert len(reddit.searches()) == 2
    assert any("repeated the page cursor" in s for s in result.skipped)


# ---- rate limits and failures --------------------------------------------------------------


def test_an_exhausted_rate_limit_waits_for_a_short_reset_and_stops_for_a_long_one():
    """Given x-ratelimit-remaining "0.0"
    When the reset is 3 s, then 500 s
    Then the source sleeps 3 s and continues, and with 500 s stops truncated (cursor kept)."""
    posts = [post(n, NOW_TS - 10 * n) for n in range(1, 6)]
    slept: list[float] = []
    short = FakeReddit(
        posts, page_size=2, headers={"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "3"}
    )
    result = source(sleep=slept.append).fetch(topic(), None, short, now=NOW)
    assert slept == [3.0, 3.0] and len(result.mentions) == 5

    long = FakeReddit(
        posts, page_size=2, headers={"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "500"}
    )
    result = source().fetch(topic(), RedditCursor(high=NOW_TS - 3600).dump(), long, now=NOW)
    assert result.truncated and len(long.searches()) == 1
    assert any("rate limit" in s for s in result.skipped)


def test_blocked_403_is_a_health_state_and_the_checkpoint_stays(monkeypatch):
    """Given Reddit answering 403 "Blocked"
    When the collector runs the source
    Then the run fails with a clear message, the checkpoint is unchanged, health shows it,
    and no token or secret appears in the error."""
    reddit = FakeReddit([])
    reddit.fail = [HttpError("GET x: HTTP 403", status=403, body=b"<html>Blocked</html>")]
    store = MemoryStore()
    store.record_success("reddit", "acme-cloud", cursor='{"high":1,"ids":[]}', count=0, at=NOW)

    report = collect_topic(source(), topic(), store, reddit, now=NOW)

    checkpoint = store.get_checkpoint("reddit", "acme-cloud")
    assert not report.ok and 'HTTP 403 "Blocked"' in report.error
    assert checkpoint.cursor == '{"high":1,"ids":[]}' and checkpoint.consecutive_failures == 1
    assert checkpoint.health() == "refused"
    assert TOKEN not in report.error and "csecret" not in report.error


@pytest.mark.parametrize(
    "failure",
    [
        HttpError("GET x failed after 4 attempts: HTTP 503", status=503),
        HttpError("GET x failed after 4 attempts: ConnectionError: reset by peer"),
        HttpError("GET x failed after 4 attempts: ReadTimeout"),
    ],
)
def test_a_failing_search_fails_the_run_and_the_next_run_catches_up(failure):
    """Given a search that fails (503, connection reset, timeout, after HttpClient's retries)
    When collected, then again once Reddit is back
    Then the first run keeps the checkpoint, and the second returns the posts once."""
    reddit = FakeReddit([post(1, NOW_TS - 60), post(2, NOW_TS - 30)])
    reddit.fail = [failure]
    store = MemoryStore()

    first = collect_topic(source(), topic(), store, reddit, now=NOW)
    second = collect_topic(source(), topic(), store, reddit, now=NOW)

    assert not first.ok and store.get_checkpoint("reddit", "acme-cloud").consecutive_failures == 0
    assert second.ok and second.new == 2 and len(store.mentions) == 2


def test_malformed_json_fails_the_run_without_moving_the_checkpoint():
    """Given a search answered with a body that is not JSON (or not UTF-8)
    When collected
    Then the run fails naming the problem and the checkpoint is unchanged."""

    class Broken(FakeReddit):
        def get(self, url, params=None, headers=None):
            return HttpResponse(200, {}, b"\xff\xfe<html>oops", url)

    store = MemoryStore()

    report = collect_topic(source(), topic(), store, Broken([]), now=NOW)

    assert not report.ok and "not valid JSON" in report.error
    assert store.get_checkpoint("reddit", "acme-cloud").cursor is None


# ---- keyless fallback ----------------------------------------------------------------------


def test_without_credentials_the_keyless_search_rss_is_read():
    """Given no Reddit credentials and the recorded keyless search RSS (Atom)
    When collected
    Then search.rss is asked with sort=new, entries become t3_ mentions with clean text,
    authors without /u/, and the fallback is noted."""
    path = SHARED / "reddit_search_rss.xml"
    if not path.exists():
        pytest.skip(f"shared payload {path} not found (set STORMWATCH_SHARED to ../shared)")

    class Rss:
        def __init__(self) -> None:
            self.calls: list = []

        def get(self, url, params=None, headers=None):
            self.calls.append((url, dict(params or {}), dict(headers or {})))
            return HttpResponse(200, {"content-type": "application/atom+xml"}, path.read_bytes())

    http = Rss()
    now = datetime(2026, 3, 10, tzinfo=UTC)

    result = source(secrets={}).fetch(topic(initial_lookback_hours=720), None, http, now=now)

    url, params, headers = http.calls[0]
    assert url == "https://www.reddit.com/search.rss" and params["sort"] == "new"
    assert "Authorization" not in headers
    first = next(m for m in result.mentions if m.native_id == "t3_1rp0bma")
    assert first.author == "spiritofmyrtle" and first.channel == "r/batteries"
    assert "submitted by" not in first.text and first.text.startswith("So I don’t know")
    assert any("keyless search RSS" in s for s in result.skipped)


class SubredditFeeds:
    """Reddit's keyless listing feeds: `/r/<sub>/new/.rss` from fixture files, or a status."""

    def __init__(self, answers: dict[str, bytes | int]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict, dict]] = []

    def get(self, url, params=None, headers=None):
        self.calls.append((url, dict(params or {}), dict(headers or {})))
        answer = self.answers[url]
        if isinstance(answer, int):
            raise HttpError(f"GET {url} failed: HTTP {answer}", url=url, status=answer)
        return HttpResponse(200, {"content-type": "application/atom+xml"}, answer, url)


def feed_url(sub: str) -> str:
    return f"https://www.reddit.com/r/{sub}/new/.rss"


def feed(sub: str) -> bytes:
    return (FIXTURES / f"subreddit_new_{sub}.atom").read_bytes()


def test_without_credentials_topics_naming_subreddits_read_each_new_feed_politely():
    """Given no credentials and a topic that names r/aws and r/sysadmin
    When collected
    Then each subreddit's /new/.rss is read once, paced apart, with the Reddit User-Agent and
    no search; new posts become mentions (the lookback and the local query decide which)."""
    http = SubredditFeeds({feed_url("aws"): feed("aws"), feed_url("sysadmin"): feed("sysadmin")})
    sleeps: list[float] = []
    store = MemoryStore()
    reddit = source(secrets={}, sleep=sleeps.append)
    reddit.clock = lambda: 100.0  # a clock that does not move: the pause is the full interval

    report = collect_topic(reddit, topic(subreddits=["aws", "sysadmin"]), store, http, now=NOW)

    assert [c[0] for c in http.calls] == [feed_url("aws"), feed_url("sysadmin")]
    assert all("q" not in params for _, params, _ in http.calls)
    assert all(h["User-Agent"].startswith("aws-lambda:stormwatch:") for _, _, h in http.calls)
    assert sleeps == [RSS_PACE_SECONDS]
    assert report.ok and report.fetched == 3  # the post from two days ago is before the lookback
    assert report.not_matching == 1  # "Cold starts in Python 3.13"
    titles = sorted(m.title for m in store.mentions.values())
    assert titles == ["Acme Cloud outage megathread", "AcmeCloud down in eu-west?"]
    megathread = next(m for m in store.mentions.values() if m.native_id == "t3_1x0bb01")
    assert megathread.author == "pager_pat" and megathread.channel == "r/sysadmin"
    assert "submitted by" not in megathread.text
    assert any("subreddit feeds" in note for note in report.skipped)


def test_keyless_pacing_holds_across_topics_of_one_run():
    """Given one invocation collecting two topics that each name one subreddit, keyless
    When the second topic's feed follows the first topic's
    Then it waits the full interval: Reddit's limit is per client, not per topic."""
    http = SubredditFeeds({feed_url("aws"): feed("aws"), feed_url("sysadmin"): feed("sysadmin")})
    sleeps: list[float] = []
    reddit = source(secrets={}, sleep=sleeps.append)
    reddit.clock = lambda: 100.0
    reddit.fetch(topic(subreddits=["aws"]), None, http, now=NOW)
    reddit.fetch(topic(subreddits=["sysadmin"]), None, http, now=NOW)
    assert len(http.calls) == 2 and sleeps == [RSS_PACE_SECONDS]


def test_a_second_run_reads_only_what_is_newer_than_the_checkpoint():
    """Given a first keyless run over both feeds
    When the same feeds are read again
    Then nothing is returned twice."""
    http = SubredditFeeds({feed_url("aws"): feed("aws"), feed_url("sysadmin"): feed("sysadmin")})
    subject = topic(subreddits=["aws", "sysadmin"])
    first = source(secrets={}, sleep=lambda s: None).fetch(subject, None, http, now=NOW)
    again = source(secrets={}, sleep=lambda s: None).fetch(subject, first.cursor, http, now=NOW)
    assert len(first.mentions) == 3 and again.mentions == []


def test_one_refused_subreddit_feed_is_a_note_when_another_works():
    """Given r/aws refused (403) and r/sysadmin readable
    When collected
    Then the run succeeds with r/sysadmin's posts, notes the refusal and says it is partial."""
    http = SubredditFeeds({feed_url("aws"): 403, feed_url("sysadmin"): feed("sysadmin")})
    result = source(secrets={}, sleep=lambda s: None).fetch(
        topic(subreddits=["aws", "sysadmin"]), None, http, now=NOW
    )
    assert [m.native_id for m in result.mentions] == ["t3_1x0bb01"]
    assert result.truncated
    assert any("r/aws" in note and "403" in note for note in result.skipped)


@pytest.mark.parametrize("subreddits", [["aws", "sysadmin"], []])
def test_keyless_feeds_refused_from_a_cloud_network_mark_the_source_refused(subreddits):
    """Given no credentials and Reddit refusing every keyless request with 403 (as it does
    for cloud IP ranges)
    When the collector runs the source
    Then the run fails as "refused" (needs approval), not as an outage, naming the way out."""
    answers = {feed_url(s): 403 for s in subreddits} | {"https://www.reddit.com/search.rss": 403}
    store = MemoryStore()
    report = collect_topic(
        source(secrets={}, sleep=lambda s: None),
        topic(subreddits=subreddits),
        store,
        SubredditFeeds(answers),
        now=NOW,
    )
    checkpoint = store.get_checkpoint("reddit", "acme-cloud")
    assert not report.ok and "HTTP 403" in report.error
    assert "approv" in report.error
    assert checkpoint.health() == "refused"


def test_an_app_refused_at_the_token_endpoint_marks_the_source_refused():
    """Given Reddit answering the OAuth token request with 401 invalid_client (an app that
    is not approved, or revoked)
    When collected
    Then the source is "refused", and neither the client secret nor a token is in the error."""

    class Refusing(FakeReddit):
        def post(self, url, *, data=None, json=None, headers=None, auth=None):
            raise HttpError(
                f"POST {url} failed: HTTP 401",
                url=url,
                status=401,
                body=b'{"error": "invalid_client"}',
            )

    store = MemoryStore()
    report = collect_topic(source(), topic(), store, Refusing([]), now=NOW)
    assert not report.ok and "HTTP 401" in report.error and "approv" in report.error
    assert "csecret" not in report.error
    assert store.get_checkpoint("reddit", "acme-cloud").health() == "refused"


def test_user_agent_without_a_username_still_identifies_the_app():
    """Given no Reddit username
    When the User-Agent is built
    Then it keeps the platform:app:version form with a contact URL."""
    agent = user_agent(None)
    assert agent.startswith("aws-lambda:stormwatch:v") and "github.com" in agent


# ---- HttpClient.post ----------------------------------------------------------------------


class _Resp:
    def __init__(self, status, headers=None, body=b"{}"):
        self.status_code, self.headers, self.body, self.url = status, headers or {}, body, "u"

    def iter_content(self, chunk_size):
        yield self.body

    def close(self):
        pass


class _Session:
    def __init__(self, outcomes):
        self.outcomes, self.headers, self.posts = list(outcomes), {}, 0

    def post(self, url, **kwargs):
        self.posts += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def test_post_is_retried_only_when_the_server_asks_with_retry_after():
    """Given a token endpoint answering 429 with Retry-After: 2, then 200
    When posted
    Then it waits 2 s and succeeds; a connection reset or a plain 500 is not retried and the
    error names neither the body nor the credentials."""
    slept: list[float] = []
    ok = _Session([_Resp(429, {"Retry-After": "2"}), _Resp(200, body=b'{"a": 1}')])
    client = HttpClient("test-agent", session=ok, sleep=slept.append)
    assert client.post("https://t.example/token", data={"p": "pw"}).json() == {"a": 1}
    assert slept == [2.0]

    for outcome in (requests.ConnectionError("reset by peer"), _Resp(500)):
        session = _Session([outcome, _Resp(200)])
        client = HttpClient("test-agent", session=session, sleep=slept.append)
        with pytest.raises(HttpError) as info:
            client.post("https://t.example/token", data={"password": "pw-secret"}, auth=("a", "b"))
        assert session.posts == 1 and "pw-secret" not in str(info.value)
