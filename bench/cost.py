"""What a day of stormwatch costs, measured around the real handlers.

    .venv/bin/python bench/cost.py --topics 5 --mentions-per-day 2000 --json
    .venv/bin/python bench/cost.py --write 5x2000 200x100 ...   # rewrite the docs' sections

Drives functions/*/app.py through their `lambda_handler` against in-process moto through
simulated days: every schedule in template.yaml fires at its period with its Input, and the
table's stream records reach each function with a DynamoDB event source mapping, filtered and
batched as the template says (records written at one schedule tick share batches, as the
batching window would when the runs finish within it). Fake sources (bench/cost_world.py)
return M mentions per topic per day, split over the topic's sources and their runs.

History: before the measured day, `--history-days` days run through the same handlers at
`--history-mentions-per-day` per topic, all from one source's schedule fired hourly (the
cheapest way to give every topic an hourly bucket, which is what the detector reads);
nothing is written beside the handlers. The digest schedule does not fire in history.

Counted (bench/cost_meter.py): DynamoDB request units per request as DynamoDB bills them,
every other AWS request, SES recipients. Lambda time: the handler's CPU time without the time
spent inside moto, scaled to the function's MemorySize (below 1,769 MB Lambda gives a share of
one vCPU), plus an assumed in-region latency per AWS request; GB-s = that x MemorySize.
CloudWatch Logs: the bytes the handlers print (Powertools logs and EMF metrics) + 26 bytes per
event + the platform's START/END/REPORT lines. Prices: stormwatch/cost.py.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cost_meter import RequestMeter, item_size
from cost_moto import MotoPeek, MotoStreamReader
from cost_world import Traffic, fake_sources, write_watchlist

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "docs" / "benchmarks.md"
README = REPO / "README.md"
REGION = "us-east-1"
DAY = datetime(2026, 11, 2, tzinfo=UTC)  # the measured day (any fixed date: deterministic)
FULL_VCPU_MB = 1769  # Lambda: one full vCPU at this MemorySize, a share of it below
# Assumed time a request takes from Lambda to the service in the same region (moto's time is
# not AWS's): single-item DynamoDB calls are single-digit ms, queries and transactions more.
LATENCY_SECONDS = {
    "dynamodb.GetItem": 0.005,
    "dynamodb.PutItem": 0.007,
    "dynamodb.UpdateItem": 0.007,
    "dynamodb.DeleteItem": 0.007,
    "dynamodb.Query": 0.010,
    "dynamodb.BatchGetItem": 0.010,
    "dynamodb.BatchWriteItem": 0.015,
    "dynamodb.TransactWriteItems": 0.020,
    "sesv2.SendEmail": 0.080,
    "s3.GetObject": 0.020,
}
DEFAULT_LATENCY_SECONDS = 0.020
PLATFORM_LOG_BYTES = 3 * 26 + 60 + 50 + 170  # START, END, REPORT lines + CloudWatch's per event
LOG_EVENT_OVERHEAD = 26  # CloudWatch Logs bills 26 bytes per event on top of the message
STORAGE_OVERHEAD = 100  # DynamoDB bills 100 bytes per item on top of its size


@dataclass
class FunctionRun:
    invocations: int = 0
    errors: int = 0
    cpu_seconds: float = 0.0  # handler CPU time without moto's
    log_bytes: int = 0
    log_lines: int = 0
    longest_modelled_seconds: float = 0.0
    last_error: str = ""


class LogSink(io.TextIOBase):
    """Stands in for stdout/stderr: counts what each function prints (it is what Lambda
    sends to CloudWatch Logs) and keeps the distinct EMF metrics; prints nothing."""

    def __init__(self) -> None:
        self.function: str | None = None
        self.bytes: Counter[str] = Counter()
        self.lines: Counter[str] = Counter()
        self.metrics: set[tuple[str, str, str]] = set()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.function is not None and text:
            self.bytes[self.function] += len(text.encode("utf-8"))
            self.lines[self.function] += max(text.count("\n"), 1)
            if '"_aws"' in text:
                self._emf(text)
        return len(text)

    def _emf(self, text: str) -> None:
        for line in text.splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            for spec in doc.get("_aws", {}).get("CloudWatchMetrics", []):
                dims = json.dumps([[d, doc.get(d)] for group in spec["Dimensions"] for d in group])
                for metric in spec["Metrics"]:
                    self.metrics.add((spec["Namespace"], metric["Name"], dims))


@dataclass
class SimClock:
    now: datetime = DAY

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Simulation:
    """The wired handlers, the meter and what each function did."""

    wired: dict[str, Any]
    facts: dict[str, Any]
    meter: RequestMeter
    sink: LogSink
    clock: SimClock
    reader: Any
    runs: dict[str, FunctionRun] = field(default_factory=lambda: defaultdict(FunctionRun))

    def handler(self, function: str) -> Any:
        from stormwatch import local

        return self.wired["handlers"].get(function) or local.load_handler(function)

    def invoke(self, function: str, event: dict[str, Any], *, via: str = "") -> None:
        from stormwatch import local

        label = function + via
        memory = self.facts[function].memory_mb
        # no deadline: every topic is collected (the breakdown compares the longest modelled
        # duration with the template's Timeout instead)
        context = local.FakeLambdaContext(
            f"stormwatch-{function}", timeout_seconds=24 * 3600, memory_limit_in_mb=memory
        )
        run = self.runs[label]
        with self.meter.attributed_to(label) as tally, self._printing_as(label):
            aws_before, requests_before = tally.aws_seconds, Counter(tally.requests)
            started = time.thread_time()
            try:
                self.handler(function).lambda_handler(event, context)
            except Exception as exc:  # Lambda would retry; the benchmark counts it, goes on
                run.errors += 1
                run.last_error = repr(exc)[:300]
            cpu = time.thread_time() - started - (tally.aws_seconds - aws_before)
        run.invocations += 1
        run.cpu_seconds += cpu
        modelled = modelled_seconds(cpu, memory, tally.requests - requests_before)
        run.longest_modelled_seconds = max(run.longest_modelled_seconds, modelled)

    @contextmanager
    def _printing_as(self, function: str) -> Iterator[None]:
        self.sink.function = function
        try:
            yield
        finally:
            self.sink.function = None

    def tick(self, at: datetime, due: list[tuple[str, dict[str, Any]]]) -> None:
        """Fire the schedules due at `at`, then hand the stream's new records to the functions
        whose event source mappings let them through, until no new records come."""
        self.clock.now = at
        for function, schedule_input in due:
            self.invoke(function, render_input(schedule_input, at))
        self.drain_queues()
        for _ in range(5):  # collect -> score -> report (surges) at most
            records = self.reader.read()
            delivered = False
            for function, facts in self.facts.items():
                for mapping in facts.streams:
                    passing = [r for r in records if mapping.passes(r)]
                    for start in range(0, len(passing), mapping.batch_size):
                        batch = passing[start : start + mapping.batch_size]
                        self.invoke(function, {"Records": batch}, via=STREAM)
                        delivered = True
            if not delivered:
                return

    def drain_queues(self) -> None:
        """Tasks queued by a dispatcher (the wiring's in-memory queues, stormwatch.cycle) reach
        the function with an SQS event source mapping, in its template BatchSize."""
        for function, facts in self.facts.items():
            if not facts.queue_batch_size:
                continue
            for owner in self.wired["handlers"].values():
                queues = getattr(owner.deps_factory(), "queues", None)
                if queues is None:
                    continue
                for batch in queues.sqs_events(facts.queue_batch_size):
                    self.invoke(function, batch, via=QUEUE)

    def reset(self) -> None:
        self.meter.tallies.clear()
        self.runs.clear()
        self.sink.bytes.clear()
        self.sink.lines.clear()


def modelled_seconds(cpu: float, memory_mb: int, requests: Counter[str]) -> float:
    """Lambda time of an invocation: CPU at the function's share of a vCPU + request latency."""
    scale = max(1.0, FULL_VCPU_MB / memory_mb)
    waiting = sum(
        LATENCY_SECONDS.get(op, DEFAULT_LATENCY_SECONDS) * n for op, n in requests.items()
    )
    return cpu * scale + waiting


def render_input(schedule_input: dict[str, Any], at: datetime) -> dict[str, Any]:
    """A schedule's Input with Scheduler's context attributes filled in."""
    text = json.dumps(schedule_input).replace(
        "<aws.scheduler.scheduled-time>", at.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    return json.loads(text)


def fire_times(
    facts: dict[str, Any], start: datetime, end: datetime
) -> list[tuple[datetime, list[tuple[str, dict[str, Any]]]]]:
    """Every (time, schedules due) in [start, end)."""
    due: dict[datetime, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for function, fn in facts.items():
        for schedule in fn.schedules:
            step = timedelta(minutes=schedule.period_minutes)
            at = start
            while at < end:
                due[at].append((function, schedule.input))
                at += step
    return sorted(due.items())


def history_fire_times(
    facts: dict[str, Any], start: datetime, end: datetime, source: str
) -> list[tuple[datetime, list[tuple[str, dict[str, Any]]]]]:
    """Hourly runs of one source's collection schedule only (a source the topics use)."""
    function, schedule_input = next(
        (fn.code_dir, s.input)
        for fn in facts.values()
        for s in fn.schedules
        if s.input.get("source") == source
    )
    hours = int((end - start).total_seconds() // 3600)
    return [(start + timedelta(hours=h), [(function, schedule_input)]) for h in range(hours)]


@contextmanager
def moto_world() -> Iterator[None]:
    from cost_moto import fast_transactions
    from moto import mock_aws

    fast_transactions()
    saved = dict(os.environ)
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=REGION
    )
    try:
        with mock_aws():
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def captured_output(sink: LogSink) -> Iterator[None]:
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = sink  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def build(workdir: Path, args: argparse.Namespace, traffic: Traffic, sink: LogSink) -> Simulation:
    import boto3
    from stormwatch import local, template_facts
    from stormwatch.cycle import CycleConfig, seed_watchlist, wire_handlers

    template = template_facts.load_template(REPO / "template.yaml")
    facts = template_facts.functions(template)
    boto3.setup_default_session(region_name=REGION)
    meter = RequestMeter(MotoPeek(REGION))
    meter.install(boto3.DEFAULT_SESSION.events)
    clock = SimClock(DAY - timedelta(days=args.history_days))
    config = CycleConfig(
        watchlist_path=workdir / "watchlist.yaml",
        templates_dir=REPO / "templates",
        out_dir=workdir / "out",
        clock=clock,
    )
    local.ensure_table(config.table_name)
    local.ensure_sender(config.sender)
    os.environ["STORMWATCH_LOG_LEVEL"] = template_facts.parameter_default(template, "LogLevel")
    wired = wire_handlers(config)
    # the fakes answer at once: the pause a serial source keeps between batches (for the real
    # API) would only stretch the run's wall clock, not the simulated day
    wired["handlers"]["collect"].deps_factory().sleep = lambda _seconds: None
    # EMF metrics are billed as custom metrics: emitted (and counted) as the template's default
    metrics_on = template_facts.parameter_default(template, "CustomMetrics") == "Enabled"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "false" if metrics_on else "true"
    seed_watchlist(config)
    # the live watchlist is looked up at most once a minute of the simulated clock
    wired["watchlist"]._clock = lambda: clock.now.timestamp()
    return Simulation(wired, facts, meter, sink, clock, MotoStreamReader(config.table_name, REGION))


def simulate(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, moto_world():
        workdir = Path(tmp)
        only = args.sources.split(",") if args.sources else None
        per_topic = write_watchlist(
            workdir / "watchlist.yaml", args.topics, REPO / "watchlist.yaml", only
        )
        traffic = Traffic(args.history_mentions_per_day, per_topic)
        sink = LogSink()
        with fake_sources(traffic), captured_output(sink):
            sim = build(workdir, args, traffic, sink)
            started = time.monotonic()
            history_start = DAY - timedelta(days=args.history_days)
            traffic.sources_per_topic = 1  # one source carries the history's mentions
            source = sim_sources(sim)[0]
            for at, due in history_fire_times(sim.facts, history_start, DAY, source):
                sim.tick(at, due)
            traffic.sources_per_topic = per_topic
            history_seconds = time.monotonic() - started
            sim.reset()
            traffic.mentions_per_topic_per_day = args.mentions_per_day
            for at, due in fire_times(sim.facts, DAY, DAY + timedelta(days=1)):
                sim.tick(at, due)
            day_seconds = time.monotonic() - started - history_seconds
            stored = stored_bytes_per_mention(sim.wired["store"].table_name)
        return summarise(sim, args, per_topic, stored, history_seconds, day_seconds)


def stored_bytes_per_mention(table: str) -> float:
    """The table's billed storage per stored mention (every item counted, buckets too)."""
    import boto3

    client = boto3.Session(region_name=REGION).client("dynamodb")
    total, mentions = 0, 0
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            total += item_size(item) + STORAGE_OVERHEAD
            mentions += item.get("sk", {}).get("S", "").startswith("M#")
    return total / max(mentions, 1)


STREAM = ":stream"  # label suffix of invocations by a DynamoDB stream mapping
QUEUE = ":queue"  # ... by an SQS mapping (a dispatcher's collection tasks)


def driver_of(label: str, facts: dict[str, Any]) -> str:
    """What an invocation's cost scales with: stream-started work with the mentions, a
    schedule that names a source with the (source, topic) runs, other schedules with topics."""
    if label.endswith(STREAM):
        return "mention"
    if label.endswith(QUEUE):
        return "run"
    if any("source" in s.input for s in facts[label].schedules):
        return "run"
    return "topic_day"


def unit_costs(sim: Simulation, counts: dict[str, float], args: argparse.Namespace):
    from stormwatch.cost import DriverUnits, UnitCosts

    acc: dict[str, Counter[str]] = defaultdict(Counter)
    for label, tally in sim.meter.tallies.items():
        driver = driver_of(label, sim.facts)
        for kind, units in tally.wru.items():
            acc["mention" if kind == "M#" else driver]["wru"] += units
        for kind, units in tally.rru.items():
            acc["mention" if kind == "M#" else driver]["rru"] += units
        acc[driver]["emails"] += tally.emails
        acc[driver]["sqs_requests"] += sum(n for op, n in tally.requests.items() if "sqs." in op)
        s3 = sum(n for op, n in tally.requests.items() if op.startswith("s3."))
        acc["mention" if driver == "mention" else "fire"]["s3_gets"] += s3
    for label, run in sim.runs.items():
        driver = driver_of(label, sim.facts)
        acc[driver]["gb_s"] += gb_seconds(sim, label)
        acc[driver]["log_bytes"] += (
            sim.sink.bytes[label] + LOG_EVENT_OVERHEAD * sim.sink.lines[label]
        )
        if driver == "mention":
            acc[driver]["invocations"] += run.invocations

    def per(driver: str) -> DriverUnits:
        count = counts[driver] or 1.0
        return DriverUnits(**{k: v / count for k, v in acc[driver].items()})

    return UnitCosts(
        measured_on=f"{datetime.now(UTC):%Y-%m-%d}",
        command=f"bench/cost.py --topics {args.topics} --mentions-per-day {args.mentions_per_day}",
        machine=machine(),
        per_mention=per("mention"),
        per_source_topic_run=per("run"),
        per_topic_day=per("topic_day"),
        per_schedule_fire=per("fire"),
        stored_bytes_per_mention=0.0,
        custom_metrics=len(sim.sink.metrics),
        platform_log_bytes_per_invocation=PLATFORM_LOG_BYTES,
        tracing=any(f.tracing for f in sim.facts.values()),
        architecture=next(iter(sim.facts.values())).architecture,
    )


def function_of(label: str) -> str:
    return label.split(":")[0]


def gb_seconds(sim: Simulation, label: str) -> float:
    memory = sim.facts[function_of(label)].memory_mb
    seconds = modelled_seconds(
        sim.runs[label].cpu_seconds, memory, sim.meter.tallies[label].requests
    )
    return seconds * memory / 1024


def git_commit() -> str:
    import subprocess

    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=REPO
    )
    return done.stdout.strip() or "unknown"


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def summarise(
    sim: Simulation,
    args: argparse.Namespace,
    sources_per_topic: int,
    stored: float,
    history_seconds: float,
    day_seconds: float,
) -> dict[str, Any]:
    from stormwatch import cost, template_facts

    tallies = sim.meter.tallies.values()
    # new mentions: the collector's first writes of M# items (the scorer's come by stream)
    mentions = sum(
        t.items_written["M#"] for label, t in sim.meter.tallies.items() if STREAM not in label
    )
    per_source, other = template_facts.runs_per_day(sim.facts)
    topic_sources = [sim_sources(sim)] * args.topics
    template = template_facts.load_template(REPO / "template.yaml")
    shape = cost.shape_of(
        topic_sources,
        per_source,
        other,
        mentions_per_topic_per_day=mentions / max(args.topics, 1),
        retention_days=int(template_facts.parameter_default(template, "RetentionDays")),
    )
    counts = {
        "mention": shape.mentions_per_day,
        "run": shape.source_topic_runs_per_day,
        "topic_day": float(shape.topics),
        "fire": shape.schedule_fires_per_day,
    }
    units = unit_costs(sim, counts, args).model_copy(update={"stored_bytes_per_mention": stored})
    estimate = cost.estimate(shape, units)
    wru = sum(sum(t.wru.values()) for t in tallies)
    rru = sum(sum(t.rru.values()) for t in tallies)
    return {
        "mentions": mentions,
        "items_written": sum(sum(t.items_written.values()) for t in tallies),
        "items_read": sum(sum(t.items_read.values()) for t in tallies),
        "wru_per_mention": round(wru / max(mentions, 1), 3),
        "rru_per_mention": round(rru / max(mentions, 1), 3),
        "lambda_gb_s": round(sum(gb_seconds(sim, label) for label in sim.runs), 2),
        "monthly_usd": round(estimate.total, 2),
        "breakdown": breakdown(sim, estimate, units),
        "setup": {
            "topics": args.topics,
            "mentions_per_topic_per_day": args.mentions_per_day,
            "sources_per_topic": sources_per_topic,
            "history_days": args.history_days,
            "history_mentions_per_topic_per_day": args.history_mentions_per_day,
            "measured_on": units.measured_on,
            "commit": git_commit(),
            "machine": units.machine,
            "wall_seconds": {"history": round(history_seconds), "day": round(day_seconds)},
        },
        "unit_costs": units.model_dump(),
        "sources": topic_sources[0],
        "retention_days": shape.retention_days,
    }


def sim_sources(sim: Simulation) -> list[str]:
    """The sources each topic of the simulated watchlist uses."""
    watchlist = sim.wired["watchlist"].get()
    return watchlist.topics[0].sources.enabled()


def breakdown(sim: Simulation, estimate: Any, units: Any) -> dict[str, Any]:
    functions = {}
    for label, run in sorted(sim.runs.items()):
        tally = sim.meter.tallies[label]
        fn = sim.facts[function_of(label)]
        functions[label] = {
            "invocations": run.invocations,
            "errors": run.errors,
            "cpu_seconds": round(run.cpu_seconds, 2),
            "gb_s": round(gb_seconds(sim, label), 2),
            "last_error": run.last_error,
            "longest_modelled_seconds": round(run.longest_modelled_seconds, 2),
            "timeout_seconds": fn.timeout_seconds,
            "memory_mb": fn.memory_mb,
            "wru": dict(_rounded(tally.wru)),
            "rru": dict(_rounded(tally.rru)),
            "items_written": dict(tally.items_written),
            "items_read": dict(tally.items_read),
            "requests": dict(tally.requests),
            "emails": tally.emails,
            "log_bytes": sim.sink.bytes[label],
        }
    return {
        "monthly_usd_by_line": {k: round(v, 4) for k, v in estimate.usd.items()},
        "monthly_usage": {k: round(v, 3) for k, v in estimate.usage.model_dump().items()},
        "functions": functions,
        "custom_metrics": sorted(f"{ns}/{name} {dims}" for ns, name, dims in sim.sink.metrics),
    }


def _rounded(counter: Counter[str]) -> Iterator[tuple[str, float]]:
    return ((k, round(v, 2)) for k, v in sorted(counter.items()))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--topics", type=int, default=5)
    parser.add_argument("--mentions-per-day", type=int, default=2000, help="per topic")
    parser.add_argument("--history-days", type=int, default=2)
    parser.add_argument("--history-mentions-per-day", type=int, default=48, help="per topic")
    parser.add_argument("--sources", help="comma-separated; default: the example topic's all")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--from-json", nargs="+", help="with --write: saved --json results")
    parser.add_argument(
        "--write",
        metavar="NxM",
        nargs="+",
        help="run each topics x mentions-per-day in its own process and rewrite the cost "
        "sections of docs/benchmarks.md and README.md; the first also rewrites "
        "stormwatch/cost_units.json (what `stormwatch cost` estimates from)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.write or args.from_json:
        from cost_report import write_all

        return write_all(args)
    result = simulate(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        headline = {k: result[k] for k in list(result)[:7]}
        print(json.dumps(headline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
