"""Write bench/cost.py's results into docs/benchmarks.md, README.md (between the
`<!-- cost:start -->` and `<!-- cost:end -->` markers) and stormwatch/cost_units.json."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "docs" / "benchmarks.md"
README = REPO / "README.md"
UNITS = REPO / "layers" / "common" / "stormwatch" / "cost_units.json"
START, END = "<!-- cost:start -->", "<!-- cost:end -->"
EXTRAPOLATED_TOPICS = (5, 200, 1000)
EXTRAPOLATED_MENTIONS = 2000


def run_one(topics: int, mentions: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        str(REPO / "bench" / "cost.py"),
        f"--topics={topics}",
        f"--mentions-per-day={mentions}",
        f"--history-days={args.history_days}",
        f"--history-mentions-per-day={args.history_mentions_per_day}",
        "--json",
    ]
    if args.sources:
        command.append(f"--sources={args.sources}")
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(done.stdout)


def write_all(args: argparse.Namespace) -> int:
    if args.from_json:
        results = [json.loads(Path(p).read_text(encoding="utf-8")) for p in args.from_json]
    else:
        results = []
        for spec in args.write:
            topics, mentions = (int(x) for x in spec.lower().split("x"))
            results.append(run_one(topics, mentions, args))
    UNITS.write_text(json.dumps(results[0]["unit_costs"], indent=2) + "\n", encoding="utf-8")
    replace_section(BENCHMARKS, benchmarks_section(results), heading="## Cost")
    replace_section(README, readme_section(results))
    print(benchmarks_section(results))
    return 0


def replace_section(path: Path, body: str, heading: str = "") -> None:
    text = path.read_text(encoding="utf-8")
    block = f"{START}\n{heading + chr(10) + chr(10) if heading else ''}{body}\n{END}"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def extrapolated(units: dict[str, Any], topics: int, per_topic: dict[str, Any]) -> Any:
    """The monthly estimate for `topics` topics x EXTRAPOLATED_MENTIONS from measured units."""
    from stormwatch import cost, template_facts

    facts = template_facts.functions(template_facts.load_template(REPO / "template.yaml"))
    per_source, other = template_facts.runs_per_day(facts)
    shape = cost.shape_of(
        [per_topic["sources"]] * topics,
        per_source,
        other,
        mentions_per_topic_per_day=EXTRAPOLATED_MENTIONS,
        retention_days=per_topic["retention_days"],
    )
    return cost.estimate(shape, cost.UnitCosts.model_validate(units))


def _row(r: dict[str, Any]) -> str:
    s, u = r["setup"], r["breakdown"]["monthly_usd_by_line"]
    top = sorted(u.items(), key=lambda kv: -kv[1])[:3]
    per_mention_items = (r["items_written"] / max(r["mentions"], 1), r["items_read"])
    return (
        f"| {s['topics']} × {s['mentions_per_topic_per_day']:,} ({s['sources_per_topic']} "
        f"sources, {s['history_days']} history days) | {r['mentions']:,} | "
        f"{r['wru_per_mention']:.2f} | {r['rru_per_mention']:.2f} | "
        f"{per_mention_items[0]:.2f} / {per_mention_items[1] / max(r['mentions'], 1):.2f} | "
        f"{r['lambda_gb_s']:.0f} | **{r['monthly_usd']:.2f}** | "
        + ", ".join(f"{k} {v:.2f}" for k, v in top)
        + " |"
    )


def benchmarks_section(results: list[dict[str, Any]]) -> str:
    from stormwatch.cost import FREE_TIER, PRICES_SOURCE

    first = results[0]
    setup = first["setup"]
    lines = [
        f"Written by `bench/cost.py` on {setup['measured_on']} from the code at "
        f"{setup.get('commit', '?')}; machine: {setup['machine']} "
        "(shared by several engineers: only CPU time and counts are used, never wall time).",
        "",
        "The real collect, score and report handlers against in-process moto through one "
        "simulated day: every schedule of template.yaml fires at its period, stream records "
        "reach score/report filtered and batched as the template's event source mappings say; "
        "fake sources return M mentions per topic per day spread over the topic's sources and "
        "their runs. Before the measured day the same handlers ran the history days given "
        f"below at {setup['history_mentions_per_topic_per_day']} mentions per topic per day (the "
        "scorer reads one compact detector-state item per topic and batch, whatever the history "
        "holds). DynamoDB request units are counted per request as DynamoDB "
        "bills them (bench/cost_meter.py). Lambda GB-s: handler CPU time without moto's, "
        "scaled to the function's MemorySize share of a vCPU, plus an assumed in-region latency "
        "per AWS request (bench/cost.py: LATENCY_SECONDS), CPU measured on this x86_64 machine "
        "taken as equal to a Graviton core, cold-start INIT not included. Monthly = 730 hours. "
        "Prices: "
        f"{PRICES_SOURCE}. Free tier NOT subtracted ({FREE_TIER}).",
        "",
        "| topics × mentions/day | mentions | WRU/mention | RRU/mention | "
        "items written / read per mention | Lambda GB-s/day | US$/month | largest lines |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
        *(_row(r) for r in results),
        "",
        "From the unit costs measured in the first row (what `stormwatch cost` uses), linear "
        f"in topics, runs and mentions — estimated, not simulated, at "
        f"{EXTRAPOLATED_MENTIONS:,} mentions per topic per day. Linear holds where the rows "
        "above agree per mention and per run (the scorer's reads are a fixed cost per topic "
        "and stream batch); 1,000 topics were not simulated:",
        "",
        "| topics | US$/month | DynamoDB | Lambda | CloudWatch | X-Ray |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    shape = {"sources": first["sources"], "retention_days": first["retention_days"]}
    for topics in EXTRAPOLATED_TOPICS:
        est = extrapolated(first["unit_costs"], topics, shape)
        usd = est.usd
        lines.append(
            f"| {topics:,} | {est.total:,.2f} | "
            f"{usd['dynamodb_writes'] + usd['dynamodb_reads'] + usd['dynamodb_storage']:,.2f} | "
            f"{usd['lambda_compute'] + usd['lambda_requests']:,.2f} | "
            f"{usd['cloudwatch_logs'] + usd['cloudwatch_metrics']:,.2f} | {usd['xray']:,.2f} |"
        )
    lines += [
        "",
        "Per function, first row (one day; the longest invocation as modelled, against the "
        "template's Timeout; source HTTP time is not modelled):",
        "",
        "| function | invocations | errors | GB-s | WRU | RRU | e-mails | longest / Timeout |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, f in first["breakdown"]["functions"].items():
        lines.append(
            f"| {name} | {f['invocations']:,} | {f['errors']} | {f['gb_s']:.1f} | "
            f"{sum(f['wru'].values()):,.0f} | {sum(f['rru'].values()):,.0f} | {f['emails']} | "
            f"{f['longest_modelled_seconds']:.1f} s / {f.get('timeout_seconds', '?')} s |"
        )
    return "\n".join(lines)


def readme_section(results: list[dict[str, Any]]) -> str:
    first = results[0]
    setup = first["setup"]
    rows = "; ".join(
        f"{r['setup']['topics']} topics × {r['setup']['mentions_per_topic_per_day']:,} mentions "
        f"a day: about US${r['monthly_usd']:.2f} a month"
        for r in results
    )
    shape = {"sources": first["sources"], "retention_days": first["retention_days"]}
    estimates = ", ".join(
        f"{t:,} topics about US${extrapolated(first['unit_costs'], t, shape).total:,.0f}"
        for t in EXTRAPOLATED_TOPICS[1:]
    )
    return (
        f"Measured by `bench/cost.py` on {setup['measured_on']} (the real handlers against "
        f"moto through a simulated day, request units counted as DynamoDB bills them, "
        f"us-east-1 list prices, free tier not subtracted): {rows}. At "
        f"{EXTRAPOLATED_MENTIONS:,} mentions per topic a day the measured unit costs give "
        f"{estimates} (estimated from the unit costs, not simulated). "
        "The largest lines of the first: "
        + ", ".join(
            f"{name.replace('_', ' ')} US${usd:.2f}"
            for name, usd in sorted(
                first["breakdown"]["monthly_usd_by_line"].items(), key=lambda kv: -kv[1]
            )[:4]
        )
        + ". Details, per function and per bill line, in "
        "[docs/benchmarks.md](docs/benchmarks.md#cost); `stormwatch cost` estimates your own "
        "watchlist from the same unit costs."
    )
