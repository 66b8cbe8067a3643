"""Bluesky: ``app.bsky.feed.searchPosts`` with an app password.

Why authenticated
    Bluesky has disabled unauthenticated post search on the public AppView
    (``public.api.bsky.app`` answers 403 to ``searchPosts``, and never pages with ``cursor``
    without a session), so the source logs in with an app password and sends its searches to
    the PDS it logged in at (``https://bsky.social``), which proxies ``app.bsky.*`` calls to the
    AppView with the session's authority.

Session
    ``com.atproto.server.createSession`` is rate limited (30 per 5 minutes, 300 per day per
    account), so the tokens are kept in the source state (``SRC#bluesky`` / ``STATE#session``)
    between runs: the access JWT (about 2 hours) is used while its ``exp`` is ahead; after that
    ``com.atproto.server.refreshSession`` (with the refresh JWT, valid for weeks) gets a new
    pair; only when refreshing fails does the source log in again. A search answered with 401
    (token expired or revoked early) refreshes once and retries. Tokens are never logged and
    never part of an error message.

Query, paging and the cursor
    One search per search term (searchPosts ANDs the words of a query; phrases are quoted),
    ``sort=latest``, ``limit=100``, ``since=<checkpoint − 5 min>``, paged with the response's
    ``cursor`` until it is absent, repeats (a looping cursor), the page is empty, or the page
    cap / deadline is hit. ``lang`` (watchlist option) filters server-side. Results are newest
    first, so a run stopped early owes the older part of its window: like Hacker News, the
    cursor then records that range, ``{"high": "<ISO>", "gap": ["<lo ISO>", "<hi ISO>"]}``, and
    the next run fills it (``since=lo``, ``until=hi``) after collecting what is new. A plain
    cursor is ``{"high": <epoch>}``: the newest ``sortAt`` (the earlier of ``createdAt`` and
    ``indexedAt``, which is what ``since``/``until`` filter on) seen, in epoch seconds like the
    other sources' cursors (stormwatch.sources.window; ISO strings of older cursors are read).

Backfill
    ``since``/``until`` filter the whole search index, so the source reads the past like an
    owed range: a backfill step hands it ``{"high": <now>, "gap": [lo, hi]}``
    (stormwatch.backfill); a cursor at "now" has nothing newer to read, so the whole page
    budget goes to the range. searchPosts' ``cursor`` "may not necessarily allow scrolling
    through entire result set" (its lexicon): when a full page comes without a next cursor, the
    search narrows ``until`` to the oldest post seen and continues, so a deep range is walked
    down rather than silently cut.

Items
    ``native_id`` is the post's ``at://`` URI; the link is
    ``https://bsky.app/profile/<handle>/post/<rkey>`` (the DID when the handle is invalid).
    Engagement = likes + reposts + replies + quotes. ``record.langs`` (set by the poster's
    client) is used only when it names exactly one language.

Deletions
    searchPosts simply stops returning a deleted post; it does not tell us. Following deletions
    would need the firehose/Jetstream or re-checking stored URIs with ``app.bsky.feed.getPosts``
    (a missing post was deleted); stormwatch does not do that yet. Stored mentions expire with
    the table's TTL (``RETENTION_DAYS``); docs/sources.md explains.
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import ValidationError

from stormwatch.http import HttpError
from stormwatch.models import FetchResult, Mention, iso, utc
from stormwatch.query import search_terms
from stormwatch.secrets import NoSecrets, Secrets
from stormwatch.source_state import SourceState
from stormwatch.sources.base import SourceHttp, parse_timestamp
from stormwatch.watchlist import BlueskyOptions, Topic

SERVICE = "https://bsky.social"
SEARCH_URL = f"{SERVICE}/xrpc/app.bsky.feed.searchPosts"
LOGIN_URL = f"{SERVICE}/xrpc/com.atproto.server.createSession"
REFRESH_URL = f"{SERVICE}/xrpc/com.atproto.server.refreshSession"
PAGE_SIZE = 100
OVERLAP = timedelta(minutes=5)
TOKEN_MARGIN_SECONDS = 120
STATE_KEY = "session"


class NotConfigured(Exception):
    """The source has no credentials; shown as the source's health, not a crash."""


def jwt_exp(token: str) -> int | None:
    """The ``exp`` claim of a JWT, read without verifying it (we only schedule refreshes)."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp = data.get("exp")
        return int(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None
    except (IndexError, ValueError, TypeError, AttributeError):
        return None


def search_query(term: str) -> str:
    text = term.strip().rstrip("*").replace('"', " ").strip()
    return f'"{text}"' if any(not ch.isalnum() for ch in text) else text


def _parse_time(value: Any) -> datetime | None:
    """Bluesky timestamps are optional here: a missing or bad one is None, not an error. Also
    a cursor bound: epoch seconds, or the ISO text cursors were written in before."""
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def parse_post(post: Any, topic: str, *, now: datetime, source: str = "bluesky") -> Mention:
    """One ``postView`` as a Mention; ValueError if unusable."""
    if not isinstance(post, dict):
        raise ValueError("malformed post: expected an object")
    uri = post.get("uri")
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise ValueError(f"malformed post: missing at:// uri ({uri!r})")
    record = r if isinstance(r := post.get("record"), dict) else {}
    created = _parse_time(record.get("createdAt"))
    indexed = _parse_time(post.get("indexedAt"))
    stamps = [t for t in (created, indexed) if t is not None]
    if not stamps:
        raise ValueError(f"malformed post {uri}: no createdAt/indexedAt")
    published = min(min(stamps), now)  # sortAt; a post dated in the future is capped at now
    author = a if isinstance(a := post.get("author"), dict) else {}
    handle = h if isinstance(h := author.get("handle"), str) else ""
    did = author.get("did") or uri.split("/")[2]
    who = handle if handle and handle != "handle.invalid" else did
    rkey = uri.rstrip("/").rsplit("/", 1)[-1]
    langs = record.get("langs")
    lang = langs[0] if isinstance(langs, list) and len(langs) == 1 else None
    counts = [post.get(k) for k in ("likeCount", "repostCount", "replyCount", "quoteCount")]
    try:
        return Mention(
            topic=topic,
            source=source,
            native_id=uri,
            published=published,
            url=f"https://bsky.app/profile/{who}/post/{rkey}",
            text=t if isinstance(t := record.get("text"), str) else "",
            author=handle or str(did),
            lang=lang.split("-")[0].lower() if isinstance(lang, str) and lang else None,
            engagement=sum(
                max(0, c) for c in counts if isinstance(c, int) and not isinstance(c, bool)
            ),
            channel="Bluesky",
        )
    except (ValidationError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"malformed post {uri}: {reason}") from exc


# --------------------------------------------------------------------------------------------
# Cursor


@dataclass
class BskyCursor:
    high: datetime | None = None
    gap: tuple[datetime, datetime] | None = None

    @classmethod
    def parse(cls, cursor: str | None) -> BskyCursor:
        if not cursor or not cursor.strip():
            return cls()
        data = json.loads(cursor)
        high = _parse_time(data.get("high"))
        gap = data.get("gap")
        lo, hi = (_parse_time(gap[0]), _parse_time(gap[1])) if gap else (None, None)
        if data.get("high") and high is None:
            raise ValueError("unreadable high")
        return cls(high=high, gap=(lo, hi) if lo and hi else None)

    def dump(self) -> str | None:
        """Epoch seconds: the low bound rounded down, the exclusive top (`until`) up."""
        if self.high is None:
            return None
        data: dict[str, Any] = {"high": int(self.high.timestamp())}
        if self.gap:
            data["gap"] = [int(self.gap[0].timestamp()), math.ceil(self.gap[1].timestamp())]
        return json.dumps(data, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# The source


@dataclass
class _Run:
    topic: Topic
    http: SourceHttp
    opts: BlueskyOptions
    now: datetime
    deadline: float | None
    clock: Callable[[], float]
    auth: Callable[[bool], str]  # (force_refresh) -> access token
    mentions: dict[str, Mention] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    pages: int = 0
    newest: datetime | None = None

    def out_of_time(self) -> bool:
        return self.deadline is not None and self.clock() >= self.deadline

    def scan(self, query: str, lo: datetime, hi: datetime | None, budget: int) -> tuple[Any, int]:
        """Posts for `query` with sortAt in [lo, hi) newest first.

        Returns (owed_hi, pages used): owed_hi None when the window was read to the bottom,
        else the window [lo, owed_hi] still has unseen posts.
        """
        cursor: str | None = None
        used = 0
        seen_cursors: set[str] = set()
        oldest: datetime | None = None
        retried = False
        while True:
            if used >= budget or self.out_of_time():
                # `until` is exclusive: one second above the oldest seen keeps its siblings
                return ((oldest + timedelta(seconds=1)) if oldest else (hi or self.now)), used
            params: dict[str, str] = {
                "q": query,
                "sort": "latest",
                "limit": str(PAGE_SIZE),
                "since": iso(lo),
            }
            if hi is not None:
                params["until"] = iso(hi)
            if self.opts.lang:
                params["lang"] = self.opts.lang
            if cursor:
                params["cursor"] = cursor
            headers = {"Authorization": f"Bearer {self.auth(retried)}"}
            try:
                data = self.http.get(SEARCH_URL, params=params, headers=headers).json()
            except HttpError as exc:
                if exc.status in (400, 401) and _expired(exc) and not retried:
                    retried = True
                    continue
                raise
            used += 1
            self.pages += 1
            posts = data.get("posts") if isinstance(data, dict) else None
            if not isinstance(posts, list):
                raise HttpError(f"GET {SEARCH_URL} (q={query!r}): response has no posts list")
            for post in posts:
                try:
                    mention = parse_post(post, self.topic.name, now=self.now)
                except ValueError as exc:
                    self.skipped.append(str(exc))
                    continue
                oldest = mention.published if oldest is None else min(oldest, mention.published)
                self.newest = (
                    mention.published
                    if self.newest is None
                    else max(self.newest, mention.published)
                )
                self.mentions.setdefault(mention.native_id, mention)
            next_cursor = data.get("cursor")
            if not posts:
                return None, used
            if not isinstance(next_cursor, str) or not next_cursor:
                narrowed = self.narrowed(query, len(posts), oldest, hi)
                if narrowed is None:
                    return None, used
                hi, cursor = narrowed, None
                continue
            if next_cursor in seen_cursors or next_cursor == cursor:
                self.skipped.append(f"Bluesky repeated the page cursor for {query!r}; stopped")
                return None, used
            seen_cursors.add(next_cursor)
            cursor = next_cursor

    def narrowed(
        self, query: str, served: int, oldest: datetime | None, hi: datetime | None
    ) -> datetime | None:
        """The new `until` when a full page came without a next cursor (the API stopped
        paging, not the results): below the oldest post seen. None when the search is done."""
        if served < PAGE_SIZE or oldest is None:
            return None
        until = oldest + timedelta(seconds=1)
        if hi is not None and until >= hi:
            self.skipped.append(f"more than {PAGE_SIZE} posts at {iso(oldest)} for {query!r}")
            return None
        return until


def _expired(exc: HttpError) -> bool:
    body = (getattr(exc, "body", b"") or b"")[:2000]
    return exc.status == 401 or b"ExpiredToken" in body or b"InvalidToken" in body


class BlueskySource:
    """`bluesky`: see the module docstring."""

    name = "bluesky"
    secret_names: ClassVar[tuple[str, ...]] = ("bluesky/handle", "bluesky/app_password")
    # since/until filter the whole search index (no documented horizon; posts since 2023);
    # a backfill asks for the baseline's 28 days at most
    history: ClassVar[timedelta] = timedelta(days=730)

    def __init__(
        self,
        secrets: Secrets | None = None,
        state: SourceState | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.secrets = secrets or NoSecrets()
        self.state = state
        self.clock = clock
        self._session: dict[str, Any] | None = None  # when there is no state store

    def __repr__(self) -> str:
        return "BlueskySource()"

    # ---- session -------------------------------------------------------------------------

    def _load(self, handle: str) -> dict[str, Any] | None:
        value = self.state.get_source_state(self.name, STATE_KEY) if self.state else self._session
        return value if value and value.get("handle") == handle else None

    def _save(self, handle: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) and body.get(k) for k in ("accessJwt", "refreshJwt")
        ):
            raise HttpError("Bluesky session response has no tokens")
        value = {"handle": handle, "accessJwt": body["accessJwt"], "refreshJwt": body["refreshJwt"]}
        refresh_exp = jwt_exp(body["refreshJwt"])
        if self.state is not None:
            self.state.put_source_state(self.name, STATE_KEY, value, expires_at=refresh_exp)
        else:
            self._session = value
        return value

    def _access_token(self, http: SourceHttp, now_ts: float, *, force_refresh: bool = False) -> str:
        handle = self.secrets.get("bluesky/handle")
        password = self.secrets.get("bluesky/app_password")
        if not handle or not password:
            raise NotConfigured(
                "not configured: set the SSM parameters bluesky/handle and bluesky/app_password"
            )
        session = self._load(handle)
        if session and not force_refresh:
            exp = jwt_exp(session["accessJwt"])
            if exp is None or exp > now_ts + TOKEN_MARGIN_SECONDS:
                return session["accessJwt"]
        if session:
            refresh_exp = jwt_exp(session["refreshJwt"])
            if refresh_exp is None or refresh_exp > now_ts + TOKEN_MARGIN_SECONDS:
                try:
                    resp = http.post(
                        REFRESH_URL, headers={"Authorization": f"Bearer {session['refreshJwt']}"}
                    )
                    return self._save(handle, resp.json())["accessJwt"]
                except HttpError as exc:
                    if exc.status not in (400, 401):
                        raise  # the service is down or limiting: do not burn a login on it
        resp = http.post(LOGIN_URL, json={"identifier": handle, "password": password})
        return self._save(handle, resp.json())["accessJwt"]

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
        opts = topic.sources.bluesky or BlueskyOptions()
        token: dict[str, str] = {}

        def auth(force_refresh: bool) -> str:
            if force_refresh or "t" not in token:
                token["t"] = self._access_token(http, now.timestamp(), force_refresh=force_refresh)
            return token["t"]

        now = utc(now)
        run = _Run(topic, http, opts, now, deadline, self.clock, auth)
        try:
            state = BskyCursor.parse(cursor)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError):
            run.skipped.append(f"ignored unreadable cursor {cursor!r}; starting from the lookback")
            state = BskyCursor()
        auth(False)  # fail early (not configured, login refused) before any search

        first = now - timedelta(hours=opts.initial_lookback_hours)
        # the cursor never points past now, not even one stored before cursors were clamped
        lower = min(state.high, now) - OVERLAP if state.high is not None else first
        # a cursor at "now" (a backfill step's) has nothing newer: the budget goes to the gap
        at_now = state.high is not None and state.high >= now.replace(microsecond=0)
        windows: list[tuple[datetime, datetime | None]] = [] if at_now else [(lower, None)]
        if state.gap:
            windows.append(state.gap)
        owed: list[tuple[datetime, datetime]] = []
        for term in search_terms(topic):
            budget = opts.max_pages
            for lo, hi in windows:
                owed_hi, used = run.scan(search_query(term), lo, hi, budget)
                budget -= used
                if owed_hi is not None and owed_hi > lo:
                    owed.append((lo, owed_hi))

        high = min(max(t for t in (run.newest, state.high, lower) if t is not None), now)
        new_state = BskyCursor(high=high)
        if owed:
            gap = (min(lo for lo, _ in owed), max(hi for _, hi in owed))
            new_state = (
                BskyCursor(high=gap[0] + OVERLAP)
                if gap[1] >= high
                else BskyCursor(high=high, gap=gap)
            )
            run.skipped.append("stopped early (page cap or time budget); next run continues")
        return FetchResult(
            mentions=sorted(run.mentions.values(), key=lambda m: (m.published, m.native_id)),
            cursor=new_state.dump(),
            pages=run.pages,
            skipped=run.skipped,
            truncated=bool(owed),
        )


__all__ = ["BlueskySource", "NotConfigured", "jwt_exp", "parse_post"]
