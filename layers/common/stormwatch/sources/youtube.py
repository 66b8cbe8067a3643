"""YouTube through the Data API v3: new videos (`search.list`) and their comments
(`commentThreads.list`). Needs an API key: the SSM parameter ``youtube/api_key``; without one the
source reports "not configured" (a health state, not a crash).

Quota
    A project gets 10,000 units a day by default, reset at midnight Pacific Time; `search.list`
    costs 100 units a call (each page), `commentThreads.list` 1. The day's quota is planned
    across the topics (stormwatch.sources.youtube_quota: the collect function hands the source
    the plan, `plan_across`): a topic's budget is its share of the plan (without a plan,
    ``max_search_calls_per_day × 100`` units); every call's units count against it, and the
    day's spent units live in the cursor (``day`` is the Pacific date). Searches are spread over
    the day: at most one every ``24 h / searches``; a topic whose share is no search today
    (more topics than searches) waits for its turn in the rotation. Each run notes the plan
    ("YouTube: 4 of 5 topics searched today, quota …"), which the digest's coverage shows.
    When the budget stops collection, `FetchResult.skipped` says ``QUOTA_NOTE`` ("youtube:
    daily quota budget of N units reached; resumes tomorrow") and `truncated` is True. The API's
    own ``quotaExceeded`` (403) fails
    the run with a message saying so when nothing was collected yet; after a successful search
    it stops the run like the budget does.

Requests
    ``search.list``: ``part=snippet, type=video, order=date, q=<terms joined by |>`` (the API's
    OR; multi-word terms quoted), ``publishedAfter`` (RFC 3339), ``maxResults=50``, optional
    ``regionCode`` / ``relevanceLanguage``. Videos whose title and description match the topic
    are remembered in the cursor (at most `MAX_TRACKED_VIDEOS`, for `TRACK_DAYS` days), and
    ``commentThreads.list`` (``part=snippet, order=time, textFormat=plainText, maxResults=100``)
    reads their new comments, at most ``max_comment_calls_per_run`` calls a run. A comment
    carries its video's title (like a Hacker News comment its story's), so the comments under a
    video about the topic match it locally. ``commentsDisabled``/``videoNotFound`` drop the video.

Backfill
    ``search.list`` filters the whole archive with ``publishedAfter``/``publishedBefore``, so a
    backfill step (``{"high": <now>, "gap": [lo, hi]}``, stormwatch.backfill) searches the owed
    range newest first, at most `MAX_SEARCH_PAGES` calls a step, from the day's backfill pool of
    the plan (kept in the source state, ``SRC#youtube`` / ``STATE#backfill-quota``, so every
    step of the day sees one count). When the pool is spent the range stays owed and the step
    says so; a range with more videos than the pages read narrows ``publishedBefore`` to the
    oldest video seen. It reads videos only: comments are followed for new videos.

Items
    Titles and descriptions in search results are HTML-escaped (``&#39;``) and are unescaped;
    timestamps are RFC 3339 (``2026-07-16T10:30:23Z``, fractions and offsets accepted).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import ValidationError

from stormwatch.http import HttpError
from stormwatch.models import FetchResult, Mention, iso
from stormwatch.query import compile_topic, search_terms
from stormwatch.secrets import Secrets
from stormwatch.source_state import SourceState
from stormwatch.sources.base import (
    HttpGetter,
    KeyedSource,
    html_to_text,
    parse_timestamp,
    published_problem,
)
from stormwatch.sources.window import Pacer, WindowCursor, json_error, load_json, owed_range
from stormwatch.sources.youtube_quota import (
    BACKFILL_SHARE,
    PROJECT_UNITS,
    SEARCH_UNITS,
    QuotaPlan,
    plan_day,
    quota_day,
)
from stormwatch.watchlist import Topic, YouTubeOptions

SEARCH_URL = "https://www.googleapis.com/youtube/v3/search"
COMMENTS_URL = "https://www.googleapis.com/youtube/v3/commentThreads"
WATCH_URL = "https://www.youtube.com/watch?v={}"
COMMENT_UNITS = 1
MAX_SEARCH_PAGES = 2
MAX_COMMENT_PAGES_PER_VIDEO = 3
MAX_TRACKED_VIDEOS = 20
TRACK_DAYS = 7
OVERLAP_SECONDS = 900
PACE_SECONDS = 0.2
QUOTA_NOTE = "youtube: daily quota budget of {units} units reached; resumes tomorrow"
BACKFILL_POOL_NOTE = (
    "youtube: today's backfill quota of {units} units is used; the backfill continues tomorrow"
)
NOT_THIS_DAY_NOTE = "youtube: no search for this topic today (its turn in the quota plan comes)"
POOL_KEY = "backfill-quota"
NOT_CONFIGURED = (
    "youtube: not configured: no API key (create the SSM SecureString parameter "
    "/stormwatch/<stage>/youtube/api_key, see docs/sources.md)"
)


class SourceNotConfigured(Exception):
    """The source needs a credential that is not configured; the run fails with this message."""


def yt_query(terms: list[str]) -> str:
    parts = []
    for term in terms:
        text = term.strip().rstrip("*").strip()
        if any(not (ch.isalnum() or ch == "_") for ch in text):
            text = '"' + text.replace('"', " ").strip() + '"'
        if text:
            parts.append(text)
    return "|".join(parts)


def _lang(snippet: dict[str, Any]) -> str | None:
    for key in ("defaultLanguage", "defaultAudioLanguage"):
        code = snippet.get(key)
        if isinstance(code, str) and len(code.split("-")[0]) == 2:
            return code.split("-")[0].lower()
    return None


def parse_video(item: Any, topic: str, source: str = "youtube") -> Mention:
    """A `search.list` result or a `videos.list` item as a Mention; ValueError if unusable."""
    if not isinstance(item, dict):
        raise ValueError(f"malformed video: expected an object, got {type(item).__name__}")
    raw_id = item.get("id")
    video_id = raw_id.get("videoId") if isinstance(raw_id, dict) else raw_id
    if not isinstance(video_id, str) or not video_id.strip():
        raise ValueError("malformed video: no videoId")
    snippet = sn if isinstance(sn := item.get("snippet"), dict) else {}
    try:
        published = parse_timestamp(
            snippet.get("publishedAt") or snippet.get("publishTime"), "publishedAt"
        )
    except ValueError as exc:
        raise ValueError(f"malformed video {video_id}: publishedAt: {exc}") from exc
    stats = st if isinstance(st := item.get("statistics"), dict) else {}
    engagement = 0
    for key in ("likeCount", "commentCount"):
        value = stats.get(key)
        if isinstance(value, str | int) and str(value).isdigit():
            engagement += int(value)
    title = t if isinstance(t := snippet.get("title"), str) else ""
    description = snippet.get("description")
    try:
        return Mention(
            topic=topic,
            source=source,
            native_id=video_id,
            published=published,
            # search.list escapes title and description as HTML; videos.list does not, and
            # unescaping plain text that has no entities changes nothing
            title=html.unescape(title),
            text=html.unescape(description) if isinstance(description, str) else "",
            url=WATCH_URL.format(video_id),
            author=html.unescape(str(snippet.get("channelTitle") or "")),
            engagement=engagement,
            channel="video",
            lang=_lang(snippet),
        )
    except ValidationError as exc:
        raise ValueError(f"malformed video {video_id}: {str(exc).splitlines()[0]}") from exc


def parse_comment_thread(
    item: Any, topic: str, video_title: str = "", source: str = "youtube"
) -> Mention:
    """A `commentThreads.list` item (its top-level comment) as a Mention; ValueError else."""
    if not isinstance(item, dict):
        raise ValueError(f"malformed comment: expected an object, got {type(item).__name__}")
    outer = o if isinstance(o := item.get("snippet"), dict) else {}
    top = t if isinstance(t := outer.get("topLevelComment"), dict) else {}
    snippet = sn if isinstance(sn := top.get("snippet"), dict) else {}
    comment_id = top.get("id") or item.get("id")
    if not isinstance(comment_id, str) or not comment_id.strip():
        raise ValueError("malformed comment: no id")
    video_id = snippet.get("videoId") or outer.get("videoId")
    try:
        published = parse_timestamp(snippet.get("publishedAt"), "publishedAt")
    except ValueError as exc:
        raise ValueError(f"malformed comment {comment_id}: publishedAt: {exc}") from exc
    text = snippet.get("textOriginal")
    if not isinstance(text, str):
        display = snippet.get("textDisplay")
        text = html_to_text(display) if isinstance(display, str) else ""
    likes = snippet.get("likeCount")
    replies = outer.get("totalReplyCount")
    engagement = sum(
        v for v in (likes, replies) if isinstance(v, int) and not isinstance(v, bool) and v > 0
    )
    url = None
    if isinstance(video_id, str) and video_id:
        url = WATCH_URL.format(video_id) + f"&lc={comment_id}"
    try:
        return Mention(
            topic=topic,
            source=source,
            native_id=comment_id,
            published=published,
            title=video_title,
            text=text,
            url=url,
            author=str(snippet.get("authorDisplayName") or ""),
            engagement=engagement,
            channel="comment",
            lang=None,
        )
    except ValidationError as exc:
        raise ValueError(f"malformed comment {comment_id}: {str(exc).splitlines()[0]}") from exc


@dataclass
class YtCursor:
    day: str = ""  # Pacific date the units belong to
    units: int = 0
    last_search: int | None = None
    since: int | None = None  # newest publishedAt read by search
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {t, p, c}

    @classmethod
    def parse(cls, cursor: str | None) -> YtCursor:
        if not cursor:
            return cls()
        data = json.loads(cursor)
        if not isinstance(data, dict):
            raise ValueError("cursor is not a JSON object")
        videos = data.get("videos") or {}
        if not isinstance(videos, dict):
            raise ValueError("cursor videos is not an object")
        return cls(
            day=str(data.get("day") or ""),
            units=int(data.get("units") or 0),
            last_search=int(data["last_search"]) if data.get("last_search") else None,
            since=int(data["since"]) if data.get("since") else None,
            videos={
                str(k): {"t": str(v.get("t", "")), "p": int(v["p"]), "c": int(v["c"])}
                for k, v in videos.items()
            },
        )

    def dump(self) -> str:
        data: dict[str, Any] = {"day": self.day, "units": self.units}
        if self.last_search is not None:
            data["last_search"] = self.last_search
        if self.since is not None:
            data["since"] = self.since
        if self.videos:
            data["videos"] = self.videos
        return json.dumps(data, separators=(",", ":"), sort_keys=True)


class _Stop(Exception):
    """Stop collecting this run (budget or quota); the message goes to `skipped`."""


def _reason(exc: HttpError) -> str:
    error = json_error(exc).get("error")
    if isinstance(error, dict):
        for detail in error.get("errors") or []:
            if isinstance(detail, dict) and detail.get("reason"):
                return str(detail["reason"])
        for detail in error.get("details") or []:
            if isinstance(detail, dict) and detail.get("reason"):
                return str(detail["reason"])
    return ""


class YouTubeSource(KeyedSource):
    """`youtube`: videos and comments from the Data API v3 (see the module docstring)."""

    name = "youtube"
    secret_names: ClassVar[tuple[str, ...]] = ("youtube/api_key",)
    # search.list filters the whole archive by publishedAfter/publishedBefore
    history: ClassVar[timedelta] = timedelta(days=3650)

    def __init__(
        self, secrets: Secrets | None = None, state: SourceState | None = None, **kwargs: Any
    ) -> None:
        super().__init__(secrets, **kwargs)
        self.state = state
        self.plan: QuotaPlan | None = None
        self._pool: dict[str, Any] = {}  # the backfill pool's count when there is no state

    def plan_across(self, topics: list[Topic], now: datetime) -> None:
        """Plan the day's quota over every topic that collects YouTube (youtube_quota)."""
        self.plan = plan_day(topics, now)

    def backfill_pool(self, now: datetime) -> dict[str, Any]:
        """The day's backfill pool count, {"day": <Pacific date>, "units": spent}."""
        day = quota_day(now).isoformat()
        stored = self.state.get_source_state(self.name, POOL_KEY) if self.state else self._pool
        units = stored.get("units") if stored and stored.get("day") == day else 0
        return {"day": day, "units": units if isinstance(units, int) else 0}

    def save_backfill_pool(self, pool: dict[str, Any], now: datetime) -> None:
        if self.state is None:
            self._pool = dict(pool)
            return
        expires = int(now.timestamp()) + 2 * 86400
        self.state.put_source_state(self.name, POOL_KEY, pool, expires_at=expires)

    def _plan_for(self, topic: Topic, now: datetime) -> QuotaPlan | None:
        plan = self.plan
        if plan is None or plan.day != quota_day(now) or topic.name not in plan.live_units:
            return None
        return plan

    def fetch(
        self,
        topic: Topic,
        cursor: str | None,
        http: HttpGetter,
        *,
        now: datetime,
        deadline: float | None = None,
    ) -> FetchResult:
        key = self.secrets.get("youtube/api_key")
        if not key:
            raise SourceNotConfigured(NOT_CONFIGURED)
        opts = topic.sources.youtube or YouTubeOptions()
        owed = owed_range(cursor)  # a backfill step
        if owed is not None:
            return _Backfill(self, http, key, topic, opts, owed, now, deadline).run()
        now_i = int(now.timestamp())
        plan = self._plan_for(topic, now)
        skipped: list[str] = [plan.describe(topic.name)] if plan else []
        try:
            state = YtCursor.parse(cursor)
        except (ValueError, TypeError, KeyError) as exc:
            skipped.append(f"ignored unreadable cursor ({exc}); starting from the lookback")
            state = YtCursor()
        today = quota_day(now).isoformat()
        if state.day != today:
            state.day, state.units = today, 0
        searches = plan.searches_for(topic.name) if plan else opts.max_search_calls_per_day
        budget = plan.live_units[topic.name] if plan else searches * SEARCH_UNITS
        # a topic without a share today makes no call at all (not even for comments): it is
        # behind by plan, not by a quota it ran into
        truncated = bool(plan and not budget)
        if truncated:
            skipped.append(NOT_THIS_DAY_NOTE)
        pacer = Pacer.for_client(http, PACE_SECONDS, sleep=self.sleep, clock=self.clock)
        run = _Run(self, http, key, topic, opts, state, budget, pacer, deadline, now_i, searches)
        for step in (run.search, run.comments) if budget else ():
            try:
                step()
            except _Stop as stop:
                if str(stop) not in skipped:
                    skipped.append(str(stop))
                truncated = True
        truncated = truncated or run.truncated
        # forget videos that are old or beyond the tracking cap (newest kept)
        horizon = now_i - TRACK_DAYS * 86400
        kept = sorted(
            ((vid, v) for vid, v in state.videos.items() if v["p"] >= horizon),
            key=lambda kv: -kv[1]["p"],
        )[:MAX_TRACKED_VIDEOS]
        state.videos = dict(kept)
        return FetchResult(
            mentions=list(run.mentions.values()),
            cursor=state.dump(),
            pages=run.pages,
            skipped=skipped + run.skipped,
            truncated=truncated,
        )


@dataclass
class _Run:
    source: YouTubeSource
    http: HttpGetter
    key: str
    topic: Topic
    opts: YouTubeOptions
    state: YtCursor
    budget: int
    pacer: Pacer
    deadline: float | None
    now_i: int
    searches: int  # search calls planned for the day (spread evenly over it)
    mentions: dict[str, Mention] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    pages: int = 0
    truncated: bool = False

    def _spend(self, units: int) -> None:
        if self.state.units + units > self.budget:
            raise _Stop(QUOTA_NOTE.format(units=self.budget))
        if not self.pacer.wait(self.deadline):
            raise _Stop("youtube: time budget of this run used up; next run continues")

    def _get(self, url: str, params: dict[str, Any], units: int) -> Any:
        self._spend(units)
        try:
            resp = self.http.get(url, params={**params, "key": self.key})
        except HttpError as exc:
            self.state.units += units  # a rejected call costs quota too
            if exc.status == 403 and _reason(exc) in ("quotaExceeded", "dailyLimitExceeded"):
                self.state.units = max(self.state.units, self.budget)
                if not self.mentions:
                    raise HttpError(
                        "youtube: quotaExceeded: the project's daily YouTube quota is used up "
                        "(it resets at midnight Pacific Time)",
                        url=exc.url,
                        status=exc.status,
                    ) from exc
                raise _Stop(
                    "youtube: the API reported quotaExceeded; resumes after midnight Pacific Time"
                ) from exc
            raise
        self.state.units += units
        self.pages += 1
        return load_json(resp)

    def search(self) -> None:
        if self.searches <= 0:
            return  # not this topic's day in the plan; comments are still read below
        interval = 86400 / self.searches
        last = self.state.last_search
        if last is not None and self.now_i - last < interval:
            return  # spreading the day's searches; comments are still read below
        lookback = self.now_i - self.opts.initial_lookback_hours * 3600
        since = min(self.state.since, self.now_i) if self.state.since is not None else lookback
        params: dict[str, Any] = {
            "part": "snippet",
            "type": "video",
            "order": "date",
            "q": yt_query(search_terms(self.topic)),
            "publishedAfter": iso(datetime.fromtimestamp(since - OVERLAP_SECONDS, tz=UTC)),
            "maxResults": 50,
        }
        if self.opts.region_code:
            params["regionCode"] = self.opts.region_code
        if self.opts.relevance_language:
            params["relevanceLanguage"] = self.opts.relevance_language
        matcher = compile_topic(self.topic)
        newest: int | None = None
        token: str | None = None
        seen: set[str] = set()
        for page in range(MAX_SEARCH_PAGES):
            paged = {**params, "pageToken": token} if token else params
            data = self._get(SEARCH_URL, paged, SEARCH_UNITS)
            if page == 0:
                self.state.last_search = self.now_i
            items = data.get("items") if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise HttpError(f"GET {SEARCH_URL}: response has no items list")
            fresh = 0
            for item in items:
                try:
                    video = parse_video(item, self.topic.name, self.source.name)
                except ValueError as exc:
                    self.skipped.append(f"youtube: {exc}")
                    continue
                problem = published_problem(
                    video.published, datetime.fromtimestamp(self.now_i, UTC)
                )
                if problem:  # never tracked: its comments would be followed for ever
                    self.skipped.append(f"youtube: video {video.native_id}: {problem}")
                    continue
                fresh += video.native_id not in seen
                seen.add(video.native_id)
                self.mentions.setdefault(video.native_id, video)
                ts = int(video.published.timestamp())
                newest = ts if newest is None else max(newest, ts)
                if matcher.matches(video.full_text) and video.native_id not in self.state.videos:
                    self.state.videos[video.native_id] = {
                        "t": video.title[:200],
                        "p": min(ts, self.now_i),  # no mark past now
                        "c": min(ts, self.now_i) - 1,
                    }
            token = data.get("nextPageToken") if isinstance(data, dict) else None
            if not token or not items:
                break
            if not fresh:
                # a looping API: keep `since` so the next search reads the window again
                self.skipped.append("youtube: search page repeated items already read; stopped")
                self.truncated = True
                return
        else:
            # pages left unread: keep `since` so the next search reads the window again
            self.truncated = True
            self.skipped.append(
                f"youtube: more than {MAX_SEARCH_PAGES} search pages of new videos; "
                "the rest is read by the next search"
            )
            return
        if newest is not None:
            self.state.since = max(since, min(newest, self.now_i))
        elif self.state.since is None:
            self.state.since = since

    def comments(self) -> None:
        calls = 0
        # the newest videos first: that is where a storm's comments are
        for video_id, info in sorted(self.state.videos.items(), key=lambda kv: -kv[1]["p"]):
            if calls >= self.opts.max_comment_calls_per_run:
                self.truncated = True
                return
            token: str | None = None
            newest, reached_mark = info["c"], False
            for _ in range(MAX_COMMENT_PAGES_PER_VIDEO):
                if calls >= self.opts.max_comment_calls_per_run:
                    break
                params = {
                    "part": "snippet",
                    "videoId": video_id,
                    "order": "time",
                    "textFormat": "plainText",
                    "maxResults": 100,
                }
                if token:
                    params["pageToken"] = token
                calls += 1
                try:
                    data = self._get(COMMENTS_URL, params, COMMENT_UNITS)
                except HttpError as exc:
                    reason = _reason(exc)
                    if reason in ("commentsDisabled", "videoNotFound", "forbidden"):
                        self.skipped.append(f"youtube: video {video_id}: {reason}; not followed")
                        self.state.videos.pop(video_id, None)
                    else:
                        self.skipped.append(f"youtube: comments of {video_id} failed: {exc}")
                    break
                items = data.get("items") if isinstance(data, dict) else None
                if not isinstance(items, list):
                    self.skipped.append(f"youtube: comments of {video_id}: no items list")
                    break
                oldest: int | None = None
                for item in items:
                    try:
                        comment = parse_comment_thread(
                            item, self.topic.name, info["t"], self.source.name
                        )
                    except ValueError as exc:
                        self.skipped.append(f"youtube: {exc}")
                        continue
                    ts = int(comment.published.timestamp())
                    oldest = ts if oldest is None else min(oldest, ts)
                    if ts > info["c"] - OVERLAP_SECONDS:
                        self.mentions.setdefault(comment.native_id, comment)
                        newest = max(newest, min(ts, self.now_i))
                token = data.get("nextPageToken")
                if not token or not items or (oldest is not None and oldest <= info["c"]):
                    reached_mark = True
                    break
            if reached_mark and video_id in self.state.videos:
                self.state.videos[video_id]["c"] = newest
            elif not reached_mark:
                self.truncated = True  # keep the mark: the next run reads these comments again


@dataclass
class _Backfill:
    """One backfill step: the owed range searched newest first, from the day's backfill pool."""

    source: YouTubeSource
    http: HttpGetter
    key: str
    topic: Topic
    opts: YouTubeOptions
    step: WindowCursor
    now: datetime
    deadline: float | None
    mentions: dict[str, Mention] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    pages: int = 0

    def run(self) -> FetchResult:
        assert self.step.gap is not None
        lo, hi = self.step.gap
        owed_hi: int | None = hi
        pool, limit = self.source.backfill_pool(self.now), self.pool_limit()
        pacer = Pacer.for_client(self.http, PACE_SECONDS, sleep=self.source.sleep)
        token: str | None = None
        try:
            for _ in range(MAX_SEARCH_PAGES):
                if pool["units"] + SEARCH_UNITS > limit:
                    self.skipped.append(BACKFILL_POOL_NOTE.format(units=limit))
                    break
                if not pacer.wait(self.deadline):
                    break
                pool["units"] += SEARCH_UNITS  # a rejected call costs quota too
                # a page token belongs to its query: every page asks for the same [lo, hi]
                data = self.search(lo, hi, token)
                oldest = self.keep(data["items"])
                token = data.get("nextPageToken") or None
                if token is None or oldest is None:
                    owed_hi = None
                    break
                owed_hi = min(owed_hi if owed_hi is not None else hi, oldest + 1)
        finally:
            self.source.save_backfill_pool(pool, self.now)
        owed = (lo, owed_hi) if owed_hi is not None and owed_hi > lo else None
        return FetchResult(
            mentions=list(self.mentions.values()),
            cursor=WindowCursor(high=self.step.high, gap=owed).dump(),
            pages=self.pages,
            skipped=self.skipped,
            truncated=owed is not None,
        )

    def pool_limit(self) -> int:
        plan = self.source._plan_for(self.topic, self.now)
        return plan.backfill_units if plan else int(PROJECT_UNITS * BACKFILL_SHARE)

    def search(self, lo: int, hi: int, token: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "part": "snippet",
            "type": "video",
            "order": "date",
            "q": yt_query(search_terms(self.topic)),
            "publishedAfter": iso(datetime.fromtimestamp(lo, tz=UTC)),
            "publishedBefore": iso(datetime.fromtimestamp(hi, tz=UTC)),
            "maxResults": 50,
            "key": self.key,
        }
        if self.opts.region_code:
            params["regionCode"] = self.opts.region_code
        if self.opts.relevance_language:
            params["relevanceLanguage"] = self.opts.relevance_language
        if token:
            params["pageToken"] = token
        data = load_json(self.http.get(SEARCH_URL, params=params))
        self.pages += 1
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise HttpError(f"GET {SEARCH_URL}: response has no items list")
        return data

    def keep(self, items: list[Any]) -> int | None:
        """Keep the page's videos; the oldest one's time (None: an empty page)."""
        oldest: int | None = None
        for item in items:
            try:
                video = parse_video(item, self.topic.name, self.source.name)
            except ValueError as exc:
                self.skipped.append(f"youtube: {exc}")
                continue
            ts = int(video.published.timestamp())
            oldest = ts if oldest is None else min(oldest, ts)
            self.mentions.setdefault(video.native_id, video)
        return oldest


__all__ = [
    "NOT_CONFIGURED",
    "QUOTA_NOTE",
    "SourceNotConfigured",
    "YouTubeSource",
    "parse_comment_thread",
    "parse_video",
]
