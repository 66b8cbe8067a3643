"""How far an hourly bucket's sketched distinct counts are from the truth, and whether the surge
detector decides differently on them.

    .venv/bin/python bench/sketch_error.py [--trials 20] [--detector-trials 10] [--json]

1. Relative error of the bucket's sketches (stormwatch.sketch.DistinctSketch at the precisions
   of models.AUTHOR_SKETCH_PRECISION / STORY_SKETCH_PRECISION) at known cardinalities: `trials`
   independent sets of n distinct author-like keys each; mean, RMS and largest error.
2. The injected-surge benchmark (bench/surge_inject.py: real NAB volume, synthetic authors)
   run twice on the same seed: with its exact author counts, and with every hour's distinct
   authors replaced by what the bucket's sketch would report for that many authors (the rows
   of an hour scaled alike, since the detector sums them per hour). Reported: the trials whose
   outcome (detected, tier) changes, and the alarms on the un-injected backgrounds.
   `surge_nab.py` and `surge_inject.py` themselves build detector points directly (they never
   read buckets), so this is the one place the sketches meet them.

Counts and decisions, not timings: the machine's load does not change them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from stormwatch.models import AUTHOR_SKETCH_PRECISION, STORY_SKETCH_PRECISION  # noqa: E402
from stormwatch.sketch import DistinctSketch  # noqa: E402
from stormwatch.surge import Point  # noqa: E402
from stormwatch.timeutil import floor_hour  # noqa: E402

CARDINALITIES = (10, 48, 100, 300, 1_000, 4_000, 20_000)


def sketched(n: int, precision: int, salt: str) -> int:
    """What a sketch of `precision` reports for n distinct keys (keys named by `salt`)."""
    return DistinctSketch(precision).with_keys(f"{salt}-{i}" for i in range(n)).estimate()


def error_table(trials: int) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    kinds = (("authors", AUTHOR_SKETCH_PRECISION), ("stories", STORY_SKETCH_PRECISION))
    for name, precision in kinds:
        rows = []
        for n in CARDINALITIES:
            errors = [sketched(n, precision, f"{name}{t}") / n - 1 for t in range(trials)]
            rows.append(
                {
                    "n": n,
                    "mean": round(sum(errors) / trials, 4),
                    "rms": round((sum(e * e for e in errors) / trials) ** 0.5, 4),
                    "max_abs": round(max(abs(e) for e in errors), 4),
                }
            )
        out[name] = rows
    return out


def with_sketched_authors(points: list[Point]) -> list[Point]:
    """The points with each hour's authors as the hour's sketch would count them."""
    by_hour: dict[Any, int] = defaultdict(int)
    for p in points:
        by_hour[floor_hour(p.time)] += int(p.authors)
    factor = {
        hour: sketched(n, AUTHOR_SKETCH_PRECISION, hour.isoformat()) / n if n else 1.0
        for hour, n in by_hour.items()
    }
    return [
        Point(
            p.time,
            p.count,
            p.negative,
            round(p.authors * factor[floor_hour(p.time)]),
            p.engagement,
            complete=p.complete,
            top_author_count=p.top_author_count,
        )
        for p in points
    ]


def detector_check(trials: int, seed: int) -> dict[str, Any] | None:
    import surge_inject as inject

    root = inject.nab_dir()
    if root is None:
        return None
    series = inject.load_nab(root)
    for name in series:
        series[name]["name"] = name
    original = inject.backtest
    runs = {}

    def on_sketches(points: list[Point], *args: Any, **kwargs: Any) -> Any:
        return original(with_sketched_authors(points), *args, **kwargs)

    for label, patched in (("exact", original), ("sketched", on_sketches)):
        inject.backtest = patched
        summary, quiet = inject.run_variant(series, trials, seed, top_known=True)
        runs[label] = (summary, quiet)
    inject.backtest = original
    exact, sketch = runs["exact"][1].pop("results"), runs["sketched"][1].pop("results")
    changed = [
        (a["series"], a["scenario"], a.get("tier"), b.get("tier"))
        for a, b in zip(exact, sketch, strict=True)
        if (a["detected"], a.get("tier")) != (b["detected"], b.get("tier"))
    ]
    return {
        "trials": len(exact),
        "changed": len(changed),
        "changes": changed,
        "background_exact": runs["exact"][1],
        "background_sketched": runs["sketched"][1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--detector-trials", type=int, default=10, help="per scenario; 0: skip")
    parser.add_argument("--seed", type=int, default=20150301)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    numbers: dict[str, Any] = {"error": error_table(args.trials)}
    if args.detector_trials:
        check = detector_check(args.detector_trials, args.seed)
        numbers["detector"] = check if check is not None else "SKIP: NAB data not found"
    print(json.dumps(numbers, indent=None if args.json else 2, default=str))


if __name__ == "__main__":
    main()
