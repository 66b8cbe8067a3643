"""GitHub collection: queries per kind, headers and token, paging, the 1,000-result cap, rate
limits, parsing, the cursor."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from stormwatch.http import HttpError, HttpResponse
from stormwatch.secrets import StaticSecrets
from stormwatch.sources import get_source
from stormwatch.sources.github import (
    API_URL,
    OVERLAP_SECONDS,
    PACE_ANONYMOUS,
    PACE_TOKEN,
    GitHubSource,
    parse_issue,
)
from stormwatch.sources.window import WindowCursor
from stormwatch.watchlist import Topic

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "sources" / "github"
SHARED = Path(os.environ.get("STORMWATCH_SHARED", REPO.parent / "shared"))
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
NOW_I = int(NOW.timestamp())


def topic(**gh) -> Topic:
    return Topic(
        name="acme-cloud",
        phrases=["acme cloud"],
        terms=["acmecloud"],
        sources={"github": gh},
    )


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def issue(number: int, created: int, *, pr: bool = False, **fields) -> dict:
    base = {
        "html_url": f"https://github.com/acme/cli/{'pull' if pr else 'issues'}/{number}",
        "repository_url": "https://api.github.com/repos/acme/cli",
        "id": 10_000 + number,
        "number": number,
        "title": f"AcmeCloud problem {number}",
        "user": {"login": f"user{number}"},
        "comments": 1,
        "created_at": iso(created),
        "body": "text",
    }
    if pr:
        base["pull_request"] = {"url": "https://api.github.com/repos/acme/cli/pulls/1"}
    base.update(fields)
    return base


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


class FakeGitHub:
    """Answers like /search/issues over fixed items: is:issue/is:pr, created:A..B (inclusive,
    `*` open), newest first, per_page/page, never more than `limit` results reachable."""

    def __init__(self, items: list[dict], limit: int = 1000, headers: dict | None = None):
        self.items = items
        self.limit = limit
        self.headers = headers or {}
        self.requests: list[tuple[dict, dict]] = []

    def get(self, url, params=None, headers=None):
        assert url == API_URL
        params = dict(params or {})
        self.requests.append((params, dict(headers or {})))
        q = params["q"]
        want_pr = "is:pr" in q
        lo, hi = re.search(r"created:(\S+)\.\.(\S+)", q).groups()
        lo_i = _epoch(lo)
        hi_i = 2**40 if hi == "*" else _epoch(hi)
        selected = sorted(
            (
                i
                for i in self.items
                if bool(i.get("pull_request")) == want_pr
                and lo_i <= _epoch(i["created_at"]) <= hi_i
            ),
            key=lambda i: -_epoch(i["created_at"]),
        )
        per_page, page = int(params["per_page"]), int(params["page"])
        reachable = selected[: self.limit]
        body = {
            "total_count": len(selected),
            "incomplete_results": False,
            "items": reachable[(page - 1) * per_page : page * per_page],
        }
        return HttpResponse(200, self.headers, json.dumps(body).encode())


def source(**kwargs) -> tuple[GitHubSource, list[float]]:
    sleeps: list[float] = []
    return GitHubSource(sleep=sleeps.append, **kwargs), sleeps


def test_one_query_per_kind_with_terms_ored_window_sort_and_headers_without_token():
    """Given a topic with a phrase and a term and no token
    When GitHub is collected for the first time
    Then one query per kind (is:issue, is:pr) is made with the API headers and no Authorization,
    paced for the anonymous limit of 10 a minute."""
    api = FakeGitHub([])
    gh, sleeps = source(clock=lambda: 0.0)

    gh.fetch(topic(), None, api, now=NOW)

    start = iso(NOW_I - 24 * 3600 - OVERLAP_SECONDS + 1)
    assert [p["q"] for p, _ in api.requests] == [
        f'("acme cloud" OR acmecloud) is:issue created:{start}..*',
        f'("acme cloud" OR acmecloud) is:pr created:{start}..*',
    ]
    params, headers = api.requests[0]
    assert {k: v for k, v in params.items() if k != "q"} == {
        "sort": "created",
        "order": "desc",
        "per_page": 100,
        "page": 1,
        "advanced_search": "true",
    }
    assert headers == {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    assert sleeps == [PACE_ANONYMOUS]


def test_a_configured_token_is_sent_as_bearer_and_paces_for_30_a_minute():
    """Given a token in the secrets and repo/org qualifiers
    When collected
    Then requests carry Authorization: Bearer, the scope is ORed and pacing is 2.1 s."""
    api = FakeGitHub([])
    gh = get_source("github", secrets=StaticSecrets({"github/token": "ghp_secret"}))
    sleeps: list[float] = []
    gh.sleep, gh.clock = sleeps.append, lambda: 0.0

    gh.fetch(topic(repos=["acme/cli"], orgs=["acme"]), None, api, now=NOW)

    params, headers = api.requests[0]
    assert headers["Authorization"] == "Bearer ghp_secret"
    assert "(repo:acme/cli OR org:acme)" in params["q"]
    assert "ghp_secret" not in params["q"]
    assert sleeps == [PACE_TOKEN]  # before the second of the two queries


def test_issues_and_prs_are_paged_and_the_cursor_is_the_newest():
    """Given 150 issues and 30 pull requests in the window
    When collected
    Then both kinds are read completely (issues over two pages)."""
    items = [issue(i, NOW_I - 60 * i) for i in range(1, 151)]
    items += [issue(1000 + i, NOW_I - 61 * i, pr=True) for i in range(1, 31)]
    api = FakeGitHub(items)
    gh, _ = source()

    result = gh.fetch(topic(), None, api, now=NOW)

    assert len(result.mentions) == 180
    assert [p["page"] for p, _ in api.requests] == [1, 2, 1]
    assert WindowCursor.parse(result.cursor) == WindowCursor(high=NOW_I - 60)
    prs = [m for m in result.mentions if m.channel == "acme/cli pr"]
    assert len(prs) == 30


def test_the_1000_result_cap_is_walked_around_by_narrowing_the_window():
    """Given 2,300 issues in the window while the search serves at most 1,000
    When collected with enough pages
    Then the window narrows to older dates and every issue is read."""
    items = [issue(i, NOW_I - 30 * i) for i in range(1, 2301)]
    api = FakeGitHub(items)
    gh, _ = source()

    result = gh.fetch(
        topic(kinds=["issue"], max_pages=30, initial_lookback_hours=48), None, api, now=NOW
    )

    assert len(result.mentions) == 2300
    assert any(not p["q"].endswith("..*") for p, _ in api.requests)
    assert all(int(p["page"]) <= 10 for p, _ in api.requests)


def test_a_used_up_rate_limit_stops_and_the_next_run_waits_for_the_reset():
    """Given a response with x-ratelimit-remaining 0 and a reset in 50 s while more pages exist
    When collected, and again 20 s later
    Then run 1 stops after one request with the reset in the cursor; run 2 calls nothing."""
    items = [issue(i, NOW_I - 60 * i) for i in range(1, 151)]
    reset = NOW_I + 50
    api = FakeGitHub(items, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
    gh, _ = source()

    first = gh.fetch(topic(), None, api, now=NOW)
    second = gh.fetch(topic(), first.cursor, api, now=datetime.fromtimestamp(NOW_I + 20, UTC))

    assert len(api.requests) == 1 and first.truncated
    assert WindowCursor.parse(first.cursor).not_before == reset
    assert second.mentions == [] and "rate limit" in second.skipped[0]


def test_a_403_rate_limit_error_names_the_reset():
    """Given GitHub answers 403 with x-ratelimit-remaining 0
    When collected
    Then the source fails with a message naming the rate limit and its reset."""

    class Limited:
        def get(self, url, params=None, headers=None):
            raise HttpError(
                "GET ... failed: HTTP 403",
                url=url,
                status=403,
                body=b'{"message": "API rate limit exceeded for 1.2.3.4."}',
                headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(NOW_I + 30)},
            )

    gh, _ = source()
    with pytest.raises(
        HttpError, match=r"rate limit exceeded \(HTTP 403\); resets at 2026-11-25T09:00:30Z"
    ):
        gh.fetch(topic(), None, Limited(), now=NOW)


def test_edge_cases_parse_markup_emoji_long_text_and_skip_broken_items():
    """Given our fixture (emoji and markup in a title, a template comment, a very long body, a
    PR with a null body, items with a missing and an unparseable date)
    When parsed
    Then titles stay literal, comments are dropped, text is bounded, broken items are reasons."""
    data = json.loads((FIXTURES / "search_edge_cases.json").read_text(encoding="utf-8"))
    mentions, skipped = [], []
    for item in data["items"]:
        try:
            mentions.append(parse_issue(item, "acme-cloud"))
        except ValueError as exc:
            skipped.append(str(exc))

    first, pr = mentions
    assert first.native_id == "acme/cli#42" and first.channel == "acme/cli issue"
    assert first.title == "AcmeCloud login broken since 2026-11-25 😤 <b>urgent</b>"
    assert "Please fill in" not in first.text and first.text.startswith("Steps:")
    assert len(first.text) <= 4000
    assert first.engagement == 12 and first.author == "dev-ana"
    assert first.published == datetime(2026, 11, 25, 7, 12, tzinfo=UTC)
    assert pr.channel == "acme/sdk pr" and pr.text == ""
    assert pr.published == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert len(skipped) == 2 and all("created_at" in s for s in skipped)


def test_real_search_issues_payload_parses():
    """Given the real recorded /search/issues response (octokit fixtures, shared payloads)
    When its items are parsed
    Then both issues parse with their repo#number, author, ISO-8601 Z date and the emoji body."""
    path = SHARED / "payloads" / "github_search_issues.json"
    if not path.is_file():
        pytest.skip(f"real payload {path} not found (set STORMWATCH_SHARED to the shared folder)")
    data = json.loads(path.read_text(encoding="utf-8"))

    mentions = [parse_issue(item, "sesame") for item in data["body"]["items"]]

    assert [m.native_id.split("#")[1] for m in mentions] == ["2", "1"]
    assert mentions[0].author == "octokit-fixture-user-b"
    assert mentions[0].published == datetime(2022, 7, 19, 4, 40, 52, tzinfo=UTC)
    assert "😭" in mentions[0].text
    assert data["response_headers"]["X-RateLimit-Limit"] == "30"


def test_pacing_holds_across_topics_of_one_run():
    """Given one collect invocation that runs two topics back to back, without a token
    When the second topic's first query follows the first topic's last
    Then it waits too: GitHub's search limit is per client, not per topic."""
    api = FakeGitHub([])
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # the fake clock moves only by the pacer's waits
        sleeps.append(seconds)

    gh = GitHubSource(sleep=sleep, clock=lambda: sum(sleeps))

    gh.fetch(topic(), None, api, now=NOW)
    gh.fetch(topic(), None, api, now=NOW)

    # four queries (issues and pull requests per topic), each but the first paced
    assert len(api.requests) == 4 and sleeps == [PACE_ANONYMOUS] * 3
