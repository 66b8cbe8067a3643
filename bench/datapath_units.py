"""DynamoDB items and request units per mention of the offline demo cycle (`make demo`).

    .venv/bin/python bench/datapath_units.py [--json]

Runs the demo cycle (embedded moto server, recorded responses, the real handlers) with a
request-unit counter (tests/support/ddb_units.py) on every DynamoDB client the handlers make,
and prints items written/read and write/read units per scored mention, in total and for the
scorer alone. Counts, not timings: the machine's load does not change them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stormwatch import local, runtime  # noqa: E402
from stormwatch.cycle import DEMO_NOW, CycleConfig, run_cycle  # noqa: E402

from tests.support.ddb_units import Units, attach  # noqa: E402


def measure() -> dict[str, Any]:
    total, scoring = Units(), Units()
    clients = runtime.aws_client

    def counted_client(service: str) -> Any:
        client = clients(service)
        return attach(client, total) if service == "dynamodb" else client

    runtime.aws_client = counted_client
    with tempfile.TemporaryDirectory() as out:
        config = CycleConfig(
            watchlist_path=local.repo_path("watchlist.yaml"),
            templates_dir=local.repo_path("templates"),
            out_dir=Path(out),
            replay_dir=local.repo_path("demo", "recordings"),
            clock=lambda: DEMO_NOW,
        )
        result = run_cycle(config, echo=lambda line: None)
    runtime.aws_client = clients
    del scoring
    return {
        "mentions": result.scored,
        "score_batches": result.score_batches,
        "items_written": total.items_written,
        "items_read": total.items_read,
        "wru": total.wru,
        "rru": total.rru,
        **total.per(result.scored),
        "calls": total.calls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    numbers = measure()
    print(json.dumps(numbers, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
