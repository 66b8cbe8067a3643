"""Surge and firestorm detection: a pure function from hourly buckets to alarms with evidence.

The detector answers one question per evaluation: *is the topic's volume right now far above
what its own history says this hour should bring, and if so, how bad is it?*  Everything it
decides is written into the alarm's typed ``evidence`` so that an e-mail can show the working.
Every tier rule lives here - the live scorer, ``stormwatch backtest`` and the benchmarks all
call this code and nothing else decides a tier.

Method (details, calibration and measured numbers in ``docs/surge.md``):

1. **Baseline** - up to ``baseline_days`` of complete hourly buckets strictly before the
   current hour.  No alarm before ``min_history_hours``.
2. **Expected count** - ``level x daily profile x weekday factor`` (medians, so past storms
   barely move them).
3. **Noise** - negative binomial, ``var = e + k e^2``; ``k`` from the baseline's robust spread,
   floored and capped; Poisson (``k`` at its floor) for topics with a few mentions an hour.
   The score is the z of the count against that distribution.
4. **Storm hours** - baseline hours scoring at least ``storm_z`` are storms: they are left out
   of the topic's reference tail, the usual negative share, author rate and reach, so an
   earlier storm never raises the bar for the next one.
5. **Bar** - the false-alarm budget: the score ordinary hours of this topic beat about once a
   week (``BUDGET_HOURS``), times ``calibration_margin``, and at least ``threshold_z``.
6. **Gates, tiers, holds** - ``min_count`` and ``min_ratio``; ``warning`` for a significant
   shift in negative share carried by many authors, ``firestorm`` when it is also large,
   strongly negative and far-reaching; a surge carried by few accounts, or one story copied
   many times, stays at ``watch``.
7. **Episodes** - one storm is one alert; within an open episode only escalations fire.

Pure: no I/O, no clock reads, no environment.  ``now`` is passed in.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

HOUR = timedelta(hours=1)
Tier = Literal["watch", "warning", "firestorm"]
TIERS: tuple[Tier, ...] = ("watch", "warning", "firestorm")
TIER_RANK: dict[str, int] = {name: rank for rank, name in enumerate(TIERS)}
SENSITIVITIES = ("fewer", "balanced", "more")
Trigger = Literal["volume", "negative_mentions", "negative_share"]
WindowName = Literal["current_hour", "last_complete_hour", "sustained"]
# The false-alarm budget: a topic's ordinary hours may beat its bar about once per week.
BUDGET_HOURS = 168
# Below this many expected mentions per hour the spread of the counts says nothing reliable
# about overdispersion: the noise model is Poisson (k at its floor).
LOW_COUNT = 5.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAD_TO_SIGMA = 1.4826
_CHI2_1_MEDIAN = 0.4549


@dataclass(frozen=True, slots=True)
class Point:
    """One time bucket (hourly in the live system); the last point may be partial."""

    time: datetime  # bucket start, aware UTC
    count: float
    negative: float = 0.0
    authors: int = 0
    engagement: float = 0.0
    stories: int = 0  # distinct stories (stormwatch.syndication) in the bucket; 0: not known
    complete: bool = True  # False when some source had missing data for this bucket
    top_author_count: int = 0  # mentions by the hour's most active author; 0 = unknown


@dataclass(frozen=True)
class DetectorSettings:
    """Every knob of the detector; the defaults are the shipped defaults ("balanced")."""

    sensitivity: str = "balanced"
    # the bar: at least threshold_z, and calibration_margin x the score this topic's ordinary
    # hours beat about once a week (the false-alarm budget)
    threshold_z: float = 5.0
    calibration_margin: float = 0.9
    # a baseline hour scoring this high is a storm: out of the reference and the usual rates
    storm_z: float = 20.0
    min_ratio: float = 1.5  # observed must be at least this multiple of the expectation
    min_count: int = 5  # mentions the window must hold
    # baseline and seasonality
    baseline_days: int = 28
    min_history_hours: int = 72  # no alarm before this much baseline exists
    level_hours: int = 72  # recent hours that set the level
    daily_min_days: int = 3  # days of history before a daily profile is used
    weekly_min_days: int = 14  # days of history before weekday factors are used
    expected_floor: float = 0.5  # mentions per hour never expected below this
    # noise: relative spread of at least 10 %, at most 100 %
    dispersion_floor: float = 0.01
    dispersion_cap: float = 1.0
    # windows
    sustained_hours: int = 3  # the trailing window catching slow ramps
    min_fraction: float = 0.25  # a partial hour counts as at least 15 minutes elapsed
    # episodes
    cooldown_hours: int = 24
    rearm_z: float = 2.0  # a complete hour below this score re-arms after a storm
    # tiers
    negative_alpha: float = 0.001  # one-sided p-value for "negative share is up" (warning)
    negative_min_lift: float = 0.05  # and the share must be at least this much higher
    firestorm_ratio: float = 3.0  # firestorm: observed at least 3x expected
    firestorm_negative_alpha: float = 1e-6  # and a much stronger negative-share test
    firestorm_negative_share_ratio: float = 1.5  # and share >= 1.5x usual
    firestorm_reach_ratio: float = 2.0  # and engagement >= 2x usual (when known)
    # the extra mentions must come from at least this fraction of the topic's usual share of
    # distinct authors; without an author history, min_author_ratio authors per mention
    min_author_diversity: float = 0.5
    min_author_ratio: float = 0.3
    min_authors: int = 5
    # one account may write at most this share of the extra mentions of a warning
    one_account_share: float = 0.5
    # "one story, many copies": at most few_stories distinct stories, each copied at least
    # copies_per_story times on average, is news to watch, not many people turning
    few_stories: int = 2
    copies_per_story: int = 4


class _Preset(TypedDict, total=False):
    """The settings an alert sensitivity moves (typed, so `replace` is checked by mypy)."""

    threshold_z: float
    calibration_margin: float
    min_ratio: float
    negative_alpha: float


_SENSITIVITY: dict[str, _Preset] = {
    "fewer": {
        "threshold_z": 6.0,
        "calibration_margin": 1.3,
        "min_ratio": 2.0,
        "negative_alpha": 1e-4,
    },
    "balanced": {},
    "more": {
        "threshold_z": 4.0,
        "calibration_margin": 0.8,
        "min_ratio": 1.3,
        "negative_alpha": 0.01,
    },
}


def settings_for(
    sensitivity: str = "balanced",
    *,
    min_count: int | None = None,
    cooldown_hours: int | None = None,
) -> DetectorSettings:
    """The shipped settings for a topic's alert sensitivity (fewer / balanced / more)."""
    if sensitivity not in _SENSITIVITY:
        raise ValueError(f"sensitivity must be one of {', '.join(SENSITIVITIES)}: {sensitivity!r}")
    settings = replace(DetectorSettings(sensitivity=sensitivity), **_SENSITIVITY[sensitivity])
    if min_count is not None:
        settings = replace(settings, min_count=int(min_count))
    if cooldown_hours is not None:
        settings = replace(settings, cooldown_hours=int(cooldown_hours))
    return settings


@dataclass(frozen=True)
class EpisodeState:
    """What the live system persists between evaluations (from the last surge item)."""

    started: datetime
    tier: Tier
    last_alarm: datetime


# --------------------------------------------------------------------------------------------
# the evidence: typed from the detector through the stored surge item to the e-mail


class BaselineEvidence(BaseModel):
    model_config = ConfigDict(extra="ignore")

    start: datetime | None = None  # first baseline hour
    end: datetime | None = None  # exclusive
    hours: int = 0
    incomplete_hours_excluded: int = 0
    storm_hours: int = 0  # left out of the reference, the usual share and rates
    level_per_hour: float = 0.0
    daily_seasonality: bool = False
    weekly_seasonality: bool = False


class CoverageEvidence(BaseModel):
    """Where the baseline's past came from when a backfill filled it (stormwatch.backfill)."""

    model_config = ConfigDict(extra="ignore")

    complete_from: datetime | None = None  # hours before were not baseline
    backfilled_days: int = 0
    backfilled: list[str] = Field(default_factory=list)
    no_history: list[str] = Field(default_factory=list)


class SurgeEvidence(BaseModel):
    """Every number behind one alarm (docs/surge.md explains each)."""

    model_config = ConfigDict(extra="ignore")

    trigger: Trigger | None = None
    window: WindowName | None = None
    window_hours: float = 1.0
    partial_fraction: float = 1.0
    observed_in_window: float = 0.0
    expected_in_window: float = 0.0
    observed: float = 0.0  # per hour
    expected: float = 0.0  # per hour
    ratio: float = 0.0
    score: float = 0.0
    threshold: float = 0.0
    p_value: float = 1.0
    volume_score: float = 0.0
    volume_threshold: float = 0.0
    threshold_floor: float = 0.0
    usual_max_score: float = 0.0
    usual_max_rank: int = 0
    score_current_hour: float = 0.0
    score_sustained: float | None = None
    dispersion_k: float = 0.0
    negative: float = 0.0
    negative_share: float = 0.0
    usual_negative_share: float = 0.0
    expected_negative: float = 0.0
    negative_count_score: float = 0.0
    negative_count_threshold: float = 0.0
    usual_max_negative_score: float = 0.0
    negative_z: float = 0.0
    negative_p_value: float = 1.0
    negative_dispersion: float = 1.0
    sentiment_known: bool = False
    negative_excess: float = 0.0
    authors: int = 0
    author_ratio: float | None = None  # None: no author data
    surge_author_ratio: float | None = None
    usual_author_ratio: float | None = None
    diverse_authors: bool | None = None
    concentrated_mentions: float | None = None
    top_author_count: int | None = None  # the busiest author's mentions; None: not known
    top_author_share: float | None = None  # ... as a share of the extra mentions
    engagement: float = 0.0
    reach_ratio: float | None = None  # None: no engagement data
    stories: int | None = None  # distinct stories in the window; None: not known
    held_by_stories: Tier | None = None  # the tier "one story, many copies" held at watch
    complete: bool = True
    baseline: BaselineEvidence = Field(default_factory=BaselineEvidence)
    reasons: list[str] = Field(default_factory=list)
    sensitivity: str = "balanced"
    min_count: int = 0
    min_ratio: float = 0.0
    # the episode
    tier: Tier | None = None
    escalation: bool = False
    previous_tier: Tier | None = None
    episode_started: datetime | None = None
    evaluated_at: datetime | None = None
    # added by the live scorer from the stored mentions of the window (not the detector's)
    top_terms: list[str] = Field(default_factory=list)
    sources: dict[str, int] = Field(default_factory=dict)
    failing_sources: list[str] = Field(default_factory=list)
    failing_since: dict[str, datetime | None] = Field(default_factory=dict)
    baseline_coverage: CoverageEvidence | None = None


class _FromEvidence:
    """The headline numbers of a decision, read from its evidence (one place for each)."""

    evidence: SurgeEvidence | None

    def _ev(self) -> SurgeEvidence:
        return self.evidence if self.evidence is not None else SurgeEvidence()

    @property
    def observed(self) -> float:
        """Mentions per hour in the window that fired (the partial hour scaled)."""
        return self._ev().observed

    @property
    def expected(self) -> float:
        """Mentions per hour the baseline expected for that window."""
        return self._ev().expected

    @property
    def score(self) -> float:
        return self._ev().score

    @property
    def threshold(self) -> float:
        return self._ev().threshold

    @property
    def negative_share(self) -> float:
        return self._ev().negative_share

    @property
    def usual_negative_share(self) -> float:
        return self._ev().usual_negative_share

    @property
    def authors(self) -> int:
        return self._ev().authors

    @property
    def complete(self) -> bool:
        return self._ev().complete


@dataclass(frozen=True)
class Alarm(_FromEvidence):
    time: datetime  # when it fires
    tier: Tier
    evidence: SurgeEvidence

    @property
    def escalation(self) -> bool:
        """True when this raises the tier of an open episode."""
        return self.evidence.escalation

    def to_dict(self) -> dict:
        return {
            "time": _iso(self.time),
            "tier": self.tier,
            "evidence": self.evidence.model_dump(mode="json"),
        }


# --------------------------------------------------------------------------------------------
# small numeric helpers (pure Python, no numpy)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _hour_index(value: datetime) -> int:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return int(aware.timestamp() // 3600)


def _hour_start(index: int) -> datetime:
    return _EPOCH + HOUR * index


def _median(values: list[float]) -> float:
    n = len(values)
    if not n:
        return 0.0
    s = sorted(values)
    mid = n // 2
    return s[mid] if n % 2 else 0.5 * (s[mid - 1] + s[mid])


def _upper_p(z: float) -> float:
    """One-sided upper tail probability of a standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _r(value: float | None, digits: int = 4) -> float:
    if value is None or math.isnan(value) or math.isinf(value):
        return 0.0
    return round(float(value), digits)


def _surprise(observed: float, expected: float, inflation: float) -> float:
    """z of ``observed`` against a count with mean ``expected`` and variance ``inflation x
    expected`` (Poisson: inflation 1)."""
    if expected <= 0:
        return 0.0
    return (observed - expected) / math.sqrt(inflation * expected)


def _score(observed: float, expected: float, k: float) -> float:
    """Surprise against the negative binomial ``var = e + k e^2``."""
    return _surprise(observed, expected, 1.0 + k * expected)


# --------------------------------------------------------------------------------------------
# the hourly grid


@dataclass
class _Hours:
    """Hourly series on a contiguous integer grid; absent hours are zero and complete."""

    start: int  # hour index of element 0
    count: list[float] = field(default_factory=list)
    negative: list[float] = field(default_factory=list)
    authors: list[float] = field(default_factory=list)
    engagement: list[float] = field(default_factory=list)
    stories: list[int] = field(default_factory=list)
    complete: list[bool] = field(default_factory=list)
    # finer points of one hour add up: an upper bound of the hour's busiest author
    top_author: list[int] = field(default_factory=list)

    @classmethod
    def from_points(cls, points: Sequence[Point], until: int) -> _Hours:
        """The points of hours up to and including ``until``, on a grid reaching ``until``."""
        hours = [_hour_index(p.time) for p in points]
        grid = cls(min(hours, default=until))
        grid.reach(until)
        for hour, p in zip(hours, points, strict=True):
            if hour <= until:
                grid.add_at(hour - grid.start, p)
        return grid

    def reach(self, hour: int) -> None:
        """Extend the grid with empty hours up to and including ``hour``."""
        grow = hour - self.start + 1 - len(self.count)
        if grow > 0:
            for seq in (self.count, self.negative, self.authors, self.engagement):
                seq.extend([0.0] * grow)
            self.stories.extend([0] * grow)
            self.top_author.extend([0] * grow)
            self.complete.extend([True] * grow)

    def add(self, p: Point) -> None:
        hour = _hour_index(p.time)
        self.reach(hour)
        self.add_at(hour - self.start, p)

    def add_at(self, i: int, p: Point) -> None:
        self.count[i] += p.count
        self.negative[i] += p.negative
        self.authors[i] += p.authors
        self.engagement[i] += p.engagement
        self.stories[i] += p.stories
        self.top_author[i] += p.top_author_count
        self.complete[i] = self.complete[i] and p.complete


# --------------------------------------------------------------------------------------------
# the baseline fit: small named steps


@dataclass
class _Model:
    """The baseline fitted on complete hours before the current one."""

    ok: bool
    reason: str
    hours_available: int
    level: float = 0.0
    daily: list[float] | None = None
    weekly: list[float] | None = None
    k: float = 0.0
    usual_negative_share: float = 0.0
    negative_dispersion: float = 1.0
    typical_hour: float = 0.0  # median mentions of the hours negative_dispersion came from
    sentiment_known: bool = False
    usual_author_ratio: float = 0.0
    authors_known: bool = False
    engagement_per_mention: float = 0.0
    engagement_known: bool = False
    baseline_start: int = 0
    baseline_end: int = 0  # exclusive hour index
    excluded_incomplete: int = 0
    storm_hours: int = 0
    usual_max_z: float = 0.0
    usual_max_negative_z: float = 0.0
    calibration_rank: int = 0

    def season(self, hour: int) -> float:
        f = 1.0
        if self.daily is not None:
            f *= self.daily[hour % 24]
        if self.weekly is not None:
            f *= self.weekly[((hour // 24) + 3) % 7]  # 1970-01-01 was a Thursday (3)
        return f

    def expected(self, hour: int, settings: DetectorSettings) -> float:
        return max(self.level * self.season(hour), settings.expected_floor)


@dataclass
class _Baseline:
    """The complete baseline hours and their counts, expectations and scores."""

    hours: list[int]
    counts: list[float]
    expected: list[float] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    quiet: list[bool] = field(default_factory=list)  # False for storm hours


def _fit(h: _Hours, cur: int, s: DetectorSettings) -> _Model:
    """Fit the baseline on complete hours in [cur - baseline_days*24, cur)."""
    lo = max(h.start, cur - s.baseline_days * 24)
    available = max(cur - h.start, 0)
    if available < s.min_history_hours:
        reason = (
            f"insufficient baseline: {available} h of history, "
            f"{s.min_history_hours} h needed before the first alarm"
        )
        return _Model(False, reason, available)
    idx = [t for t in range(lo, cur) if h.complete[t - h.start]]
    if len(idx) < s.min_history_hours // 2:
        return _Model(False, "insufficient complete baseline hours", len(idx))
    base = _Baseline(idx, [h.count[t - h.start] for t in idx])
    model = _Model(True, "", len(idx), baseline_start=lo, baseline_end=cur)
    model.excluded_incomplete = (cur - lo) - len(idx)
    model.daily = _daily_profile(base, (cur - lo) / 24.0, s)
    model.weekly = _weekday_factors(base, (cur - lo) / 24.0, s)
    model.level = _level(base, model, cur, s)
    base.expected = [model.expected(t, s) for t in idx]
    model.k = _dispersion(base, s)
    base.scores = [_score(y, e, model.k) for y, e in zip(base.counts, base.expected, strict=True)]
    base.quiet = [z < s.storm_z for z in base.scores]
    model.storm_hours = base.quiet.count(False)
    _calibrate_volume(model, base, cur, s)
    _fit_sentiment(model, base, h, cur, s)
    _fit_authors_and_reach(model, base, h)
    return model


def _daily_profile(base: _Baseline, days: float, s: DetectorSettings) -> list[float] | None:
    """Per hour-of-day medians relative to the overall median (+1 smoothing), mean 1."""
    if days < s.daily_min_days:
        return None
    by_hod: list[list[float]] = [[] for _ in range(24)]
    for t, v in zip(base.hours, base.counts, strict=True):
        by_hod[t % 24].append(v)
    if not all(len(b) >= 2 for b in by_hod):
        return None
    overall = _median(base.counts)
    daily = [(_median(b) + 1.0) / (overall + 1.0) for b in by_hod]
    mean = sum(daily) / 24.0
    return [f / mean for f in daily]


def _weekday_factors(base: _Baseline, days: float, s: DetectorSettings) -> list[float] | None:
    """Median day-total ratio per weekday (full days only), mean 1."""
    if days < s.weekly_min_days:
        return None
    totals: dict[int, float] = {}
    hours: dict[int, int] = {}
    for t, v in zip(base.hours, base.counts, strict=True):
        totals[t // 24] = totals.get(t // 24, 0.0) + v
        hours[t // 24] = hours.get(t // 24, 0) + 1
    full = {d: v for d, v in totals.items() if hours[d] == 24}
    median_day = _median(list(full.values()))
    by_dow: list[list[float]] = [[] for _ in range(7)]
    for d, v in full.items():
        by_dow[(d + 3) % 7].append((v + 1.0) / (median_day + 1.0))
    if not all(len(b) >= 2 for b in by_dow):
        return None
    weekly = [_median(b) for b in by_dow]
    mean = sum(weekly) / 7.0
    return [w / mean for w in weekly]


def _level(base: _Baseline, model: _Model, cur: int, s: DetectorSettings) -> float:
    """Median of the deseasonalised recent hours: follows growth, ignores a few loud hours."""
    recent = [
        v / model.season(t)
        for t, v in zip(base.hours, base.counts, strict=True)
        if t >= cur - s.level_hours
    ]
    if not recent:
        return _median(base.counts)
    level = _median(recent)
    # very low counts: the median is zero, fall back to a mean (spikes barely move it here)
    return level if level > 0 else sum(recent) / len(recent)


def _dispersion(base: _Baseline, s: DetectorSettings) -> float:
    """Overdispersion k of ``var = e + k e^2`` from the MAD of the relative residuals minus
    the Poisson part; floored, capped, and at the floor (Poisson) for low-count topics."""
    typical = _median(base.expected)
    if typical < LOW_COUNT:
        return s.dispersion_floor
    rel = [(y - e) / e for y, e in zip(base.counts, base.expected, strict=True)]
    centre = _median(rel)
    sigma = _MAD_TO_SIGMA * _median([abs(r - centre) for r in rel])
    k = sigma * sigma - 1.0 / typical
    return min(max(k, s.dispersion_floor), s.dispersion_cap)


def _reference(base: _Baseline, values: list[float], cur: int, s: DetectorSettings) -> list:
    """The reference scores of the false-alarm budget: the quiet hours only (storm hours
    never enter it), without the hours the windows under test cover, so neither an earlier
    storm nor the current one raises the bar."""
    held_out = cur - max(s.sustained_hours - 1, 1)
    pairs = zip(base.hours, values, base.quiet, strict=True)
    return [z for t, z, quiet in pairs if quiet and t < held_out] or [0.0]


def _budget_score(ref: list[float], rank: int) -> float:
    """The rank-th largest reference score: what ordinary hours beat about once a week."""
    return heapq.nlargest(rank, ref)[-1]


def _calibrate_volume(model: _Model, base: _Baseline, cur: int, s: DetectorSettings) -> None:
    ref = _reference(base, base.scores, cur, s)
    # the budget counts all baseline hours: storms use it up as true alarms, not false ones
    model.calibration_rank = max(1, round(len(base.hours) / BUDGET_HOURS))
    model.usual_max_z = _budget_score(ref, model.calibration_rank)


def _fit_sentiment(model: _Model, base: _Baseline, h: _Hours, cur: int, s: DetectorSettings):
    """Usual negative share of the quiet hours, its hourly overdispersion (robust Pearson),
    and the negative-count reference of the false-alarm budget."""
    quiet = [i for i, q in enumerate(base.quiet) if q]
    total = sum(base.counts[i] for i in quiet)
    negatives = [h.negative[t - h.start] for t in base.hours]
    model.sentiment_known = sum(negatives) > 0
    if total <= 0 or not model.sentiment_known:
        return
    p0 = sum(negatives[i] for i in quiet) / total
    model.usual_negative_share = p0
    if not 0 < p0 < 1:
        return
    used = [i for i in quiet if base.counts[i] >= 5]
    chis = [
        (negatives[i] - base.counts[i] * p0) ** 2 / (base.counts[i] * p0 * (1 - p0)) for i in used
    ]
    if len(chis) >= 10:
        model.negative_dispersion = min(max(_median(chis) / _CHI2_1_MEDIAN, 1.0), 50.0)
        model.typical_hour = _median([base.counts[i] for i in used])
    zn = [_negative_score(n, e * p0, model) for n, e in zip(negatives, base.expected, strict=True)]
    model.usual_max_negative_z = _budget_score(_reference(base, zn, cur, s), model.calibration_rank)


def _fit_authors_and_reach(model: _Model, base: _Baseline, h: _Hours) -> None:
    """Usual distinct authors and engagement per mention, over the quiet hours."""
    quiet = [t for t, q in zip(base.hours, base.quiet, strict=True) if q]
    total = sum(h.count[t - h.start] for t in quiet)
    if total <= 0:
        return
    authors = sum(h.authors[t - h.start] for t in quiet)
    engagement = sum(h.engagement[t - h.start] for t in quiet)
    model.authors_known = authors > 0
    model.usual_author_ratio = authors / total
    model.engagement_known = engagement > 0
    model.engagement_per_mention = engagement / total


def _negative_score(negative: float, expected: float, model: _Model) -> float:
    """Surprise of a negative-mention count (overdispersed like volume, plus the share's own
    hourly overdispersion)."""
    return _surprise(negative, expected, model.negative_dispersion + model.k * expected)


def _share_z(negative: float, observed: float, model: _Model) -> float:
    """z of a window's negative mentions given its volume (the share test).

    The share's spread over the topic's typical hour is ``negative_dispersion`` times the
    binomial one.  Part of that is the tone's own wander from hour to hour, which does not
    shrink when an hour is busy: a news hour with ten times the mentions is no more likely
    to sit exactly at the usual share.  So the spread never falls below the typical hour's
    in share terms (beta-binomial), and never below the fitted inflation (as before)."""
    p0 = model.usual_negative_share
    if observed <= 0 or not 0 < p0 < 1:
        return 0.0
    inflation = model.negative_dispersion
    if model.typical_hour > 0:
        wander = (model.negative_dispersion - 1.0) / model.typical_hour
        inflation = max(inflation, 1.0 + observed * wander)
    return (negative - observed * p0) / math.sqrt(inflation * observed * p0 * (1 - p0))


def _shift_up(negative: float, observed: float, model: _Model, alpha: float, lift: float):
    """(z, p, up): is the negative share significantly and visibly above the usual one?"""
    z = _share_z(negative, observed, model)
    p = _upper_p(z)
    share = negative / observed if observed > 0 else 0.0
    return z, p, p < alpha and share >= model.usual_negative_share + lift


# --------------------------------------------------------------------------------------------
# one assessment of the current hour: small named steps


@dataclass
class _Window:
    name: WindowName
    observed: float
    expected: float
    score: float
    hours: float  # hours covered (the partial hour counts its elapsed fraction)
    first: int  # first bucket index
    last: int  # last bucket index


@dataclass
class _Facts:
    """What the chosen window holds besides its volume."""

    negative: float
    authors: int
    engagement: float
    stories: int  # the most distinct stories in one hour of the window (0: not known)
    one_story_hours: bool  # every hour with mentions is a few stories copied many times
    top_author: int  # the busiest author's mentions, summed over the window's hours
    complete: bool
    share: float


@dataclass
class _Tests:
    """The outcome of the volume test, the negative tests and the author check."""

    volume: bool = False
    volume_threshold: float = 0.0
    negative_up: bool = False  # the share is significantly up (warning material)
    negative_z: float = 0.0
    negative_p: float = 1.0
    expected_negative: float = 0.0
    negative_count_score: float = 0.0
    negative_threshold: float = 0.0
    negative_surge: bool = False  # way in 2: negative mentions
    share_shift: bool = False  # way in 3: negative share
    authors_known: bool = False
    author_ratio: float = 0.0
    surge_author_ratio: float = 0.0
    concentrated: float = 0.0
    negative_excess: float = 0.0
    few_carry_negative: bool = False
    top_author_share: float | None = None  # None: not known, or no extra mentions
    one_account: bool = False  # the busiest author wrote most of the extra mentions
    diverse: bool = True
    reach_ratio: float | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass
class Assessment(_FromEvidence):
    """Everything the detector worked out at one evaluation, alarm or not."""

    ok: bool
    reason: str
    tier: Tier | None = None  # the tier the data supports right now (None = no surge)
    evidence: SurgeEvidence | None = None


def _windows(h: _Hours, cur: int, fraction: float, model: _Model, s: DetectorSettings):
    """The current (partial) hour, the hour just completed (late mentions complete it, so the
    live system sees it whole only during the next hour) and the trailing sustained hours."""
    i = cur - h.start
    f = min(max(fraction, s.min_fraction), 1.0)
    e1 = model.expected(cur, s) * f
    windows = [_Window("current_hour", h.count[i], e1, _score(h.count[i], e1, model.k), f, i, i)]
    if i >= 1:
        y0, e0 = h.count[i - 1], model.expected(cur - 1, s)
        windows.append(
            _Window("last_complete_hour", y0, e0, _score(y0, e0, model.k), 1.0, i - 1, i - 1)
        )
    back = min(s.sustained_hours - 1, i)
    if back >= 1:
        obs = sum(h.count[i - back : i + 1])
        exp = e1 + sum(model.expected(cur - b, s) for b in range(1, back + 1))
        windows.append(
            _Window("sustained", obs, exp, _score(obs, exp, model.k), back + f, i - back, i)
        )
    return windows


def _facts(h: _Hours, w: _Window, cur: int, s: DetectorSettings) -> _Facts:
    sl = slice(w.first, w.last + 1)
    negative = sum(h.negative[sl])
    hours = [(c, n) for c, n in zip(h.count[sl], h.stories[sl], strict=True) if c > 0]
    return _Facts(
        negative=negative,
        authors=int(sum(h.authors[sl])),
        engagement=sum(h.engagement[sl]),
        # per hour: over several hours a story running on would count once per hour
        stories=max((n for _, n in hours), default=0),
        one_story_hours=bool(hours)
        and all(0 < n <= s.few_stories and c >= s.copies_per_story * n for c, n in hours),
        top_author=int(sum(h.top_author[sl])),
        # the current hour counts too: a source failing now leaves the picture incomplete
        complete=all(h.complete[w.first : cur - h.start + 1]),
        share=negative / w.observed if w.observed > 0 else 0.0,
    )


def _volume_test(w: _Window, model: _Model, s: DetectorSettings, t: _Tests) -> None:
    t.volume_threshold = max(s.threshold_z, s.calibration_margin * model.usual_max_z)
    t.volume = w.score >= t.volume_threshold
    if not t.volume:
        t.reasons.append(f"volume score {w.score:.1f} below threshold {t.volume_threshold:.1f}")
    if w.observed < s.min_count:
        t.volume = False
        t.reasons.append(f"only {w.observed:.0f} mentions, fewer than min_count {s.min_count}")
    if w.observed < s.min_ratio * w.expected:
        t.volume = False
        t.reasons.append(
            f"observed {w.observed / w.expected:.2f}x expected, below min_ratio {s.min_ratio}"
        )


def _negative_tests(w: _Window, x: _Facts, model: _Model, s: DetectorSettings, t: _Tests):
    """The share test (one-sided, overdispersed binomial) and the two negative ways in: the
    count of negative mentions against its own budget, and a very unlikely share shift with
    negative mentions clearly up (it conditions on the volume, so news at the usual tone does
    not pass it, and needs no calibration against the topic's volume spikes)."""
    p0 = model.usual_negative_share
    if not (model.sentiment_known and 0 < p0 < 1):
        return
    lifted = x.share >= p0 + s.negative_min_lift
    t.negative_z, t.negative_p, t.negative_up = _shift_up(
        x.negative, w.observed, model, s.negative_alpha, s.negative_min_lift
    )
    t.expected_negative = w.expected * p0
    t.negative_count_score = _negative_score(x.negative, t.expected_negative, model)
    t.negative_threshold = max(s.threshold_z, s.calibration_margin * model.usual_max_negative_z)
    clearly_up = x.negative >= s.min_count and x.negative >= s.min_ratio * t.expected_negative
    t.negative_surge = clearly_up and t.negative_count_score >= t.negative_threshold
    t.share_shift = (
        not t.negative_surge
        and clearly_up
        and lifted
        and t.negative_p < s.firestorm_negative_alpha
        and t.negative_count_score >= s.threshold_z
    )


def _author_check(
    w: _Window, x: _Facts, true_expected: float, model: _Model, s: DetectorSettings, t: _Tests
) -> None:
    """Are the extra mentions (and the extra negative ones) from many distinct authors?

    The distinct authors among the extra mentions (above what the usual traffic brings) must
    reach half the topic's usual rate.  Then the mentions few accounts may have written: the
    busiest author's count where the store knows it (``top_author_count``), else
    ``concentrated`` - the mentions the window's distinct authors do not account for at the
    topic's usual authors-per-mention rate (near zero for diverse traffic, about the size of
    the burst when one account posts it).  The rise in negative share must hold without them
    (counted as all negative), however busy the ordinary traffic in the window is; and one
    account must not have written most of the extra mentions."""
    t.authors_known = model.authors_known or x.authors > 0
    t.author_ratio = x.authors / w.observed if w.observed > 0 else 0.0
    usual = min(model.usual_author_ratio, 1.0)
    excess = w.observed - true_expected
    if excess >= max(s.min_count, 0.2 * w.observed):
        t.surge_author_ratio = (x.authors - true_expected * model.usual_author_ratio) / excess
    else:
        t.surge_author_ratio = t.author_ratio
    has_usual = model.authors_known and usual > 0
    min_diversity = s.min_author_diversity * usual if has_usual else s.min_author_ratio
    t.concentrated = max(w.observed - x.authors / usual, 0.0) if has_usual else 0.0
    t.negative_excess = x.negative - w.observed * model.usual_negative_share
    t.one_account = _one_account(x, excess, s, t)
    few = x.top_author if x.top_author > 0 else t.concentrated
    without = _shift_up(
        x.negative - few, w.observed - few, model, s.negative_alpha, s.negative_min_lift
    )
    t.few_carry_negative = t.negative_up and few >= s.min_count and not without[2]
    t.diverse = not t.one_account and (
        (not t.authors_known)
        or (
            x.authors >= s.min_authors
            and t.surge_author_ratio >= min_diversity
            and not t.few_carry_negative
        )
    )
    if model.engagement_known and model.engagement_per_mention > 0:
        t.reach_ratio = x.engagement / (w.expected * model.engagement_per_mention)


def _one_account(x: _Facts, excess: float, s: DetectorSettings, t: _Tests) -> bool:
    """Did the busiest author (where known) write most of the extra mentions?"""
    if x.top_author <= 0 or excess < s.min_count:
        return False
    t.top_author_share = min(x.top_author / excess, 1.0)
    return x.top_author >= s.min_count and t.top_author_share >= s.one_account_share


def _trigger(t: _Tests) -> Trigger | None:
    if t.volume:
        return "volume"
    if t.negative_surge:
        return "negative_mentions"
    return "negative_share" if t.share_shift else None


def _tier(w: _Window, x: _Facts, model: _Model, s: DetectorSettings, t: _Tests) -> Tier:
    """watch / warning / firestorm for a window that passed one of the three ways in."""
    p0 = model.usual_negative_share
    if not model.sentiment_known:
        t.reasons.append("no sentiment data: tier limited to watch")
        return "watch"
    if not t.diverse:
        t.reasons.append(_few_accounts_reason(w, x, t))
        return "watch"
    if not t.negative_up:
        t.reasons.append(f"negative share {x.share:.0%} not significantly above usual {p0:.0%}")
        return "watch"
    t.reasons.append(
        f"negative share {x.share:.0%} vs usual {p0:.0%} (p={t.negative_p:.1e} < "
        f"{s.negative_alpha:g})"
    )
    big = w.observed >= s.firestorm_ratio * w.expected
    strongly_negative = (
        t.negative_p < s.firestorm_negative_alpha
        and x.share >= s.firestorm_negative_share_ratio * p0
    )
    reach_ok = t.reach_ratio is None or t.reach_ratio >= s.firestorm_reach_ratio
    if big and strongly_negative and reach_ok:
        t.reasons.append("large, strongly negative, many authors and wide reach: firestorm")
        return "firestorm"
    if not big:
        t.reasons.append(
            f"volume {w.observed / w.expected:.1f}x < {s.firestorm_ratio}x: no firestorm"
        )
    if not strongly_negative:
        t.reasons.append("negative shift not strong enough for firestorm")
    if not reach_ok:
        t.reasons.append(f"reach {t.reach_ratio:.1f}x usual: no firestorm")
    return "warning"


def _few_accounts_reason(w: _Window, x: _Facts, t: _Tests) -> str:
    if t.one_account:
        return (
            f"one account wrote {x.top_author} of the extra mentions "
            f"({t.top_author_share:.0%}): watch"
        )
    if t.few_carry_negative and x.top_author > 0:
        carry = (
            f"; one account wrote {x.top_author} mentions: without them the negative share "
            "is not significantly up"
        )
    elif t.few_carry_negative:
        carry = (
            f"; without the {t.concentrated:.0f} mentions without their own author the "
            "negative share is not significantly up"
        )
    else:
        carry = ""
    return (
        f"carried by few accounts ({x.authors} authors for {w.observed:.0f} mentions, "
        f"{max(t.surge_author_ratio, 0.0):.0%} distinct among the extra mentions{carry}): watch"
    )


def _way_in_reason(w: _Window, x: _Facts, model: _Model, s: DetectorSettings, t: _Tests):
    """Why a window that failed the volume test still opened an alarm."""
    p0 = model.usual_negative_share
    if t.share_shift:
        return (
            f"negative share {x.share:.0%} vs usual {p0:.0%} (p={t.negative_p:.1e} < "
            f"{s.firestorm_negative_alpha:g}) with {x.negative:.0f} negative mentions vs "
            f"{t.expected_negative:.1f} expected"
        )
    return (
        f"negative mentions {x.negative:.0f} vs {t.expected_negative:.1f} expected (score "
        f"{t.negative_count_score:.1f} >= {t.negative_threshold:.1f})"
    )


def _story_hold(tier: Tier, w: _Window, x: _Facts, s: DetectorSettings, t: _Tests) -> Tier:
    """One story copied many times (a press release on forty outlets) is news to watch, not
    many people turning on the topic.  Without story counts nothing is known: no hold.
    Stories are counted per hourly bucket, so a window of several hours is held when each of
    its hours is (a story running on is not counted again in every hour)."""
    if tier == "watch" or x.stories <= 0:
        return tier
    if x.one_story_hours:
        noun = "story" if x.stories == 1 else "stories"
        t.reasons.append(
            f"one story, many copies ({x.stories} {noun} in {w.observed:.0f} mentions): watch"
        )
        return "watch"
    return tier


def _assess(
    h: _Hours, cur: int, fraction: float, model: _Model, s: DetectorSettings, explain: bool
) -> Assessment:
    """Score the windows, run the tests, decide the tier; the evidence when there is a surge
    (or when ``explain`` asks for it)."""
    if not model.ok:
        return Assessment(False, model.reason)
    w = max(_windows(h, cur, fraction, model, s), key=lambda v: v.score)
    x = _facts(h, w, cur, s)
    t = _Tests()
    _volume_test(w, model, s, t)
    _negative_tests(w, x, model, s, t)
    # what the usual traffic brings to the window by now (the true elapsed fraction)
    true_expected = w.expected
    if w.last == cur - h.start:
        f = min(max(fraction, s.min_fraction), 1.0)
        true_expected += model.expected(cur, s) * (min(max(fraction, 0.0), 1.0) - f)
    _author_check(w, x, true_expected, model, s, t)
    trigger = _trigger(t)
    tier, held = _tier_and_hold(trigger, w, x, model, s, t)
    evidence = None
    if trigger is not None or explain:
        f = min(max(fraction, s.min_fraction), 1.0)
        evidence = _evidence(w, x, t, trigger, held, f, model, s)
    return Assessment(True, "", tier=tier, evidence=evidence)


def _tier_and_hold(trigger, w, x, model: _Model, s: DetectorSettings, t: _Tests):
    """(tier, the tier a hold lowered or None) for a window that got in; (None, None) else."""
    if trigger is None:
        return None, None
    if trigger != "volume":
        t.reasons.append(_way_in_reason(w, x, model, s, t))
    tier = _tier(w, x, model, s, t)
    held = _story_hold(tier, w, x, s, t)
    return held, (tier if held != tier else None)


def _fired(w: _Window, t: _Tests, trigger: Trigger | None, s: DetectorSettings):
    """The score that opened the alarm and the bar it beat."""
    if trigger == "negative_mentions":
        return t.negative_count_score, t.negative_threshold
    if trigger == "negative_share":
        return t.negative_count_score, s.threshold_z
    return w.score, t.volume_threshold


def _evidence(
    w, x, t, trigger, held, fraction: float, model: _Model, s: DetectorSettings
) -> SurgeEvidence:
    score, threshold = _fired(w, t, trigger, s)
    authors_known = t.authors_known
    return SurgeEvidence(
        trigger=trigger,
        window=w.name,
        window_hours=_r(w.hours, 3),
        partial_fraction=_r(fraction, 3),
        observed_in_window=_r(w.observed, 2),
        expected_in_window=_r(w.expected, 2),
        observed=_r(w.observed / w.hours, 2),
        expected=_r(w.expected / w.hours, 2),
        ratio=_r(w.observed / w.expected if w.expected else 0.0, 3),
        score=_r(score, 3),
        threshold=_r(threshold, 3),
        p_value=_r(_upper_p(w.score), 12),
        volume_score=_r(w.score, 3),
        volume_threshold=_r(t.volume_threshold, 3),
        threshold_floor=s.threshold_z,
        usual_max_score=_r(model.usual_max_z, 3),
        usual_max_rank=model.calibration_rank,
        dispersion_k=_r(model.k, 5),
        negative=_r(x.negative, 2),
        negative_share=_r(x.share, 4),
        usual_negative_share=_r(model.usual_negative_share, 4),
        expected_negative=_r(t.expected_negative, 2),
        negative_count_score=_r(t.negative_count_score, 3),
        negative_count_threshold=_r(t.negative_threshold, 3),
        usual_max_negative_score=_r(model.usual_max_negative_z, 3),
        negative_z=_r(t.negative_z, 3),
        negative_p_value=_r(t.negative_p, 12),
        negative_dispersion=_r(model.negative_dispersion, 3),
        sentiment_known=model.sentiment_known,
        negative_excess=_r(t.negative_excess, 2),
        authors=x.authors,
        author_ratio=_r(t.author_ratio, 4) if authors_known else None,
        surge_author_ratio=_r(t.surge_author_ratio, 4) if authors_known else None,
        usual_author_ratio=_r(model.usual_author_ratio, 4) if authors_known else None,
        diverse_authors=t.diverse if authors_known else None,
        concentrated_mentions=_r(t.concentrated, 2) if authors_known else None,
        top_author_count=x.top_author or None,
        top_author_share=_r(t.top_author_share, 4) if t.top_author_share is not None else None,
        engagement=_r(x.engagement, 2),
        reach_ratio=_r(t.reach_ratio, 3) if t.reach_ratio is not None else None,
        stories=x.stories or None,
        held_by_stories=held,
        complete=x.complete,
        baseline=_baseline_evidence(model),
        reasons=t.reasons,
        sensitivity=s.sensitivity,
        min_count=s.min_count,
        min_ratio=s.min_ratio,
    )


def _baseline_evidence(model: _Model) -> BaselineEvidence:
    return BaselineEvidence(
        start=_hour_start(model.baseline_start),
        end=_hour_start(model.baseline_end),
        hours=model.hours_available,
        incomplete_hours_excluded=model.excluded_incomplete,
        storm_hours=model.storm_hours,
        level_per_hour=_r(model.level, 3),
        daily_seasonality=model.daily is not None,
        weekly_seasonality=model.weekly is not None,
    )


# --------------------------------------------------------------------------------------------
# episodes: one storm, one alert


def _episode_open(h: _Hours, cur: int, model: _Model, now: datetime, s, state) -> bool:
    """Open until cooldown_hours have passed *and* one complete hour was quiet (hysteresis)."""
    last = _utc(state.last_alarm)
    if now - last < timedelta(hours=s.cooldown_hours):
        return True
    first = max(_hour_index(last) + 1, h.start)
    return not any(
        h.complete[t - h.start]
        and _score(h.count[t - h.start], model.expected(t, s), model.k) < s.rearm_z
        for t in range(first, cur)
    )


def _decide(
    a: Assessment,
    h: _Hours,
    cur: int,
    model: _Model,
    now: datetime,
    s: DetectorSettings,
    state: EpisodeState | None,
) -> Alarm | None:
    if a.tier is None or a.evidence is None:
        return None
    escalation = False
    if state is not None and _episode_open(h, cur, model, now, s, state):
        if TIER_RANK[a.tier] <= TIER_RANK.get(state.tier, 0):
            return None
        escalation = True
    evidence = a.evidence.model_copy(
        update={
            "tier": a.tier,
            "escalation": escalation,
            "evaluated_at": now,
            "episode_started": _utc(state.started) if escalation and state else None,
            "previous_tier": state.tier if escalation and state else None,
        }
    )
    return Alarm(time=now, tier=a.tier, evidence=evidence)


def _fraction(now: datetime, cur: int) -> float:
    elapsed = (now - _hour_start(cur)).total_seconds() / 3600.0
    return min(max(elapsed, 0.0), 1.0)


def _grid(history: Sequence[Point], now: datetime) -> tuple[_Hours, int] | None:
    cur = _hour_index(now)
    h = _Hours.from_points(history, until=cur)
    if not history or h.start > cur:
        return None
    return h, cur


def assess(history: Sequence[Point], now: datetime, settings: DetectorSettings) -> Assessment:
    """What the detector sees at ``now`` (alarm or not), without episode logic."""
    now = _utc(now)
    grid = _grid(history, now)
    if grid is None:
        return Assessment(False, "no history")
    h, cur = grid
    return _assess(h, cur, _fraction(now, cur), _fit(h, cur, settings), settings, True)


def evaluate(
    history: Sequence[Point],
    now: datetime,
    settings: DetectorSettings,
    state: EpisodeState | None = None,
) -> Alarm | None:
    """Evaluate the detector at ``now``.

    ``history`` holds hourly buckets in time order up to and including the bucket containing
    ``now``; that bucket is partial and its expectation is scaled by the elapsed fraction of
    the hour (at least ``min_fraction``).  Points after ``now`` are ignored.  Returns an alarm
    only for a new episode or an escalation of the open one (``state``), else None.
    """
    now = _utc(now)
    grid = _grid(history, now)
    if grid is None:
        return None
    h, cur = grid
    model = _fit(h, cur, settings)
    a = _assess(h, cur, _fraction(now, cur), model, settings, False)
    return _decide(a, h, cur, model, now, settings, state)


# --------------------------------------------------------------------------------------------
# replay


def _infer_step(points: Sequence[Point]) -> timedelta:
    if len(points) < 2:
        return HOUR
    gaps = [
        (points[i + 1].time - points[i].time).total_seconds()
        for i in range(min(len(points) - 1, 500))
        if points[i + 1].time > points[i].time
    ]
    return timedelta(seconds=_median(gaps)) if gaps else HOUR


def _instants(pts: list[Point], step: timedelta, every: timedelta | None):
    """(now, points arrived by now) for each evaluation: after each arrival, or on a clock."""
    if every is None:
        for n, p in enumerate(pts):
            yield _utc(p.time) + step, n + 1
        return
    tick = every.total_seconds()
    first = (_utc(pts[0].time) - _EPOCH).total_seconds()
    now = _EPOCH + timedelta(seconds=(first // tick + 1) * tick)
    last = _utc(pts[-1].time) + step
    arrived = 0
    while now <= last:
        while arrived < len(pts) and _utc(pts[arrived].time) + step <= now:
            arrived += 1
        yield now, arrived
        now += every


def backtest(
    points: Sequence[Point],
    settings: DetectorSettings,
    *,
    step: timedelta | None = None,
    every: timedelta | None = None,
    since: datetime | None = None,
) -> list[Alarm]:
    """Replay ``evaluate`` over a historical series exactly as the live system would.

    Points may be hourly or finer (e.g. 5-minute counts): they are aggregated into hourly
    buckets.  A point is known once its interval has passed (``point.time + step``).
    ``every=None`` evaluates when each point arrives; ``every=timedelta(minutes=15)`` on a
    fixed clock (:00, :15, :30, :45 - the live collection cadence) with every point that has
    arrived by then.  Each evaluation is exactly ``evaluate(arrived points, now, settings,
    state)``, with the episode state carried from alarm to alarm (the baseline fit depends
    only on complete hours, so it is computed once per hour here).  With ``since``, earlier
    instants only feed the history: nothing is evaluated before it.
    """
    if not points:
        return []
    pts = sorted(points, key=lambda p: p.time)
    step = step or _infer_step(pts)
    if step > HOUR:
        raise ValueError(
            f"the detector works on hourly buckets; this series has a step of {step} "
            "(use hourly or finer data)"
        )
    if every is not None and every <= timedelta(0):
        raise ValueError("the evaluation cadence must be positive")
    h = _Hours(_hour_index(pts[0].time))
    state: EpisodeState | None = None
    alarms: list[Alarm] = []
    fitted: dict[int, _Model] = {}
    added = 0
    for now, arrived in _instants(pts, step, every):
        for p in pts[added:arrived]:
            h.add(p)
        added = arrived
        if since is not None and now < since:
            continue
        cur = _hour_index(now)
        h.reach(cur)
        if cur not in fitted:
            fitted = {cur: _fit(h, cur, settings)}
        a = _assess(h, cur, _fraction(now, cur), fitted[cur], settings, False)
        alarm = _decide(a, h, cur, fitted[cur], now, settings, state)
        if alarm is not None:
            alarms.append(alarm)
            started = state.started if (alarm.escalation and state) else alarm.time
            state = EpisodeState(started=started, tier=alarm.tier, last_alarm=alarm.time)
    return alarms
