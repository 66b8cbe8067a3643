"""View models for the daily digest and the surge alert (pure: no AWS, no environment, no clock).

`build_digest` and `build_alert` do all the arithmetic (deltas, shares, rankings, caps,
truncation) so the templates only place values. The views hold numbers, datetimes already in the
topic's digest time zone, and label *keys* ("storm", "failing", "negative"); wording and
number/date formatting in English or German happen at render time (`stormwatch.i18n`), so one view
renders in either language.

Everything that came from the outside (mention texts, author names, URLs, source error messages,
evidence from the detector) is cleaned and bounded here once more: bidi/zero-width characters
removed, lengths capped, links http(s) only.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Container
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from stormwatch.attribution import Credit, credit_of
from stormwatch.backfill import BaselineCoverage, baseline_coverage
from stormwatch.feedback import FeedbackSummary
from stormwatch.models import (
    ChannelHealth,
    Checkpoint,
    HourBucket,
    NewsTone,
    ScoredMention,
    SentimentLabel,
    SourceNotice,
    Surge,
    SurgeTier,
    utc,
)
from stormwatch.sanitize import clean_text, safe_link
from stormwatch.sentiment import SUPPORTED_LANGUAGES
from stormwatch.sources import history_of
from stormwatch.surge import CoverageEvidence
from stormwatch.syndication import group_stories
from stormwatch.timeutil import TimestampError, floor_hour, parse_timestamp
from stormwatch.watchlist import Topic

LIST_CAP = 5  # mentions per list, surges, samples
SOURCES_CAP = 20
TEXT_CHARS = 280  # a mention's text as shown
TITLE_CHARS = 160
AUTHOR_CHARS = 80
TERMS_CAP = 5  # "why" terms per mention
TERM_CHARS = 40
ERROR_CHARS = 240
NAME_CHARS = 80
STEP_CHARS = 300
STEPS_CAP = 10
STATEMENT_CHARS = 1200
REASONS_CAP = 6
NOTES_CAP = 3  # a source's own notes per row
NOTE_CHARS = 200
COMPETITORS_CAP = 10
LANGUAGE_CAP = 7  # languages in the per-language sentiment split

# the hourly chart: the last CHART_HOURS hours up to the end of the period, bars at most
# CHART_HEIGHT px tall; a day gets a label under the chart when it has at least
# CHART_LABEL_HOURS hours in it (a narrower label would not fit on a phone)
CHART_HOURS = 7 * 24
CHART_HEIGHT = 80
CHART_LABEL_HOURS = 12
WEEK = timedelta(days=7)
# "new voices": authors not heard in this long before the period (see docs/digest.md)
NEW_VOICE_DAYS = 30
# "unusually quiet": a source whose items in the digest's 24 hours (hourly buckets' per-source
# counts) are below QUIET_SHARE of its median day over the QUIET_DAYS before, when that median
# is at least QUIET_MIN_MEDIAN (too little traffic says nothing), is shown as degraded
QUIET_SHARE = 0.2
QUIET_MIN_MEDIAN = 10
QUIET_DAYS = 7

# the verdict: a change of at least this ratio against the previous day, and at least
# alerts.min_count mentions of difference, counts as busier/quieter than usual
BUSIER_RATIO = 1.5
QUIETER_RATIO = 0.5

Verdict = Literal["quiet", "as_usual", "busier", "storm"]
SourceStatus = Literal["ok", "degraded", "down", "refused", "never-run", "unknown"]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class LanguageSentiment(_View):
    """The sentiment split of one language's mentions (ISO 639-1 code)."""

    lang: str
    sentiment: SentimentSplit


class MentionItem(_View):
    """One mention as shown in a list: bounded, cleaned, its link safe or absent."""

    title: str = ""
    text: str = ""
    url: str | None = None
    author: str = ""
    source: str = ""
    published: datetime | None = None  # in the topic's digest time zone
    engagement: int = 0
    label: SentimentLabel | None = None
    score: float | None = None
    why: list[str] = Field(default_factory=list)
    more: int = 0  # copies of the same story in the period, not shown ("and 3 more")
    credit: Credit | None = None  # what the content's licence asks to show (Stack Exchange)


class SentimentSplit(_View):
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    unscored: int = 0

    @property
    def scored(self) -> int:
        return self.negative + self.neutral + self.positive

    def share(self, label: str) -> float:
        """Share of the scored mentions (0..1); unscored mentions are counted apart."""
        return getattr(self, label) / self.scored if self.scored else 0.0

    @property
    def negative_share(self) -> float:
        return self.share("negative")

    @property
    def neutral_share(self) -> float:
        return self.share("neutral")

    @property
    def positive_share(self) -> float:
        return self.share("positive")

    @property
    def net(self) -> float | None:
        """Positive share minus negative share, -1..1; None when nothing is scored."""
        if not self.scored:
            return None
        return (self.positive - self.negative) / self.scored

    @property
    def bar(self) -> list[tuple[str, float]]:
        """(label, percent width) of the non-empty segments, for the HTML bar; sums to 100."""
        parts = [(lbl, self.share(lbl) * 100) for lbl in ("negative", "neutral", "positive")]
        return [(lbl, round(pct, 1)) for lbl, pct in parts if pct > 0]


class BaselineNote(_View):
    """Where the comparison's past came from when a backfill filled it: "baseline: 21 days
    from backfill: hackernews, gdelt (no history: rss)"."""

    days: int
    backfilled: list[str]
    no_history: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, coverage: BaselineCoverage, now: datetime) -> BaselineNote | None:
        days = coverage.backfilled_days(now)
        if not days:
            return None
        backfilled = _labels(coverage.backfilled, SOURCES_CAP)
        no_history = _labels(coverage.no_history, SOURCES_CAP)
        return cls(days=days, backfilled=backfilled, no_history=no_history)

    @classmethod
    def from_evidence(cls, coverage: CoverageEvidence | None) -> BaselineNote | None:
        """The note a surge's evidence carries (scoring.check_topic), when a backfill filled it."""
        if coverage is None or not coverage.backfilled_days or not coverage.backfilled:
            return None
        return cls(
            days=coverage.backfilled_days,
            backfilled=_labels(coverage.backfilled, SOURCES_CAP),
            no_history=_labels(coverage.no_history, SOURCES_CAP),
        )


class SurgeItem(_View):
    tier: SurgeTier
    detected_at: datetime
    observed: float
    expected: float
    score: float
    threshold: float
    negative_share: float
    usual_negative_share: float
    authors: int = 0
    complete: bool = True
    escalation: bool = False
    episode_start: datetime | None = None
    window_hours: float | None = None  # how many hours the detector's window covered
    open: bool = False  # still going (not closed, inside the cooldown) when the digest is made
    top_terms: list[str] = Field(default_factory=list)
    drivers: list[str] = Field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        """Observed as a multiple of expected; None when nothing was expected."""
        return self.observed / self.expected if self.expected > 0 else None


class ChartBar(_View):
    hour: datetime  # start of the hour, in the digest's time zone
    count: int = 0
    negative: int = 0
    height: int = 0  # px, of CHART_HEIGHT
    negative_height: int = 0  # px, the bottom part of the bar
    in_period: bool = False  # one of the digest's own 24 hours


class ChartDay(_View):
    day: datetime  # the first hour of this local day inside the chart
    hours: int
    width: float  # percent of the chart
    labelled: bool
    count: int = 0
    negative: int = 0


class HourlyChart(_View):
    """Mentions per hour over the last 7 days, with the negative part of each hour."""

    bars: list[ChartBar]
    days: list[ChartDay]
    max_count: int
    total: int
    negative: int
    height: int = CHART_HEIGHT

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.total if self.total else None

    @property
    def busiest(self) -> ChartBar | None:
        return max(self.bars, key=lambda b: (b.count, b.hour)) if self.total else None


class VoiceRow(_View):
    """One topic's share of the mentions among the topic and its competitors."""

    name: str
    title: str
    count: int
    share: float
    own: bool = False


class SourceRow(_View):
    source: str
    mentions: int = 0  # in the digest period
    status: SourceStatus = "unknown"
    notes: list[str] = Field(default_factory=list)  # the last run's own notes
    truncated: bool = False  # the last run stopped before catching up
    ran_in_period: bool = True
    last_run: datetime | None = None
    last_success: datetime | None = None
    last_error: str = ""
    last_error_at: datetime | None = None
    failures: int = 0
    last_count: int = 0
    # "unusually quiet": items in the period against the median day before (QUIET_SHARE)
    quiet: bool = False
    usual_per_day: float | None = None
    period_items: int | None = None


class ChannelRow(_View):
    """A delivery channel of the topic that is failing (stormwatch.models.ChannelHealth)."""

    channel: str  # its label: "Slack", "SMS"
    failing_since: datetime | None = None  # in the digest's time zone
    failures: int = 0
    last_error: str = ""


class PlaybookView(_View):
    """What to do about this alert: the watchlist's Playbook resolved for the surge's tier."""

    owner: str = ""
    first_steps: list[str] = Field(default_factory=list)
    holding_statement: str = ""
    tier: SurgeTier | None = None  # set when the steps are the playbook's own for this tier

    @property
    def empty(self) -> bool:
        return not (self.owner or self.first_steps or self.holding_statement)


class _Header(_View):
    watchlist_name: str
    topic_name: str
    topic_title: str
    timezone: str
    # the topic's own language; the renderer is told which language to use
    language: Literal["en", "de"] = "en"
    settings_url: str | None = None
    trimmed: bool = False  # lists were shortened to keep the e-mail under the size budget


class DigestView(_Header):
    kind: Literal["digest"] = "digest"
    # "alerts in the last 30 days: N — real R, noise X"; None: no feedback links configured
    feedback: FeedbackSummary | None = None
    period_start: datetime
    period_end: datetime
    count: int
    previous_count: int
    sentiment: SentimentSplit
    # the split per language, biggest first; empty unless the scored mentions span languages
    sentiment_by_language: list[LanguageSentiment] = Field(default_factory=list)
    verdict: Verdict
    # mentions per day over the 7 days before the period (hourly buckets) that sources
    # covered; None: no history
    week_average: float | None = None
    baseline: BaselineNote | None = None  # the past came (partly) from a backfill
    chart: HourlyChart | None = None
    surges: list[SurgeItem] = Field(default_factory=list)  # open ones first
    surges_total: int = 0
    most_negative: list[MentionItem] = Field(default_factory=list)  # "needs a reply"
    most_positive: list[MentionItem] = Field(default_factory=list)
    most_engaged: list[MentionItem] = Field(default_factory=list)
    # authors not heard in the NEW_VOICE_DAYS before the period; None: not known
    new_voices: list[MentionItem] | None = None
    new_voices_total: int = 0
    authors_total: int = 0
    by_source: list[tuple[str, int]] = Field(default_factory=list)
    share_of_voice: list[VoiceRow] = Field(default_factory=list)
    sources: list[SourceRow] = Field(default_factory=list)
    # GDELT's tone of the news about the topic in the period, a second opinion; None: not known
    news_tone: NewsTone | None = None
    # delivery channels failing now ("Slack delivery failing since …")
    failing_channels: list[ChannelRow] = Field(default_factory=list)

    @property
    def week_delta_share(self) -> float | None:
        """Change against the 7-day average as a share; None without history."""
        if not self.week_average:
            return None
        return (self.count - self.week_average) / self.week_average

    @property
    def coverage(self) -> dict[str, int]:
        """How many sources were in each state, in a fixed order, zeros left out."""
        counts: Counter[str] = Counter(row.status for row in self.sources)
        order = ("ok", "degraded", "down", "refused", "never-run", "unknown")
        return {status: counts[status] for status in order if counts[status]}

    @property
    def delta(self) -> int:
        return self.count - self.previous_count

    @property
    def delta_share(self) -> float | None:
        """Change against the previous day as a share (2.4 = +240 %); None after a zero day."""
        if not self.previous_count:
            return None
        return self.delta / self.previous_count

    @property
    def empty(self) -> bool:
        return self.count == 0

    @property
    def source_problems(self) -> list[SourceRow]:
        """Sources down, refused or unusually quiet: said at the top, so a quiet day is not
        trusted blindly."""
        return [r for r in self.sources if r.status in ("down", "refused") or r.quiet]

    @property
    def sources_ok(self) -> int:
        """Sources that worked in the period (fully or degraded)."""
        return sum(1 for row in self.sources if row.status in ("ok", "degraded"))

    @property
    def surges_hidden(self) -> int:
        return self.surges_total - len(self.surges)


class AlertView(_Header):
    kind: Literal["alert"] = "alert"
    surge: SurgeItem
    escalated_from: str | None = None
    drivers: list[str] = Field(default_factory=list)  # e.g. the sources carrying the surge
    top_terms: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)  # the detector's own words
    failing_sources: list[str] = Field(default_factory=list)
    # (source, last success or None) of the sources failing when the surge was checked
    failing_since: list[tuple[str, datetime | None]] = Field(default_factory=list)
    stories: int | None = None  # distinct stories in the detector's window; None: not known
    samples: list[MentionItem] = Field(default_factory=list)
    playbook: PlaybookView = Field(default_factory=PlaybookView)
    baseline: BaselineNote | None = None  # the baseline came (partly) from a backfill
    # the storm page and feedback links, (purpose, url): stormwatch.notification.response_links
    actions: list[tuple[str, str]] = Field(default_factory=list)


class NoticeView(_Header):
    """A source went down for a topic (stormwatch.models.SourceNotice)."""

    kind: Literal["notice"] = "notice"
    source: str
    health: Literal["down", "refused"] = "down"
    detected_at: datetime
    failures: int
    since: datetime | None = None
    last_error: str = ""


# ---------------------------------------------------------------------------------------------
# builders


def build_digest(
    topic: Topic,
    *,
    now: datetime,
    period_start: datetime,
    mentions: list[ScoredMention],
    previous_count: int,
    surges: list[Surge],
    sources: list[Checkpoint],
    watchlist_name: str,
    settings_url: str = "",
    buckets: list[HourBucket] | None = None,
    known_authors: Container[str] | None = None,
    competitors: list[tuple[str, str, int]] | None = None,
    language: str | None = None,
    news_tone: NewsTone | None = None,
    channels: list[ChannelHealth] | None = None,
) -> DigestView:
    """The daily digest of one topic for the period [period_start, now).

    Optional, each section left out when not given:
    `buckets` — the topic's hourly buckets of at least the 8 days up to `now` (the 7-day chart
    and the 7-day average); `known_authors` — short author keys heard in the NEW_VOICE_DAYS before
    the period (new voices); `competitors` — (name, title, mentions in the period) of the
    topics the watchlist marks as competitors (share of voice); `language` — the recipient's;
    `news_tone` — GDELT's tone of the period's news (shown beside our sentiment).
    `channels` — the health of the topic's delivery channels (coverage).
    """
    zone = ZoneInfo(topic.digest.timezone)
    start, end = utc(period_start), utc(now)
    in_period = [m for m in mentions if start <= m.mention.published < end]

    split = _split(in_period)
    # a surge detected at the very moment the digest is made is part of it (the store's surge
    # range is inclusive too); mentions are counted in the half-open [start, end)
    period_surges = [
        s for s in surges if s.topic == topic.name and start <= utc(s.detected_at) <= end
    ]
    # open storms first, then the latest
    period_surges.sort(key=lambda s: (_is_open(s, topic, end), utc(s.detected_at)), reverse=True)
    coverage = baseline_coverage(sources, history_of(), utc(now))
    week_average = (
        _week_average(buckets, start, coverage.complete_from) if buckets is not None else None
    )
    verdict = _verdict(
        topic,
        count=len(in_period),
        previous=week_average if week_average is not None else previous_count,
        surges=period_surges,
        now=end,
    )

    # copies of one story (syndication) are shown once, as their best-ranked copy
    story_of: dict[int, int] = {}
    copies: dict[int, int] = {}
    for number, group in enumerate(group_stories([m.mention for m in in_period])):
        copies[number] = len(group)
        story_of.update((id(in_period[i]), number) for i in group)
    negatives = [m for m in in_period if m.sentiment and m.sentiment.label == "negative"]
    negatives.sort(key=lambda m: (_negativity(m), m.mention.engagement), reverse=True)
    negatives = _one_per_story(negatives, story_of)
    shown = {story_of[id(m)] for m in negatives[:LIST_CAP]}  # not the same story twice
    positives = [m for m in in_period if m.sentiment and m.sentiment.label == "positive"]
    positives.sort(key=lambda m: (_positivity(m), m.mention.engagement), reverse=True)
    positives = _one_per_story(positives, story_of)
    shown |= {story_of[id(m)] for m in positives[:LIST_CAP]}
    engaged = [m for m in in_period if m.mention.engagement > 0 and story_of[id(m)] not in shown]
    engaged.sort(key=lambda m: (m.mention.engagement, m.mention.published), reverse=True)
    engaged = _one_per_story(engaged, story_of)

    def item(m: ScoredMention) -> MentionItem:
        return _mention_item(m, zone, more=copies[story_of[id(m)]] - 1)

    new_voices: list[MentionItem] | None = None
    new_total = 0
    if known_authors is not None:
        voices = _new_voices(in_period, known_authors)
        new_total = len(voices)
        new_voices = [_mention_item(m, zone) for m in voices[:LIST_CAP]]
    authors = {m.mention.author_key for m in in_period if m.mention.author}

    by_source = Counter(clean_text(m.mention.source, NAME_CHARS) for m in in_period)
    return DigestView(
        **_header(topic, watchlist_name, settings_url, language),
        period_start=start.astimezone(zone),
        period_end=end.astimezone(zone),
        count=len(in_period),
        previous_count=max(0, previous_count),
        sentiment=split,
        sentiment_by_language=_split_by_language(in_period),
        verdict=verdict,
        week_average=week_average,
        baseline=BaselineNote.of(coverage, end),
        chart=_chart(buckets, end, start, zone) if buckets is not None else None,
        surges=[
            _surge_item(s, zone, open_=_is_open(s, topic, end)) for s in period_surges[:LIST_CAP]
        ],
        surges_total=len(period_surges),
        most_negative=[item(m) for m in negatives[:LIST_CAP]],
        most_positive=[item(m) for m in positives[:LIST_CAP]],
        most_engaged=[item(m) for m in engaged[:LIST_CAP]],
        new_voices=new_voices,
        new_voices_total=new_total,
        authors_total=len(authors),
        by_source=sorted(by_source.items(), key=lambda kv: (-kv[1], kv[0]))[:SOURCES_CAP],
        share_of_voice=_share_of_voice(topic, buckets, in_period, start, end, competitors),
        sources=_source_rows(topic, in_period, sources, zone, start, buckets=buckets, end=end),
        news_tone=news_tone,
        failing_channels=_failing_channels(channels or [], zone),
    )


def _failing_channels(health: list[ChannelHealth], zone: ZoneInfo) -> list[ChannelRow]:
    # imported here: the channels render these views, so they import this module first
    from stormwatch.channels.registry import channel_label

    return [
        ChannelRow(
            channel=clean_text(channel_label(h.channel), NAME_CHARS),
            failing_since=utc(h.failing_since).astimezone(zone) if h.failing_since else None,
            failures=max(0, h.consecutive_failures),
            last_error=clean_text(h.last_error, ERROR_CHARS),
        )
        for h in sorted(health, key=lambda h: h.channel)[:SOURCES_CAP]
        if h.failing
    ]


def _one_per_story(ranked: list[ScoredMention], story_of: dict[int, int]) -> list[ScoredMention]:
    """The first (best-ranked) mention of each story, in rank order."""
    seen: set[int] = set()
    out = []
    for m in ranked:
        story = story_of[id(m)]
        if story not in seen:
            seen.add(story)
            out.append(m)
    return out


def build_alert(
    topic: Topic,
    surge: Surge,
    *,
    watchlist_name: str,
    settings_url: str = "",
    language: str | None = None,
) -> AlertView:
    """The alert for one surge: the numbers behind it, examples, and what to do at its tier."""
    zone = ZoneInfo(topic.digest.timezone)
    evidence = surge.evidence
    playbook = topic.playbook
    first_steps, holding_statement = playbook.for_tier(surge.tier)
    return AlertView(
        **_header(topic, watchlist_name, settings_url, language),
        surge=_surge_item(surge, zone),
        escalated_from=evidence.previous_tier,
        drivers=_labels(_by_count(evidence.sources)),
        top_terms=_labels(evidence.top_terms, cap=8),
        reasons=[r for r in (clean_text(x, ERROR_CHARS) for x in evidence.reasons) if r][
            :REASONS_CAP
        ],
        failing_sources=_labels(evidence.failing_sources),
        failing_since=_failing_since(evidence.failing_since, zone),
        stories=evidence.stories,
        baseline=BaselineNote.from_evidence(evidence.baseline_coverage),
        samples=[_sample_item(d, zone) for d in surge.sample_mentions[:LIST_CAP] if d],
        playbook=PlaybookView(
            owner=clean_text(playbook.owner, NAME_CHARS),
            first_steps=[
                step
                for step in (clean_text(s, STEP_CHARS) for s in first_steps[:STEPS_CAP])
                if step
            ],
            holding_statement=clean_text(holding_statement, STATEMENT_CHARS, lines=True),
            tier=surge.tier if surge.tier in playbook.tiers else None,
        ),
    )


def build_notice(
    topic: Topic,
    notice: SourceNotice,
    *,
    watchlist_name: str,
    settings_url: str = "",
    language: str | None = None,
) -> NoticeView:
    """The "source down" e-mail: which source, since when, how often it failed, the error."""
    zone = ZoneInfo(topic.digest.timezone)
    return NoticeView(
        **_header(topic, watchlist_name, settings_url, language),
        source=clean_text(notice.source, NAME_CHARS),
        health=notice.health,
        detected_at=utc(notice.detected_at).astimezone(zone),
        failures=max(0, notice.failures),
        since=utc(notice.since).astimezone(zone) if notice.since else None,
        last_error=clean_text(notice.last_error, ERROR_CHARS),
    )


# ---------------------------------------------------------------------------------------------
# helpers


def _failing_since(
    value: dict[str, datetime | None], zone: ZoneInfo
) -> list[tuple[str, datetime | None]]:
    """Failing sources and their last success, bounded and cleaned, in the reader's zone."""
    out: list[tuple[str, datetime | None]] = []
    for name, since in list(value.items())[:SOURCES_CAP]:
        label = clean_text(name, NAME_CHARS)
        if label:
            out.append((label, utc(since).astimezone(zone) if since else None))
    return out


def _by_count(counts: dict[str, int]) -> list[tuple[str, int]]:
    """{"hackernews": 40, "rss": 12} as (name, count) pairs, the largest first."""
    return sorted(counts.items(), key=lambda kv: -kv[1])


def _header(
    topic: Topic, watchlist_name: str, settings_url: str, language: str | None = None
) -> dict[str, Any]:
    return {
        "watchlist_name": clean_text(watchlist_name, NAME_CHARS) or "stormwatch",
        "topic_name": topic.name,
        "topic_title": clean_text(topic.title, NAME_CHARS) or topic.name,
        "timezone": topic.digest.timezone,
        "language": "de" if (language or topic.digest.language) == "de" else "en",
        "settings_url": safe_link(settings_url),
    }


def _week_average(
    buckets: list[HourBucket], start: datetime, complete_from: datetime | None = None
) -> float | None:
    """Mentions per day in the 7 days before the period, over the days the sources covered
    (a topic added three days ago averages three days, not seven); None when less than a day
    is covered or none of it has data."""
    first = start - WEEK
    if complete_from is not None and utc(complete_from) > first:
        first = utc(complete_from)
    days = (start - first) / timedelta(days=1)
    week = [b for b in buckets if first <= utc(b.hour) < start]
    if days < 1 or not week:
        return None
    return sum(b.count for b in week) / days


def _chart(
    buckets: list[HourBucket], end: datetime, start: datetime, zone: ZoneInfo
) -> HourlyChart:
    """CHART_HOURS hourly bars ending with the period's last hour, scaled to the busiest."""
    last = floor_hour(end)
    if last == end:
        last -= timedelta(hours=1)  # `end` is exclusive
    hours = [last - timedelta(hours=CHART_HOURS - 1 - i) for i in range(CHART_HOURS)]
    by_hour = {utc(b.hour): b for b in buckets}
    counts = [
        (max(0, by_hour[h].count), max(0, by_hour[h].negative)) if h in by_hour else (0, 0)
        for h in hours
    ]
    peak = max((c for c, _ in counts), default=0)
    bars = []
    for hour, (count, negative) in zip(hours, counts, strict=True):
        negative = min(negative, count)
        height = max(1, round(count / peak * CHART_HEIGHT)) if count else 0
        neg_height = round(height * negative / count) if count else 0
        if negative and not neg_height:
            neg_height = 1
        bars.append(
            ChartBar(
                hour=hour.astimezone(zone),
                count=count,
                negative=negative,
                height=height,
                negative_height=neg_height,
                in_period=hour >= start,
            )
        )
    days = _chart_days(bars)
    return HourlyChart(
        bars=bars,
        days=days,
        max_count=peak,
        total=sum(c for c, _ in counts),
        negative=sum(min(n, c) for c, n in counts),
    )


def _chart_days(bars: list[ChartBar]) -> list[ChartDay]:
    """The local days under the bars, each as wide as its share of the hours shown."""
    days: list[ChartDay] = []
    for bar in bars:
        if days and days[-1].day.date() == bar.hour.date():
            last_day = days[-1]
            days[-1] = last_day.model_copy(
                update={
                    "hours": last_day.hours + 1,
                    "count": last_day.count + bar.count,
                    "negative": last_day.negative + bar.negative,
                }
            )
        else:
            days.append(
                ChartDay(
                    day=bar.hour,
                    hours=1,
                    width=0,
                    labelled=False,
                    count=bar.count,
                    negative=bar.negative,
                )
            )
    return [
        d.model_copy(
            update={
                "width": round(d.hours * 100 / CHART_HOURS, 4),
                "labelled": d.hours >= CHART_LABEL_HOURS,
            }
        )
        for d in days
    ]


def _new_voices(mentions: list[ScoredMention], known: Container[str]) -> list[ScoredMention]:
    """One mention per author not in `known` (their most engaged), most engaged first."""
    best: dict[str, ScoredMention] = {}
    for m in mentions:
        if not m.mention.author:
            continue
        key = m.mention.author_key
        if m.mention.short_author_key in known:
            continue
        held = best.get(key)
        if held is None or m.mention.engagement > held.mention.engagement:
            best[key] = m
    return sorted(
        best.values(),
        key=lambda m: (m.mention.engagement, m.mention.published),
        reverse=True,
    )


def _share_of_voice(
    topic: Topic,
    buckets: list[HourBucket] | None,
    in_period: list[ScoredMention],
    start: datetime,
    end: datetime,
    competitors: list[tuple[str, str, int]] | None,
) -> list[VoiceRow]:
    """The topic against its competitors, each counted the same way (hourly buckets when
    given, so scored mentions on both sides); empty without competitors."""
    if not competitors:
        return []
    own = (
        sum(b.count for b in buckets if start <= utc(b.hour) < end)
        if buckets is not None
        else len(in_period)
    )
    rows = [(topic.name, topic.title, own, True)]
    rows += [(n, t, max(0, int(c)), False) for n, t, c in competitors[:COMPETITORS_CAP]]
    total = sum(r[2] for r in rows)
    out = [
        VoiceRow(
            name=clean_text(name, NAME_CHARS),
            title=clean_text(title, NAME_CHARS) or clean_text(name, NAME_CHARS),
            count=count,
            share=count / total if total else 0.0,
            own=own_row,
        )
        for name, title, count, own_row in rows
    ]
    out.sort(key=lambda r: (-r.count, not r.own, r.name))
    return out


def _split(mentions: list[ScoredMention]) -> SentimentSplit:
    labels = Counter(m.sentiment.label if m.sentiment else "unscored" for m in mentions)
    return SentimentSplit(
        negative=labels["negative"],
        neutral=labels["neutral"],
        positive=labels["positive"],
        unscored=labels["unscored"],
    )


def _split_by_language(mentions: list[ScoredMention]) -> list[LanguageSentiment]:
    """Per language with an analyzer, the split of its mentions, biggest first (at most
    LANGUAGE_CAP); empty when all scored mentions share one language."""
    by_lang: dict[str, list[ScoredMention]] = {}
    for m in mentions:
        if m.sentiment and m.sentiment.lang in SUPPORTED_LANGUAGES:
            by_lang.setdefault(m.sentiment.lang, []).append(m)
    if len(by_lang) < 2:
        return []
    rows = [LanguageSentiment(lang=lang, sentiment=_split(ms)) for lang, ms in by_lang.items()]
    rows.sort(key=lambda r: (-r.sentiment.scored, r.lang))
    return rows[:LANGUAGE_CAP]


def _is_open(surge: Surge, topic: Topic, now: datetime) -> bool:
    """A surge is open until the alert cooldown has passed."""
    return now - utc(surge.detected_at) < timedelta(hours=topic.alerts.cooldown_hours)


def _verdict(
    topic: Topic, *, count: int, previous: float, surges: list[Surge], now: datetime
) -> Verdict:
    if any(_is_open(s, topic, now) for s in surges):
        return "storm"
    if count == 0:
        return "quiet"
    margin = topic.alerts.min_count
    if surges or (count >= previous * BUSIER_RATIO and count - previous >= margin):
        return "busier"
    if count <= previous * QUIETER_RATIO and previous - count >= margin:
        return "quiet"
    return "as_usual"


def _positivity(m: ScoredMention) -> float:
    """How much a positive mention matters: its positivity weighted by (log) engagement."""
    sentiment = m.sentiment
    if sentiment is None:
        return 0.0
    strength = max(sentiment.score, 0.0) or sentiment.confidence * 0.5
    return strength * (1.0 + math.log1p(m.mention.engagement))


def _negativity(m: ScoredMention) -> float:
    """How much a negative mention matters: its negativity weighted by (log) engagement."""
    sentiment = m.sentiment
    if sentiment is None:
        return 0.0
    strength = max(-sentiment.score, 0.0) or sentiment.confidence * 0.5
    return strength * (1.0 + math.log1p(m.mention.engagement))


def _mention_item(m: ScoredMention, zone: ZoneInfo, *, more: int = 0) -> MentionItem:
    mention, sentiment = m.mention, m.sentiment
    why = []
    if sentiment:
        why = [t for t in (clean_text(x, TERM_CHARS) for x in sentiment.terms[:TERMS_CAP]) if t]
    return MentionItem(
        title=clean_text(mention.title, TITLE_CHARS),
        text=clean_text(mention.text, TEXT_CHARS, lines=True),
        url=safe_link(mention.url),
        author=clean_text(mention.author, AUTHOR_CHARS),
        source=clean_text(mention.source, NAME_CHARS),
        published=mention.published.astimezone(zone),
        engagement=mention.engagement,
        label=sentiment.label if sentiment else None,
        score=sentiment.score if sentiment else None,
        why=why,
        more=max(0, more),
        credit=credit_of(mention.source, mention.channel),
    )


def _sample_item(d: dict[str, Any], zone: ZoneInfo) -> MentionItem:
    """A sample mention as scoring._sample wrote it (sentiment: its label), read back from
    DynamoDB: a dict whose shape we only trust this far."""
    label = d.get("sentiment")
    try:
        when: datetime | None = parse_timestamp(d.get("published"), naive_is_utc=True)
    except TimestampError:
        when = None
    engagement = _number(d.get("engagement"))
    return MentionItem(
        title=clean_text(_str(d.get("title")), TITLE_CHARS),
        text=clean_text(_str(d.get("text")), TEXT_CHARS, lines=True),
        url=safe_link(_str(d.get("url"))),
        author=clean_text(_str(d.get("author")), AUTHOR_CHARS),
        source=clean_text(_str(d.get("source")), NAME_CHARS),
        published=when.astimezone(zone) if when else None,
        engagement=int(engagement) if engagement and engagement > 0 else 0,
        label=label if label in ("negative", "neutral", "positive") else None,
        credit=credit_of(_str(d.get("source")), _str(d.get("channel"))),
    )


def _surge_item(s: Surge, zone: ZoneInfo, *, open_: bool = False) -> SurgeItem:
    evidence = s.evidence
    return SurgeItem(
        tier=s.tier,
        detected_at=utc(s.detected_at).astimezone(zone),
        observed=s.observed,
        expected=s.expected,
        score=s.score,
        threshold=s.threshold,
        negative_share=s.negative_share,
        usual_negative_share=s.usual_negative_share,
        authors=s.authors,
        complete=s.complete,
        escalation=s.escalation,
        episode_start=utc(s.episode_start).astimezone(zone) if s.episode_start else None,
        window_hours=evidence.window_hours if evidence.window_hours > 0 else None,
        open=open_,
        top_terms=_labels(evidence.top_terms, cap=TERMS_CAP),
        drivers=_labels(_by_count(evidence.sources)),
    )


def _ran(cp: Checkpoint, period_start: datetime | None) -> bool:
    """Whether the source ran at all in the period (unknown period: assume it did)."""
    if cp.last_run is None:
        return False
    return period_start is None or utc(cp.last_run) >= period_start


def _unusually_quiet(period_items: int | None, usual: float | None) -> bool:
    """A source that usually brings enough items brought far fewer in the period."""
    if period_items is None or usual is None:
        return False
    return usual >= QUIET_MIN_MEDIAN and period_items < QUIET_SHARE * usual


def _source_rows(
    topic: Topic,
    mentions: list[ScoredMention],
    checkpoints: list[Checkpoint],
    zone: ZoneInfo,
    period_start: datetime | None = None,
    *,
    buckets: list[HourBucket] | None = None,
    end: datetime | None = None,
) -> list[SourceRow]:
    counts = Counter(m.mention.source for m in mentions)
    volumes = _source_volumes(buckets, end) if buckets is not None and end else {}
    by_source = {c.source: c for c in checkpoints if c.topic == topic.name}
    names = list(dict.fromkeys([*topic.sources.enabled(), *by_source, *counts]))

    def local(value: datetime | None) -> datetime | None:
        return utc(value).astimezone(zone) if value else None

    rows = []
    for name in names:
        cp = by_source.get(name)
        if cp is None:
            status: SourceStatus = "never-run" if name in topic.sources.enabled() else "unknown"
            rows.append(
                SourceRow(source=clean_text(name, NAME_CHARS), mentions=counts[name], status=status)
            )
            continue
        status = cp.health(period_start)
        failing = cp.consecutive_failures > 0
        period_items, usual = volumes.get(name, (None, None))
        quiet = _unusually_quiet(period_items, usual)
        if quiet and status == "ok":
            status = "degraded"
        notes = [n for n in (clean_text(_str(x), NOTE_CHARS) for x in cp.last_notes) if n]
        rows.append(
            SourceRow(
                source=clean_text(name, NAME_CHARS),
                mentions=counts[name],
                status=status,
                notes=notes[:NOTES_CAP] if not failing else [],
                truncated=cp.last_truncated and not failing,
                ran_in_period=_ran(cp, period_start),
                last_run=local(cp.last_run),
                last_success=local(cp.last_success),
                last_error=clean_text(cp.last_error, ERROR_CHARS) if failing else "",
                last_error_at=local(cp.last_error_at),
                failures=cp.consecutive_failures,
                last_count=cp.last_count,
                quiet=quiet,
                usual_per_day=usual,
                period_items=period_items,
            )
        )
    order = {"down": 0, "refused": 1, "degraded": 2, "never-run": 3, "unknown": 4, "ok": 5}
    rows.sort(key=lambda r: (order[r.status], -r.mentions, r.source))
    return rows[:SOURCES_CAP]


def _source_volumes(
    buckets: list[HourBucket], end: datetime
) -> dict[str, tuple[int, float | None]]:
    """Per source: (items in the 24 hours before `end`, median items a day over the
    QUIET_DAYS before them or None without any history), from the buckets' per-source counts."""
    day = timedelta(hours=24)
    totals: dict[str, list[int]] = {}
    history = False
    for bucket in buckets:
        back = (utc(end) - utc(bucket.hour) - timedelta(seconds=1)) // day
        if not 0 <= back <= QUIET_DAYS:
            continue
        history = history or back >= 1
        for source, n in bucket.by_source.items():
            totals.setdefault(source, [0] * (QUIET_DAYS + 1))[back] += max(0, n)
    out: dict[str, tuple[int, float | None]] = {}
    for source, days in totals.items():
        previous = sorted(days[1:])
        middle = len(previous) // 2
        median = (
            (previous[middle - 1] + previous[middle]) / 2
            if len(previous) % 2 == 0
            else (previous[middle])
        )
        out[source] = (days[0], float(median) if history else None)
    return out


def _labels(value: Any, cap: int = LIST_CAP) -> list[str]:
    """Drivers or terms from the evidence: strings or (name, count) pairs. Counts may be
    Decimals when the surge came back from DynamoDB."""
    if not isinstance(value, list | tuple):
        return []
    out: list[str] = []
    for item in value[:cap]:
        count: float | None = None
        if isinstance(item, list | tuple) and item:
            name = item[0]
            count = _number(item[1]) if len(item) > 1 else None
        else:
            name = item
        text = clean_text(_str(name), TERM_CHARS)
        if text and count is not None:
            text = f"{text} ({count:g})"
        if text:
            out.append(text)
    return out


def _number(value: Any) -> float | None:
    """int, float or Decimal (not bool) as a float; anything else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return float(value)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))
