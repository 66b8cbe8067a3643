"""Scoring: sentiment per new mention, hourly buckets once per (topic, hour) per batch, surges.

Pure orchestration: the store, the analyzer and the clock are passed in.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from stormwatch.backfill import BaselineCoverage, baseline_coverage
from stormwatch.models import (
    AnalyzeText,
    Checkpoint,
    DetectorState,
    HourBucket,
    Mention,
    ScoredMention,
    StreamedMention,
    Surge,
    utc,
)
from stormwatch.query import normalize
from stormwatch.sources import history_of
from stormwatch.surge import EpisodeState, Point, evaluate, settings_for
from stormwatch.syndication import story_keys
from stormwatch.timeutil import floor_hour
from stormwatch.watchlist import Topic, Watchlist

logger = logging.getLogger(__name__)

HISTORY = timedelta(days=28)
SAMPLE_WINDOW = timedelta(hours=2)
MAX_SAMPLES = 5
# a failing source leaves the hours since its last success incomplete, at most this many back
# (a longer outage: older hours stay in the baseline so the detector keeps working)
MAX_INCOMPLETE_HOURS = 72


def topic_words(topic: Topic | None) -> frozenset[str]:
    """The words a topic is found by (normalised like the matcher does)."""
    if topic is None:
        return frozenset()
    words: set[str] = set()
    for entry in (*topic.terms, *topic.phrases):
        words.update(normalize(entry.replace("*", " ")).split())
    return frozenset(words)


def score_mention(
    mention: Mention, analyze: AnalyzeText, own_words: frozenset[str] = frozenset()
) -> ScoredMention:
    """Sentiment of one mention. Its "why" terms leave out the topic's own words: every mention
    of "Deutsche Bahn" contains them, so they explain nothing about why it is negative."""
    sentiment = analyze(mention.full_text, mention.lang)
    if own_words and sentiment.terms:
        terms = tuple(t for t in sentiment.terms if not set(normalize(t).split()) <= own_words)
        sentiment = sentiment.model_copy(update={"terms": terms})
    return ScoredMention(mention=mention, sentiment=sentiment)


@dataclass
class BatchWrite:
    written: int = 0
    repeats: int = 0
    failed_keys: list[str] = field(default_factory=list)  # sort keys whose group failed
    # every topic of the batch, written or not: a retried batch finds its mentions already
    # scored, and its surge check (idempotent) must still run, or a surge whose write failed
    # on the first delivery would never be written
    topics: set[str] = field(default_factory=set)
    # newly scored backfilled mentions per (source, topic): the backfill's coverage counts them
    backfilled: Counter[tuple[str, str]] = field(default_factory=Counter)
    # the detector state each topic's write left: the batch's surge check reads it from here,
    # not from the table again
    states: dict[str, DetectorState] = field(default_factory=dict)


def write_scores(
    store: Any, records: Iterable[StreamedMention], *, now: datetime | None = None
) -> BatchWrite:
    """Count a batch of stream records into their hourly buckets: one bucket write per
    (topic, hour), then one write of each topic's detector state with the buckets as they
    now stand (`now`: the clock, for what the state keeps). A failed bucket fails only its
    records; a failed state write fails the topic's records, so the retry sets it again.

    Exactly once, without a transaction per mention. DynamoDB Streams puts every change of one
    partition key (here: one topic, `T#<topic>`) into one shard, in order, with increasing
    sequence numbers, and the Lambda event source mapping processes one shard's records in
    order, one batch at a time (with a ParallelizationFactor, still in order per partition
    key; a split shard's children only after their parent). A retry, a bisected half, or a
    batch that restarts at the lowest sequence number reported in `batchItemFailures`
    delivers records of a topic again, never a record before one already counted that was
    not counted itself, provided a batch never counts a record after one that failed:
    `counted_prefix` keeps that rule for records that fail to parse, and a failed bucket
    write holds back only its own bucket. So each bucket keeps the sequence number of the
    last record it counted, and a record at or before it is a repeat
    (store.Store.apply_scores; models.BucketTally.counted).
    """
    groups: dict[tuple[str, datetime], list[StreamedMention]] = defaultdict(list)
    for record in with_story_keys(list(records)):
        hour = floor_hour(record.mention.published)
        groups[(record.mention.topic, hour)].append(record)
    outcome = BatchWrite(topics={topic for topic, _ in groups})
    standing: dict[str, list[HourBucket]] = defaultdict(list)
    for (topic, hour), items in groups.items():
        try:
            result = store.apply_scores(topic, hour, items)
        except Exception:
            outcome.failed_keys.extend(i.mention.sort_key for i in items)
            continue
        standing[topic].append(result.bucket)
        outcome.written += len(result.written)
        outcome.repeats += len(result.already_scored)
        written = set(result.written)
        outcome.backfilled.update(
            (i.mention.source, topic)
            for i in items
            if i.mention.backfill and i.mention.sort_key in written
        )
    _update_states(store, standing, groups, outcome, now)
    for (source, topic), count in outcome.backfilled.items():
        try:
            store.count_backfill_scored(source, topic, count)
        except Exception:  # the scores stand; the backfill then counts after BACKFILL_SETTLE
            logger.warning("backfill count not kept", extra={"source": source, "topic": topic})
    return outcome


def _update_states(
    store: Any,
    standing: dict[str, list[HourBucket]],
    groups: dict[tuple[str, datetime], list[StreamedMention]],
    outcome: BatchWrite,
    now: datetime | None,
) -> None:
    """One detector-state write per topic of the batch; hours older than the check reads
    (HISTORY) are left out of it."""
    keep_from = utc(now or datetime.now(UTC)) - HISTORY - timedelta(hours=1)
    for topic, buckets in standing.items():
        try:
            state = store.update_detector_state(
                topic, [b for b in buckets if b.hour >= keep_from], keep_from
            )
            if state is not None:
                outcome.states[topic] = state
        except Exception:
            logger.warning("detector state not written", extra={"topic": topic})
            outcome.failed_keys.extend(
                r.mention.sort_key
                for (group_topic, _), items in groups.items()
                if group_topic == topic
                for r in items
                if r.mention.sort_key not in outcome.failed_keys
            )


def with_story_keys(records: list[StreamedMention]) -> list[StreamedMention]:
    """Records whose mention came without a story key (stored before the collector kept
    one) get one: copies of one story within the batch share it (syndication.story_keys)."""
    missing: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        if not record.scored.story:
            missing[record.mention.topic].append(index)
    out = list(records)
    for indices in missing.values():
        keys = story_keys([records[i].mention for i in indices])
        for i, key in zip(indices, keys, strict=True):
            scored = records[i].scored.model_copy(update={"story": key})
            out[i] = records[i].model_copy(update={"scored": scored})
    return out


def counted_prefix(
    records: list[StreamedMention], failed_sequences: Iterable[int]
) -> tuple[list[StreamedMention], list[StreamedMention]]:
    """(records to count, records to hand back) when some records of the batch failed before
    counting: Lambda restarts the shard at the lowest failed sequence number, so every record
    after it comes again and must not be counted now (a bucket would take the later record's
    number and refuse the failed one when it comes back)."""
    first_failure = min(failed_sequences, default=None)
    if first_failure is None:
        return records, []
    return (
        [r for r in records if r.sequence < first_failure],
        [r for r in records if r.sequence > first_failure],
    )


def hourly_points(
    buckets: list[HourBucket],
    start: datetime,
    end: datetime,
    incomplete_from: datetime | None = None,
    complete_from: datetime | None = None,
) -> list[Point]:
    """Buckets -> one Point per hour from start to end inclusive, zeros where nothing came.
    Hours from `incomplete_from` on (a failing source) and hours that start before
    `complete_from` (not yet wholly read by every source that can look back) are incomplete."""
    by_hour = {b.hour: b for b in buckets}
    points = []
    hour = floor_hour(start)
    last = floor_hour(end)
    while hour <= last:
        bucket = by_hour.get(hour)
        complete = (incomplete_from is None or hour < incomplete_from) and (
            complete_from is None or hour >= complete_from
        )
        if bucket:
            points.append(
                Point(
                    time=hour,
                    count=bucket.count,
                    negative=bucket.negative,
                    authors=bucket.authors,
                    engagement=bucket.engagement,
                    stories=bucket.stories,
                    complete=complete,
                    top_author_count=bucket.top_author,
                )
            )
        else:
            points.append(Point(time=hour, count=0, complete=complete))
        hour += timedelta(hours=1)
    return points


def _sample(mention: ScoredMention) -> dict[str, Any]:
    sentiment = mention.sentiment
    return {
        "title": mention.mention.title,
        "text": mention.mention.text[:400],
        "url": mention.mention.url,
        "author": mention.mention.author,
        "source": mention.mention.source,
        "channel": mention.mention.channel,  # a Stack Exchange post's attribution is in it
        "published": mention.mention.published.isoformat(),
        "engagement": mention.mention.engagement,
        "sentiment": sentiment.label if sentiment else None,
        "sentiment_score": sentiment.score if sentiment else None,
    }


def _drivers(recent: list[ScoredMention]) -> dict[str, Any]:
    """The window's negative terms and sources, as SurgeEvidence's top_terms and sources."""
    terms: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for item in recent:
        sources[item.mention.source] += 1
        if item.sentiment and item.sentiment.label == "negative":
            terms.update(item.sentiment.terms)
    return {
        "top_terms": [term for term, _ in terms.most_common(8)],
        "sources": dict(sources.most_common()),
    }


def _episode_state(last: Surge | None) -> EpisodeState | None:
    """The open episode as the detector needs it, from the topic's latest surge item."""
    if last is None:
        return None
    return EpisodeState(
        started=last.episode_start or last.detected_at, tier=last.tier, last_alarm=last.detected_at
    )


@dataclass(frozen=True)
class TopicSeries:
    """What the detector reads for a topic: its hourly points and why some are incomplete."""

    points: list[Point]
    failing: list[Checkpoint]  # sources failing now (their hours since last success incomplete)
    coverage: BaselineCoverage  # from when every source that can look back has read it all


def topic_series(
    store: Any, topic: Topic, now: datetime, state: DetectorState | None = None
) -> TopicSeries:
    """The topic's hourly points over HISTORY up to `now` (the current hour partial), exactly as
    the live check judges them (bench/first_alarm.py asks the same). `state`: the topic's
    detector state as just written or read, if the caller has it (saves reading it again)."""
    start = now - HISTORY
    buckets = store.detector_history(topic.name, start, now, state)
    checkpoints = store.checkpoints(topic.name, topic.sources.enabled())
    # a source that is failing right now leaves the hours since its last success incomplete
    failing = behind(checkpoints)
    # hours before every source that can look back has read them (live or backfilled) are
    # not baseline, and neither are those before the topic's first bucket: "no data yet", not zero
    coverage = baseline_coverage(checkpoints, history_of(), now)
    first = min((b.hour for b in buckets), default=now)
    points = hourly_points(
        buckets,
        max(start, first),
        now,
        incomplete_from=incomplete_from(failing, now),
        complete_from=coverage.complete_from,
    )
    return TopicSeries(points=points, failing=failing, coverage=coverage)


def check_topic(
    store: Any, topic: Topic, *, now: datetime, detector_state: DetectorState | None = None
) -> Surge | None:
    """Evaluate the detector on this topic's hourly history (current hour partial), from
    `detector_state` when the caller has just written it."""
    if not topic.alerts.enabled:
        return None
    now = utc(now)
    settings = settings_for(
        topic.alerts.sensitivity,
        min_count=topic.alerts.min_count,
        cooldown_hours=topic.alerts.cooldown_hours,
    )
    series = topic_series(store, topic, now, detector_state)
    failing, coverage = series.failing, series.coverage
    state = _episode_state(store.latest_surge(topic.name, since=now - timedelta(days=7)))
    alarm = evaluate(series.points, now, settings, state)
    if alarm is None:
        return None
    recent = store.mentions_between(topic.name, now - SAMPLE_WINDOW, now + timedelta(seconds=1))
    negatives = sorted(
        (m for m in recent if m.sentiment),
        key=lambda m: (m.sentiment.score, -m.mention.engagement),
    )
    evidence = alarm.evidence.model_copy(
        update={
            **_drivers(recent),
            "failing_sources": [c.source for c in failing],
            "failing_since": {c.source: c.last_success for c in failing},
            "baseline_coverage": coverage.evidence(now),
        }
    )
    episode_start = state.started if (alarm.escalation and state) else alarm.time
    return Surge(
        topic=topic.name,
        detected_at=alarm.time,
        tier=alarm.tier,
        observed=alarm.observed,
        expected=alarm.expected,
        score=alarm.score,
        threshold=alarm.threshold,
        negative_share=alarm.negative_share,
        usual_negative_share=alarm.usual_negative_share,
        authors=alarm.authors,
        complete=alarm.complete,
        escalation=alarm.escalation,
        episode_start=episode_start,
        evidence=evidence,
        sample_mentions=[_sample(m) for m in negatives[:MAX_SAMPLES]],
    )


def behind(checkpoints: Iterable[Checkpoint]) -> list[Checkpoint]:
    """The sources failing now that will catch up when they recover. A refused one (health
    "refused": the platform needs to approve this client) is not behind but not available:
    waiting brings none of its hours back, so they are not "incomplete"."""
    return [c for c in checkpoints if c.consecutive_failures and c.health() != "refused"]


def incomplete_from(failing: Iterable[Checkpoint], now: datetime) -> datetime | None:
    """The first hour with missing data: the hour of the earliest last success among the
    failing sources that are `behind` (never succeeded: the current hour), at most
    MAX_INCOMPLETE_HOURS back."""
    current = floor_hour(now)
    hours = [floor_hour(c.last_success) if c.last_success else current for c in behind(failing)]
    if not hours:
        return None
    return max(min(hours), current - timedelta(hours=MAX_INCOMPLETE_HOURS))


def check_surges(
    store: Any,
    watchlist: Watchlist,
    topics: Iterable[str],
    *,
    now: datetime,
    states: Mapping[str, DetectorState] | None = None,
) -> list[Surge]:
    """Run the surge check for the topics of a batch and store new episodes. Safe to repeat:
    a stored episode is the check's state, and storing one is conditional on its key. `states`:
    the detector states the batch's write left (`BatchWrite.states`); other topics' are read."""
    states = states or {}
    stored = []
    for name in sorted(topics):
        topic = watchlist.find(name)
        if topic is None:
            continue  # mentions of a topic removed from the watchlist: no alerts for it
        surge = check_topic(store, topic, now=now, detector_state=states.get(name))
        if surge is not None and store.put_surge(surge):
            stored.append(surge)
    return stored
