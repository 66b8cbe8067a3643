"""One collection run of one source across the topics that use it.

Fetch → re-check every item against the topic locally (source search is fuzzy) → conditional
writes → only then move the checkpoint. A failing source keeps its checkpoint and records the
error, so the next run catches up and the digest can say the source was down.

Checkpoint IO per (source, topic) run: one read at the start (the live run and the backfill
step share it), and one write only when the run changed something a later reader needs
(models.Checkpoint.needs_recording); a failed run always writes (its failure count is atomic).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from stormwatch import backfill
from stormwatch.dispatch import CollectTask
from stormwatch.http import AccessRefused
from stormwatch.models import (
    SOURCE_DOWN_AFTER_FAILURES,
    AnalyzeText,
    BackfillProgress,
    Checkpoint,
    ErrorKind,
    FetchResult,
    Mention,
    ScoredMention,
    SourceNotice,
)
from stormwatch.privacy import Pseudonymise
from stormwatch.query import compile_topic
from stormwatch.sources.base import PlansAcrossTopics, Source, SourceHttp, published_problem
from stormwatch.watchlist import Topic

MAX_REPORTED_SKIPS = 20


class CollectorStore(Protocol):
    """What collection reads and writes (stormwatch.store.Store): a source-topic's checkpoint,
    its new mentions, and the notice when the source is down."""

    def get_checkpoint(self, source: str, topic: str) -> Checkpoint: ...

    def put_mention(self, mention: Mention | ScoredMention) -> bool: ...

    def record_success(
        self,
        source: str,
        topic: str,
        *,
        cursor: str | None,
        count: int,
        at: datetime,
        notes: Sequence[str] = (),
        truncated: bool = False,
        first: bool = False,
    ) -> None: ...

    def record_failure(
        self, source: str, topic: str, *, error: str, at: datetime, kind: ErrorKind = ""
    ) -> int: ...

    def save_backfill(self, source: str, topic: str, progress: BackfillProgress) -> None: ...

    def put_notice(self, notice: SourceNotice) -> bool: ...


@dataclass
class SourceRunReport:
    source: str
    topic: str
    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    not_matching: int = 0
    other_language: int = 0
    skipped: list[str] = field(default_factory=list)
    truncated: bool = False
    error: str | None = None
    backfill: bool = False  # a step of a backfill, not the live run
    backfill_done: bool = False  # the step finished the backfill
    # the live run's topic has a backfill still open: the steps after the live runs take it
    # from here instead of reading the checkpoint again
    open_backfill: BackfillProgress | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "topic": self.topic,
            "ok": self.ok,
            "fetched": self.fetched,
            "new": self.new,
            "duplicates": self.duplicates,
            "not_matching": self.not_matching,
            "other_language": self.other_language,
            "skipped": len(self.skipped),
            "truncated": self.truncated,
            "error": self.error,
            "backfill": self.backfill,
            "backfill_done": self.backfill_done,
        }


def _language_ok(mention: Mention, topic: Topic) -> bool:
    # a source's language tag is a hint; items without one are kept and routed later
    return mention.lang is None or mention.lang[:2].lower() in topic.languages


def collect_topic(
    source: Source,
    topic: Topic,
    store: CollectorStore,
    http: SourceHttp,
    *,
    now: datetime,
    deadline: float | None = None,
    pseudonymise: Pseudonymise | None = None,
    analyze: AnalyzeText | None = None,
    checkpoint: Checkpoint | None = None,
) -> SourceRunReport:
    """`pseudonymise` (privacy: pseudonymous) replaces each author before anything is stored;
    `analyze` scores each kept mention before it is stored (scored_for_storage); `checkpoint`:
    the one already read for this run (else it is read here)."""
    report = SourceRunReport(source=source.name, topic=topic.name)
    if checkpoint is None:
        checkpoint = store.get_checkpoint(source.name, topic.name)
    try:
        result = source.fetch(topic, checkpoint.cursor, http, now=now, deadline=deadline)
    except Exception as exc:  # any failure of a source is a health state, not a crash
        report.error = f"{type(exc).__name__}: {exc}"
        kind: ErrorKind = "refused" if isinstance(exc, AccessRefused) else ""
        _failed(store, checkpoint, report.error, now, kind)
        return report
    try:
        _keep(result, topic, store, report, now, pseudonymise, analyze)
    except Exception as exc:  # a write failed: keep the old checkpoint, the repeat is a no-op
        report.error = f"store: {type(exc).__name__}: {exc}"
        _failed(store, checkpoint, report.error, now)
        return report

    if checkpoint.needs_recording(
        cursor=result.cursor,
        count=report.new,
        notes=report.skipped,
        truncated=result.truncated,
        at=now,
    ):
        store.record_success(
            source.name,
            topic.name,
            cursor=result.cursor,
            count=report.new,
            at=now,
            notes=report.skipped,
            truncated=result.truncated,
            first=checkpoint.last_success is None,
        )
    return report


def _keep(
    result: FetchResult,
    topic: Topic,
    store: CollectorStore,
    report: SourceRunReport,
    now: datetime,
    pseudonymise: Pseudonymise | None = None,
    analyze: AnalyzeText | None = None,
) -> None:
    """Store the fetched mentions that match the topic, counting each outcome in `report`;
    `pseudonymise` (privacy: pseudonymous) replaces each author before anything is stored."""
    matcher = compile_topic(topic)
    report.fetched = len(result.mentions)
    report.truncated = result.truncated
    plausible, refused = _plausible(result.mentions, now)
    report.skipped = (refused + list(result.skipped))[:MAX_REPORTED_SKIPS]
    kept: list[Mention] = []
    for mention in plausible:
        if not matcher.matches(mention.full_text):
            report.not_matching += 1
        elif not _language_ok(mention, topic):
            report.other_language += 1
        else:
            kept.append(pseudonymise(mention) if pseudonymise else mention)
    for scored in scored_for_storage(kept, topic, analyze):
        if store.put_mention(scored):
            report.new += 1
        else:
            report.duplicates += 1


def scored_for_storage(
    mentions: list[Mention], topic: Topic, analyze: AnalyzeText | None = None
) -> list[ScoredMention]:
    """Each mention with its sentiment and story key, so that storing it is its one write
    (the scorer only counts). `analyze` defaults to stormwatch.sentiment's analyzer, loaded
    only here: a run that keeps nothing never loads it."""
    if not mentions:
        return []
    from stormwatch.scoring import score_mention, topic_words
    from stormwatch.syndication import story_keys

    if analyze is None:
        from stormwatch import sentiment

        analyze = sentiment.analyze
    own_words = topic_words(topic)
    return [
        score_mention(mention, analyze, own_words).model_copy(update={"story": story})
        for mention, story in zip(mentions, story_keys(mentions), strict=True)
    ]


def start_backfill(
    source: Source,
    topic: Topic,
    store: CollectorStore,
    *,
    days: int,
    now: datetime,
    checkpoint: Checkpoint | None = None,
) -> BackfillProgress | None:
    """Ask `source` for the `days` before `now` for `topic` (replacing an unfinished request);
    None when the source has no history to read. `checkpoint`: the one already read."""
    progress = backfill.plan(source.history, days=days, now=now)
    if progress is not None:
        if checkpoint is None:
            checkpoint = store.get_checkpoint(source.name, topic.name)
        progress = progress.model_copy(update={"expected_scored": checkpoint.backfill_scored})
        store.save_backfill(source.name, topic.name, progress)
    return progress


def backfill_step(
    source: Source,
    topic: Topic,
    store: CollectorStore,
    http: SourceHttp,
    *,
    progress: BackfillProgress,
    now: datetime,
    deadline: float | None,
    pseudonymise: Pseudonymise | None = None,
    analyze: AnalyzeText | None = None,
) -> SourceRunReport | None:
    """One step of the topic's open backfill `progress` (see stormwatch.backfill); None when
    it is done. A failed step keeps its progress and the live health; the next invocation
    tries again."""
    if progress.done:
        return None
    report = SourceRunReport(source=source.name, topic=topic.name, backfill=True)
    cursor = backfill.step_cursor(progress, now)
    try:
        result = source.fetch(topic, cursor, http, now=now, deadline=deadline)
        marked = [m.model_copy(update={"backfill": True}) for m in result.mentions]
        marked_result = result.model_copy(update={"mentions": marked})
        _keep(marked_result, topic, store, report, now, pseudonymise, analyze)
    except Exception as exc:  # a failed step loses nothing: the owed range stays owed
        report.error = f"backfill: {type(exc).__name__}: {exc}"
        return report
    progress = backfill.advance(progress, result, now)
    progress.expected_scored += report.new
    store.save_backfill(source.name, topic.name, progress)
    report.backfill_done = progress.done
    return report


def _plausible(mentions: list[Mention], now: datetime) -> tuple[list[Mention], list[str]]:
    """The mentions whose publish date can be real, and a note for each one that cannot."""
    kept: list[Mention] = []
    refused: list[str] = []
    for mention in mentions:
        problem = published_problem(mention.published, now)
        if problem is None:
            kept.append(mention)
        else:
            refused.append(f"malformed item {mention.source}:{mention.native_id}: {problem}")
    return kept, refused


def _failed(
    store: CollectorStore, checkpoint: Checkpoint, error: str, now: datetime, kind: ErrorKind = ""
) -> None:
    """Record the failure; the run that records the SOURCE_DOWN_AFTER_FAILURES-th failure in a
    row writes the outage's one notice (the counter is atomic, so exactly one run sees that
    number; a success resets it, and the next outage gets its own notice)."""
    failures = store.record_failure(
        checkpoint.source, checkpoint.topic, error=error, at=now, kind=kind
    )
    if failures == SOURCE_DOWN_AFTER_FAILURES:
        store.put_notice(
            SourceNotice(
                topic=checkpoint.topic,
                source=checkpoint.source,
                detected_at=now,
                failures=failures,
                since=checkpoint.last_success,
                last_error=error,
                health="refused" if kind == "refused" else "down",
            )
        )


def collect_live(
    source: Source,
    topic: Topic,
    store: CollectorStore,
    http: SourceHttp,
    *,
    now: datetime,
    deadline: float | None = None,
    pseudonymise: Pseudonymise | None = None,
    backfill_days: int | None = None,
    analyze: AnalyzeText | None = None,
) -> SourceRunReport:
    """The live run of one (source, topic): a topic the source has never run for first gets a
    backfill of backfill.MAX_DAYS planned, `backfill_days` asks for one anyway. The report
    carries the backfill still open (`open_backfill`) for the steps after the live runs."""
    checkpoint = store.get_checkpoint(source.name, topic.name)  # the run's one read
    days = backfill_days
    if days is None and checkpoint.last_run is None:
        days = backfill.MAX_DAYS  # a new topic: its baseline comes from the past
    progress = checkpoint.backfill
    if days:
        started = start_backfill(source, topic, store, days=days, now=now, checkpoint=checkpoint)
        progress = started or progress
    report = collect_topic(
        source,
        topic,
        store,
        http,
        now=now,
        deadline=deadline,
        pseudonymise=pseudonymise,
        analyze=analyze,
        checkpoint=checkpoint,
    )
    if progress is not None and not progress.done:
        report.open_backfill = progress
    return report


def backfill_steps(
    source: Source,
    pending: list[tuple[Topic, BackfillProgress]],
    store: CollectorStore,
    http: SourceHttp,
    *,
    now: datetime,
    deadline: float | None = None,
    monotonic=time.monotonic,
    pseudonymise: Pseudonymise | None = None,
    analyze: AnalyzeText | None = None,
) -> list[SourceRunReport]:
    """One step of each open backfill in `pending` (the topic's, as its live run read it) while
    time is left; the rest continues in the next invocation."""
    reports = []
    for topic, progress in pending:
        if deadline is not None and monotonic() >= deadline:
            break
        step = backfill_step(
            source,
            topic,
            store,
            http,
            progress=progress,
            now=now,
            deadline=deadline,
            pseudonymise=pseudonymise,
            analyze=analyze,
        )
        if step is not None:
            reports.append(step)
    return reports


def out_of_time(source: Source, topic: Topic) -> SourceRunReport:
    """The report of a topic not started because the invocation's time budget was used up."""
    return SourceRunReport(
        source=source.name,
        topic=topic.name,
        error="skipped: time budget of this run used up; next run continues",
    )


def collect_source(
    source: Source,
    topics: list[Topic],
    store: CollectorStore,
    http: SourceHttp,
    *,
    now: datetime,
    deadline: float | None = None,
    monotonic=time.monotonic,
    pseudonymise: Pseudonymise | None = None,
    backfill_days: int | None = None,
    analyze: AnalyzeText | None = None,
) -> list[SourceRunReport]:
    """Run one source for each topic (collect_live); stop starting new topics when the time
    budget is spent. Live collection first for every topic, then backfill steps with the time
    left. The collect function runs the topics of one queue batch this way."""
    reports = []
    for topic in topics:
        if deadline is not None and monotonic() >= deadline:
            reports.append(out_of_time(source, topic))
            continue
        reports.append(
            collect_live(
                source,
                topic,
                store,
                http,
                now=now,
                deadline=deadline,
                pseudonymise=pseudonymise,
                backfill_days=backfill_days,
                analyze=analyze,
            )
        )
    pending = [
        (topic, report.open_backfill)
        for topic, report in zip(topics, reports, strict=True)
        if report.open_backfill is not None
    ]
    return reports + backfill_steps(
        source,
        pending,
        store,
        http,
        now=now,
        deadline=deadline,
        monotonic=monotonic,
        pseudonymise=pseudonymise,
        analyze=analyze,
    )


def totals(reports: list[SourceRunReport]) -> Mapping[str, int]:
    return {
        "fetched": sum(r.fetched for r in reports),
        "new": sum(r.new for r in reports),
        "duplicates": sum(r.duplicates for r in reports),
        "not_matching": sum(r.not_matching for r in reports),
        "failed": sum(1 for r in reports if not r.ok),
    }


@dataclass
class CollectBatch:
    """The topics of one queue batch (stormwatch.dispatch.CollectTask each), collected one by
    one through `run` (the batch processor's record handler: an exception fails that task
    alone), then `finish`: backfill steps with the time left. One source object per source for
    the whole batch, so its pacer spaces the requests of every topic in it."""

    topics_of: Callable[[str], list[Topic]]  # source -> the watchlist's topics using it
    build_source: Callable[[str], Source]
    store: CollectorStore
    http: SourceHttp
    now: datetime
    deadline: float | None = None
    pseudonymise: Pseudonymise | None = None
    monotonic: Callable[[], float] = time.monotonic
    reports: list[SourceRunReport] = field(default_factory=list)
    _sources: dict[str, Source] = field(default_factory=dict)
    # per source: the collected topics with a backfill still open, and its progress
    _open: dict[str, list[tuple[Topic, BackfillProgress]]] = field(default_factory=dict)

    @property
    def sources_used(self) -> list[str]:
        return list(self._sources)

    def source(self, name: str) -> Source:
        """The batch's one object for source `name`; a source with one budget for all topics
        (YouTube's quota) is handed every topic that uses it first, as a whole run would."""
        if name not in self._sources:
            source = self.build_source(name)
            if isinstance(source, PlansAcrossTopics):
                source.plan_across(self.topics_of(name), self.now)
            self._sources[name] = source
        return self._sources[name]

    def run(self, task: CollectTask) -> SourceRunReport | None:
        """Collect one task; None when its topic no longer uses the source (nothing to do)."""
        topic = next((t for t in self.topics_of(task.source) if t.name == task.topic), None)
        if topic is None:
            return None
        source = self.source(task.source)
        if self.deadline is not None and self.monotonic() >= self.deadline:
            report = out_of_time(source, topic)  # its turn comes again (stormwatch.dispatch)
        else:
            report = collect_live(
                source,
                topic,
                self.store,
                self.http,
                now=self.now,
                deadline=self.deadline,
                pseudonymise=self.pseudonymise,
                backfill_days=task.backfill_days,
            )
            if report.open_backfill is not None:
                self._open.setdefault(task.source, []).append((topic, report.open_backfill))
        self.reports.append(report)
        return report

    def finish(self) -> list[SourceRunReport]:
        """Backfill steps for the batch's collected topics while time is left; every report."""
        for name, pending in self._open.items():
            self.reports += backfill_steps(
                self.source(name),
                pending,
                self.store,
                self.http,
                now=self.now,
                deadline=self.deadline,
                monotonic=self.monotonic,
                pseudonymise=self.pseudonymise,
            )
        return self.reports
