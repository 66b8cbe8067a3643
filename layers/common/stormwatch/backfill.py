"""Backfill: a new topic's past, read from the sources that can search their history.

When a topic appears (a source's first run for it) or on request (`stormwatch backfill`, a
collect event with `backfill_days`), each source whose class declares `history` is asked for
the past days within that reach. The request is kept on the checkpoint as a `BackfillProgress`
(apart from the live cursor) and read in steps: the collector runs live collection for every
topic first and spends only the time left on backfill steps, so a backfill never starves live
collection, and one that does not fit an invocation continues in the next.

A step reuses the source's own owed-range machinery: it hands the source the cursor
`{"high": now, "gap": [lo, hi]}` (stormwatch.sources.window), so the source reads what is new
since `now - overlap` (a request or two, dropped as repeats) and then the owed range from its top
down within its page budget; the gap it returns is what is still owed.

Backfilled mentions are stored and scored like live ones. They never raise alerts about the
past: the scorer evaluates only the hours at its own clock, and the hours a backfill fills are
baseline. `baseline_coverage` says from which hour the baseline is complete and which sources it
was backfilled from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from stormwatch.models import BackfillProgress, Checkpoint, FetchResult, utc
from stormwatch.sources.window import WindowCursor
from stormwatch.surge import CoverageEvidence

# as far back as the detector's baseline looks (scoring.HISTORY; a test keeps them equal)
MAX_DAYS = 28


def reach(history: timedelta, days: int) -> timedelta:
    """How far back a source with `history` reads when `days` are asked for."""
    return max(timedelta(0), min(timedelta(days=min(days, MAX_DAYS)), history))


def plan(history: timedelta, *, days: int, now: datetime) -> BackfillProgress | None:
    """A backfill of the `days` before `now` within the source's reach; None without history."""
    span = reach(history, days)
    if not span:
        return None
    until = utc(now).replace(microsecond=0)
    since = until - span
    return BackfillProgress(
        since=since, until=until, owed=(int(since.timestamp()), int(until.timestamp()))
    )


def step_cursor(progress: BackfillProgress, now: datetime) -> str:
    """The cursor that asks a source for the range still owed (see the module docstring)."""
    assert progress.owed is not None, "a finished backfill has no step"
    lo, hi = progress.owed
    return json.dumps({"high": int(now.timestamp()), "gap": [lo, hi]}, separators=(",", ":"))


def advance(progress: BackfillProgress, result: FetchResult, now: datetime) -> BackfillProgress:
    """The progress after a step that returned `result`.

    The source's new cursor names the part still owed as its `gap`. A run that stopped early
    without one (its newest window was not read either, so it restarts from the bottom) made no
    progress it can vouch for: the owed range stays. Otherwise the backfill is done."""
    assert progress.owed is not None
    owed: tuple[int, int] | None = progress.owed
    try:
        gap = WindowCursor.parse(result.cursor).gap
    except (ValueError, TypeError, KeyError, IndexError):
        gap = None
    if gap is not None:
        lo, hi = max(gap[0], progress.owed[0]), min(gap[1], progress.owed[1])
        owed = (lo, hi) if hi > lo else None
    elif not result.truncated:
        owed = None
    return progress.model_copy(
        update={
            "owed": owed,
            "steps": progress.steps + 1,
            "done_at": utc(now) if owed is None else None,
        }
    )


@dataclass(frozen=True)
class BaselineCoverage:
    """From which hour a topic's baseline is complete, and where its past came from."""

    complete_from: datetime | None  # hours before are incomplete; None: nothing known
    backfilled: tuple[str, ...] = ()  # sources whose backfill reaches before live collection
    no_history: tuple[str, ...] = ()  # sources that cannot look back

    def backfilled_days(self, now: datetime) -> int:
        """Whole days of complete baseline before `now` (0 when none or not known)."""
        if self.complete_from is None or not self.backfilled:
            return 0
        return max(0, (utc(now) - self.complete_from) // timedelta(days=1))

    def evidence(self, now: datetime) -> CoverageEvidence:
        return CoverageEvidence(
            complete_from=self.complete_from,
            backfilled_days=self.backfilled_days(now),
            backfilled=list(self.backfilled),
            no_history=list(self.no_history),
        )


def baseline_coverage(
    checkpoints: Iterable[Checkpoint], history: Mapping[str, timedelta], now: datetime
) -> BaselineCoverage:
    """The hour from which every source that can look back has read everything (live or by
    backfill): a backfilled hour is baseline only where coverage is complete.

    Sources without history cannot fill the past: their share of the hours before their first
    run is missing ("no history", not zero). They do not hold the baseline back, or a topic
    with an RSS feed could never use a backfill; the baseline is then low by their share for
    its first days. A topic with no source that can look back is complete from its sources'
    first runs. A source that has never run holds the baseline at `now`; one whose coverage is
    not known (it ran but never succeeded, or a checkpoint older than this rule) is left out."""
    checkpoints = list(checkpoints)
    deep = [c for c in checkpoints if history.get(c.source, timedelta(0))]
    shallow = [c for c in checkpoints if c not in deep]
    judged = deep or shallow
    starts = [start for c in judged if (start := c.covered_from(now)) is not None]
    backfilled = sorted(
        c.source
        for c in deep
        if (start := c.backfill_start(now)) is not None
        and (c.first_success is None or start < utc(c.first_success))
    )
    return BaselineCoverage(
        complete_from=max(starts) if starts else None,
        backfilled=tuple(backfilled),
        no_history=tuple(sorted(c.source for c in shallow)) if deep else (),
    )
