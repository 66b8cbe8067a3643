"""Hacker News through the Algolia search API (`search_by_date`, newest first, no key needed).

Requests
    One search per search term of the topic (its phrases and terms, or the positive words of its
    query), because Algolia ANDs the words of one `query`; the union of these searches is what
    the topic can match. Phrases and multi-word terms are quoted (Algolia's advanced syntax is on
    for HN). Hits found by several searches are returned once.

Paging and Algolia's 1,000-hit cap
    A search pages with `page` until `nbPages` is exhausted. Algolia never serves more than
    1,000 hits per query (`page * hitsPerPage < 1000`); when more exist, the search is narrowed
    with `created_at_i<=<oldest timestamp seen>` and paging restarts at page 0 (hits repeated at
    that second are de-duplicated), so a busy window is walked down completely.
    `HackerNewsOptions.max_pages` is the request budget per search term per run.

Cursor (the checkpoint)
    Normally the cursor is the largest `created_at_i` seen, as a string (e.g. "1764057600"). The
    next run asks for `created_at_i > cursor - 300`: the five-minute overlap catches items Algolia
    indexed late or that share the cursor's second; conditional writes drop the repeats.

    Because results arrive newest first, a run stopped by the page budget or the deadline has
    seen everything *above* some timestamp but not the older part of its window. Advancing the
    cursor to the newest item would silently skip that older part; keeping the old cursor would
    refetch the same newest pages forever on a busy topic. So the cursor then also records the
    one range still owed, as JSON: `{"high": 1764057600, "gap": [1763971200, 1764040000]}`
    (`gap` is `(lo, hi]` in `created_at_i`). The next run first collects what is new above
    `high`, then spends the rest of its budget filling the gap from its top down; owed ranges of
    several searches are merged into one covering range (re-reading a few items is cheaper than
    losing any). A gap reaching above `high` (a search that saw nothing) collapses into a plain
    cursor at the gap's bottom.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import ValidationError

from stormwatch.http import HttpError
from stormwatch.models import FetchResult, Mention
from stormwatch.query import search_terms
from stormwatch.sources.base import HttpGetter, html_to_text, strip_tracking
from stormwatch.watchlist import HackerNewsOptions, Topic

ALGOLIA_URL = "https://hn.algolia.com/api/v1/search_by_date"
ITEM_URL = "https://news.ycombinator.com/item?id={}"
ALGOLIA_MAX_HITS = 1000
OVERLAP_SECONDS = 300


@dataclass
class HnCursor:
    high: int | None = None
    gap: tuple[int, int] | None = None

    @classmethod
    def parse(cls, cursor: str | None) -> HnCursor:
        """Parse a stored cursor; raises ValueError for one this module did not write."""
        if cursor is None or not cursor.strip():
            return cls()
        text = cursor.strip()
        if text.isdigit():
            return cls(high=int(text))
        data = json.loads(text)
        gap = data.get("gap")
        return cls(
            high=int(data["high"]),
            gap=(int(gap[0]), int(gap[1])) if gap else None,
        )

    def dump(self) -> str | None:
        if self.high is None:
            return None
        if self.gap is None:
            return str(self.high)
        return json.dumps({"high": self.high, "gap": list(self.gap)}, separators=(",", ":"))


def algolia_query(term: str) -> str:
    """A search term as Algolia query text: lower-case, `*` dropped (Algolia prefix-matches the
    last word anyway), quoted when it is more than one word."""
    text = term.strip().rstrip("*").strip().casefold()
    if any(not (ch.isalnum() or ch == "_") for ch in text):
        text = '"' + text.replace('"', " ").strip() + '"'
    return text


def parse_hit(hit: Any, topic: str, source: str = "hackernews") -> Mention:
    """One Algolia hit (2014 or current schema) as a Mention; raises ValueError if unusable."""
    if not isinstance(hit, dict):
        raise ValueError(f"malformed hit: expected an object, got {type(hit).__name__}")
    object_id = hit.get("objectID")
    if object_id in (None, ""):
        raise ValueError("malformed hit: missing objectID")
    object_id = str(object_id)
    created = hit.get("created_at_i")
    if isinstance(created, bool) or not isinstance(created, int | float):
        problem = "missing" if created is None else f"invalid ({created!r})"
        raise ValueError(f"malformed hit objectID={object_id}: {problem} created_at_i")
    tags = hit.get("_tags") or []
    is_comment = "comment" in tags or (not tags and hit.get("comment_text") is not None)
    body = hit.get("comment_text") if is_comment else hit.get("story_text")
    links = (hit.get("url"), hit.get("story_url"), ITEM_URL.format(object_id))
    url = next((u for u in links if isinstance(u, str) and u.lower().startswith("http")), None)
    engagement = sum(v for v in (hit.get("points"), hit.get("num_comments")) if isinstance(v, int))
    try:
        return Mention(
            topic=topic,
            source=source,
            native_id=object_id,
            published=datetime.fromtimestamp(int(created), tz=UTC),
            # titles are plain text on HN (not HTML): markup in a title is literal text
            title=str(hit.get("title") or hit.get("story_title") or ""),
            text=html_to_text(body if isinstance(body, str) else ""),
            url=strip_tracking(url),
            author=str(hit.get("author") or ""),
            engagement=max(0, engagement),
            channel="comment" if is_comment else "story",
            lang=None,
        )
    except (ValidationError, OverflowError, OSError) as exc:
        raise ValueError(f"malformed hit objectID={object_id}: {exc}") from exc


@dataclass
class _Run:
    topic: Topic
    http: HttpGetter
    opts: HackerNewsOptions
    now_i: int
    deadline: float | None
    clock: Callable[[], float]
    mentions: dict[str, Mention] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    pages: int = 0
    newest: int | None = None

    def out_of_time(self) -> bool:
        return self.deadline is not None and self.clock() >= self.deadline

    def scan(self, query: str, lo: int, hi: int | None, budget: int) -> tuple[int | None, int]:
        """Collect hits for `query` in (lo, hi] newest first.

        Returns (owed_hi, requests used): owed_hi is None when the window was read to the
        bottom, else the window (lo, owed_hi] still has unseen items.
        """
        upper, page, used = hi, 0, 0
        oldest: int | None = None  # oldest created_at_i seen in this window
        while True:
            if used >= budget or self.out_of_time():
                return (oldest if oldest is not None else (upper or self.now_i)), used
            filters = f"created_at_i>{lo}" + (
                f",created_at_i<={upper}" if upper is not None else ""
            )
            params = {
                "query": query,
                "tags": "(" + ",".join(self.opts.tags) + ")",
                "numericFilters": filters,
                "hitsPerPage": self.opts.hits_per_page,
                "page": page,
            }
            data = self.http.get(ALGOLIA_URL, params=params).json()
            used += 1
            self.pages += 1
            hits = data.get("hits") if isinstance(data, dict) else None
            if not isinstance(hits, list):
                raise HttpError(f"GET {ALGOLIA_URL} (query={query!r}): response has no hits list")
            for hit in hits:
                try:
                    mention = parse_hit(hit, self.topic.name)
                except ValueError as exc:
                    self.skipped.append(str(exc))
                    continue
                ts = int(mention.published.timestamp())
                oldest = ts if oldest is None else min(oldest, ts)
                # the cursor never moves past now (published_problem: the collector refuses
                # items dated more than an hour ahead)
                capped = min(ts, self.now_i)
                self.newest = capped if self.newest is None else max(self.newest, capped)
                self.mentions.setdefault(mention.native_id, mention)
            per_page = _int(data.get("hitsPerPage"), self.opts.hits_per_page)
            nb_pages = _int(data.get("nbPages"), 0)
            nb_hits = _int(data.get("nbHits"), 0)
            more = len(hits) >= per_page and (
                page + 1 < nb_pages or nb_hits > (page + 1) * per_page
            )
            if not hits or not more:
                return None, used
            if page + 1 < nb_pages and (page + 2) * per_page <= ALGOLIA_MAX_HITS:
                page += 1
                continue
            # Algolia will not page further: narrow the window to what is older than seen.
            if oldest is None:  # a full page of malformed hits; nothing to narrow by
                return (upper or self.now_i), used
            if upper is not None and oldest >= upper:
                self.skipped.append(
                    f"more than {ALGOLIA_MAX_HITS} hits at created_at_i={upper} for "
                    f"{query!r}; some of them may be missed"
                )
                oldest = upper - 1
            upper, page = oldest, 0


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


class HackerNewsSource:
    """`hackernews`: stories and comments from hn.algolia.com (see the module docstring)."""

    name = "hackernews"
    secret_names: ClassVar[tuple[str, ...]] = ()
    # Algolia indexes the whole archive
    history: ClassVar[timedelta] = timedelta(days=3650)

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
        opts = topic.sources.hackernews or HackerNewsOptions()
        run = _Run(topic, http, opts, int(now.timestamp()), deadline, self.clock)
        try:
            state = HnCursor.parse(cursor)
        except (ValueError, KeyError, TypeError, IndexError):
            run.skipped.append(f"ignored unreadable cursor {cursor!r}; starting from the lookback")
            state = HnCursor()
        first_lo = run.now_i - opts.initial_lookback_hours * 3600
        # a stored cursor past now (written before cursors were clamped) recovers
        lower = min(state.high, run.now_i) - OVERLAP_SECONDS if state.high is not None else first_lo
        # a cursor at "now" (a backfill step's, stormwatch.backfill) has nothing newer to read:
        # the whole page budget goes to the owed range, so a budget of one page still moves it
        windows: list[tuple[int, int | None]] = [] if state.high == run.now_i else [(lower, None)]
        if state.gap:
            windows.append(state.gap)

        owed: list[tuple[int, int]] = []
        for term in search_terms(topic):
            budget = opts.max_pages
            query = algolia_query(term)
            for lo, hi in windows:
                owed_hi, used = run.scan(query, lo, hi, budget)
                budget -= used
                if owed_hi is not None and owed_hi > lo:
                    owed.append((lo, owed_hi))

        high = min(max(v for v in (run.newest, state.high, lower) if v is not None), run.now_i)
        new_state = HnCursor(high=high)
        if owed:
            gap = (min(lo for lo, _ in owed), max(hi for _, hi in owed))
            if gap[1] > high:  # nothing above the gap is known complete: restart from its bottom
                new_state = HnCursor(high=gap[0] + OVERLAP_SECONDS)
            else:
                new_state = HnCursor(high=high, gap=gap)
        mentions = sorted(run.mentions.values(), key=lambda m: (m.published, m.native_id))
        return FetchResult(
            mentions=mentions,
            cursor=new_state.dump(),
            pages=run.pages,
            skipped=run.skipped,
            truncated=bool(owed),
        )
