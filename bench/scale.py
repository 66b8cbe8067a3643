"""Scale simulation: 1,000 topics x every source through the real dispatch, collect and score
handlers against moto (its embedded server), with offline fake sources; plus the per-period
time model.

    .venv/bin/python bench/scale.py [--topics 1000] [--rounds 2] [--mention-every 8] [--json]
                                    [--write]

Each round fires every source's schedule once (at the source's own period): the dispatch
handler queues its tasks on a moto FIFO queue per source, the queue is drained the way the
event source mapping would (BatchSize messages per collect invocation, handed back ones left
for retry), then the table's stream is scored in Lambda-sized batches. It shows which topics
each period really collected and how much CPU collect and score spent. The fake sources answer
at once, so the simulation measures orchestration and storage, not the APIs' pace: that part is
the time model (stormwatch.dispatch.Pace), printed beside it and marked "modelled".
`--write` replaces the `scale` region of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "docs" / "benchmarks.md"
TABLE = "stormwatch-scale"
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
REGION = "eu-central-1"


@dataclass
class FakeSource:
    """Deterministic and offline: a topic gets one new mention in a period when a hash of
    (topic, source, period) says so (1 in `every`)."""

    name: str
    every: int
    history: ClassVar[timedelta] = timedelta(0)  # nothing to backfill

    def fetch(self, topic: Any, cursor: Any, http: Any, *, now: datetime, deadline: Any = None):
        from stormwatch.models import FetchResult, Mention

        period = int(now.timestamp() // 900)
        key = f"{topic.name}|{self.name}|{period}".encode()
        mentions = []
        if int(hashlib.sha256(key).hexdigest(), 16) % self.every == 0:
            mentions.append(
                Mention(
                    topic=topic.name,
                    source=self.name,
                    native_id=f"{topic.name}-{period}",
                    published=now - timedelta(minutes=1),
                    text=f"{topic.terms[0]} is down again, support does not answer",
                    author=f"user{period % 97}",
                    lang="en",
                )
            )
        return FetchResult(mentions=mentions, cursor=str(period))


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FixedWatchlist:
    """The LiveWatchlist seam: always the same generated watchlist."""

    watchlist: Any

    def get(self) -> Any:
        return self.watchlist


@dataclass
class RoundStats:
    dispatched: dict[str, int] = field(default_factory=dict)
    collected: dict[str, set[str]] = field(default_factory=dict)
    failed_tasks: int = 0
    invocations: int = 0
    mentions: int = 0
    collect_cpu: float = 0.0
    score_cpu: float = 0.0
    wall: float = 0.0


def make_watchlist(n_topics: int) -> Any:
    from stormwatch.sources import REGISTRY
    from stormwatch.watchlist import Watchlist

    required = {"rss": {"feeds": ["https://example.com/feed.xml"]}}
    sources = {name: required.get(name, {}) for name in REGISTRY}
    topics = [
        {"name": f"topic-{i:04d}", "terms": [f"brand{i:04d}"], "languages": ["en"],
         "sources": sources}
        for i in range(n_topics)
    ]  # fmt: skip
    return Watchlist.model_validate({"topics": topics})


def environment() -> None:
    from stormwatch.dispatch import PACES

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "TABLE_NAME": TABLE,
            "CONTACT": "https://example.com/scale-bench",
            "COLLECT_QUEUES": json.dumps({name: "" for name in PACES}),
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "Stormwatch",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_SERVICE_NAME": "scale",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)


class World:
    """The handlers wired to moto, the fake sources and the generated watchlist."""

    def __init__(self, n_topics: int, mention_every: int):
        import boto3
        from stormwatch import local
        from stormwatch.dispatch import PACES
        from stormwatch.settings import CollectSettings, DispatchSettings, Settings
        from stormwatch.store import Store
        from stormwatch.taskqueue import SqsTaskQueues

        local.speed_up_moto_transactions()
        self.stream = local.StreamReader(local.ensure_table(TABLE))
        self.sqs = boto3.client("sqs")
        self.urls = {
            name: self.sqs.create_queue(
                QueueName=f"collect-{name}.fifo",
                Attributes={"FifoQueue": "true", "VisibilityTimeout": "1800"},
            )["QueueUrl"]
            for name in PACES
        }
        self.clock = Clock()
        live = FixedWatchlist(make_watchlist(n_topics))
        store = Store(boto3.client("dynamodb"), TABLE, clock=self.clock)
        self.handlers = {n: local.load_handler(n) for n in ("dispatch", "collect", "score")}
        dispatch = self.handlers["dispatch"].Deps(
            settings=DispatchSettings.from_environment(),
            queues=SqsTaskQueues(self.sqs, self.urls),
            clock=self.clock,
            watchlist=live,
        )
        collect = self.handlers["collect"].Deps(
            settings=CollectSettings.from_environment(),
            store=store,
            http=OfflineHttp(),
            clock=self.clock,
            watchlist=live,
            build_source=lambda name: FakeSource(name, mention_every),
        )
        score = self.handlers["score"].Deps(
            settings=Settings.from_environment(), store=store, clock=self.clock, watchlist=live
        )
        self.handlers["dispatch"].deps_factory = lambda: dispatch
        self.handlers["collect"].deps_factory = lambda: collect
        self.handlers["score"].deps_factory = lambda: score

    def context(self, name: str) -> Any:
        from stormwatch import local

        return local.FakeLambdaContext(f"stormwatch-{name}", timeout_seconds=300)

    def dispatch(self, source: str, at: datetime) -> int:
        event = {"source": source, "scheduled_time": at.isoformat()}
        response = self.handlers["dispatch"].lambda_handler(event, self.context("dispatch"))
        return int(response["dispatched"])

    def drain(self, source: str, stats: RoundStats) -> None:
        """Work the queue off as the event source mapping does, BatchSize at a time."""
        from stormwatch.dispatch import BATCH_SIZE

        url = self.urls[source]
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=BATCH_SIZE, MessageSystemAttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return
            event = {"Records": [sqs_record(m, source) for m in messages]}
            started = time.process_time()
            response = self.handlers["collect"].lambda_handler(event, self.context("collect"))
            stats.collect_cpu += time.process_time() - started
            stats.invocations += 1
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            stats.failed_tasks += len(failed)
            for topic in response["topics"]:
                if topic["ok"] and not topic["backfill"]:
                    stats.collected.setdefault(source, set()).add(topic["topic"])
            for message in messages:
                if message["MessageId"] not in failed:
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def score(self, stats: RoundStats) -> None:
        from stormwatch import local

        records = [r for r in self.stream.read() if local.matches_filter(r, "M#")]
        started = time.process_time()
        for batch in local.batches(records):
            response = self.handlers["score"].lambda_handler(batch, self.context("score"))
            assert not response["batchItemFailures"], response
        stats.score_cpu += time.process_time() - started
        stats.mentions += len(records)


class OfflineHttp:
    """The fakes never call it; `until` is what the collect handler asks of a client."""

    paced = False

    def until(self, deadline: float | None) -> OfflineHttp:
        return self


def sqs_record(message: dict[str, Any], source: str) -> dict[str, Any]:
    """A received SQS message as Lambda's event source mapping hands it to the function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:collect-{source}.fifo",
        "awsRegion": REGION,
    }


def simulate(n_topics: int, rounds: int, mention_every: int) -> list[RoundStats]:
    from stormwatch import local
    from stormwatch.dispatch import PACES

    environment()
    results = []
    # moto's embedded server, as `stormwatch demo` uses (its in-process mock does not serve
    # DescribeStream): the handlers talk HTTP to it like to AWS
    with local.aws_endpoint(None):
        world = World(n_topics, mention_every)
        for r in range(rounds):
            stats = RoundStats()
            started = time.monotonic()
            for source, pace in PACES.items():
                at = START + timedelta(minutes=pace.period_minutes * r)
                world.clock.now = at
                stats.dispatched[source] = world.dispatch(source, at)
                world.drain(source, stats)
            world.score(stats)
            stats.wall = time.monotonic() - started
            results.append(stats)
            print(f"round {r + 1}/{rounds}: {summary_line(stats, n_topics)}", file=sys.stderr)
            print(json.dumps(round_json(stats)), file=sys.stderr, flush=True)
    return results


def round_json(r: RoundStats) -> dict[str, Any]:
    return {
        "dispatched": r.dispatched,
        "collected": {s: len(t) for s, t in r.collected.items()},
        "failed_tasks": r.failed_tasks,
        "invocations": r.invocations,
        "mentions": r.mentions,
        "collect_cpu_s": round(r.collect_cpu, 2),
        "score_cpu_s": round(r.score_cpu, 2),
        "wall_s": round(r.wall, 1),
    }


def summary_line(stats: RoundStats, n_topics: int) -> str:
    full = sum(1 for s in stats.collected.values() if len(s) == n_topics)
    return (
        f"{sum(stats.dispatched.values())} tasks, {full}/{len(stats.dispatched)} sources "
        f"collected every topic, {stats.mentions} mentions scored, "
        f"collect {stats.collect_cpu:.1f} s CPU, score {stats.score_cpu:.1f} s CPU, "
        f"{stats.wall:.0f} s wall"
    )


def time_model(n_topics: int) -> list[dict[str, Any]]:
    """Per source: what one period can collect, and how long collecting N topics takes."""
    from stormwatch.dispatch import PACES

    rows = []
    for source, pace in PACES.items():
        per_period = min(n_topics, pace.capacity)
        rows.append(
            {
                "source": source,
                "period_s": pace.period_minutes * 60,
                "workers": pace.workers,
                "serial": pace.serial,
                "s_per_topic": pace.seconds_per_topic,
                "capacity": pace.capacity,
                "all_topics_s": pace.seconds_for(n_topics),
                "per_period": per_period,
                "periods_to_cover": math.ceil(n_topics / per_period),
            }
        )
    return rows


def planned_coverage(n_topics: int) -> dict[str, int]:
    """Per source, how many consecutive periods the real plan needs until every topic was
    dispatched (the plan function alone, no handlers)."""
    from stormwatch.dispatch import PACES, plan_dispatch

    names = [f"topic-{i:04d}" for i in range(n_topics)]
    needed = {}
    for source, pace in PACES.items():
        seen: set[str] = set()
        n = 0
        while len(seen) < n_topics:
            at = START + timedelta(minutes=pace.period_minutes * n)
            seen |= {t.topic for t in plan_dispatch(source, names, at=at, pace=pace)}
            n += 1
        needed[source] = n
    return needed


def markdown(args: argparse.Namespace, rounds: list[RoundStats]) -> str:
    from stormwatch.dispatch import PACES, UTILISATION

    n = args.topics
    coverage = planned_coverage(n)
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()} "
        f"({os.cpu_count()} cores shared with other work: CPU seconds, not wall time, are the "
        f"numbers to compare; they include moto's own work, in the same process), Python "
        f"{platform.python_version()}, moto's embedded server. "
        f"`bench/scale.py --topics {n} --rounds {len(rounds)} --mention-every "
        f"{args.mention_every}`.",
        "",
        "**Measured** (real dispatch, collect and score handlers; fake offline sources that "
        "answer at once; moto FIFO queues drained as the event source mapping would):",
        "",
        "| round | tasks queued | sources with every topic collected | topics collected, "
        "serial sources | mentions scored | collect CPU s | score CPU s |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, stats in enumerate(rounds, 1):
        full = [s for s, got in stats.collected.items() if len(got) == n]
        serial = ", ".join(
            f"{s} {len(stats.collected.get(s, ()))}" for s, p in PACES.items() if p.serial
        )
        lines.append(
            f"| {i} | {sum(stats.dispatched.values())} | {len(full)} of {len(PACES)} "
            f"| {serial} | {stats.mentions} | {stats.collect_cpu:.1f} | {stats.score_cpu:.1f} |"
        )
    failed = sum(s.failed_tasks for s in rounds)
    lines += [
        "",
        f"Tasks handed back for retry: {failed}. Each round drained every queue before scoring, "
        "and scored the stream to its end.",
        "",
        f"**Modelled** (stormwatch.dispatch.PACES; capacity = workers x period x "
        f"{UTILISATION:.0%} / seconds per topic; a serial source has one worker):",
        "",
        f"| source | period | workers | s per topic | capacity per period | time for {n} topics "
        "| topics per period | periods until every topic (plan) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in time_model(n):
        kind = " (serial)" if row["serial"] else ""
        lines.append(
            f"| {row['source']} | {row['period_s'] // 60} min | {row['workers']}{kind} "
            f"| {row['s_per_topic']:g} | {row['capacity']} | {row['all_topics_s'] / 60:.1f} min "
            f"| {row['per_period']} | {coverage[row['source']]} |"
        )
    return "\n".join(lines)


def write_section(text: str) -> None:
    body = BENCHMARKS.read_text(encoding="utf-8")
    title = "## Scale: 1,000 topics, fan-out collection"
    section = f"<!-- scale:start -->\n{title}\n\n{text}\n<!-- scale:end -->"
    if "<!-- scale:start -->" in body:
        body = re.sub(r"<!-- scale:start -->.*<!-- scale:end -->", section, body, flags=re.S)
    else:
        body = body.rstrip("\n") + "\n\n" + section + "\n"
    BENCHMARKS.write_text(body, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--topics", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--mention-every", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    rounds = simulate(args.topics, args.rounds, args.mention_every)
    if args.json:
        print(
            json.dumps(
                {
                    "rounds": [round_json(r) for r in rounds],
                    "model": time_model(args.topics),
                    "planned_periods_to_cover": planned_coverage(args.topics),
                }
            )
        )
    text = markdown(args, rounds)
    if not args.json:
        print(text)
    if args.write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
