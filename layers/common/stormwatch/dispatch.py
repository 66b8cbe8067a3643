"""Fan-out collection: which (source, topic) tasks a schedule period dispatches, in what order.

Each source's schedule invokes the dispatch function, which sends one `CollectTask` per topic
to the source's FIFO queue; the collect function works them off through an SQS event source
mapping whose `MaximumConcurrency` is the source's `Pace.concurrency` (template.yaml; the
infrastructure tests hold the two together). Pure: no AWS, no clock, no environment.

Fair order. A period dispatches at most `Pace.capacity` topics: what the source's workers can
collect within the period (the time model below). When a watchlist has more topics than that,
the period's slice of the topic list (sorted by name) rotates with the period number, so every
topic is dispatched within ceil(topics / capacity) periods, whatever happened before: no state
to keep, and a retried dispatch (same scheduled time) sends the same tasks, which the queue's
deduplication drops.

Pacing. Concurrent sources use one message group per topic: a topic never runs twice at once,
and Lambda runs at most `concurrency` batches. A `serial` source's API allows one request at a
time (GDELT: one every 5 s; keyless Reddit: ~10 a minute; GitHub search: 10 a minute without a
token, 30 with one), and MaximumConcurrency cannot go below 2, so its tasks share ONE message
group: Lambda hands a FIFO group's next batch over only when the previous one has finished, so
at most one invocation runs; inside it the source's PacerPerClient spaces the requests of every
topic of the batch, and the worker holds the group `gap_seconds` after the batch, so the next
batch's first request is paced too.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from stormwatch.backfill import MAX_DAYS as BACKFILL_MAX_DAYS

# share of a period the model plans to use: the rest absorbs slow responses and cold starts
UTILISATION = 0.8
# tasks per collect invocation (the queue mappings' BatchSize): small, so that a batch of the
# slowest serial source (GDELT, ~16 s a topic) ends well inside the function's timeout
BATCH_SIZE = 5
# SQS FIFO: message group and deduplication ids are at most 128 characters
_ID_CHARS = 40


class Pace(BaseModel):
    """How one source is collected: its schedule, its concurrency and the time it takes per
    topic (modelled from its requests per topic and its pacing; docs/benchmarks.md)."""

    model_config = ConfigDict(frozen=True)

    period_minutes: int = Field(ge=1)  # the dispatch schedule's rate (template.yaml)
    concurrency: int = Field(ge=2)  # the queue mapping's MaximumConcurrency (SQS minimum: 2)
    seconds_per_topic: float = Field(gt=0)  # modelled: requests per topic x pacing + latency
    serial: bool = False  # one request at a time: one message group, one batch at a time
    gap_seconds: float = Field(default=0.0, ge=0)  # serial: held after a batch (the API's pace)

    @property
    def workers(self) -> int:
        """Invocations that can run at once: a serial source's single group allows one."""
        return 1 if self.serial else self.concurrency

    @property
    def capacity(self) -> int:
        """Topics one period can collect: workers x usable period / seconds per topic."""
        usable = self.period_minutes * 60 * UTILISATION
        return max(1, math.floor(self.workers * usable / self.seconds_per_topic))

    def seconds_for(self, topics: int) -> float:
        """The modelled wall time of one period's collection of `topics` topics."""
        return math.ceil(topics / self.workers) * self.seconds_per_topic


# One line per source (tests/infrastructure/test_source_registry.py: the same names as the
# source registry, the template's schedules and queue mappings). seconds_per_topic: requests a
# topic needs in a steady period x (pace between requests, or ~1 s of latency); GitHub without a
# token (two searches 6.5 s apart), Reddit keyless (two feeds 6 s apart), GDELT (three requests
# 5.5 s apart): the slowest case each source may run in.
PACES: dict[str, Pace] = {
    "hackernews": Pace(period_minutes=15, concurrency=3, seconds_per_topic=2.0),
    "rss": Pace(period_minutes=30, concurrency=3, seconds_per_topic=4.0),
    "reddit": Pace(period_minutes=15, concurrency=2, seconds_per_topic=12.0, serial=True,
                   gap_seconds=6.0),
    "mastodon": Pace(period_minutes=15, concurrency=4, seconds_per_topic=2.5),
    "bluesky": Pace(period_minutes=15, concurrency=3, seconds_per_topic=2.0),
    "stackexchange": Pace(period_minutes=30, concurrency=2, seconds_per_topic=2.0),
    "youtube": Pace(period_minutes=60, concurrency=2, seconds_per_topic=2.0),
    "github": Pace(period_minutes=30, concurrency=2, seconds_per_topic=13.0, serial=True,
                   gap_seconds=6.5),
    "gdelt": Pace(period_minutes=30, concurrency=2, seconds_per_topic=16.5, serial=True,
                  gap_seconds=5.5),
}  # fmt: skip


class CollectTask(BaseModel):
    """One queue message: collect `topic` from `source`, dispatched for schedule `period`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1)
    topic: str = Field(min_length=1)
    period: int = Field(ge=0)
    backfill_days: int | None = Field(default=None, ge=1, le=BACKFILL_MAX_DAYS)

    def group_id(self, pace: Pace) -> str:
        """The FIFO message group: the source for a serial one (one batch at a time), else
        the topic (a topic never runs twice at once; topics run side by side)."""
        return self.source if pace.serial else f"{self.source}.{_digest(self.topic)}"

    def deduplication_id(self) -> str:
        """The same task of the same period is sent once, however often dispatch is retried;
        a backfill request is a task of its own (the period's live task does not swallow it)."""
        backfill = f".b{self.backfill_days}" if self.backfill_days else ""
        return f"{self.source}.{self.period}.{_digest(self.topic)}{backfill}"


def _digest(text: str) -> str:
    # topic names may hold any character; the ids allow only ASCII punctuation and letters
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_ID_CHARS]


def period_of(pace: Pace, at: datetime) -> int:
    """The number of the schedule period `at` falls in (periods count from the epoch)."""
    return int(at.timestamp() // (pace.period_minutes * 60))


def fair_slice(topics: list[str], period: int, capacity: int) -> list[str]:
    """The topics period `period` collects: all of them when they fit, else `capacity` of them
    from a start that moves on by `capacity` each period (wrapping), over the sorted names."""
    ordered = sorted(set(topics))
    if len(ordered) <= capacity:
        return ordered
    start = (period * capacity) % len(ordered)
    return [ordered[(start + i) % len(ordered)] for i in range(capacity)]


def plan_dispatch(
    source: str,
    topics: list[str],
    *,
    at: datetime,
    pace: Pace,
    backfill_days: int | None = None,
) -> list[CollectTask]:
    """The tasks the period at `at` sends for `source`: its fair slice of `topics`."""
    period = period_of(pace, at)
    return [
        CollectTask(source=source, topic=topic, period=period, backfill_days=backfill_days)
        for topic in fair_slice(topics, period, pace.capacity)
    ]
