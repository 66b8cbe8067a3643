"""Newest-first, time-windowed search with a page budget: the shared core of the Stack Exchange
and GitHub sources (both sort by creation date, descending, and filter by a creation window).

Cursor
    JSON ``{"high": 1764057600, "gap": [lo, hi], "not_before": 1764058000}``:

    * ``high``: the newest creation time (epoch seconds) read; the next run searches
      ``(high - overlap, now]`` (the overlap catches items the search indexes late; conditional
      writes drop the repeats);
    * ``gap``: a range ``(lo, hi]`` still owed because a run stopped early (page budget, deadline,
      quota, a looping API) after reading the newest part of its window. Results arrive newest
      first, so moving ``high`` to the newest item would skip the older part, and keeping the old
      ``high`` would re-read the same newest pages forever; the next run reads what is new first
      and then fills the gap from its top down. Owed ranges of several searches merge into one
      covering range (re-reading a few items is cheaper than losing any); a gap that reaches up
      to ``high`` collapses into a plain ``high`` at its bottom;
    * ``not_before``: do not call the API before this time (Stack Exchange ``backoff``, GitHub's
      rate-limit reset) when the wait outlasts the run.

A page loop (the API serving a page whose items were all seen already, or ``has_more``
forever) stops the scan with the rest of the window owed, so a misbehaving API costs at most
the page budget per run and loses nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stormwatch.models import FetchResult, Mention, iso

if TYPE_CHECKING:
    # stormwatch.http loads requests: the cursor and pacing here are also read by the score
    # and report paths (stormwatch.backfill, stormwatch.syndication), which make no requests
    from stormwatch.http import HttpError


@dataclass
class WindowCursor:
    high: int | None = None
    gap: tuple[int, int] | None = None
    not_before: int | None = None

    @classmethod
    def parse(cls, cursor: str | None) -> WindowCursor:
        """Parse a stored cursor (JSON, or a bare epoch); raises ValueError for anything else."""
        if cursor is None or not cursor.strip():
            return cls()
        text = cursor.strip()
        if text.isdigit():
            return cls(high=int(text))
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("cursor is not a JSON object")
        high = data.get("high")
        gap = data.get("gap")
        not_before = data.get("not_before")
        return cls(
            high=int(high) if high is not None else None,
            gap=(int(gap[0]), int(gap[1])) if gap else None,
            not_before=int(not_before) if not_before is not None else None,
        )

    @classmethod
    def read(cls, cursor: str | None, skipped: list[str]) -> WindowCursor:
        """The stored cursor; an unreadable one is noted in `skipped` and the run starts over
        from the lookback rather than failing the source."""
        try:
            return cls.parse(cursor)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            skipped.append(f"ignored unreadable cursor ({exc}); starting from the lookback")
            return cls()

    def start(self, now: int, lookback_seconds: int) -> int:
        """Where this run's window starts: at `high`, never past `now` (a cursor damaged by a
        mis-dated item recovers), or the lookback on a first run."""
        return min(self.high, now) if self.high is not None else now - lookback_seconds

    def waiting_until(self, now: int) -> str | None:
        """The ISO time before which the API must not be called, while it is still ahead."""
        if self.not_before is None or now >= self.not_before:
            return None
        return iso(datetime.fromtimestamp(self.not_before, tz=UTC))

    def dump(self) -> str | None:
        data: dict[str, Any] = {}
        if self.high is not None:
            data["high"] = self.high
        if self.gap is not None:
            data["gap"] = list(self.gap)
        if self.not_before is not None:
            data["not_before"] = self.not_before
        return json.dumps(data, separators=(",", ":")) if data else None


def owed_range(cursor: str | None) -> WindowCursor | None:
    """A backfill step's cursor (`{"high": <now>, "gap": [lo, hi]}`, stormwatch.backfill),
    for the sources whose live cursor has another shape; None for anything else."""
    if not cursor or '"gap"' not in cursor:
        return None
    try:
        window = WindowCursor.parse(cursor)
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    return window if window.gap is not None and window.high is not None else None


@dataclass
class Page:
    """One response page: its mentions, reasons for items skipped, whether more pages follow,
    and `stop`, a reason to stop the whole run gracefully (quota used up, a long backoff)."""

    mentions: list[Mention] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    more: bool = False
    stop: str | None = None
    requested: bool = True  # False: `stop` was decided before any request was made


# fetch_page(lo, hi, page_number) -> Page; `hi` None means "up to now"
PageFetcher = Callable[[int, int | None, int], Page]


@dataclass
class Pacer:
    """Keeps at least `interval` seconds between requests (per-source politeness)."""

    interval: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    last: float | None = None

    @classmethod
    def for_client(cls, http: object, interval: float, **kwargs: Any) -> Pacer:
        """A pacer for requests through `http`; recorded responses (the replay client says
        `paced = False`) have no server to be polite to, so they are not spaced out."""
        return cls(interval if getattr(http, "paced", True) else 0.0, **kwargs)

    def wait(self, deadline: float | None) -> bool:
        """Sleep until the next request is allowed; False when that would pass `deadline`."""
        now = self.clock()
        delay = 0.0 if self.last is None else max(0.0, self.last + self.interval - now)
        if deadline is not None and now + delay >= deadline:
            return False
        if delay > 0:
            self.sleep(delay)
        self.last = now + delay
        return True


@dataclass
class PacerPerClient:
    """One Pacer per HTTP client for the life of a source object (one invocation, every topic):
    an API's rate limit is per client, so the next topic's first request waits too."""

    _current: tuple[object, Pacer] | None = None  # (client, its pacer): by identity

    def for_client(
        self,
        http: object,
        interval: float,
        *,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> Pacer:
        if self._current is None or self._current[0] is not http:
            self._current = (http, Pacer.for_client(http, interval, sleep=sleep, clock=clock))
        return self._current[1]


@dataclass
class WindowScan:
    """Collects the pages of one run; `scan` reads one search's window newest first."""

    budget: int  # requests per search per run
    first_page: int = 1
    per_page: int = 100
    max_results: int | None = None  # the API serves no more than this per query (GitHub: 1000)
    out_of_time: Callable[[], bool] = lambda: False
    mentions: dict[str, Mention] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    pages: int = 0
    newest: int | None = None
    stopped: str | None = None  # why the run stopped early, if it did

    def scan(self, fetch_page: PageFetcher, label: str, lo: int, hi: int | None) -> int | None:
        """Read `(lo, hi]` newest first. None when read to the bottom, else the top of the
        part still owed (the window `(lo, owed]` has unseen items)."""
        upper, page, used = hi, self.first_page, 0
        oldest: int | None = None
        seen_here: set[str] = set()
        while True:
            if self.stopped or used >= self.budget or self.out_of_time():
                return oldest if oldest is not None else (upper if upper is not None else _TOP)
            result = fetch_page(lo, upper, page)
            used += 1
            self.pages += int(result.requested)
            self.skipped.extend(result.skipped)
            fresh = [m for m in result.mentions if m.native_id not in seen_here]
            for mention in result.mentions:
                ts = int(mention.published.timestamp())
                oldest = ts if oldest is None else min(oldest, ts)
                self.newest = ts if self.newest is None else max(self.newest, ts)
                seen_here.add(mention.native_id)
                self.mentions.setdefault(mention.native_id, mention)
            if result.stop:
                self.stopped = result.stop
                if not result.more:
                    return None
                return oldest if oldest is not None else (upper if upper is not None else _TOP)
            if not result.more:
                return None
            if result.mentions and not fresh:
                self.skipped.append(
                    f"{label}: page {page} repeated items already read (the API is looping); "
                    "stopped, the rest is read next run"
                )
                return oldest if oldest is not None else _TOP
            if not result.mentions:
                self.skipped.append(f"{label}: page {page} was empty but claimed more; stopped")
                return oldest if oldest is not None else (upper if upper is not None else _TOP)
            served = (page - self.first_page + 1) * self.per_page
            if self.max_results is None or served + self.per_page <= self.max_results:
                page += 1
                continue
            # the API will not page further: narrow the window to what is older than seen
            assert oldest is not None
            if upper is not None and oldest >= upper:
                self.skipped.append(
                    f"{label}: more than {self.max_results} results at {upper}; "
                    "some of them may be missed"
                )
                oldest = upper - 1
            upper, page = oldest, self.first_page

    def scan_all(
        self, searches: list[tuple[str, PageFetcher]], lo: int, gap: tuple[int, int] | None
    ) -> list[tuple[int, int]]:
        """Read every search from `lo` up to now, then the `gap` a previous run still owes;
        the ranges still owed after this run."""
        owed: list[tuple[int, int]] = []
        for label, fetch_page in searches:
            owed_hi = self.scan(fetch_page, label, lo, None)
            if owed_hi is not None:
                owed.append((lo, owed_hi))
        if gap is not None:
            g_lo, g_hi = gap
            for label, fetch_page in searches:
                owed_hi = self.scan(fetch_page, f"{label} (owed range)", g_lo, g_hi)
                if owed_hi is not None:
                    owed.append((g_lo, min(owed_hi, g_hi)))
        return owed

    def result(
        self, source: str, cursor: WindowCursor, *, owed: bool, skipped: list[str]
    ) -> FetchResult:
        """The run's FetchResult; `skipped` (the source's own notes) come first."""
        if self.stopped:
            skipped = [*skipped, f"{source}: stopped early: {self.stopped}"]
        return FetchResult(
            mentions=list(self.mentions.values()),
            cursor=cursor.dump(),
            pages=self.pages,
            skipped=skipped + self.skipped,
            truncated=owed or self.stopped is not None,
        )


# "owed up to the top of the window": a search that was stopped before reading anything
_TOP = 2**62


def plan_next(
    old: WindowCursor, *, start: int, newest: int | None, owed: list[tuple[int, int]], now: int
) -> WindowCursor:
    """The cursor after a run that searched from `start` and still owes the `owed` ranges."""
    high = min(max(start, newest if newest is not None else start), now)
    # an API that ignores the window can serve items below it: nothing is owed below `lo`
    owed = [(lo, hi) for lo, hi in owed if hi > lo]
    if not owed:
        return WindowCursor(high=high)
    lo = min(g[0] for g in owed)
    hi = max(g[1] for g in owed)
    if hi >= high:
        return WindowCursor(high=min(lo, high))
    return WindowCursor(high=high, gap=(lo, hi))


def load_json(resp: Any) -> Any:
    """A JSON body; bytes that are not UTF-8 are decoded with replacement characters instead of
    failing the whole page (the damaged characters only affect the items that contain them)."""
    from stormwatch.http import HttpError

    try:
        return resp.json()
    except HttpError:
        try:
            resp.content.decode("utf-8")
        except UnicodeDecodeError:
            try:
                return json.loads(resp.content.decode("utf-8", errors="replace"))
            except ValueError:
                pass
        raise


def json_error(exc: HttpError) -> dict[str, Any]:
    """The JSON object in an error response's body, or {}."""
    try:
        data = json.loads(exc.body.decode("utf-8", errors="replace")) if exc.body else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
