"""Benchmark: surge item written → chat message accepted, through one stream hop, locally.

    .venv/bin/python bench/channel_latency.py [--surges 20] [--no-write]

Against the embedded moto server (real HTTP on 127.0.0.1) and the demo's local channel
receiver: for each of N surges, the time from `Store.put_surge` returning to the Slack receiver
having the message, through what Lambda does on AWS — read the table's stream, filter it like
the event source mapping, invoke the real report handler with the batch, which delivers to
e-mail, Slack, Teams, the webhook and SMS. Also the CPU time of this process per surge, which
other load on the machine does not inflate. Results replace the `channels` region of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "docs" / "benchmarks.md"


def measure(surges: int) -> list[dict[str, float]]:
    from stormwatch import local
    from stormwatch.cycle import DEMO_NOW, CycleConfig, wire_handlers
    from stormwatch.models import Surge

    rows = []
    with (
        tempfile.TemporaryDirectory() as out,
        local.aws_endpoint(None),
        local.ChannelReceiver() as receiver,
    ):
        config = CycleConfig(
            watchlist_path=local.repo_path("watchlist.yaml"),
            templates_dir=local.repo_path("templates"),
            out_dir=Path(out),
            clock=lambda: DEMO_NOW,
        )
        stream = local.StreamReader(local.ensure_table(config.table_name))
        local.ensure_sender(config.sender)
        wired = wire_handlers(config, receiver.url)
        report = wired["handlers"]["report"]
        for i in range(surges):
            surge = Surge(
                topic="acme-cloud",
                detected_at=DEMO_NOW + timedelta(hours=i),
                tier="firestorm",
                observed=40,
                expected=5,
                score=8,
                threshold=5,
                negative_share=0.8,
                usual_negative_share=0.2,
            )
            seen = len(receiver.requests)
            cpu, started = time.process_time(), time.monotonic()
            wired["store"].put_surge(surge)
            written = time.monotonic()
            batch = [r for r in stream.read() if local.matches_filter(r, "S#")]
            read = time.monotonic()
            for event in local.batches(batch):
                report.lambda_handler(event, local.FakeLambdaContext("stormwatch-report"))
            slack = next(r for r in receiver.requests[seen:] if r.path == "/slack")
            rows.append(
                {
                    "write": written - started,
                    "stream": read - written,
                    "to_slack": slack.received - written,
                    "all_channels": time.monotonic() - written,
                    "cpu": time.process_time() - cpu,
                }
            )
    return rows[1:]  # the first pays for imports and connection set-up


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--surges", type=int, default=20)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = measure(args.surges + 1)

    def stat(key: str) -> str:
        values = sorted(r[key] for r in rows)
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        return f"{statistics.median(values) * 1000:.0f} ms (p95 {p95 * 1000:.0f} ms)"

    lines = [
        f"Written by `bench/channel_latency.py --surges {args.surges}` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.machine()}, {os.cpu_count()} cores "
        f"shared with other work (wall times are inflated by that load; CPU time is not), "
        f"Python {platform.python_version()}, embedded moto server over HTTP on 127.0.0.1.",
        "",
        "| measure, per surge (median, p95) | local |",
        "|---|---|",
        f"| surge item written (`put_surge`) | {stat('write')} |",
        f"| stream read and filtered like the event source mapping | {stat('stream')} |",
        f"| surge item written → Slack message accepted (one stream hop) | {stat('to_slack')} |",
        f"| surge item written → all five deliveries done | {stat('all_channels')} |",
        f"| CPU time of the process (handler, moto, receiver) | {stat('cpu')} |",
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        text = BENCHMARKS.read_text(encoding="utf-8")
        region = re.compile(r"<!-- channels:start -->.*?<!-- channels:end -->", re.S)
        match = region.search(text)
        if match is None:
            raise SystemExit("docs/benchmarks.md has no channels region")
        head, _, tail = match.group(0).partition("<!-- measured:start -->")
        _, _, tail = tail.partition("<!-- measured:end -->")
        new = f"{head}<!-- measured:start -->\n{section}\n<!-- measured:end -->{tail}"
        BENCHMARKS.write_text(text[: match.start()] + new + text[match.end() :], encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
