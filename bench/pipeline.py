"""Benchmark the local pipeline: the demo cycle's wall time per step, memory, layer sizes.

    .venv/bin/python bench/pipeline.py [--runs 3]

Runs the offline demo cycle (embedded moto server, recorded responses) several times in fresh
subprocesses and reports the median wall time of each step and the peak memory, plus the
unzipped size of the built Lambda layers when `sam build` has run. Results replace the
`pipeline` region of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "docs" / "benchmarks.md"

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
marks = []
t0 = time.monotonic()
from stormwatch.cycle import CycleConfig, run_cycle
imported = time.monotonic() - t0
def echo(line):
    marks.append((time.monotonic() - t0, line.split()[1] if line.startswith("•") else line))
config = CycleConfig.recorded_demo(Path(sys.argv[1]))
result = run_cycle(config, echo=echo)
print(json.dumps({
    "import": imported,
    "marks": marks,
    "total": time.monotonic() - t0,
    "mentions": result.scored,
    "emails": sum(1 for d in result.deliveries if d["channel"] == "email"),
    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run_once() -> dict:
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "STORMWATCH_LOG_LEVEL": "ERROR"}
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, out],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=REPO,
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def step_times(run: dict) -> dict[str, float]:
    """Seconds spent in each step: from the previous step's last line to this step's last."""
    ends: dict[str, float] = {}
    for at, step in run["marks"]:
        ends[step] = at
    steps, previous = {}, run["import"]
    for step, end in sorted(ends.items(), key=lambda kv: kv[1]):
        steps[step] = end - previous
        previous = end
    return steps


def layer_sizes_mb(path: Path) -> tuple[float, float] | None:
    """Unzipped and zipped (deflate, as `sam deploy` uploads it) size of a built layer."""
    if not path.exists():
        return None
    unzipped = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    with tempfile.TemporaryDirectory() as tmp:
        archive = shutil.make_archive(str(Path(tmp) / "layer"), "zip", path)
        zipped = Path(archive).stat().st_size
    return unzipped / 1e6, zipped / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    runs = [run_once() for _ in range(args.runs)]
    totals = [r["total"] for r in runs]
    steps: dict[str, list[float]] = {}
    for run in runs:
        for step, seconds in step_times(run).items():
            steps.setdefault(step, []).append(seconds)
    mentions = runs[0]["mentions"]
    rss = max(r["max_rss_mb"] for r in runs)

    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()} "
        f"(`bench/pipeline.py --runs {args.runs}`; medians, min–max in brackets).",
        "",
        "| measure | value |",
        "|---|---|",
        f"| demo cycle, whole (import → e-mails written) | {statistics.median(totals):.1f} s "
        f"[{min(totals):.1f}–{max(totals):.1f}] |",
        f"| mentions scored per demo run | {mentions} |",
        f"| e-mails sent per demo run | {runs[0]['emails']} |",
        f"| peak memory of the process (moto server included) | {rss:.0f} MB |",
    ]
    for step, values in steps.items():
        lines.append(f"| step `{step}` | {statistics.median(values):.2f} s |")
    for layer in ("CommonLayer", "AssetsLayer"):
        sizes = layer_sizes_mb(REPO / ".aws-sam" / "build" / layer)
        if sizes is not None:
            lines.append(
                f"| built `{layer}` (`sam build`), unzipped / zipped | "
                f"{sizes[0]:.1f} MB / {sizes[1]:.1f} MB |"
            )
    lines += [
        "",
        "The demo runs against moto, whose DynamoDB transactions copy the table; on AWS the "
        "scoring step is bounded by DynamoDB latency instead. These are local numbers, not "
        "Lambda timings.",
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        text = BENCHMARKS.read_text(encoding="utf-8")
        text = re.sub(
            r"<!-- pipeline:start -->.*<!-- pipeline:end -->",
            lambda _: (
                f"<!-- pipeline:start -->\n## Local pipeline\n\n{section}\n<!-- pipeline:end -->"
            ),
            text,
            flags=re.S,
        )
        BENCHMARKS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
