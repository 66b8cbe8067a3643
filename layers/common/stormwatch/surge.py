"""Surge and firestorm detection: a pure function from hourly buckets to alarms with evidence.

The detector answers one question per evaluation: *is the topic's volume right now far above
what its own history says this hour should bring, and if so, how bad is it?*  Everything it
decides is written into the alarm's ``evidence`` so that an e-mail can show the working.

Method (details and measured numbers in ``docs/surge.md``):

1. **Baseline** - up to ``baseline_days`` of complete hourly buckets strictly before the
   current hour (hours with no bucket count as zero; incomplete buckets are left out).  No
   alarm is possible before ``min_history_hours`` of baseline exist.
2. **Expected count** - ``level x daily profile x weekday factor``.  The daily profile is the
   per-hour-of-day median over the baseline (needs 3 days), the weekday factor the median
   day-total ratio per weekday (needs 2 weeks), the level the median of the deseasonalised
   last ``level_hours``.  Medians keep past storms out of the baseline.
3. **Overdispersion** - counts are modelled as negative binomial, ``var = e + k e^2``; ``k``
   is estimated robustly (MAD) from the baseline's relative residuals, with a floor.
4. **Score** - a z-score of the observed count against that distribution, computed on two
   windows: the current (possibly partial) hour, whose expectation is scaled by the elapsed
   fraction, and the trailing ``sustained_hours``.  The larger decides.
5. **Gates** - the window must hold at least ``min_count`` mentions and ``min_ratio`` times
   the expectation, so low-volume topics do not alarm on three extra mentions.
6. **Tier** - ``watch`` for volume alone; ``warning`` when the negative share is significantly
   above the topic's usual share (an overdispersed one-sided binomial test); ``firestorm``
   when in addition the surge is large, strongly negative, carried by many authors and, where
   engagement is known, reaching more people than usual.  A surge carried by few accounts is
   capped at ``watch``.
7. **Episodes** - one storm is one alert: while an episode is open only an escalation to a
   higher tier fires again.  An episode closes after ``cooldown_hours`` *and* at least one
   quiet complete hour (score below ``rearm_z``) since its last alarm (hysteresis).

Pure: no I/O, no clock reads, no environment.  ``now`` is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from statistics import NormalDist

HOUR = timedelta(hours=1)
TIERS = ("watch", "warning", "firestorm")
SENSITIVITIES = ("fewer", "balanced", "more")
_TIER_RANK = {name: rank for rank, name in enumerate(TIERS)}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NORMAL = NormalDist()


@dataclass(frozen=True)
class Point:
    """One time bucket (hourly in the live system); the last point may be partial."""

    time: datetime  # bucket start, aware UTC
    count: float
    negative: float = 0.0
    authors: int = 0
    engagement: float = 0.0
    complete: bool = True  # False when some source had missing data for this bucket


@dataclass(frozen=True)
class DetectorSettings:
    """Every knob of the detector; the defaults are the shipped defaults ("balanced")."""

    sensitivity: str = "balanced"
    # volume test
    threshold_z: float = 5.0  # z-score the volume must reach (per window)
    min_ratio: float = 1.5  # observed must be at least this multiple of the expectation
    min_count: int = 5  # mentions the window must hold
    # baseline
    baseline_days: int = 28
    min_history_hours: int = 72  # no alarm before this much baseline exists
    level_hours: int = 72  # recent hours that set the level
    daily_min_days: int = 3  # days of history before a daily profile is used
    weekly_min_days: int = 14  # days of history before weekday factors are used
    dispersion_floor: float = 0.01  # k floor: at least 10 % relative noise
    # the residual quantile that sets the spread: 0.5 is the MAD; higher quantiles make the
    # noise model match the heavy upper tail of real mention counts
    dispersion_quantile: float = 0.5
    # tail calibration: the score must also beat what this topic's own baseline produced about
    # once per `calibration_hours` (its "usual biggest blip"), times `calibration_margin`;
    # 0 switches it off
    calibration_hours: int = 168
    calibration_margin: float = 1.2
    # the hours the windows under test cover (the last sustained_hours - 1 complete hours) are
    # left out of that reference, so a storm does not raise its own bar
    calibration_hold_out: bool = True
    expected_floor: float = 0.5  # mentions per hour never expected below this
    # windows
    sustained_hours: int = 3  # the trailing window catching slow ramps
    min_fraction: float = 0.25  # a partial hour counts as at least 15 minutes elapsed
    # also judge the hour that has just completed on its own (late mentions complete it)
    judge_last_complete_hour: bool = True
    # episodes
    cooldown_hours: int = 6
    rearm_z: float = 2.0  # a complete hour below this score re-arms after a storm
    # tiers
    negative_alpha: float = 0.001  # one-sided p-value for "negative share is up" (warning)
    negative_min_lift: float = 0.05  # and the share must be at least this much higher
    firestorm_ratio: float = 3.0  # firestorm: observed at least 3x expected
    firestorm_negative_alpha: float = 1e-6  # and a much stronger negative-share test
    # a negative share that passes the firestorm share test also opens the door on its own
    share_trigger: bool = True
    firestorm_negative_share_ratio: float = 1.5  # and share >= 1.5x usual
    firestorm_reach_ratio: float = 2.0  # and engagement >= 2x usual (when known)
    # the extra mentions must come from at least this fraction of the topic's usual share of
    # distinct authors (0.5: half as diverse as usual); without an author history, from at
    # least min_author_ratio distinct authors per mention
    min_author_diversity: float = 0.5
    min_author_ratio: float = 0.3
    min_authors: int = 5


_SENSITIVITY = {
    "fewer": {
        "threshold_z": 6.0,
        "calibration_margin": 1.5,
        "min_ratio": 2.0,
        "negative_alpha": 1e-4,
    },
    "balanced": {},
    "more": {
        "threshold_z": 4.0,
        "calibration_margin": 1.0,
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
    tier: str
    last_alarm: datetime


@dataclass(frozen=True)
class Alarm:
    time: datetime  # when it fires
    tier: str  # "watch" | "warning" | "firestorm"
    observed: float  # mentions per hour in the window that fired (partial hour scaled)
    expected: float  # mentions per hour the baseline expected for that window
    score: float
    threshold: float
    negative_share: float
    usual_negative_share: float
    authors: int
    complete: bool
    escalation: bool  # True when this raises the tier of an open episode
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"time": _iso(self.time), "tier": self.tier, "evidence": self.evidence}


# --------------------------------------------------------------------------------------------
# small numeric helpers (pure Python, no numpy)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _hour_index(value: datetime) -> int:
    return int((_utc(value) - _EPOCH).total_seconds() // 3600)


def _median(values: list[float]) -> float:
    n = len(values)
    if not n:
        return 0.0
    s = sorted(values)
    mid = n // 2
    return s[mid] if n % 2 else 0.5 * (s[mid - 1] + s[mid])


def _quantile(values: list[float], q: float) -> float:
    """Linear-interpolated quantile (q in [0, 1]) of a non-empty list."""
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _upper_p(z: float) -> float:
    """One-sided upper tail probability of a standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _r(value: float, digits: int = 4) -> float:
    if value is None or math.isnan(value) or math.isinf(value):
        return 0.0
    return round(float(value), digits)


# --------------------------------------------------------------------------------------------
# the hourly grid


@dataclass
class _Hours:
    """Hourly series on a contiguous integer grid; absent hours are zero and complete."""

    start: int  # hour index of element 0
    count: list[float]
    negative: list[float]
    authors: list[float]
    engagement: list[float]
    complete: list[bool]

    @classmethod
    def from_points(cls, points: Sequence[Point]) -> _Hours:
        if not points:
            return cls(0, [], [], [], [], [])
        first = _hour_index(points[0].time)
        last = max(_hour_index(p.time) for p in points)
        first = min(first, min(_hour_index(p.time) for p in points))
        n = last - first + 1
        hours = cls(first, [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n, [True] * n)
        for p in points:
            hours.add(p)
        return hours

    def add(self, p: Point) -> None:
        i = _hour_index(p.time) - self.start
        if i >= len(self.count):
            grow = i + 1 - len(self.count)
            for seq in (self.count, self.negative, self.authors, self.engagement):
                seq.extend([0.0] * grow)
            self.complete.extend([True] * grow)
        self.count[i] += p.count
        self.negative[i] += p.negative
        self.authors[i] += p.authors
        self.engagement[i] += p.engagement
        self.complete[i] = self.complete[i] and p.complete


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
    sentiment_known: bool = False
    usual_author_ratio: float = 0.0
    authors_known: bool = False
    engagement_per_mention: float = 0.0
    engagement_known: bool = False
    baseline_start: int = 0
    baseline_end: int = 0  # exclusive hour index
    excluded_incomplete: int = 0
    usual_max_z: float = 0.0
    usual_max_negative_z: float = 0.0
    calibration_rank: int = 0

    def expected(self, hour: int, settings: DetectorSettings) -> float:
        e = self.level
        if self.daily is not None:
            e *= self.daily[hour % 24]
        if self.weekly is not None:
            e *= self.weekly[((hour // 24) + 3) % 7]  # 1970-01-01 was a Thursday (3)
        return max(e, settings.expected_floor)


def _fit(h: _Hours, cur: int, s: DetectorSettings) -> _Model:
    """Fit the baseline on complete hours in [cur - baseline_days*24, cur)."""
    lo = max(h.start, cur - s.baseline_days * 24)
    available = cur - h.start
    if available < s.min_history_hours:
        return _Model(
            False,
            f"insufficient baseline: {max(available, 0)} h of history, "
            f"{s.min_history_hours} h needed before the first alarm",
            max(available, 0),
        )
    idx = [t for t in range(lo, cur) if h.complete[t - h.start]]
    excluded = (cur - lo) - len(idx)
    if len(idx) < s.min_history_hours // 2:
        return _Model(False, "insufficient complete baseline hours", len(idx))
    y = {t: h.count[t - h.start] for t in idx}
    days = (cur - lo) / 24.0

    # daily profile: per hour-of-day medians relative to the overall median (+1 smoothing)
    overall = _median(list(y.values()))
    daily = None
    if days >= s.daily_min_days:
        by_hod: list[list[float]] = [[] for _ in range(24)]
        for t, v in y.items():
            by_hod[t % 24].append(v)
        if all(len(b) >= 2 for b in by_hod):
            daily = [(_median(b) + 1.0) / (overall + 1.0) for b in by_hod]
            mean_f = sum(daily) / 24.0
            daily = [f / mean_f for f in daily]

    # weekday factors: median day-total ratio per weekday
    weekly = None
    if days >= s.weekly_min_days:
        totals: dict[int, float] = {}
        full: dict[int, int] = {}
        for t, v in y.items():
            d = t // 24
            totals[d] = totals.get(d, 0.0) + v
            full[d] = full.get(d, 0) + 1
        day_totals = {d: v for d, v in totals.items() if full[d] == 24}
        med_day = _median(list(day_totals.values()))
        by_dow: list[list[float]] = [[] for _ in range(7)]
        for d, v in day_totals.items():
            by_dow[(d + 3) % 7].append((v + 1.0) / (med_day + 1.0))
        if all(len(b) >= 2 for b in by_dow):
            weekly = [_median(b) for b in by_dow]
            mean_w = sum(weekly) / 7.0
            weekly = [w / mean_w for w in weekly]

    def season(t: int) -> float:
        f = 1.0
        if daily is not None:
            f *= daily[t % 24]
        if weekly is not None:
            f *= weekly[((t // 24) + 3) % 7]
        return f

    recent = [y[t] / season(t) for t in idx if t >= cur - s.level_hours]
    level = _median(recent) if recent else overall
    if level <= 0:
        # very low counts: the median is zero, fall back to a mean (spikes barely move it here)
        level = sum(recent) / len(recent) if recent else 0.0
    model = _Model(True, "", len(idx), level=level, daily=daily, weekly=weekly)
    model.baseline_start, model.baseline_end, model.excluded_incomplete = lo, cur, excluded

    # overdispersion: robust spread of relative residuals minus the Poisson part
    rel = []
    es = []
    for t in idx:
        e = model.expected(t, s)
        es.append(e)
        rel.append((y[t] - e) / e)
    med_rel = _median(rel)
    spread = _quantile([abs(r - med_rel) for r in rel], s.dispersion_quantile)
    sigma = spread / _NORMAL.inv_cdf(0.5 + s.dispersion_quantile / 2)
    k = sigma * sigma - 1.0 / max(_median(es), 1e-9)
    model.k = max(k, s.dispersion_floor)
    # the hours the windows under test cover are not part of their own reference tail
    held_out = cur - max(s.sustained_hours - 1, 1) if s.calibration_hold_out else cur
    pairs = list(zip(idx, es, strict=True))
    ref = [(t, e) for t, e in pairs if t < held_out] or pairs
    if s.calibration_hours > 0:
        zs = sorted(((y[t] - e) / math.sqrt(e + model.k * e * e) for t, e in ref), reverse=True)
        rank = max(1, round(len(zs) / s.calibration_hours))
        model.usual_max_z = zs[min(rank, len(zs)) - 1]
        model.calibration_rank = rank

    # negative share: pooled usual share and its overdispersion (Pearson, robust)
    n_tot = sum(y.values())
    neg_tot = sum(h.negative[t - h.start] for t in idx)
    model.sentiment_known = neg_tot > 0
    if n_tot > 0:
        p0 = neg_tot / n_tot
        model.usual_negative_share = p0
        if 0 < p0 < 1:
            chis = []
            for t in idx:
                n = y[t]
                if n >= 5:
                    var = n * p0 * (1 - p0)
                    chis.append((h.negative[t - h.start] - n * p0) ** 2 / var)
            if len(chis) >= 10:
                # the median of chi-square(1) is 0.4549
                model.negative_dispersion = min(max(_median(chis) / 0.4549, 1.0), 50.0)
        auth_tot = sum(h.authors[t - h.start] for t in idx)
        model.authors_known = auth_tot > 0
        model.usual_author_ratio = auth_tot / n_tot
        eng_tot = sum(h.engagement[t - h.start] for t in idx)
        model.engagement_known = eng_tot > 0
        model.engagement_per_mention = eng_tot / n_tot
        if model.sentiment_known and s.calibration_hours > 0 and 0 < p0 < 1:
            zn = sorted(
                (_neg_z(h.negative[t - h.start], e * p0, model) for t, e in ref),
                reverse=True,
            )
            model.usual_max_negative_z = zn[min(model.calibration_rank, len(zn)) - 1]
    return model


def _neg_z(neg: float, e_neg: float, model: _Model) -> float:
    """z of a negative-mention count against its expectation (overdispersed, like volume)."""
    var = model.negative_dispersion * e_neg + model.k * e_neg * e_neg
    return (neg - e_neg) / math.sqrt(var) if var > 0 else 0.0


# --------------------------------------------------------------------------------------------
# one assessment of the current hour


@dataclass
class Assessment:
    """Everything the detector worked out at one evaluation, alarm or not."""

    ok: bool
    reason: str
    tier: str | None = None  # the tier the data supports right now (None = no surge)
    score: float = 0.0
    threshold: float = 0.0
    observed: float = 0.0
    expected: float = 0.0
    negative_share: float = 0.0
    usual_negative_share: float = 0.0
    authors: int = 0
    complete: bool = True
    evidence: dict = field(default_factory=dict)


def _z(obs: float, e: float, k: float) -> float:
    return (obs - e) / math.sqrt(e + k * e * e)


def _assess(h: _Hours, cur: int, fraction: float, model: _Model, s: DetectorSettings) -> Assessment:
    if not model.ok:
        return Assessment(False, model.reason, evidence={"reason": model.reason})
    i = cur - h.start
    f = min(max(fraction, s.min_fraction), 1.0)
    e_hour = model.expected(cur, s)
    # window 1: the current (possibly partial) hour, expectation scaled by the elapsed fraction
    obs1 = h.count[i]
    e1 = e_hour * f
    z1 = _z(obs1, e1, model.k)
    # (window, observed, expected, score, hours covered, first bucket index)
    windows = [("current_hour", obs1, e1, z1, f, i)]
    # window 2: the hour that has just completed.  Mentions arrive late (a collection run
    # picks up what was published minutes before the hour turned), so the live system only
    # sees the previous hour in full during the next one; it is judged on its own too.
    if s.judge_last_complete_hour and i >= 1:
        e0 = model.expected(cur - 1, s)
        windows.append(
            ("last_complete_hour", h.count[i - 1], e0, _z(h.count[i - 1], e0, model.k), 1.0, i - 1)
        )
    # window 3: trailing sustained_hours (current partial + previous complete hours)
    obs2, e2, hours2 = obs1, e1, 1
    for back in range(1, s.sustained_hours):
        j = i - back
        if j < 0:
            break
        obs2 += h.count[j]
        e2 += model.expected(cur - back, s)
        hours2 += 1
    z2 = _z(obs2, e2, model.k) if hours2 > 1 else -math.inf
    if hours2 > 1:
        windows.append(("sustained", obs2, e2, z2, hours2 - 1 + f, i - hours2 + 1))
    window, obs_w, e_w, z, span, first = max(windows, key=lambda w: w[3])
    last = i if window != "last_complete_hour" else i - 1
    sl = slice(first, last + 1)
    neg_w = sum(h.negative[sl])
    auth_w = int(sum(h.authors[sl]))
    eng_w = sum(h.engagement[sl])
    complete = all(h.complete[sl])
    share = neg_w / obs_w if obs_w > 0 else 0.0
    p0 = model.usual_negative_share

    reasons: list[str] = []
    threshold = max(s.threshold_z, s.calibration_margin * model.usual_max_z)
    volume = z >= threshold
    if not volume:
        reasons.append(f"volume score {z:.1f} below threshold {threshold:.1f}")
    if obs_w < s.min_count:
        volume = False
        reasons.append(f"only {obs_w:.0f} mentions, fewer than min_count {s.min_count}")
    if obs_w < s.min_ratio * e_w:
        volume = False
        reasons.append(f"observed {obs_w / e_w:.2f}x expected, below min_ratio {s.min_ratio}")

    # negative share: one-sided overdispersed binomial test against the usual share
    neg_p = 1.0
    neg_z = 0.0
    known = model.sentiment_known and 0 < p0 < 1
    if known and obs_w > 0:
        neg_z = (neg_w - obs_w * p0) / math.sqrt(model.negative_dispersion * obs_w * p0 * (1 - p0))
        neg_p = _upper_p(neg_z)
    negative_up = known and neg_p < s.negative_alpha and share >= p0 + s.negative_min_lift
    # negative mentions: the second way in - a surge of negative mentions that the total volume
    # (diluted by the neutral and positive majority) does not show yet
    e_neg = e_w * p0
    neg_count_z = _neg_z(neg_w, e_neg, model) if known else 0.0
    neg_threshold = max(s.threshold_z, s.calibration_margin * model.usual_max_negative_z)
    negative_surge = (
        known
        and neg_count_z >= neg_threshold
        and neg_w >= s.min_count
        and neg_w >= s.min_ratio * e_neg
    )
    # the negative share, a third way in: a shift in tone that the share test finds very
    # unlikely (p below the firestorm bar), with negative mentions clearly up in count too.
    # The share test conditions on the observed volume and uses the topic's own hourly share
    # variation, so news spikes at the usual tone do not pass it; it needs no calibration
    # against the topic's usual volume spikes, which on a spiky topic hide a moderate
    # negative surge from the negative-mention count test above.
    share_shift = (
        s.share_trigger
        and known
        and not negative_surge
        and neg_p < s.firestorm_negative_alpha
        and share >= p0 + s.negative_min_lift
        and neg_w >= s.min_count
        and neg_w >= s.min_ratio * e_neg
        and neg_count_z >= s.threshold_z
    )
    # author diversity of the surge: the extra mentions must come from many distinct authors
    authors_known = model.authors_known or auth_w > 0
    author_ratio = auth_w / obs_w if obs_w > 0 else 0.0
    # what the usual traffic contributes to this window (true elapsed fraction, not the floor)
    e_true = e_w
    if last == i:  # the window holds the partial hour: count its true elapsed share only
        e_true += e_hour * (min(max(fraction, 0.0), 1.0) - f)
    excess = obs_w - e_true
    excess_authors = auth_w - e_true * model.usual_author_ratio
    if excess >= max(s.min_count, 0.2 * obs_w):
        surge_author_ratio = excess_authors / excess
    else:
        surge_author_ratio = author_ratio
    if model.authors_known and model.usual_author_ratio > 0:
        min_diversity = s.min_author_diversity * min(model.usual_author_ratio, 1.0)
    else:
        min_diversity = s.min_author_ratio
    # mentions the window's distinct authors do not account for at the topic's usual rate of
    # authors per mention: near zero for diverse traffic, about the size of the burst when
    # one account posts it.  When they could carry the whole rise in negative mentions on
    # their own, the negative shift is not shown to come from many people (this holds
    # however busy the ordinary traffic in the window happens to be, which the excess-based
    # ratio above cannot tell apart from a diverse surge).
    concentrated = 0.0
    if model.authors_known and model.usual_author_ratio > 0:
        concentrated = max(obs_w - auth_w / min(model.usual_author_ratio, 1.0), 0.0)
    negative_excess = neg_w - obs_w * p0
    few_carry_negative = (
        negative_up and concentrated >= s.min_count and concentrated >= negative_excess
    )
    diverse = (not authors_known) or (
        auth_w >= s.min_authors and surge_author_ratio >= min_diversity and not few_carry_negative
    )
    # reach: engagement against the usual engagement for the expected volume
    reach_ratio = None
    if model.engagement_known and model.engagement_per_mention > 0:
        reach_ratio = eng_w / (e_w * model.engagement_per_mention)

    tier = None
    trigger = None
    if volume or negative_surge or share_shift:
        tier = "watch"
        trigger = (
            "volume" if volume else "negative_mentions" if negative_surge else "negative_share"
        )
        if share_shift and not volume:
            reasons.append(
                f"negative share {share:.0%} vs usual {p0:.0%} (p={neg_p:.1e} < "
                f"{s.firestorm_negative_alpha:g}) with {neg_w:.0f} negative mentions vs "
                f"{e_neg:.1f} expected"
            )
        elif not volume:
            reasons.append(
                f"negative mentions {neg_w:.0f} vs {e_neg:.1f} expected (score "
                f"{neg_count_z:.1f} >= {neg_threshold:.1f})"
            )
        if not model.sentiment_known:
            reasons.append("no sentiment data: tier limited to watch")
        elif not diverse:
            reasons.append(
                f"carried by few accounts ({auth_w} authors for {obs_w:.0f} mentions, "
                f"{max(surge_author_ratio, 0.0):.0%} distinct among the extra mentions"
                + (
                    f"; {concentrated:.0f} mentions without their own author could carry the "
                    f"{negative_excess:.0f} extra negative ones"
                    if few_carry_negative
                    else ""
                )
                + "): watch"
            )
        elif negative_up:
            tier = "warning"
            reasons.append(
                f"negative share {share:.0%} vs usual {p0:.0%} (p={neg_p:.1e} < "
                f"{s.negative_alpha:g})"
            )
            big = obs_w >= s.firestorm_ratio * e_w
            strongly_negative = (
                neg_p < s.firestorm_negative_alpha
                and share >= s.firestorm_negative_share_ratio * p0
            )
            reach_ok = reach_ratio is None or reach_ratio >= s.firestorm_reach_ratio
            if big and strongly_negative and reach_ok:
                tier = "firestorm"
                reasons.append("large, strongly negative, many authors and wide reach: firestorm")
            else:
                if not big:
                    reasons.append(
                        f"volume {obs_w / e_w:.1f}x < {s.firestorm_ratio}x: no firestorm"
                    )
                if not strongly_negative:
                    reasons.append("negative shift not strong enough for firestorm")
                if not reach_ok:
                    reasons.append(f"reach {reach_ratio:.1f}x usual: no firestorm")
        else:
            reasons.append(f"negative share {share:.0%} not significantly above usual {p0:.0%}")
    fired_score, fired_threshold = (
        (neg_count_z, neg_threshold)
        if trigger == "negative_mentions"
        else (neg_count_z, s.threshold_z)
        if trigger == "negative_share"
        else (z, threshold)
    )

    observed_rate = obs_w / span
    expected_rate = e_w / span
    evidence = {
        "trigger": trigger,
        "window": window,
        "window_hours": _r(span, 3),
        "partial_fraction": _r(f, 3),
        "observed_in_window": _r(obs_w, 2),
        "expected_in_window": _r(e_w, 2),
        "observed": _r(observed_rate, 2),
        "expected": _r(expected_rate, 2),
        "ratio": _r(obs_w / e_w if e_w else 0.0, 3),
        "score": _r(fired_score, 3),
        "threshold": _r(fired_threshold, 3),
        "volume_score": _r(z, 3),
        "volume_threshold": _r(threshold, 3),
        "threshold_floor": s.threshold_z,
        "usual_max_score": _r(model.usual_max_z, 3),
        "usual_max_rank": model.calibration_rank,
        "p_value": _r(_upper_p(z), 12) if z > -math.inf else 1.0,
        "score_current_hour": _r(z1, 3),
        "score_sustained": _r(z2, 3) if z2 > -math.inf else None,
        "dispersion_k": _r(model.k, 5),
        "min_count": s.min_count,
        "min_ratio": s.min_ratio,
        "negative": _r(neg_w, 2),
        "negative_share": _r(share, 4),
        "usual_negative_share": _r(p0, 4),
        "expected_negative": _r(e_neg, 2),
        "negative_count_score": _r(neg_count_z, 3),
        "negative_count_threshold": _r(neg_threshold, 3),
        "usual_max_negative_score": _r(model.usual_max_negative_z, 3),
        "negative_z": _r(neg_z, 3),
        "negative_p_value": _r(neg_p, 12),
        "negative_dispersion": _r(model.negative_dispersion, 3),
        "sentiment_known": model.sentiment_known,
        "authors": auth_w,
        "author_ratio": _r(author_ratio, 4) if authors_known else None,
        "surge_author_ratio": _r(surge_author_ratio, 4) if authors_known else None,
        "diverse_authors": diverse if authors_known else None,
        "concentrated_mentions": _r(concentrated, 2) if authors_known else None,
        "negative_excess": _r(negative_excess, 2),
        "usual_author_ratio": _r(model.usual_author_ratio, 4) if authors_known else None,
        "engagement": _r(eng_w, 2),
        "reach_ratio": _r(reach_ratio, 3) if reach_ratio is not None else None,
        "complete": complete,
        "baseline": {
            "from": _iso(_EPOCH + HOUR * model.baseline_start),
            "to": _iso(_EPOCH + HOUR * model.baseline_end),
            "hours": model.hours_available,
            "incomplete_hours_excluded": model.excluded_incomplete,
            "level_per_hour": _r(model.level, 3),
            "daily_seasonality": model.daily is not None,
            "weekly_seasonality": model.weekly is not None,
        },
        "reasons": reasons,
        "sensitivity": s.sensitivity,
    }
    return Assessment(
        True,
        "",
        tier=tier,
        score=fired_score,
        threshold=fired_threshold,
        observed=observed_rate,
        expected=expected_rate,
        negative_share=share,
        usual_negative_share=p0,
        authors=auth_w,
        complete=complete,
        evidence=evidence,
    )


def _hour_score(h: _Hours, t: int, model: _Model, s: DetectorSettings) -> float:
    return _z(h.count[t - h.start], model.expected(t, s), model.k)


def _decide(
    a: Assessment,
    h: _Hours,
    cur: int,
    model: _Model,
    now: datetime,
    s: DetectorSettings,
    state: EpisodeState | None,
) -> Alarm | None:
    if a.tier is None:
        return None
    escalation = False
    if state is not None:
        last = _utc(state.last_alarm)
        open_episode = now - last < timedelta(hours=s.cooldown_hours)
        if not open_episode:
            # hysteresis: the storm must have died down for a complete hour since the last alarm
            first = max(_hour_index(last) + 1, h.start)
            quiet = any(
                h.complete[t - h.start] and _hour_score(h, t, model, s) < s.rearm_z
                for t in range(first, cur)
            )
            open_episode = not quiet
        if open_episode:
            if _TIER_RANK[a.tier] <= _TIER_RANK.get(state.tier, 0):
                return None
            escalation = True
    evidence = dict(a.evidence)
    evidence["tier"] = a.tier
    evidence["escalation"] = escalation
    evidence["evaluated_at"] = _iso(now)
    if escalation and state is not None:
        evidence["episode_started"] = _iso(_utc(state.started))
        evidence["previous_tier"] = state.tier
    return Alarm(
        time=now,
        tier=a.tier,
        observed=_r(a.observed, 2),
        expected=_r(a.expected, 2),
        score=_r(a.score, 3),
        threshold=a.threshold,
        negative_share=_r(a.negative_share, 4),
        usual_negative_share=_r(a.usual_negative_share, 4),
        authors=a.authors,
        complete=a.complete,
        escalation=escalation,
        evidence=evidence,
    )


def _fraction(now: datetime, cur: int) -> float:
    elapsed = (now - (_EPOCH + HOUR * cur)).total_seconds() / 3600.0
    return min(max(elapsed, 0.0), 1.0)


def assess(history: Sequence[Point], now: datetime, settings: DetectorSettings) -> Assessment:
    """What the detector sees at ``now`` (alarm or not), without episode logic."""
    now = _utc(now)
    h = _Hours.from_points(history)
    cur = _hour_index(now)
    if not history or cur < h.start:
        return Assessment(False, "no history", evidence={"reason": "no history"})
    if cur - h.start >= len(h.count):
        h.add(Point(time=_EPOCH + HOUR * cur, count=0.0))
    frac = _fraction(now, cur)
    model = _fit(h, cur, settings)
    return _assess(h, cur, frac, model, settings)


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
    cur = _hour_index(now)
    past = [p for p in history if _hour_index(p.time) <= cur]
    if not past:
        return None
    h = _Hours.from_points(past)
    if cur - h.start >= len(h.count):
        h.add(Point(time=_EPOCH + HOUR * cur, count=0.0))
    frac = _fraction(now, cur)
    model = _fit(h, cur, settings)
    a = _assess(h, cur, frac, model, settings)
    return _decide(a, h, cur, model, now, settings, state)


def _infer_step(points: Sequence[Point]) -> timedelta:
    if len(points) < 2:
        return HOUR
    gaps = [
        (points[i + 1].time - points[i].time).total_seconds()
        for i in range(min(len(points) - 1, 500))
        if points[i + 1].time > points[i].time
    ]
    return timedelta(seconds=_median(gaps)) if gaps else HOUR


def backtest(
    points: Sequence[Point],
    settings: DetectorSettings,
    *,
    step: timedelta | None = None,
    every: timedelta | None = None,
) -> list[Alarm]:
    """Replay ``evaluate`` over a historical series exactly as the live system would.

    Points may be hourly or finer (e.g. 5-minute counts): they are aggregated into hourly
    buckets.  A point is known once its interval has passed (``point.time + step``).

    * ``every=None``: the detector is evaluated after each point arrives, at ``now =
      point.time + step`` with the current hour partial (a point that completes its hour is
      evaluated at the end of that hour).
    * ``every=timedelta(minutes=15)``: the detector is evaluated on a fixed clock (at
      :00, :15, :30, :45 - the live collection cadence) with every point that has arrived
      by then, as ``check_topic`` does after each collection run.

    Episode state is carried from alarm to alarm.  The result is the same as calling
    ``evaluate`` at each of those instants (the baseline fit only depends on complete hours,
    so it is computed once per hour here).
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
    h = _Hours(_hour_index(pts[0].time), [], [], [], [], [])
    state: EpisodeState | None = None
    alarms: list[Alarm] = []
    fitted: dict[int, _Model] = {}

    def run(now: datetime, cur: int, frac: float) -> None:
        nonlocal state
        if cur - h.start >= len(h.count):
            h.add(Point(time=_EPOCH + HOUR * cur, count=0.0))
        model = fitted.get(cur)
        if model is None:
            fitted.clear()
            model = fitted[cur] = _fit(h, cur, settings)
        a = _assess(h, cur, frac, model, settings)
        alarm = _decide(a, h, cur, model, now, settings, state)
        if alarm is not None:
            alarms.append(alarm)
            started = state.started if (alarm.escalation and state) else alarm.time
            state = EpisodeState(started=started, tier=alarm.tier, last_alarm=alarm.time)

    if every is None:
        for p in pts:
            h.add(p)
            now = _utc(p.time) + step
            cur = _hour_index(p.time)
            if _hour_index(now) != cur:
                now = _EPOCH + HOUR * (cur + 1)  # the bucket is complete: evaluate at its end
                frac = 1.0
            else:
                frac = _fraction(now, cur)
            run(now, cur, frac)
        return alarms

    tick = every.total_seconds()
    first = (_utc(pts[0].time) - _EPOCH).total_seconds()
    next_eval = _EPOCH + timedelta(seconds=(first // tick + 1) * tick)
    last_arrival = _utc(pts[-1].time) + step
    for p in pts:
        arrival = _utc(p.time) + step
        while next_eval < arrival:
            cur = _hour_index(next_eval)
            run(next_eval, cur, _fraction(next_eval, cur))
            next_eval += every
        h.add(p)
    while next_eval <= last_arrival:
        cur = _hour_index(next_eval)
        run(next_eval, cur, _fraction(next_eval, cur))
        next_eval += every
    return alarms
