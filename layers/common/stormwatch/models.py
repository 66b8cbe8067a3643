"""Domain models shared by every part of stormwatch.

Everything that crosses a boundary (a source response turned into a mention, a stored item, a
stream record, a template context) is one of these pydantic models, so bad data fails loudly at
the edge with the field named instead of deep inside the pipeline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stormwatch.sanitize import clean_text, safe_link
from stormwatch.sketch import DistinctSketch, KnownKeys
from stormwatch.surge import SurgeEvidence
from stormwatch.surge import Tier as SurgeTier
from stormwatch.timeutil import floor_hour, iso, utc

MAX_TEXT_CHARS = 4000
MAX_TITLE_CHARS = 500
MAX_AUTHOR_CHARS = 200
# an hourly bucket counts authors (and the digest knows them) by this many characters of
# Mention.author_key
AUTHOR_KEY_CHARS = 10
# the precision of an hourly bucket's distinct-count sketches (stormwatch.sketch): authors at
# 2^8 registers (exact up to 48 authors an hour, then about 6 % standard error), stories at
# 2^7 (exact up to 24: what "one story, many copies" needs); both together stay under 300 bytes
AUTHOR_SKETCH_PRECISION = 8
STORY_SKETCH_PRECISION = 7

SentimentLabel = Literal["negative", "neutral", "positive"]


def hour_key(value: datetime) -> str:
    return utc(value).strftime("%Y-%m-%dT%H")


class Mention(BaseModel):
    """One public post, comment or article that matched a topic."""

    model_config = ConfigDict(frozen=True)

    topic: str
    source: str
    native_id: str = Field(min_length=1, max_length=300)
    published: datetime
    url: str | None = None
    title: str = ""
    text: str = ""
    author: str = ""
    lang: str | None = None
    engagement: int = Field(default=0, ge=0)
    # where the item came from inside the source, e.g. an RSS feed's title or "story"/"comment"
    channel: str = ""
    # read by a backfill (stormwatch.backfill): the scorer counts it, so the baseline uses the
    # backfilled hours only once all of them are scored
    backfill: bool = False

    @field_validator("published")
    @classmethod
    def _published_utc(cls, value: datetime) -> datetime:
        return utc(value)

    @field_validator("url", mode="before")
    @classmethod
    def _url_safe(cls, value: Any) -> str | None:
        return safe_link(value) if isinstance(value, str) or value is None else None

    @field_validator("title", mode="before")
    @classmethod
    def _title_clean(cls, value: Any) -> str:
        return clean_text(value, MAX_TITLE_CHARS)

    @field_validator("text", mode="before")
    @classmethod
    def _text_clean(cls, value: Any) -> str:
        return clean_text(value, MAX_TEXT_CHARS, lines=True)

    @field_validator("author", mode="before")
    @classmethod
    def _author_clean(cls, value: Any) -> str:
        return clean_text(value, MAX_AUTHOR_CHARS)

    @property
    def sort_key(self) -> str:
        return f"M#{iso(self.published)}#{self.source}#{self.native_id}"

    @property
    def full_text(self) -> str:
        """Title and body together: what the topic query and the sentiment analyzer read."""
        return "\n".join(part for part in (self.title, self.text) if part)

    @property
    def author_key(self) -> str:
        """A stable, non-reversible id for counting distinct authors."""
        who = f"{self.source}:{self.author.casefold()}" if self.author else f"{self.source}:?"
        return hashlib.sha256(who.encode()).hexdigest()[:16]

    @property
    def short_author_key(self) -> str:
        """The author key as an hourly bucket counts it and the digest knows it."""
        return self.author_key[:AUTHOR_KEY_CHARS]


class Sentiment(BaseModel):
    """What an analyzer says about one text."""

    model_config = ConfigDict(frozen=True)

    label: SentimentLabel
    score: float = Field(ge=-1.0, le=1.0)
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    lang: str = "und"
    # the words that pushed the decision, so the digest can say why something counts as negative
    terms: tuple[str, ...] = ()


# what scores a text: (text, language hint) -> Sentiment (stormwatch.sentiment.analyze)
AnalyzeText = Callable[[str, str | None], Sentiment]  # not sentiment.Analyzer: one language


class ScoredMention(BaseModel):
    model_config = ConfigDict(frozen=True)

    mention: Mention
    sentiment: Sentiment | None = None  # None: not scored (an item stored before scoring moved)
    # the story this mention belongs to (syndication.story_keys over its collection run);
    # "": not known, the scorer takes the mention's own syndication.story_key
    story: str = ""


class StreamedMention(BaseModel):
    """A scored mention as the table's stream delivered it. `sequence` is its stream record's
    SequenceNumber: records of one partition key (one topic) arrive in increasing order, which
    is what makes bucket updates exactly-once (stormwatch.store.Store.apply_scores)."""

    model_config = ConfigDict(frozen=True)

    scored: ScoredMention
    sequence: int = Field(ge=0)

    @property
    def mention(self) -> Mention:
        return self.scored.mention


# a source is "down" for a topic after this many failed runs in a row (fewer: "degraded"); the
# run that records the N-th failure writes a SourceNotice, which is mailed once
SOURCE_DOWN_AFTER_FAILURES = 3
# "refused": the platform refuses this client (an app without its approval, keyless access
# refused from this network); waiting does not help, approval or credentials do
# a finished backfill counts for the baseline at the latest this long after it finished
BACKFILL_SETTLE = timedelta(hours=1)
SourceHealth = Literal["ok", "degraded", "down", "refused", "never-run"]
ErrorKind = Literal["", "refused"]
# A successful run that changes nothing a later reader needs (no new mentions, the same cursor,
# notes and truncation, no failure streak to end) is not written unless the recorded success is
# this old: a quiet source costs one write an hour instead of one a run. So `last_run` and
# `last_success` of a working source are at most this far behind its latest run; their readers
# look at hours (scoring.incomplete_from: a source that then fails marks at most one more hour
# incomplete, never one fewer) and days (the digest's period in Checkpoint.health), and "is this
# source working" comes from `consecutive_failures`, which every failed run writes.
SUCCESS_REFRESH = timedelta(hours=1)
MAX_NOTES = 5  # a checkpoint keeps this many of the last run's notes
MAX_NOTE_CHARS = 200


def bounded_notes(notes: Iterable[str]) -> list[str]:
    """A run's notes as its checkpoint keeps them."""
    return [str(note)[:MAX_NOTE_CHARS] for note in list(notes)[:MAX_NOTES]]


class BackfillProgress(BaseModel):
    """A backfill of one source for one topic: the past `(since, until]` asked for, and the part
    `owed` (epoch seconds `(lo, hi]`) still unread. Sources read newest first, so everything
    above `owed` is read; None: done. Kept on the checkpoint, apart from the live cursor."""

    since: datetime
    until: datetime
    owed: tuple[int, int] | None = None
    steps: int = 0  # invocations that worked on it
    done_at: datetime | None = None
    # the checkpoint's `backfill_scored` once every mention this backfill stored is scored
    expected_scored: int = 0

    @field_validator("since", "until")
    @classmethod
    def _bounds_utc(cls, value: datetime) -> datetime:
        return utc(value)

    @property
    def done(self) -> bool:
        return self.owed is None

    @property
    def covered_from(self) -> datetime:
        """Everything from here to `until` has been read."""
        if self.owed is None:
            return self.since
        return datetime.fromtimestamp(self.owed[1], tz=UTC)


class Checkpoint(BaseModel):
    """Where a source left off for a topic, plus its health. Stored at SRC#<source> / C#<topic>."""

    source: str
    topic: str
    cursor: str | None = None
    last_run: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    last_error_kind: ErrorKind = ""  # of the last failure; "refused": stormwatch.http.AccessRefused
    # the last recorded run's new mentions (a quiet run is recorded at most every
    # SUCCESS_REFRESH: last_run may be that much older than the latest run)
    last_count: int = 0
    total_count: int = 0
    # the last successful run's own notes (e.g. "daily quota budget reached"), bounded, and
    # whether it stopped before catching up; the digest shows them as "degraded"
    last_notes: list[str] = Field(default_factory=list)
    last_truncated: bool = False
    # the first successful run: live collection covers the hours from here on (None: not
    # known, a checkpoint written before this was kept)
    first_success: datetime | None = None
    backfill: BackfillProgress | None = None
    backfill_scored: int = 0  # backfilled mentions the scorer has counted, ever

    def needs_recording(
        self, *, cursor: str | None, count: int, notes: Iterable[str], truncated: bool, at: datetime
    ) -> bool:
        """Whether a successful run at `at` changes something a later reader needs: the
        cursor, new mentions (the counts), its notes or truncation, a failure streak it ends,
        the first success, or a recorded success SUCCESS_REFRESH old."""
        if self.last_success is None or self.consecutive_failures:
            return True
        if count or (cursor is not None and cursor != self.cursor):
            return True
        if bounded_notes(notes) != self.last_notes or truncated != self.last_truncated:
            return True
        return utc(at) - utc(self.last_success) >= SUCCESS_REFRESH

    def covered_from(self, now: datetime) -> datetime | None:
        """The earliest time this source has read (and the scorer counted) everything from,
        live or by backfill; `now` for a source that has never run; None when not known (it
        ran but never succeeded, or the checkpoint is older than this rule)."""
        if self.last_run is None:
            return utc(now)
        starts = [t for t in (self.first_success, self.backfill_start(now)) if t is not None]
        return utc(min(starts)) if starts else None

    def backfill_start(self, now: datetime) -> datetime | None:
        """Where the backfilled part begins. It joins the live part only when the range read
        reaches up to the first live run, and counts once the scorer has counted what it
        stored (the stream may deliver the backfill after the live mentions) or, should a
        count be lost, BACKFILL_SETTLE after it finished."""
        b = self.backfill
        if b is None or (self.first_success is not None and b.until < utc(self.first_success)):
            return None
        settled = self.backfill_scored >= b.expected_scored or (
            b.done_at is not None and utc(now) - b.done_at >= BACKFILL_SETTLE
        )
        return b.covered_from if settled else None

    def backfilling(self, now: datetime) -> bool:
        """A backfill is reading the past, or what it stored is not all scored yet (for at
        most BACKFILL_SETTLE after it finished): summaries of past hours may still change."""
        b = self.backfill
        if b is None or (b.done and self.backfill_scored >= b.expected_scored):
            return False
        return not b.done or (b.done_at is not None and utc(now) - b.done_at < BACKFILL_SETTLE)

    def health(self, since: datetime | None = None) -> SourceHealth:
        """never-run / refused (failing because the platform refuses the client) / down
        (SOURCE_DOWN_AFTER_FAILURES failed runs in a row, or no run at all since `since`) /
        degraded (failing, or the last run stopped before catching up) / ok.
        The one rule for the digest's coverage, the notices and the tests."""
        if self.last_run is None:
            return "never-run"
        if self.consecutive_failures and self.last_error_kind == "refused":
            return "refused"
        if self.consecutive_failures >= SOURCE_DOWN_AFTER_FAILURES:
            return "down"
        if since is not None and utc(self.last_run) < since:
            return "down"  # nothing was looked at in the period
        if self.consecutive_failures or self.last_truncated:
            return "degraded"
        return "ok"


class HourBucket(BaseModel):
    """Counts of one topic in one UTC hour. Stored at T#<topic> / H#<yyyy-mm-ddThh>."""

    topic: str
    hour: datetime
    count: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    engagement: int = 0
    authors: int = 0  # distinct authors in the hour
    stories: int = 0  # distinct story keys (stormwatch.syndication); 0: not known
    by_source: dict[str, int] = Field(default_factory=dict)
    top_author: int = 0  # mentions by the hour's most active author; 0: not known

    @field_validator("hour")
    @classmethod
    def _hour_utc(cls, value: datetime) -> datetime:
        return floor_hour(value)

    @property
    def negative_share(self) -> float:
        return self.negative / self.count if self.count else 0.0


class BucketTally(BaseModel):
    """An hourly bucket as the scorer keeps it: the counts, sketches of its distinct authors
    and stories (fixed size however busy the hour: stormwatch.sketch), and the sequence number
    of the last stream record counted into it (0: none)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    bucket: HourBucket
    authors: DistinctSketch = DistinctSketch(AUTHOR_SKETCH_PRECISION)
    stories: DistinctSketch = DistinctSketch(STORY_SKETCH_PRECISION)
    applied_through: int = 0
    # the hour's most active authors: a space-saving summary of at most TOP_AUTHORS entries
    # (author key -> mentions; a count is exact while the author never left the summary,
    # otherwise an upper bound), so bucket.top_author costs constant space
    top_authors: dict[str, int] = Field(default_factory=dict)

    @classmethod
    def empty(cls, topic: str, hour: datetime) -> BucketTally:
        return cls(bucket=HourBucket(topic=topic, hour=hour))

    @classmethod
    def of(
        cls, bucket: HourBucket, authors: Iterable[str] = (), stories: Iterable[str] = (), **kw
    ) -> BucketTally:
        """A tally from its keys (author keys cut to AUTHOR_KEY_CHARS); the bucket's distinct
        counts are the sketches' estimates."""
        tally = cls(bucket=bucket, **kw)
        return tally.with_keys([a[:AUTHOR_KEY_CHARS] for a in authors], list(stories))

    def with_keys(self, authors: list[str], stories: list[str]) -> BucketTally:
        """The tally with these keys merged into its sketches, and the bucket's distinct
        counts following them."""
        author_sketch = self.authors.with_keys(authors)
        story_sketch = self.stories.with_keys(stories)
        bucket = self.bucket.model_copy(
            update={"authors": author_sketch.estimate(), "stories": story_sketch.estimate()}
        )
        return self.model_copy(
            update={"bucket": bucket, "authors": author_sketch, "stories": story_sketch}
        )

    def counted(self, records: list[StreamedMention]) -> BucketTally:
        """This tally with `records` added, in stream order; records at or before
        `applied_through` are counted already and left out."""
        # one record per sequence number, in stream order
        by_sequence = {r.sequence: r for r in records if r.sequence > self.applied_through}
        new = [by_sequence[s] for s in sorted(by_sequence)]
        if not new:
            return self
        b = self.bucket
        labels = {"negative": b.negative, "neutral": b.neutral, "positive": b.positive}
        by_source = dict(b.by_source)
        for record in new:
            sentiment = record.scored.sentiment
            assert sentiment is not None, "a record is scored before it is counted"
            labels[sentiment.label] += 1
            by_source[record.mention.source] = by_source.get(record.mention.source, 0) + 1
        authors = [r.mention.short_author_key for r in new]
        top = space_saving(self.top_authors, authors)
        bucket = b.model_copy(
            update={
                **labels,
                "count": b.count + len(new),
                "engagement": b.engagement + sum(r.mention.engagement for r in new),
                "by_source": by_source,
                "top_author": max(top.values(), default=0),
            }
        )
        counted = self.model_copy(
            update={"bucket": bucket, "applied_through": new[-1].sequence, "top_authors": top}
        )
        return counted.with_keys(authors, [r.scored.story for r in new])


TOP_AUTHORS = 16


def space_saving(summary: dict[str, int], keys: list[str], k: int = TOP_AUTHORS) -> dict[str, int]:
    """Space-saving heavy hitters (Metwally et al. 2005): `summary` with `keys` counted in; a
    new key past `k` entries takes the place (and count) of the smallest. The largest count is
    exact when the top author holds more than the smallest entry ever evicted."""
    out = dict(summary)
    for key in keys:
        if key in out or len(out) < k:
            out[key] = out.get(key, 0) + 1
            continue
        smallest = min(out, key=lambda name: (out[name], name))
        out[key] = out.pop(smallest) + 1
    return out


def author_keys(mentions: Iterable[ScoredMention]) -> set[str]:
    """The keys (Mention.short_author_key) of the mentions that name an author."""
    return {m.mention.short_author_key for m in mentions if m.mention.author}


class VoiceRange(BaseModel):
    """The authors heard in the hours [start, until) of a topic, as a Bloom filter (short
    author keys). Stored at T#<topic> / V#<start ISO>; written once, when the range is over."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    start: datetime
    until: datetime
    known: KnownKeys

    @field_validator("start", "until")
    @classmethod
    def _hours_utc(cls, value: datetime) -> datetime:
        return floor_hour(value)


@dataclass(frozen=True)
class HeardAuthors:
    """Who has been heard in a window: `key in heard` for a short author key. Bloom filters
    (VoiceRange) for the summarised ranges, exact keys for the hours read from mentions; a key
    never heard is reported heard with odds of at most BLOOM_FALSE_POSITIVE per filter."""

    filters: tuple[KnownKeys, ...] = ()
    exact: frozenset[str] = frozenset()

    def with_keys(self, keys: Iterable[str]) -> HeardAuthors:
        return HeardAuthors(filters=self.filters, exact=self.exact | frozenset(keys))

    def __contains__(self, key: object) -> bool:
        return key in self.exact or any(key in known for known in self.filters)


def uncovered(
    start: datetime,
    end: datetime,
    ranges: Iterable[tuple[datetime, datetime]],
    longest: timedelta = timedelta(days=1),
) -> list[tuple[datetime, datetime]]:
    """The hour ranges of [start, end) that none of `ranges` ([from, until)) covers, in order,
    each at most `longest` (a month's gap is read and kept a day at a time)."""
    gaps: list[tuple[datetime, datetime]] = []
    at = floor_hour(start)
    for low, high in sorted(ranges):
        if low > at:
            gaps.append((at, min(low, end)))
        at = max(at, high)
        if at >= end:
            break
    if at < end:
        gaps.append((at, end))
    return [(low, min(low + longest, b)) for a, b in gaps for low in _steps(a, b, longest)]


def _steps(start: datetime, end: datetime, step: timedelta) -> Iterable[datetime]:
    at = start
    while at < end:
        yield at
        at += step


# what the surge detector reads of an hourly bucket (surge.Point), in the state's packed order
DETECTOR_FIELDS = ("count", "negative", "authors", "engagement", "stories", "top_author")


# hours this much older than the current hour are settled: a batch rarely changes them, so the
# detector state keeps them and the newer hours are read from their buckets (a few small items)
STATE_SETTLE = timedelta(hours=2)


class DetectorState(BaseModel):
    """A topic's settled hourly history as the surge check reads it: one item instead of four
    weeks of buckets. `hours` holds, per hour with mentions (hour_key) before `open_from`, the
    bucket's DETECTOR_FIELDS as its last write left them, so the check sees exactly what the
    buckets would give; hours from `open_from` on are read from the buckets themselves. Kept
    this way the item (several KB for a busy topic) is rewritten about once an hour, when the
    settled hours move on, or when a late mention changes a settled hour, not on every batch.
    `version` makes each write conditional on the read it came from."""

    model_config = ConfigDict(frozen=True)

    topic: str
    hours: dict[str, tuple[int, ...]] = Field(default_factory=dict)
    version: int = 0
    # the first hour the state does not hold (hour_key); None: a state written before this
    # field, which every batch kept up to date, so it holds every hour up to its newest
    open_from: str | None = None

    @classmethod
    def of(cls, topic: str, buckets: Iterable[HourBucket], version: int = 0) -> DetectorState:
        return cls(topic=topic, version=version).with_buckets(buckets, keep_from=None)

    def first_open_hour(self) -> datetime | None:
        """The first hour to read from the buckets, not from here (None: no hour held yet)."""
        if self.open_from is not None:
            return _hour_of(self.open_from)
        newest = max(self.hours, default=None)
        return _hour_of(newest) + timedelta(hours=1) if newest else None

    def with_buckets(
        self, buckets: Iterable[HourBucket], keep_from: datetime | None
    ) -> DetectorState:
        """The state with these buckets' values (a set, not an add: safe to repeat); hours
        before `keep_from` are dropped."""
        hours = dict(self.hours)
        for bucket in buckets:
            hours[hour_key(bucket.hour)] = tuple(int(getattr(bucket, f)) for f in DETECTOR_FIELDS)
        if keep_from is not None:
            oldest = hour_key(keep_from)
            hours = {hour: values for hour, values in hours.items() if hour >= oldest}
        return self.model_copy(update={"hours": hours})

    def settled_until(self, open_from: datetime) -> DetectorState:
        """The state holding only the hours before `open_from`, the rest left to the buckets."""
        first_open = hour_key(open_from)
        hours = {hour: values for hour, values in self.hours.items() if hour < first_open}
        return self.model_copy(update={"hours": hours, "open_from": first_open})

    def buckets(self, start: datetime, end: datetime) -> list[HourBucket]:
        """The hours in [start, end] as buckets carrying the detector's fields, oldest first."""
        first, last = hour_key(start), hour_key(end)
        return [
            HourBucket(
                topic=self.topic,
                hour=_hour_of(hour),
                **dict(zip(DETECTOR_FIELDS, values, strict=True)),
            )
            for hour, values in sorted(self.hours.items())
            if first <= hour <= last
        ]


def _hour_of(key: str) -> datetime:
    return datetime.fromisoformat(f"{key}:00:00+00:00")


class Surge(BaseModel):
    """One detected surge episode with the numbers behind it. Stored at T#<topic> / S#<ISO>."""

    topic: str
    detected_at: datetime
    tier: SurgeTier
    observed: float
    expected: float
    score: float
    threshold: float
    negative_share: float
    usual_negative_share: float
    authors: int = 0
    complete: bool = True
    escalation: bool = False  # raises the tier of an open episode
    episode_start: datetime | None = None
    evidence: SurgeEvidence = Field(default_factory=SurgeEvidence)
    sample_mentions: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def sort_key(self) -> str:
        return f"S#{iso(self.detected_at)}"


class SourceNotice(BaseModel):
    """A source went down for a topic: written once per outage episode by the collector when
    the N-th failed run in a row is recorded. Stored at T#<topic> / N#<ISO>#<source>; its
    stream insert makes the report function send a short "source down" e-mail."""

    topic: str
    source: str
    detected_at: datetime
    kind: Literal["source_down"] = "source_down"
    # "refused": the platform refuses the client (needs approval), worded apart from "down"
    health: Literal["down", "refused"] = "down"
    failures: int = 0
    since: datetime | None = None  # the last success before the outage; None: never
    last_error: str = ""

    @field_validator("detected_at")
    @classmethod
    def _detected_utc(cls, value: datetime) -> datetime:
        return utc(value)

    @property
    def sort_key(self) -> str:
        return f"N#{iso(self.detected_at)}#{self.source}"


class ChannelHealth(BaseModel):
    """How a topic's deliveries through one channel (slack, sms, ...) went lately. Stored at
    T#<topic> / CH#<channel>; the digest's coverage says "Slack delivery failing since …"."""

    topic: str
    channel: str
    last_success: datetime | None = None
    last_failure: datetime | None = None
    # the first failure after the last success; None while the channel works
    failing_since: datetime | None = None
    consecutive_failures: int = 0
    last_error: str = ""

    @property
    def failing(self) -> bool:
        return self.consecutive_failures > 0


class RenderedEmail(BaseModel):
    """A finished e-mail: what the mailer sends and what `out/` keeps."""

    subject: str
    html: str
    text: str
    headers: dict[str, str] = Field(default_factory=dict)


class FetchResult(BaseModel):
    """What one source returned for one topic in one run."""

    mentions: list[Mention] = Field(default_factory=list)
    cursor: str | None = None
    pages: int = 0
    # items the source returned that could not be used, each with a reason ("malformed: ...",
    # "no local match"), so a run can say what it skipped
    skipped: list[str] = Field(default_factory=list)
    truncated: bool = False  # the source stopped before reaching the checkpoint (cap or budget)


class NewsTone(BaseModel):
    """GDELT's average tone of the news about a topic over a period, weighted by articles: a
    second opinion beside our own sentiment (GDELT's scale runs from -100 to +100; news is
    mostly between -10 and +10, below 0 is negative)."""

    model_config = ConfigDict(frozen=True)

    tone: float
    articles: int = Field(ge=0)


def recipient_hash(address: str) -> str:
    return hashlib.sha256(address.strip().casefold().encode()).hexdigest()[:12]


def now_utc() -> datetime:
    return datetime.now(UTC)


FeedbackVerdict = Literal["real", "noise", "handled", "mute"]


class Feedback(BaseModel):
    """What a reader said about one alerted surge, through a signed link. Stored at
    T#<topic> / F#<surge ISO>#<at ISO>#<nonce> (stormwatch.store)."""

    topic: str
    surge: str  # the surge's detection time, as in its sort key (S#<surge>)
    verdict: FeedbackVerdict
    at: datetime

    @property
    def label(self) -> bool | None:
        """True: a real storm (handled is one too), False: noise, None: says nothing."""
        return {"real": True, "handled": True, "noise": False}.get(self.verdict)
