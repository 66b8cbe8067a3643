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
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from stormwatch.models import (
    Checkpoint,
    ScoredMention,
    SentimentLabel,
    Surge,
    SurgeTier,
    clean_text,
    safe_url,
    utc,
)
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

# the verdict: a change of at least this ratio against the previous day, and at least
# alerts.min_count mentions of difference, counts as busier/quieter than usual
BUSIER_RATIO = 1.5
QUIETER_RATIO = 0.5

Verdict = Literal["quiet", "as_usual", "busier", "storm"]
SourceStatus = Literal["ok", "failing", "never-run", "unknown"]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


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

    @property
    def ratio(self) -> float | None:
        """Observed as a multiple of expected; None when nothing was expected."""
        return self.observed / self.expected if self.expected > 0 else None


class SourceRow(_View):
    source: str
    mentions: int = 0  # in the digest period
    status: SourceStatus = "unknown"
    last_run: datetime | None = None
    last_success: datetime | None = None
    last_error: str = ""
    last_error_at: datetime | None = None
    failures: int = 0
    last_count: int = 0


class Playbook(_View):
    owner: str = ""
    first_steps: list[str] = Field(default_factory=list)
    holding_statement: str = ""

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


class DigestView(_Header):
    kind: Literal["digest"] = "digest"
    period_start: datetime
    period_end: datetime
    count: int
    previous_count: int
    sentiment: SentimentSplit
    verdict: Verdict
    surges: list[SurgeItem] = Field(default_factory=list)
    surges_total: int = 0
    most_negative: list[MentionItem] = Field(default_factory=list)
    most_engaged: list[MentionItem] = Field(default_factory=list)
    sources: list[SourceRow] = Field(default_factory=list)

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
    def sources_ok(self) -> int:
        return sum(1 for row in self.sources if row.status == "ok")

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
    samples: list[MentionItem] = Field(default_factory=list)
    playbook: Playbook = Field(default_factory=Playbook)


_URL_UNSAFE = {'"': "%22", "<": "%3C", ">": "%3E", "\\": "%5C", "`": "%60"}


def safe_link(url: str | None) -> str | None:
    """An http(s) URL fit for an href, or None: `safe_url`, plus the characters that have no
    business in a URL but meaning in HTML percent-encoded (what a browser would send anyway)."""
    checked = safe_url(url)
    if checked is None:
        return None
    return "".join(_URL_UNSAFE.get(ch, ch) for ch in checked)


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
) -> DigestView:
    """The daily digest of one topic for the period [period_start, now)."""
    zone = ZoneInfo(topic.digest.timezone)
    start, end = utc(period_start), utc(now)
    in_period = [m for m in mentions if start <= m.mention.published < end]

    split = _split(in_period)
    # a surge detected at the very moment the digest is made is part of it (the store's surge
    # range is inclusive too); mentions are counted in the half-open [start, end)
    period_surges = sorted(
        (s for s in surges if s.topic == topic.name and start <= utc(s.detected_at) <= end),
        key=lambda s: utc(s.detected_at),
        reverse=True,
    )
    verdict = _verdict(
        topic, count=len(in_period), previous=previous_count, surges=period_surges, now=end
    )

    negatives = [m for m in in_period if m.sentiment and m.sentiment.label == "negative"]
    negatives.sort(key=lambda m: (_negativity(m), m.mention.engagement), reverse=True)
    shown = {id(m) for m in negatives[:LIST_CAP]}  # not the same mention twice
    engaged = [m for m in in_period if m.mention.engagement > 0 and id(m) not in shown]
    engaged.sort(key=lambda m: (m.mention.engagement, m.mention.published), reverse=True)

    return DigestView(
        **_header(topic, watchlist_name, settings_url),
        period_start=start.astimezone(zone),
        period_end=end.astimezone(zone),
        count=len(in_period),
        previous_count=max(0, previous_count),
        sentiment=split,
        verdict=verdict,
        surges=[_surge_item(s, zone) for s in period_surges[:LIST_CAP]],
        surges_total=len(period_surges),
        most_negative=[_mention_item(m, zone) for m in negatives[:LIST_CAP]],
        most_engaged=[_mention_item(m, zone) for m in engaged[:LIST_CAP]],
        sources=_source_rows(topic, in_period, sources, zone),
    )


def build_alert(
    topic: Topic, surge: Surge, *, watchlist_name: str, settings_url: str = ""
) -> AlertView:
    """The alert for one surge: the numbers behind it, examples, and what to do."""
    zone = ZoneInfo(topic.digest.timezone)
    evidence = surge.evidence or {}
    playbook = topic.playbook
    drivers = evidence.get("drivers") or evidence.get("sources")
    if isinstance(drivers, dict):  # {"hackernews": 40, "rss": 12}
        drivers = sorted(drivers.items(), key=lambda kv: -(_number(kv[1]) or 0.0))
    return AlertView(
        **_header(topic, watchlist_name, settings_url),
        surge=_surge_item(surge, zone),
        escalated_from=_escalated_from(evidence.get("previous_tier") or evidence.get("escalation")),
        drivers=_labels(drivers),
        top_terms=_labels(evidence.get("top_terms") or evidence.get("terms"), cap=8),
        reasons=[
            r
            for r in (clean_text(_str(x), ERROR_CHARS) for x in _list(evidence.get("reasons")))
            if r
        ][:REASONS_CAP],
        failing_sources=_labels(evidence.get("failing_sources")),
        samples=[_sample_item(d, zone) for d in surge.sample_mentions[:LIST_CAP] if d],
        playbook=Playbook(
            owner=clean_text(playbook.owner, NAME_CHARS),
            first_steps=[
                step
                for step in (clean_text(s, STEP_CHARS) for s in playbook.first_steps[:STEPS_CAP])
                if step
            ],
            holding_statement=clean_text(playbook.holding_statement, STATEMENT_CHARS),
        ),
    )


# ---------------------------------------------------------------------------------------------
# helpers


def _header(topic: Topic, watchlist_name: str, settings_url: str) -> dict[str, Any]:
    return {
        "watchlist_name": clean_text(watchlist_name, NAME_CHARS) or "stormwatch",
        "topic_name": topic.name,
        "topic_title": clean_text(topic.title, NAME_CHARS) or topic.name,
        "timezone": topic.digest.timezone,
        "language": topic.digest.language,
        "settings_url": safe_link(settings_url),
    }


def _split(mentions: list[ScoredMention]) -> SentimentSplit:
    labels = Counter(m.sentiment.label if m.sentiment else "unscored" for m in mentions)
    return SentimentSplit(
        negative=labels["negative"],
        neutral=labels["neutral"],
        positive=labels["positive"],
        unscored=labels["unscored"],
    )


def _is_open(surge: Surge, topic: Topic, now: datetime) -> bool:
    """A surge is open until the detector closes it, or until the alert cooldown has passed."""
    evidence = surge.evidence or {}
    if evidence.get("closed") or evidence.get("ended_at"):
        return False
    return now - utc(surge.detected_at) < timedelta(hours=topic.alerts.cooldown_hours)


def _verdict(
    topic: Topic, *, count: int, previous: int, surges: list[Surge], now: datetime
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


def _negativity(m: ScoredMention) -> float:
    """How much a negative mention matters: its negativity weighted by (log) engagement."""
    sentiment = m.sentiment
    if sentiment is None:
        return 0.0
    strength = max(-sentiment.score, 0.0) or sentiment.confidence * 0.5
    return strength * (1.0 + math.log1p(m.mention.engagement))


def _mention_item(m: ScoredMention, zone: ZoneInfo) -> MentionItem:
    mention, sentiment = m.mention, m.sentiment
    why = []
    if sentiment:
        why = [t for t in (clean_text(x, TERM_CHARS) for x in sentiment.terms[:TERMS_CAP]) if t]
    return MentionItem(
        title=clean_text(mention.title, TITLE_CHARS),
        text=clean_text(mention.text, TEXT_CHARS),
        url=safe_link(mention.url),
        author=clean_text(mention.author, AUTHOR_CHARS),
        source=clean_text(mention.source, NAME_CHARS),
        published=mention.published.astimezone(zone),
        engagement=mention.engagement,
        label=sentiment.label if sentiment else None,
        score=sentiment.score if sentiment else None,
        why=why,
    )


def _sample_item(d: dict[str, Any], zone: ZoneInfo) -> MentionItem:
    """A sample mention from the surge's evidence: a dict whose shape we only trust this far."""
    sentiment = d.get("sentiment")
    label = sentiment.get("label") if isinstance(sentiment, dict) else sentiment or d.get("label")
    published = d.get("published")
    when: datetime | None = None
    if isinstance(published, datetime):
        when = utc(published).astimezone(zone)
    elif isinstance(published, str):
        try:
            when = utc(datetime.fromisoformat(published.replace("Z", "+00:00"))).astimezone(zone)
        except ValueError:
            when = None
    engagement = _number(d.get("engagement"))
    why = d.get("terms") or (sentiment.get("terms") if isinstance(sentiment, dict) else None)
    return MentionItem(
        title=clean_text(_str(d.get("title")), TITLE_CHARS),
        text=clean_text(_str(d.get("text")), TEXT_CHARS),
        url=safe_link(_str(d.get("url"))),
        author=clean_text(_str(d.get("author")), AUTHOR_CHARS),
        source=clean_text(_str(d.get("source")), NAME_CHARS),
        published=when,
        engagement=int(engagement) if engagement and engagement > 0 else 0,
        label=label if label in ("negative", "neutral", "positive") else None,
        why=_labels(why, cap=TERMS_CAP),
    )


def _surge_item(s: Surge, zone: ZoneInfo) -> SurgeItem:
    evidence = s.evidence or {}
    window = evidence.get("window_hours")
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
        escalation=s.escalation or bool(evidence.get("escalation")),
        episode_start=utc(s.episode_start).astimezone(zone) if s.episode_start else None,
        window_hours=window if isinstance(window, int | float) and window > 0 else None,
    )


def _source_rows(
    topic: Topic, mentions: list[ScoredMention], checkpoints: list[Checkpoint], zone: ZoneInfo
) -> list[SourceRow]:
    counts = Counter(m.mention.source for m in mentions)
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
        rows.append(
            SourceRow(
                source=clean_text(name, NAME_CHARS),
                mentions=counts[name],
                status=cp.status,
                last_run=local(cp.last_run),
                last_success=local(cp.last_success),
                last_error=clean_text(cp.last_error, ERROR_CHARS) if cp.status == "failing" else "",
                last_error_at=local(cp.last_error_at),
                failures=cp.consecutive_failures,
                last_count=cp.last_count,
            )
        )
    order = {"failing": 0, "never-run": 1, "unknown": 2, "ok": 3}
    rows.sort(key=lambda r: (order[r.status], -r.mentions, r.source))
    return rows[:SOURCES_CAP]


def _escalated_from(escalation: Any) -> str | None:
    """The tier an escalation started from, when the detector says so."""
    if isinstance(escalation, dict):
        escalation = escalation.get("from") or escalation.get("previous_tier")
    if isinstance(escalation, str) and escalation in ("watch", "warning", "firestorm"):
        return escalation
    return None


def _labels(value: Any, cap: int = LIST_CAP) -> list[str]:
    """Drivers or terms from the evidence: strings, (name, count) pairs, or dicts naming a
    term/source and a count. Counts may be Decimals when the surge came back from DynamoDB."""
    if not isinstance(value, list | tuple):
        return []
    out: list[str] = []
    for item in value[:cap]:
        count: float | None = None
        if isinstance(item, dict):
            name = item.get("term") or item.get("name") or item.get("source") or item.get("label")
            count = _number(item.get("count", item.get("value")))
        elif isinstance(item, list | tuple) and item:
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


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _number(value: Any) -> float | None:
    """int, float or Decimal (not bool) as a float; anything else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return float(value)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))
