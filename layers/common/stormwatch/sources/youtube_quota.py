"""The YouTube quota, planned across topics per day (pure: the watchlist and the day in, a
plan out; the collect function and the digest derive the same plan).

A project gets 10,000 units a day (reset at midnight Pacific Time); a `search.list` call costs
100, a `commentThreads.list` call 1. Live collection and backfill share that one budget:

* `BACKFILL_SHARE` of it is the day's backfill pool, spent first come by the backfill steps
  of new topics (a 28-day video search costs one to a few calls), at most `MAX_SEARCH_PAGES`
  calls a step, and kept in the source state so live runs and steps of one day see one count;
* the rest is dealt out to the topics in 100-unit slices (one search each), round robin, each
  topic up to its own `max_search_calls_per_day`; each day's round starts where the day
  before's first pass ended, so when there are more topics than searches, every topic gets its
  turn within ceil(topics / searches) days.

A topic's live units cover its searches and its comment calls, as before the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from stormwatch.watchlist import Topic, YouTubeOptions

PROJECT_UNITS = 10_000  # a project's default daily quota
SEARCH_UNITS = 100
BACKFILL_SHARE = 0.1
QUOTA_DAY_ZONE = ZoneInfo("America/Los_Angeles")  # the API's quota resets at midnight PT


def quota_day(now: datetime) -> date:
    """The Pacific date the quota of `now` belongs to."""
    return now.astimezone(QUOTA_DAY_ZONE).date()


class QuotaPlan(BaseModel):
    """One day's plan: each topic's live units and the backfill pool."""

    model_config = ConfigDict(frozen=True)

    day: date
    project_units: int
    backfill_units: int
    live_units: dict[str, int]

    def searched(self) -> list[str]:
        """The topics with at least one search today."""
        return [name for name, units in self.live_units.items() if units >= SEARCH_UNITS]

    def searches_for(self, topic: str) -> int:
        return self.live_units.get(topic, 0) // SEARCH_UNITS

    def describe(self, topic: str) -> str:
        """The digest's coverage note (the source's run note): how the quota was dealt out."""
        return (
            f"YouTube: {len(self.searched())} of {len(self.live_units)} topics searched today, "
            f"quota {self.project_units:,} units a day: {self.live_units.get(topic, 0):,} for "
            f"this topic, {self.backfill_units:,} for backfills"
        )


def plan_day(
    topics: Sequence[Topic], now: datetime, *, project_units: int = PROJECT_UNITS
) -> QuotaPlan:
    """Deal the day's quota out fairly over the YouTube topics (see the module docstring)."""
    day = quota_day(now)
    backfill = int(project_units * BACKFILL_SHARE) // SEARCH_UNITS * SEARCH_UNITS
    caps = {t.name: _cap(t) for t in sorted(topics, key=lambda t: t.name)}
    names = list(caps)
    slices = (project_units - backfill) // SEARCH_UNITS
    # the round starts where yesterday's first pass ended: with more topics than searches,
    # consecutive days serve consecutive topics
    start = day.toordinal() * slices % len(names) if names else 0
    order = names[start:] + names[:start]
    live = dict.fromkeys(names, 0)
    while slices and any(live[n] < caps[n] for n in order):
        for name in order:
            if slices and live[name] < caps[name]:
                live[name] += SEARCH_UNITS
                slices -= 1
    return QuotaPlan(day=day, project_units=project_units, backfill_units=backfill, live_units=live)


def _cap(topic: Topic) -> int:
    opts = topic.sources.youtube or YouTubeOptions()
    return opts.max_search_calls_per_day * SEARCH_UNITS
