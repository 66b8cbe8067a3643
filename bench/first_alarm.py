"""Measure the first possible alarm after a topic is added (issue #11's target: <= 1 h).

    .venv/bin/python bench/first_alarm.py [--json]

Adds the demo watchlist's topics to an empty store (embedded moto server) at the demo's clock,
runs ONE collect cycle through the real handlers against the recorded responses (each source
once: its live run, then its backfill step), scores the stream, and then asks the detector,
hour by hour from the moment the topic was added, whether it is able to alarm: the baseline
it fits must have `min_history_hours` of history made of complete hours (`surge.assess`;
"insufficient baseline" otherwise). The points are built as `scoring.check_topic` builds them
(coverage from the checkpoints: backfilled hours count only where every source that can look
back has read them). Without a backfill the answer is `min_history_hours` (72 h).

Reports per topic the simulated hours until the detector can alarm, the backfill steps and
the complete baseline hours, plus the cycle's wall and CPU time (wall time is distorted by
other load on a shared machine; the simulated hours are not).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from stormwatch import local
from stormwatch.config import load_watchlist
from stormwatch.cycle import DEMO_NOW, CycleConfig, run_cycle
from stormwatch.scoring import topic_series
from stormwatch.store import Store
from stormwatch.surge import assess, settings_for
from stormwatch.watchlist import Topic

MAX_HOURS = 96  # look this far after the topic was added


def able_to_alarm(store: Store, topic: Topic, now: datetime) -> tuple[bool, str, int]:
    """Whether the detector can alarm for `topic` at `now`, its reason if not, and the
    complete hours of its points."""
    settings = settings_for(topic.alerts.sensitivity, min_count=topic.alerts.min_count)
    points = topic_series(store, topic, now).points
    assessment = assess(points, now, settings)
    insufficient = "insufficient" in assessment.reason
    return not insufficient, assessment.reason, sum(p.complete for p in points[:-1])


def measure(added: datetime = DEMO_NOW) -> dict[str, Any]:
    watchlist_path = local.repo_path("watchlist.yaml")
    watchlist = load_watchlist(watchlist_path)
    with local.aws_endpoint(None) as endpoint, tempfile.TemporaryDirectory() as out:
        config = CycleConfig(
            watchlist_path=watchlist_path,
            templates_dir=local.repo_path("templates"),
            out_dir=Path(out),
            endpoint=endpoint,
            replay_dir=local.repo_path("demo", "recordings"),
            clock=lambda: added,
        )
        wall, cpu = time.perf_counter(), time.process_time()
        result = run_cycle(config, echo=lambda line: None)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        store = Store(boto3.client("dynamodb", endpoint_url=endpoint), config.table_name)
        topics = [_topic_row(store, topic, added, result.collected) for topic in watchlist.topics]
    return {
        "added": added.isoformat(),
        "cycle_wall_s": round(wall, 1),
        "cycle_cpu_s": round(cpu, 1),
        "failures": result.failures,
        "topics": topics,
    }


def _topic_row(
    store: Store, topic: Topic, added: datetime, collected: list[dict[str, Any]]
) -> dict[str, Any]:
    steps = [c for c in collected if c["topic"] == topic.name and c["backfill"]]
    for hours in range(MAX_HOURS + 1):
        ok, reason, complete = able_to_alarm(store, topic, added + timedelta(hours=hours))
        if ok:
            break
    return {
        "topic": topic.name,
        "backfill_steps": len(steps),
        "backfills_done": sum(c["backfill_done"] for c in steps),
        "hours_until_able_to_alarm": hours if ok else None,
        "complete_baseline_hours": complete,
        "reason_if_not": "" if ok else reason,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    report = measure()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"one collect cycle: {report['cycle_wall_s']} s wall, {report['cycle_cpu_s']} s CPU")
    for row in report["topics"]:
        when = row["hours_until_able_to_alarm"]
        able = f"after {when} h" if when is not None else f"not within {MAX_HOURS} h"
        print(
            f"  {row['topic']}: able to alarm {able}"
            f" ({row['backfills_done']}/{row['backfill_steps']} backfills done, "
            f"{row['complete_baseline_hours']} complete baseline hours) {row['reason_if_not']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
