"""GitHub issues and pull requests through the REST search API (`GET /search/issues`).

Requests
    One query per kind (``is:issue``, ``is:pr``: since 2025 a search must say which), with the
    topic's search terms ORed in parentheses, the optional ``repo:``/``org:`` qualifiers ORed,
    and the creation window: ``q=("acme cloud" OR acmecloud) is:issue
    created:2026-11-24T09:00:01Z..*`` plus ``sort=created&order=desc&per_page=100&page=N`` and
    ``advanced_search=true`` (the boolean syntax). Headers: ``Accept:
    application/vnd.github+json``, ``X-GitHub-Api-Version: 2022-11-28`` and, when the SSM
    parameter ``github/token`` exists, ``Authorization: Bearer <token>`` (never logged, never
    in a URL). A search allows at most five AND/OR/NOT operators, so long term lists are split
    into several queries.

Limits
    The search API allows 10 requests a minute without a token and 30 with one; requests are
    paced to stay under that (`PACE_ANONYMOUS`, `PACE_TOKEN`). ``x-ratelimit-remaining`` 0 stops
    the run and keeps ``x-ratelimit-reset`` in the cursor as ``not_before``. A search never
    serves more than 1,000 results; beyond that the window is narrowed to what is older than
    seen and paging restarts (as the Hacker News source does). ``incomplete_results`` (the
    search timed out) is noted in `skipped`.

Items
    Titles are plain text; bodies are Markdown (HTML comments from issue templates dropped).
    ``native_id`` is ``owner/repo#number``; ``channel`` is ``"owner/repo issue"`` or
    ``"owner/repo pr"``; ``created_at`` is ISO 8601 with a Z.

Cursor: see `stormwatch.sources.window`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import ValidationError

from stormwatch.http import HttpError
from stormwatch.models import FetchResult, Mention, iso
from stormwatch.query import search_terms
from stormwatch.sources.base import HttpGetter, KeyedSource, parse_timestamp, strip_tracking
from stormwatch.sources.window import (
    Page,
    WindowCursor,
    WindowScan,
    json_error,
    load_json,
    plan_next,
)
from stormwatch.watchlist import GitHubOptions, Topic

API_URL = "https://api.github.com/search/issues"
API_VERSION = "2022-11-28"
MAX_RESULTS = 1000
PER_PAGE = 100
OVERLAP_SECONDS = 600
PACE_ANONYMOUS = 6.5  # 10 search requests a minute
PACE_TOKEN = 2.1  # 30 a minute
TERMS_PER_QUERY = 3  # with up to 3 repo/org qualifiers: at most 4 ORs (GitHub allows 5)
KIND_QUALIFIER = {"issue": "is:issue", "pr": "is:pr"}
_HTML_COMMENT = re.compile(r"<!--.*?(-->|$)", re.DOTALL)


def gh_term(term: str) -> str:
    """A search term for `q`: `*` dropped, quoted when it is more than one word."""
    text = term.strip().rstrip("*").strip()
    if any(not (ch.isalnum() or ch == "_") for ch in text):
        text = '"' + text.replace('"', " ").strip() + '"'
    return text


def _any_of(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def build_queries(topic: Topic, opts: GitHubOptions) -> list[tuple[str, str]]:
    """(kind, q without the created: window) for every query a run makes."""
    terms = [gh_term(t) for t in search_terms(topic)]
    scopes = [f"repo:{r}" for r in opts.repos] + [f"org:{o}" for o in opts.orgs]
    scope_groups = [scopes[i : i + 3] for i in range(0, len(scopes), 3)] or [[]]
    queries: list[tuple[str, str]] = []
    for kind in opts.kinds:
        for i in range(0, len(terms), TERMS_PER_QUERY):
            for scope in scope_groups:
                parts = [_any_of(terms[i : i + TERMS_PER_QUERY]), KIND_QUALIFIER[kind]]
                if scope:
                    parts.append(_any_of(scope))
                queries.append((kind, " ".join(parts)))
    return queries


def _created(lo: int, hi: int | None) -> str:
    start = iso(datetime.fromtimestamp(lo + 1, tz=UTC))
    end = iso(datetime.fromtimestamp(hi, tz=UTC)) if hi is not None else "*"
    return f"created:{start}..{end}"


def _repo(item: dict[str, Any]) -> str:
    patterns = (
        ("repository_url", r"/repos/([^/]+/[^/?#]+)"),
        ("html_url", r"//[^/]+/([^/]+/[^/]+)/"),
    )
    for key, pattern in patterns:
        url = item.get(key)
        if isinstance(url, str) and (m := re.search(pattern, url)):
            return m.group(1)
    return ""


def parse_issue(item: Any, topic: str, source: str = "github") -> Mention:
    """One `/search/issues` item as a Mention; raises ValueError when it is unusable."""
    if not isinstance(item, dict):
        raise ValueError(f"malformed item: expected an object, got {type(item).__name__}")
    repo = _repo(item)
    number = item.get("number")
    if repo and isinstance(number, int) and not isinstance(number, bool):
        native = f"{repo}#{number}"
    elif item.get("id") not in (None, ""):
        native = str(item["id"])
    else:
        raise ValueError("malformed item: no repository/number and no id")
    try:
        created = parse_timestamp(item.get("created_at"), "created_at")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"malformed item {native}: created_at: {exc}") from exc
    kind = "pr" if item.get("pull_request") else "issue"
    user = u if isinstance(u := item.get("user"), dict) else {}
    reactions = r if isinstance(r := item.get("reactions"), dict) else {}
    counts = (item.get("comments"), reactions.get("total_count"))
    engagement = sum(int(v) for v in counts if isinstance(v, int) and not isinstance(v, bool))
    body = b if isinstance(b := item.get("body"), str) else ""
    try:
        return Mention(
            topic=topic,
            source=source,
            native_id=native,
            published=created,
            title=str(item.get("title") or ""),
            text=_HTML_COMMENT.sub("", body),
            url=strip_tracking(item["html_url"]) if isinstance(item.get("html_url"), str) else None,
            author=str(user.get("login") or ""),
            engagement=max(0, engagement),
            channel=f"{repo} {kind}".strip(),
            lang=None,
        )
    except (ValidationError, ValueError) as exc:
        reason = str(exc).splitlines()[0]
        raise ValueError(f"malformed item {native}: {reason}") from exc


def _int_header(headers: Any, name: str) -> int | None:
    try:
        return int(float(headers.get(name)))
    except (TypeError, ValueError):
        return None


class GitHubSource(KeyedSource):
    """`github`: issues and pull requests from `/search/issues` (see the module docstring)."""

    name = "github"
    secret_names: ClassVar[tuple[str, ...]] = ("github/token",)
    # the issue search filters by creation date, any age
    history: ClassVar[timedelta] = timedelta(days=3650)

    def fetch(
        self,
        topic: Topic,
        cursor: str | None,
        http: HttpGetter,
        *,
        now: datetime,
        deadline: float | None = None,
    ) -> FetchResult:
        opts = topic.sources.github or GitHubOptions()
        now_i = int(now.timestamp())
        skipped: list[str] = []
        old = WindowCursor.read(cursor, skipped)
        if (when := old.waiting_until(now_i)) is not None:
            return FetchResult(
                cursor=cursor,
                skipped=[f"github: search rate limit used up until {when}; not called"],
                truncated=True,
            )
        token = self.secrets.get("github/token")
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        pacer = self.pacers.for_client(
            http, PACE_TOKEN if token else PACE_ANONYMOUS, sleep=self.sleep, clock=self.clock
        )
        state: dict[str, Any] = {"not_before": None}

        def fetcher(query: str) -> Callable[[int, int | None, int], Page]:
            def fetch_page(lo: int, hi: int | None, page: int) -> Page:
                if not pacer.wait(deadline):
                    return Page(more=True, stop="time budget used up", requested=False)
                params = {
                    "q": f"{query} {_created(lo, hi)}",
                    "sort": "created",
                    "order": "desc",
                    "per_page": PER_PAGE,
                    "page": page,
                    "advanced_search": "true",
                }
                try:
                    resp = http.get(API_URL, params=params, headers=headers)
                except HttpError as exc:
                    raise _explain(exc) from exc
                return self._page(load_json(resp), resp.headers, topic.name, query, page, state)

            return fetch_page

        start = old.start(now_i, opts.initial_lookback_hours * 3600)
        searches = [(q, fetcher(q)) for _, q in build_queries(topic, opts)]
        run = WindowScan(
            budget=opts.max_pages,
            per_page=PER_PAGE,
            max_results=MAX_RESULTS,
            out_of_time=lambda: deadline is not None and self.clock() >= deadline,
        )
        owed = run.scan_all(searches, start - OVERLAP_SECONDS, old.gap)
        nxt = plan_next(old, start=start, newest=run.newest, owed=owed, now=now_i)
        nxt.not_before = state["not_before"]
        return run.result("github", nxt, owed=bool(owed), skipped=skipped)

    def _page(
        self, data: Any, headers: Any, topic: str, query: str, page_no: int, state: dict[str, Any]
    ) -> Page:
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise HttpError(f"GET {API_URL} (q={query!r}): response has no items list")
        items = data["items"]
        total = data.get("total_count")
        total = total if isinstance(total, int) and not isinstance(total, bool) else 0
        page = Page(more=len(items) >= PER_PAGE and page_no * PER_PAGE < total)
        for item in items:
            try:
                page.mentions.append(parse_issue(item, topic, self.name))
            except ValueError as exc:
                page.skipped.append(f"github: {exc}")
        if data.get("incomplete_results") is True:
            page.skipped.append(
                f"github: {query!r} page {page_no}: the search timed out (incomplete_results); "
                "some items may be missing"
            )
        remaining = _int_header(headers, "x-ratelimit-remaining")
        reset = _int_header(headers, "x-ratelimit-reset")
        if remaining is not None and remaining <= 0:
            if reset is not None:
                state["not_before"] = reset
            when = iso(datetime.fromtimestamp(reset, tz=UTC)) if reset else "the reset"
            page.stop = f"search rate limit used up until {when}"
        return page


def _explain(exc: HttpError) -> HttpError:
    """An HttpError naming GitHub's reason (rate limit and its reset, validation message)."""
    body = json_error(exc)
    remaining = _int_header(exc.headers, "x-ratelimit-remaining")
    reset = _int_header(exc.headers, "x-ratelimit-reset")
    if exc.status in (403, 429) and (remaining == 0 or "rate limit" in str(body.get("message"))):
        when = iso(datetime.fromtimestamp(reset, tz=UTC)) if reset else "unknown"
        text = f"github: search rate limit exceeded (HTTP {exc.status}); resets at {when}"
    elif body.get("message"):
        text = f"github: HTTP {exc.status}: {body['message']}"
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            text += f" ({errors[0].get('message') or errors[0].get('code')})"
    else:
        return exc
    return HttpError(text, url=exc.url, status=exc.status, body=exc.body, headers=exc.headers)
