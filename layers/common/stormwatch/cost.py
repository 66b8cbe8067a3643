"""What a watchlist costs a month on AWS: list prices, the measured unit costs, the estimate.

Pure: no AWS, no clock. The unit costs (DynamoDB request units, Lambda GB-s, log bytes, ...
per mention, per collection run and per topic-day) are measured by bench/cost.py, which
drives the real handlers against moto and rewrites `cost_units.json` beside this module;
`stormwatch cost` and the benchmark both price them here, so there is one price list.

Prices are us-east-1 on-demand list prices, free tier NOT subtracted (it is listed separately
in FREE_TIER so a reader can see what a small account would not pay).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

HOURS_PER_MONTH = 730  # AWS's pricing calculator's month
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
GB = 1024**3
UNITS_FILE = "cost_units.json"

PRICES_SOURCE = (
    "AWS public price pages for us-east-1, on-demand list prices (aws.amazon.com/dynamodb/"
    "pricing/on-demand, /lambda/pricing, /ses/pricing, /cloudwatch/pricing, /xray/pricing, "
    "/eventbridge/pricing, /s3/pricing, /sqs/pricing), as listed on 2026-11-29"
)


class Prices(BaseModel):
    """US$ per unit. One place for every price the estimate uses."""

    model_config = ConfigDict(frozen=True)

    dynamodb_write_request_unit: float = 0.625 / 1e6
    dynamodb_read_request_unit: float = 0.125 / 1e6
    dynamodb_storage_gb_month: float = 0.25
    lambda_gb_second_arm64: float = 0.0000133334
    lambda_gb_second_x86_64: float = 0.0000166667
    lambda_request: float = 0.20 / 1e6
    ses_email: float = 0.10 / 1000  # per recipient of each message
    logs_ingested_gb: float = 0.50
    custom_metric_month: float = 0.30  # EMF metrics from Powertools are custom metrics
    xray_trace_recorded: float = 5.00 / 1e6
    scheduler_invocation: float = 1.00 / 1e6
    s3_get_request: float = 0.0004 / 1000
    sqs_request: float = 0.40 / 1e6


PRICES = Prices()

# What AWS's free tier covers each month (not subtracted above; shown beside the estimate)
FREE_TIER = (
    "Lambda 1M requests + 400,000 GB-s; DynamoDB 25 GB storage; CloudWatch 5 GB log "
    "ingestion + 10 custom metrics; X-Ray 100,000 traces; EventBridge Scheduler 14M "
    "invocations; SQS 1M requests"
)


class DriverUnits(BaseModel):
    """Resources used per one unit of what drives them (a mention, a collection run, ...)."""

    wru: float = 0.0  # DynamoDB write request units
    rru: float = 0.0  # DynamoDB read request units
    gb_s: float = 0.0  # Lambda GB-seconds
    invocations: float = 0.0  # Lambda invocations not started by a schedule
    log_bytes: float = 0.0  # CloudWatch Logs ingestion, platform lines excluded
    emails: float = 0.0
    s3_gets: float = 0.0
    sqs_requests: float = 0.0


class UnitCosts(BaseModel):
    """What bench/cost.py measured (cost_units.json)."""

    measured_on: str
    command: str
    machine: str
    per_mention: DriverUnits
    per_source_topic_run: DriverUnits  # one source's collection for one topic
    per_topic_day: DriverUnits  # digests and everything else a topic needs once a day
    per_schedule_fire: DriverUnits  # what each scheduled invocation costs regardless of topics
    stored_bytes_per_mention: float = Field(ge=0)  # DynamoDB storage, index overhead included
    custom_metrics: int = Field(ge=0)  # distinct EMF metrics (name + dimensions)
    platform_log_bytes_per_invocation: float = Field(ge=0)  # START/END/REPORT lines
    tracing: bool = True  # X-Ray active: a trace per invocation
    architecture: str = "arm64"


class WatchlistShape(BaseModel):
    """A watchlist as the estimate sees it: sizes, not contents."""

    topics: int = Field(ge=0)
    mentions_per_day: float = Field(ge=0)  # all topics together
    source_topic_runs_per_day: float = Field(ge=0)
    schedule_fires_per_day: float = Field(ge=0)
    retention_days: int = Field(ge=1)


class Usage(BaseModel):
    """One month of billable quantities."""

    dynamodb_wru: float = 0.0
    dynamodb_rru: float = 0.0
    dynamodb_storage_gb: float = 0.0
    lambda_gb_s: float = 0.0
    lambda_requests: float = 0.0
    ses_emails: float = 0.0
    log_gb: float = 0.0
    custom_metrics: float = 0.0
    xray_traces: float = 0.0
    scheduler_invocations: float = 0.0
    s3_gets: float = 0.0
    sqs_requests: float = 0.0


class CostEstimate(BaseModel):
    usage: Usage
    usd: dict[str, float]  # per line of the bill

    @property
    def total(self) -> float:
        return sum(self.usd.values())


def daily_units(shape: WatchlistShape, units: UnitCosts) -> DriverUnits:
    """Everything one day of this watchlist uses, from the measured unit costs."""
    drivers = (
        (units.per_mention, shape.mentions_per_day),
        (units.per_source_topic_run, shape.source_topic_runs_per_day),
        (units.per_topic_day, float(shape.topics)),
        (units.per_schedule_fire, shape.schedule_fires_per_day),
    )
    total = {name: 0.0 for name in DriverUnits.model_fields}
    for per, count in drivers:
        for name in total:
            total[name] += getattr(per, name) * count
    return DriverUnits(**total)


def monthly_usage(shape: WatchlistShape, units: UnitCosts) -> Usage:
    day = daily_units(shape, units)
    invocations_per_day = day.invocations + shape.schedule_fires_per_day
    platform = invocations_per_day * units.platform_log_bytes_per_invocation
    stored = shape.mentions_per_day * shape.retention_days * units.stored_bytes_per_mention
    return Usage(
        dynamodb_wru=day.wru * DAYS_PER_MONTH,
        dynamodb_rru=day.rru * DAYS_PER_MONTH,
        dynamodb_storage_gb=stored / GB,  # steady state: every mention kept RetentionDays
        lambda_gb_s=day.gb_s * DAYS_PER_MONTH,
        lambda_requests=invocations_per_day * DAYS_PER_MONTH,
        ses_emails=day.emails * DAYS_PER_MONTH,
        log_gb=(day.log_bytes + platform) * DAYS_PER_MONTH / GB,
        custom_metrics=float(units.custom_metrics),
        xray_traces=invocations_per_day * DAYS_PER_MONTH if units.tracing else 0.0,
        scheduler_invocations=shape.schedule_fires_per_day * DAYS_PER_MONTH,
        s3_gets=day.s3_gets * DAYS_PER_MONTH,
        sqs_requests=day.sqs_requests * DAYS_PER_MONTH,
    )


def price(usage: Usage, architecture: str = "arm64", prices: Prices = PRICES) -> CostEstimate:
    gb_second = (
        prices.lambda_gb_second_arm64 if architecture == "arm64" else prices.lambda_gb_second_x86_64
    )
    usd = {
        "dynamodb_writes": usage.dynamodb_wru * prices.dynamodb_write_request_unit,
        "dynamodb_reads": usage.dynamodb_rru * prices.dynamodb_read_request_unit,
        "dynamodb_storage": usage.dynamodb_storage_gb * prices.dynamodb_storage_gb_month,
        "lambda_compute": usage.lambda_gb_s * gb_second,
        "lambda_requests": usage.lambda_requests * prices.lambda_request,
        "ses": usage.ses_emails * prices.ses_email,
        "cloudwatch_logs": usage.log_gb * prices.logs_ingested_gb,
        "cloudwatch_metrics": usage.custom_metrics * prices.custom_metric_month,
        "xray": usage.xray_traces * prices.xray_trace_recorded,
        "scheduler": usage.scheduler_invocations * prices.scheduler_invocation,
        "s3": usage.s3_gets * prices.s3_get_request,
        "sqs": usage.sqs_requests * prices.sqs_request,
    }
    return CostEstimate(usage=usage, usd=usd)


def estimate(shape: WatchlistShape, units: UnitCosts, prices: Prices = PRICES) -> CostEstimate:
    return price(monthly_usage(shape, units), units.architecture, prices)


def shape_of(
    topic_sources: list[list[str]],
    runs_per_day: dict[str, float],
    other_fires_per_day: float,
    *,
    mentions_per_topic_per_day: float,
    retention_days: int,
) -> WatchlistShape:
    """A watchlist's shape from each topic's sources and the schedules: `runs_per_day` per
    source (the collect schedules), `other_fires_per_day` for the schedules not per source."""
    unknown = sorted({s for sources in topic_sources for s in sources} - set(runs_per_day))
    if unknown:
        raise ValueError(f"no collect schedule for source(s): {', '.join(unknown)}")
    return WatchlistShape(
        topics=len(topic_sources),
        mentions_per_day=len(topic_sources) * mentions_per_topic_per_day,
        source_topic_runs_per_day=sum(runs_per_day[s] for t in topic_sources for s in t),
        schedule_fires_per_day=sum(runs_per_day.values()) + other_fires_per_day,
        retention_days=retention_days,
    )


def load_units(path: Path | None = None) -> UnitCosts:
    """The unit costs the benchmark measured last (cost_units.json beside this module)."""
    if path is not None:
        text = path.read_text(encoding="utf-8")
    else:
        text = resources.files("stormwatch").joinpath(UNITS_FILE).read_text(encoding="utf-8")
    return UnitCosts.model_validate(json.loads(text))


def explain(shape: WatchlistShape, units: UnitCosts, result: CostEstimate) -> str:
    """The estimate as text: the total, each bill line, and what it assumes."""
    lines = [
        f"About US${result.total:.2f} a month for {shape.topics} topic(s), "
        f"{shape.mentions_per_day:,.0f} mentions a day in all, "
        f"{shape.source_topic_runs_per_day:,.0f} collection runs (source × topic) a day.",
        "",
    ]
    for name, usd in sorted(result.usd.items(), key=lambda kv: -kv[1]):
        if usd >= 0.005:
            lines.append(f"  {name:<20} US${usd:8.2f}")
    lines += [
        "",
        "Assumptions:",
        f"- unit costs measured by `{units.command}` on {units.measured_on} ({units.machine}); "
        "re-run bench/cost.py after changes to the data path",
        "- linear in mentions, collection runs (the template's schedules) and topics: true "
        "while reads per mention do not grow with the topic count (docs/benchmarks.md, Cost); "
        "a storm day writes and reads more than the quiet day measured",
        f"- storage: every mention kept {shape.retention_days} days (RetentionDays)",
        "- us-east-1 on-demand list prices (stormwatch/cost.py); other regions differ",
        f"- free tier NOT subtracted; it covers: {FREE_TIER}",
        "- not included: SMS (priced per country), data transfer, KMS when KmsKeyArn is set",
    ]
    return "\n".join(lines)
