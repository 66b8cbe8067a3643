"""RSS and Atom feeds: plain feeds, a Google News search feed, and Google Alerts feeds.

Bytes are fetched with the HTTP client (timeouts, retries, User-Agent) and parsed with
feedparser; feedparser never fetches anything itself.

Which feeds a topic reads
    every URL in `RssOptions.feeds`; `https://news.google.com/rss/search?q=…&hl=…&gl=…&ceid=…`
    when `google_news` is set, with `q` = the topic's search terms ORed (multi-word ones quoted)
    plus `when:<period>`; and every Google Alerts feed URL.

Cursor
    Feeds cannot be paged, so the cursor is JSON mapping each feed URL to the newest `published`
    (ISO, UTC) read from it: `{"https://www.tagesschau.de/xml/rss2/": "2026-11-25T08:41:00Z"}`.
    Entries not newer than that minus one hour are dropped; the hour of overlap catches items a
    feed publishes late with an earlier date, and conditional writes drop the repeats. A date in
    the future never moves the cursor beyond `now` (one mis-dated item would hide everything
    else). A feed that failed keeps its old cursor value.

Failures
    A feed that fails (HTTP error, or unparseable with no entries) is described in `skipped` as
    "feed <url>: <error>" and the other feeds still count; only when every feed fails does the
    source raise HttpError, so the runner marks it failing. A malformed entry is skipped with
    its reason; an entry without any date is kept with `published=now` and noted.
"""

from __future__ import annotations

import calendar
import io
import json
import time
import xml.sax
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

import feedparser
from pydantic import ValidationError

from stormwatch.http import HttpError
from stormwatch.models import FetchResult, Mention, iso
from stormwatch.query import search_terms
from stormwatch.sources.base import HttpGetter, html_to_text, stable_id, strip_tracking
from stormwatch.timeutil import parse_timestamp
from stormwatch.watchlist import GoogleNewsOptions, RssOptions, Topic

GOOGLE_NEWS_URL = "https://news.google.com/rss/search"
CURSOR_OVERLAP = timedelta(hours=1)
MAX_NATIVE_ID = 300

FeedKind = Literal["feed", "google_news", "google_alerts"]


@dataclass(frozen=True)
class FeedSpec:
    url: str  # the full URL, query included; also the key in the cursor
    kind: FeedKind


class FeedError(Exception):
    """A feed that could not be read at all."""


def google_news_query(terms: list[str], when: str | None) -> str:
    parts = []
    for term in terms:
        text = term.strip().rstrip("*").strip()
        if not text:
            continue
        quoted = any(not (ch.isalnum() or ch == "_") for ch in text)
        parts.append('"' + text.replace('"', " ").strip() + '"' if quoted else text)
    query = " OR ".join(parts)
    return f"{query} when:{when}" if when else query


def google_news_url(topic: Topic, options: GoogleNewsOptions) -> str:
    params = {
        "q": google_news_query(search_terms(topic), options.when),
        "hl": options.hl,
        "gl": options.gl,
        "ceid": options.ceid,
    }
    return f"{GOOGLE_NEWS_URL}?{urlencode(params)}"


def feeds_for(topic: Topic) -> list[FeedSpec]:
    """The feeds a topic reads, in order: its feeds, Google News, Google Alerts."""
    opts = topic.sources.rss or RssOptions(enabled=False)
    specs = [FeedSpec(url, "feed") for url in opts.feeds]
    if opts.google_news is not None:
        specs.append(FeedSpec(google_news_url(topic, opts.google_news), "google_news"))
    specs.extend(FeedSpec(url, "google_alerts") for url in opts.google_alerts)
    unique: dict[str, FeedSpec] = {}
    for spec in specs:
        unique.setdefault(spec.url, spec)
    return list(unique.values())


def unwrap_google_redirect(url: str | None) -> str | None:
    """`https://www.google.com/url?…&url=<real>&…` (Google Alerts links) → `<real>`."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.netloc.lower()
    if parts.path == "/url" and (host == "google.com" or host.endswith(".google.com")):
        query = parse_qs(parts.query)
        for key in ("url", "q"):
            target = (query.get(key) or [""])[0]
            if target.lower().startswith(("http://", "https://")):
                return target
    return url


def _lang(code: Any) -> str | None:
    if not isinstance(code, str) or not code.strip():
        return None
    primary = code.strip().replace("_", "-").split("-")[0].lower()
    return primary if len(primary) == 2 and primary.isalpha() else None


def _entry_date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError, TypeError):
                continue
    return None


def _entry_text(entry: Any) -> str:
    summary = entry.get("summary")
    if not summary:
        content = entry.get("content") or []
        summary = content[0].get("value", "") if content else ""
    return html_to_text(summary if isinstance(summary, str) else "")


def _native_id(entry: Any, link: str | None) -> str:
    native = entry.get("id") or entry.get("guid")
    if isinstance(native, str) and native.strip():
        native = native.strip()
        return native if len(native) <= MAX_NATIVE_ID else stable_id(native)
    if link:
        return stable_id(link)
    raise ValueError("no id/guid and no link")


def parse_feed(
    content: bytes,
    spec: FeedSpec,
    topic: str,
    *,
    now: datetime,
    since: datetime | None = None,
    content_type: str | None = None,
    source: str = "rss",
) -> tuple[list[Mention], list[str], datetime | None]:
    """Parse feed bytes into (mentions, skipped reasons, newest date for the cursor).

    Raises FeedError when the bytes are not a readable feed at all.
    """
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(
        io.BytesIO(content),
        response_headers=headers,
        sanitize_html=True,
        resolve_relative_uris=False,
    )
    entries = parsed.get("entries") or []
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        problem = parsed.get("bozo_exception") or "not an RSS or Atom feed"
        raise FeedError(f"unreadable feed: {problem}")
    feed = parsed.get("feed") or {}
    lang = _lang(feed.get("language"))
    if spec.kind == "google_news":
        channel = "Google News"
    elif spec.kind == "google_alerts":
        channel = "Google Alerts"
    else:
        channel = html_to_text(feed.get("title") or "") or urlsplit(spec.url).netloc
    cutoff = since - CURSOR_OVERLAP if since else None
    feed_date = _entry_date(feed)
    undated_day = now.replace(hour=0, minute=0, second=0, microsecond=0)

    mentions: list[Mention] = []
    skipped: list[str] = []
    newest: datetime | None = None
    for number, entry in enumerate(entries):
        try:
            link = entry.get("link")
            link = strip_tracking(unwrap_google_redirect(link if isinstance(link, str) else None))
            native = _native_id(entry, link)
            published = _entry_date(entry)
            if published is None:
                # a stable stand-in keeps the storage key the same across runs, so an undated
                # entry is stored once (per feed date, or at most once per day), not every run
                published = min(feed_date or undated_day, now)
                skipped.append(
                    f"feed {spec.url}: entry {native[:80]} has no date; "
                    f"using {published.isoformat()}"
                )
            if cutoff is not None and published <= cutoff:
                continue
            title = html_to_text(entry.get("title") or "")
            text = _entry_text(entry)
            author = html_to_text(entry.get("author") or "")
            if spec.kind == "google_news":
                title, author, text = _google_news_parts(entry, title, text)
            mention = Mention(
                topic=topic,
                source=source,
                native_id=native,
                published=published,
                url=link,
                title=title,
                text=text,
                author=author,
                lang=lang,
                channel=channel,
            )
        except (ValueError, ValidationError, TypeError, AttributeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            skipped.append(f"feed {spec.url}: malformed entry #{number}: {reason}")
            continue
        mentions.append(mention)
        capped = min(mention.published, now)
        newest = capped if newest is None else max(newest, capped)
    if parsed.get("bozo") and isinstance(parsed.get("bozo_exception"), xml.sax.SAXException):
        # not well-formed, e.g. cut off in transfer: the entries after the break were never seen,
        # so the feed's mark must not move past them (the next run reads the feed again)
        skipped.append(
            f"feed {spec.url}: not well-formed ({parsed.get('bozo_exception')}); "
            "its entries are kept but its cursor does not move"
        )
        newest = None
    return mentions, skipped, newest


def _google_news_parts(entry: Any, title: str, text: str) -> tuple[str, str, str]:
    """Google News titles end with " - <Outlet>": keep the headline, the outlet is the author."""
    source = entry.get("source") or {}
    outlet = html_to_text(source.get("title") or "") if hasattr(source, "get") else ""
    if outlet and title.endswith(f" - {outlet}"):
        title = title[: -len(outlet) - 3].rstrip()
    elif not outlet and " - " in title:
        title, outlet = (part.strip() for part in title.rsplit(" - ", 1))
    # the description is only the headline linked plus the outlet again: no extra text
    if text.replace("\n", " ").startswith(title):
        rest = text.replace("\n", " ")[len(title) :].strip()
        if not rest or rest == outlet:
            text = ""
    return title, outlet, text


def _load_cursor(cursor: str | None) -> dict[str, datetime]:
    if not cursor:
        return {}
    data = json.loads(cursor)
    if not isinstance(data, dict):
        raise ValueError("cursor is not a JSON object")
    return {
        str(url): parse_timestamp(value, "cursor time", naive_is_utc=True)
        for url, value in data.items()
    }


class RssSource:
    """`rss`: feeds, Google News search and Google Alerts (see the module docstring)."""

    name = "rss"
    secret_names: ClassVar[tuple[str, ...]] = ()
    # a feed serves only its latest items
    history: ClassVar[timedelta] = timedelta(0)

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock

    def fetch(
        self,
        topic: Topic,
        cursor: str | None,
        http: HttpGetter,
        *,
        now: datetime,
        deadline: float | None = None,
    ) -> FetchResult:
        skipped: list[str] = []
        try:
            # a mark past now (stored before marks were clamped) recovers
            marks = {url: min(at, now) for url, at in _load_cursor(cursor).items()}
        except (ValueError, TypeError) as exc:
            skipped.append(f"ignored unreadable cursor ({exc}); reading feeds from scratch")
            marks = {}
        specs = feeds_for(topic)
        mentions: list[Mention] = []
        seen: set[str] = set()
        new_marks: dict[str, datetime] = {s.url: marks[s.url] for s in specs if s.url in marks}
        failures: list[str] = []
        pages = 0
        truncated = False
        for spec in specs:
            if deadline is not None and self.clock() >= deadline:
                truncated = True
                break
            try:
                resp = http.get(spec.url)
                pages += 1
                found, notes, newest = parse_feed(
                    resp.content,
                    spec,
                    topic.name,
                    now=now,
                    since=marks.get(spec.url),
                    content_type=resp.headers.get("content-type"),
                    source=self.name,
                )
            except (HttpError, FeedError) as exc:
                failures.append(f"feed {spec.url}: {exc}")
                continue
            skipped.extend(notes)
            for mention in found:
                if mention.native_id not in seen:  # the same article in two feeds counts once
                    seen.add(mention.native_id)
                    mentions.append(mention)
            if newest is not None and (spec.url not in new_marks or newest > new_marks[spec.url]):
                new_marks[spec.url] = newest
        skipped.extend(failures)
        if specs and len(failures) == len(specs):
            raise HttpError(f"all {len(specs)} feeds failed: " + "; ".join(failures))
        return FetchResult(
            mentions=mentions,
            cursor=json.dumps({u: iso(at) for u, at in new_marks.items()}, sort_keys=True)
            if new_marks
            else None,
            pages=pages,
            skipped=skipped,
            truncated=truncated,
        )
