"""Reddit: new posts matching the topic, via the OAuth API or, without credentials, search RSS.

Credentials (SSM, see docs/sources.md)
    ``reddit/client_id`` and ``reddit/client_secret`` of a Reddit "script"/"web" app; optional
    ``reddit/username`` for the User-Agent ("by /u/name", as Reddit's API rules ask). With them
    the source uses the application-only OAuth grant (``grant_type=client_credentials``) and
    searches ``https://oauth.reddit.com/search``; the token (valid ~24 h) is kept in the source
    state between runs and fetched again shortly before it expires or when a search says 401.
    Without them it reads keyless feeds and notes the fallback in the run's skipped list: each
    named subreddit's ``/r/<name>/new/.rss``, else ``https://www.reddit.com/search.rss`` (first
    page only, paced RSS_PACE_SECONDS apart for Reddit's unauthenticated limits).

Refusals (`stormwatch.http.AccessRefused`, health "needs approval / refused")
    Since late 2025 new API apps need Reddit's approval (Responsible Builder Policy), and Reddit
    answers keyless requests from cloud IP ranges with 403. A 401/403 on the token request, a
    403 on the OAuth search, or 403 on every keyless feed is a refusal, not an outage; one
    refused feed among several is a note and a partial run.

Query
    One search for the whole topic: its search terms ORed, phrases quoted
    (``"acme cloud" OR acmecloud``); searches longer than Reddit's 512 characters are split.
    ``subreddits`` restrict it to ``/r/a+b/search?restrict_sr=1``. Results are ``sort=new``,
    newest first, 100 a page, ``raw_json=1`` (no HTML-escaping of text).

Rate limits
    Every response's ``x-ratelimit-remaining`` (a float string such as "997.0") and
    ``x-ratelimit-reset`` (seconds) are obeyed: when nothing remains the source waits for the
    reset if that fits in the time budget and is short, otherwise stops (``truncated``).
    A 403 (Reddit answers "Blocked" to clients it refuses) fails the run as refused (above).

Cursor
    ``{"high": <newest created_utc>, "ids": [fullnames at that second]}``, plus
    ``"gap": {"after": "t3_…", "low": <created_utc>}`` when a run stopped early (page cap,
    deadline, rate limit): the listing below fullname ``after`` down to ``low`` is still owed and
    the next run walks it after the new items. The cursor therefore never moves past items that
    were not fetched. Paging stops at items older than the checkpoint, at the listing's end, at a
    repeated ``after`` (a looping cursor) or at the page cap.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from importlib import metadata
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import ValidationError

from stormwatch.http import AccessRefused, HttpError
from stormwatch.models import FetchResult, Mention
from stormwatch.query import search_terms
from stormwatch.secrets import NoSecrets, Secrets
from stormwatch.source_state import SourceState
from stormwatch.sources.base import HttpGetter, SourceHttp, html_to_text, strip_tracking
from stormwatch.sources.rss import FeedError, FeedSpec, parse_feed
from stormwatch.sources.window import Pacer, PacerPerClient, json_error
from stormwatch.timeutil import parse_timestamp
from stormwatch.watchlist import RedditOptions, Topic

OAUTH_URL = "https://www.reddit.com/api/v1/access_token"
API_BASE = "https://oauth.reddit.com"
RSS_BASE = "https://www.reddit.com"
MAX_QUERY_CHARS = 512
PAGE_SIZE = 100
TOKEN_MARGIN_SECONDS = 300
MAX_RATE_WAIT_SECONDS = 30.0
STATE_KEY = "token"
RSS_PACE_SECONDS = 6.0  # keyless: Reddit allows about 10 requests a minute per IP
KEYLESS_SEARCH = "no Reddit credentials configured: using the keyless search RSS (first page only)"
KEYLESS_SUBREDDITS = (
    "no Reddit credentials configured: reading the subreddit feeds /r/<name>/new/.rss "
    "(newest posts of each, first page only)"
)
KEYLESS_REFUSED = (
    "Reddit refused keyless access (HTTP 403): it refuses unauthenticated requests from cloud "
    "IP ranges such as AWS Lambda's; an API app approved by Reddit (Responsible Builder "
    "Policy) is needed, see docs/sources.md#reddit"
)
APP_REFUSED = (
    "Reddit refused the app's credentials (HTTP {status}{error}): new API apps need Reddit's "
    "approval under its Responsible Builder Policy; check that the app is approved and that "
    "client_id and client_secret are right"
)


def user_agent(username: str | None) -> str:
    """``<platform>:<app id>:<version> (by /u/<name>)``, the form Reddit's API rules ask for."""
    try:
        version = metadata.version("stormwatch")
    except metadata.PackageNotFoundError:  # pragma: no cover - bare checkout
        version = "0"
    who = f"by /u/{username.removeprefix('/u/').removeprefix('u/')}" if username else None
    contact = who or "+https://github.com/stormwatch/stormwatch"
    return f"aws-lambda:stormwatch:v{version} ({contact})"


def reddit_queries(terms: list[str]) -> list[str]:
    """The topic's terms as few Reddit searches as fit: phrases quoted, ORed, ≤512 chars each."""
    parts: list[str] = []
    for term in terms:
        text = term.strip().rstrip("*").replace('"', " ").strip()
        if not text:
            continue
        part = f'"{text}"' if any(not ch.isalnum() for ch in text) else text
        if part.casefold() not in {p.casefold() for p in parts}:
            parts.append(part)
    queries: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current} OR {part}" if current else part
        if len(candidate) > MAX_QUERY_CHARS and current:
            queries.append(current)
            candidate = part
        current = candidate[:MAX_QUERY_CHARS]
    if current:
        queries.append(current)
    return queries


# --------------------------------------------------------------------------------------------
# Parsing


def _created(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)  # the usual case, exact
    return parse_timestamp(value, "created_utc", naive_is_utc=True).timestamp()


def _body_text(data: dict[str, Any]) -> str:
    html = data.get("selftext_html")
    if isinstance(html, str) and html.strip():
        # without raw_json=1 Reddit sends the HTML entity-escaped ("&lt;div&gt;")
        if html.lstrip().startswith("&lt;"):
            html = unescape(html)
        text = html_to_text(html)
    else:
        raw = data.get("selftext")
        text = raw if isinstance(raw, str) else ""
    return "" if text.strip() in ("[removed]", "[deleted]") else text


def parse_post(child: Any, topic: str, source: str = "reddit") -> Mention:
    """One listing child (``{"kind": "t3", "data": {…}}``) as a Mention; ValueError if bad."""
    if not isinstance(child, dict) or not isinstance(child.get("data"), dict):
        raise ValueError("malformed listing child: expected an object with data")
    data = child["data"]
    name = data.get("name") or (f"t3_{data['id']}" if data.get("id") else None)
    if not isinstance(name, str) or not name:
        raise ValueError("malformed post: missing name/id")
    try:
        created = _created(data.get("created_utc", data.get("created")))
        permalink = data.get("permalink")
        url = (
            RSS_BASE + permalink
            if isinstance(permalink, str) and permalink.startswith("/")
            else data.get("url")
        )
        author = data.get("author")
        author = "" if author in (None, "[deleted]") else str(author)
        counts = [data.get("score"), data.get("num_comments")]
        engagement = sum(
            max(0, v) for v in counts if isinstance(v, int) and not isinstance(v, bool)
        )
        subreddit = data.get("subreddit")
        title = data.get("title")
        return Mention(
            topic=topic,
            source=source,
            native_id=name,
            published=datetime.fromtimestamp(created, tz=UTC),
            title=title if isinstance(title, str) else "",
            text=_body_text(data),
            url=strip_tracking(url) if isinstance(url, str) else None,
            author=author,
            engagement=engagement,
            channel=f"r/{subreddit}" if isinstance(subreddit, str) and subreddit else "",
            lang=None,  # Reddit's `lang` is rarely set and not reliable; routed later
        )
    except (ValidationError, ValueError, OverflowError, OSError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"malformed post {name}: {reason}") from exc


# --------------------------------------------------------------------------------------------
# Cursor


@dataclass
class RedditCursor:
    high: float | None = None
    ids: list[str] = field(default_factory=list)
    gap_after: str | None = None
    gap_low: float | None = None

    @classmethod
    def parse(cls, cursor: str | None) -> RedditCursor:
        if not cursor or not cursor.strip():
            return cls()
        data = json.loads(cursor)
        gap = data.get("gap") or {}
        return cls(
            high=float(data["high"]) if data.get("high") is not None else None,
            ids=[str(i) for i in data.get("ids", [])],
            gap_after=str(gap["after"]) if gap.get("after") else None,  # None: from the top
            gap_low=float(gap["low"]) if gap.get("low") is not None else None,
        )

    def dump(self) -> str | None:
        if self.high is None:
            return None
        data: dict[str, Any] = {"high": int(self.high), "ids": sorted(self.ids)}
        if self.gap_low is not None:
            data["gap"] = {"after": self.gap_after or None, "low": int(self.gap_low)}
        return json.dumps(data, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# The source


class _Stop(Exception):
    """Paging stops here for a budget reason (pages, deadline, rate limit)."""


@dataclass
class _Run:
    topic: Topic
    http: SourceHttp
    opts: RedditOptions
    headers: dict[str, str]
    deadline: float | None
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    pages: int = 0
    mentions: dict[str, Mention] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def out_of_time(self) -> bool:
        return self.deadline is not None and self.clock() >= self.deadline

    def obey_rate_limit(self, headers: Any) -> None:
        try:
            remaining = float(headers.get("x-ratelimit-remaining", "nan"))
            reset = float(headers.get("x-ratelimit-reset", "0"))
        except (TypeError, ValueError):
            return
        if not remaining < 1:  # also false for NaN (header absent)
            return
        budget_left = None if self.deadline is None else self.deadline - self.clock()
        if reset <= MAX_RATE_WAIT_SECONDS and (budget_left is None or reset < budget_left):
            self.sleep(reset)
            return
        self.skipped.append(
            f"Reddit rate limit used up; resets in {reset:.0f}s, next run continues"
        )
        raise _Stop


class RedditSource:
    """`reddit`: see the module docstring."""

    name = "reddit"
    secret_names: ClassVar[tuple[str, ...]] = (
        "reddit/client_id",
        "reddit/client_secret",
        "reddit/username",
    )
    # listings serve the newest ~1,000 items; search has no date window
    history: ClassVar[timedelta] = timedelta(0)

    def __init__(
        self,
        secrets: Secrets | None = None,
        state: SourceState | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.secrets = secrets or NoSecrets()
        self.state = state
        self.clock = clock
        self.sleep = sleep
        self._token: dict[str, Any] | None = None  # when there is no state store
        # keyless: one pacer for the life of the source, so every topic's feeds are paced
        self._pacers = PacerPerClient()

    def __repr__(self) -> str:
        return "RedditSource()"

    # ---- token ---------------------------------------------------------------------------

    def _credentials(self) -> tuple[str, str] | None:
        client_id = self.secrets.get("reddit/client_id")
        client_secret = self.secrets.get("reddit/client_secret")
        return (client_id, client_secret) if client_id and client_secret else None

    def _cached_token(self, client_id: str, now_ts: float) -> str | None:
        cached = self.state.get_source_state(self.name, STATE_KEY) if self.state else self._token
        if (
            cached
            and cached.get("client_id") == client_id
            and isinstance(cached.get("access_token"), str)
            and float(cached.get("expires_at", 0)) > now_ts + TOKEN_MARGIN_SECONDS
        ):
            return cached["access_token"]
        return None

    def _new_token(self, http: SourceHttp, creds: tuple[str, str], ua: str, now_ts: float) -> str:
        try:
            resp = http.post(
                OAUTH_URL,
                data={"grant_type": "client_credentials"},
                headers={"User-Agent": ua},
                auth=creds,
            )
        except HttpError as exc:
            if exc.status in (401, 403):
                raise AccessRefused(
                    APP_REFUSED.format(status=exc.status, error=_oauth_error(exc)),
                    url=exc.url,
                    status=exc.status,
                ) from None
            raise
        body = resp.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            # the body may hold an error name; never the credentials
            problem = body.get("error") if isinstance(body, dict) else None
            raise HttpError(f"POST {OAUTH_URL}: no access_token in the response ({problem})")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
        value = {"client_id": creds[0], "access_token": token, "expires_at": now_ts + lifetime}
        if self.state is not None:
            self.state.put_source_state(
                self.name, STATE_KEY, value, expires_at=int(now_ts + lifetime)
            )
        else:
            self._token = value
        return token

    # ---- fetch ---------------------------------------------------------------------------

    def fetch(
        self,
        topic: Topic,
        cursor: str | None,
        http: SourceHttp,
        *,
        now: datetime,
        deadline: float | None = None,
    ) -> FetchResult:
        opts = topic.sources.reddit or RedditOptions()
        ua = user_agent(self.secrets.get("reddit/username"))
        run = _Run(topic, http, opts, {"User-Agent": ua}, deadline, self.clock, self.sleep)
        try:
            state = RedditCursor.parse(cursor)
        except (ValueError, KeyError, TypeError, AttributeError):
            run.skipped.append(f"ignored unreadable cursor {cursor!r}; starting from the lookback")
            state = RedditCursor()
        queries = reddit_queries(search_terms(topic))
        creds = self._credentials()
        if creds is None:
            return self._fetch_rss(run, queries, state, now)

        now_ts = now.timestamp()
        token = self._cached_token(creds[0], now_ts) or self._new_token(http, creds, ua, now_ts)
        run.headers["Authorization"] = f"bearer {token}"
        low = (
            min(state.high, now_ts)
            if state.high is not None
            else now_ts - opts.initial_lookback_hours * 3600
        )
        seen_at_low = state.ids
        if state.gap_low is not None and not state.gap_after:  # owed from the top down
            low, seen_at_low, state.gap_low = min(low, state.gap_low), [], None

        new_state = RedditCursor(high=state.high, ids=list(state.ids))
        owed: tuple[str, float] | None = None  # (after, low) still to walk; after "" = top
        for query in queries:
            # 1. new items, from the top down to the checkpoint
            stopped_after = self._walk(run, query, None, low, seen_at_low, creds, ua, now_ts)
            if stopped_after is not None:
                gap_low = min(low, state.gap_low) if state.gap_low is not None else low
                owed = _merge(owed, (stopped_after, gap_low), len(queries))
                continue
            # 2. then the range an earlier run left owed
            if state.gap_after and state.gap_low is not None:
                stopped_after = self._walk(
                    run, query, state.gap_after, state.gap_low, [], creds, ua, now_ts
                )
                if stopped_after is not None:
                    owed = _merge(owed, (stopped_after, state.gap_low), len(queries))

        for mention in run.mentions.values():
            ts = mention.published.timestamp()
            if ts > now_ts:
                continue  # the cursor never moves past now; the collector judges the item
            if new_state.high is None or ts > new_state.high:
                new_state.high, new_state.ids = ts, [mention.native_id]
            elif ts == new_state.high and mention.native_id not in new_state.ids:
                new_state.ids.append(mention.native_id)
        if new_state.high is None:
            new_state.high = low
        if owed:
            new_state.gap_after, new_state.gap_low = owed
        return FetchResult(
            mentions=sorted(run.mentions.values(), key=lambda m: (m.published, m.native_id)),
            cursor=new_state.dump(),
            pages=run.pages,
            skipped=run.skipped,
            truncated=owed is not None,
        )

    def _search_url(self, opts: RedditOptions) -> tuple[str, dict[str, str]]:
        if opts.subreddits:
            subs = "+".join(quote(s) for s in opts.subreddits)
            return f"{API_BASE}/r/{subs}/search", {"restrict_sr": "1"}
        return f"{API_BASE}/search", {}

    def _walk(
        self,
        run: _Run,
        query: str,
        after: str | None,
        low: float,
        seen_at_low: list[str],
        creds: tuple[str, str],
        ua: str,
        now_ts: float,
    ) -> str | None:
        """Page newest→oldest from `after` until items older than `low`.

        Returns None when done (checkpoint or listing end reached), else the `after` to resume
        from (budget, deadline or rate limit stopped it; "" when it stopped before the first
        page, so the next run walks from the top).
        """
        url, extra = self._search_url(run.opts)
        used_afters: set[str] = set()
        budget = run.opts.max_pages
        retried_auth = False
        while True:
            if budget <= 0 or run.out_of_time():
                run.skipped.append(
                    f"stopped after {run.opts.max_pages - budget} page(s) for {query!r} "
                    "(page cap or time budget); next run continues"
                )
                return after or ""  # "": nothing fetched yet, the next run starts at the top
            params = {
                "q": query,
                "sort": "new",
                "t": "all",
                "type": "link",
                "limit": str(PAGE_SIZE),
                "raw_json": "1",
                **extra,
            }
            if after:
                params["after"] = after
            try:
                resp = run.http.get(url, params=params, headers=run.headers)
            except HttpError as exc:
                if exc.status == 401 and not retried_auth:
                    retried_auth = True  # token revoked or expired early: get a new one once
                    token = self._new_token(run.http, creds, ua, now_ts)
                    run.headers["Authorization"] = f"bearer {token}"
                    continue
                if exc.status == 403:
                    raise AccessRefused(
                        f"Reddit refused the request (HTTP 403{_blocked(exc)}): the app or "
                        "User-Agent may be blocked or lack Reddit's approval for API access",
                        url=exc.url,
                        status=403,
                    ) from None
                raise
            run.pages += 1
            budget -= 1
            data = resp.json()
            listing = data.get("data") if isinstance(data, dict) else None
            children = listing.get("children") if isinstance(listing, dict) else None
            if not isinstance(children, list):
                raise HttpError(f"GET {url} (q={query!r}): response is not a Listing")
            reached_low = False
            for child in children:
                try:
                    mention = parse_post(child, run.topic.name, self.name)
                except ValueError as exc:
                    run.skipped.append(str(exc))
                    continue
                ts = mention.published.timestamp()
                if ts < low or (ts == low and mention.native_id in seen_at_low):
                    reached_low = True
                    continue
                run.mentions.setdefault(mention.native_id, mention)
            next_after = listing.get("after") if isinstance(listing, dict) else None
            if reached_low or not children or not next_after:
                return None
            if next_after in used_afters or next_after == after:
                run.skipped.append(f"Reddit repeated the page cursor {next_after!r}; stopped")
                return None
            used_afters.add(next_after)
            after = str(next_after)
            try:
                run.obey_rate_limit(resp.headers)
            except _Stop:
                return after

    # ---- keyless fallback ----------------------------------------------------------------

    def _fetch_rss(
        self, run: _Run, queries: list[str], state: RedditCursor, now: datetime
    ) -> FetchResult:
        """Without credentials: each named subreddit's /new/.rss, else the search RSS; the
        first page of each, paced RSS_PACE_SECONDS apart."""
        run.skipped.append(KEYLESS_SUBREDDITS if run.opts.subreddits else KEYLESS_SEARCH)
        lookback = now.timestamp() - run.opts.initial_lookback_hours * 3600
        since = state.high if state.high is not None else lookback
        feeds = _keyless_feeds(run.opts, queries)
        pacer = self._pacer_for(run.http)
        refused: list[str] = []
        for label, url, params in feeds:
            if not pacer.wait(run.deadline):
                run.skipped.append("time budget used up; next run continues")
                break
            try:
                mentions = self._read_feed(run, url, params, now)
            except AccessRefused as exc:
                refused.append(label)
                run.skipped.append(f"{label}: {exc}")
                continue
            for mention in mentions:
                ts = mention.published.timestamp()
                if ts < since or (ts == state.high and mention.native_id in state.ids):
                    continue
                run.mentions.setdefault(mention.native_id, mention)
        if feeds and len(refused) == len(feeds):
            raise AccessRefused(KEYLESS_REFUSED, status=403)
        return _keyless_result(run, state, since, now.timestamp(), truncated=bool(refused))

    def _pacer_for(self, http: HttpGetter) -> Pacer:
        return self._pacers.for_client(http, RSS_PACE_SECONDS, sleep=self.sleep, clock=self.clock)

    def _read_feed(
        self, run: _Run, url: str, params: dict[str, str], now: datetime
    ) -> list[Mention]:
        """One keyless feed's posts; AccessRefused when Reddit answers 403."""
        try:
            resp = run.http.get(url, params=params, headers=run.headers)
        except HttpError as exc:
            if exc.status == 403:
                raise AccessRefused(
                    f"Reddit refused the feed (HTTP 403{_blocked(exc)})", url=exc.url, status=403
                ) from None
            raise
        run.pages += 1
        try:
            mentions, skipped, _ = parse_feed(
                resp.content,
                FeedSpec(url=url, kind="feed"),
                run.topic.name,
                now=now,
                content_type=resp.headers.get("content-type"),
                source=self.name,
            )
        except FeedError as exc:
            raise HttpError(f"GET {url}: {exc}") from None
        run.skipped.extend(skipped)
        return [_rss_fixup(m) for m in mentions]


def _keyless_feeds(
    opts: RedditOptions, queries: list[str]
) -> list[tuple[str, str, dict[str, str]]]:
    """(label, url, params) of each keyless request: a subreddit's newest posts for every
    named subreddit (the local query picks the mentions), else one search per query."""
    if opts.subreddits:
        return [
            (f"r/{sub}", f"{RSS_BASE}/r/{quote(sub)}/new/.rss", {"limit": str(PAGE_SIZE)})
            for sub in opts.subreddits
        ]
    params = {"sort": "new", "limit": str(PAGE_SIZE)}
    return [("search", f"{RSS_BASE}/search.rss", {"q": q, **params}) for q in queries]


def _keyless_result(
    run: _Run, state: RedditCursor, since: float, now_ts: float, *, truncated: bool
) -> FetchResult:
    """The keyless run's result: the cursor at the newest post kept (and the ids there); the
    cursor never moves past now (the collector judges a post dated in the future)."""
    newest = max(
        [ts for m in run.mentions.values() if (ts := m.published.timestamp()) <= now_ts]
        + ([state.high] if state.high is not None else []),
        default=None,
    )
    ids = [m.native_id for m in run.mentions.values() if m.published.timestamp() == newest]
    if newest == state.high:
        ids = sorted(set(ids) | set(state.ids))
    new_state = RedditCursor(high=newest if newest is not None else since, ids=ids)
    return FetchResult(
        mentions=sorted(run.mentions.values(), key=lambda m: (m.published, m.native_id)),
        cursor=new_state.dump(),
        pages=run.pages,
        skipped=run.skipped,
        truncated=truncated,
    )


def _rss_fixup(mention: Mention) -> Mention:
    """RSS authors are "/u/name" and the text ends in "submitted by /u/x to r/y [link] …"."""
    author = mention.author.removeprefix("/u/")
    text = mention.text
    cut = text.rfind("submitted by")
    if cut >= 0:
        text = text[:cut].rstrip()
    channel = mention.channel
    if mention.url and "/r/" in mention.url:
        channel = "r/" + mention.url.split("/r/", 1)[1].split("/", 1)[0]
    return mention.model_copy(update={"author": author, "text": text, "channel": channel})


def _merge(
    owed: tuple[str, float] | None, new: tuple[str, float], searches: int
) -> tuple[str, float]:
    """Owed ranges as one covering range (re-reading beats losing). A resume point belongs to
    one search's listing, so with several searches the next run walks from the top ("")."""
    if searches > 1:
        return ("", min(owed[1], new[1]) if owed else new[1])
    return new if owed is None else (new[0], min(owed[1], new[1]))


def _blocked(exc: HttpError) -> str:
    body = getattr(exc, "body", b"") or b""
    return ' "Blocked"' if b"blocked" in body[:2000].lower() else ""


def _oauth_error(exc: HttpError) -> str:
    """The OAuth error name of a refused token request (", invalid_client"); never a value."""
    error = json_error(exc).get("error")
    return f", {error}" if isinstance(error, str) and error.isidentifier() else ""
