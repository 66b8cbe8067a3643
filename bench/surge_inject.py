"""Seeded injection benchmark of the firestorm tiers on the real NAB realTweets series.

    python bench/surge_inject.py [--trials 30] [--seed 20150301] [--variant both]
                                 [--no-write] [--json]

NAB has volume but no sentiment, authors or engagement, so the tiers cannot be measured on
its labels.  This generator keeps NAB's real 5-minute volume (with its real daily and weekly
rhythm, news spikes and bot bursts) and synthesises the rest, then injects surges of known
shape, size and start.  Everything is drawn from ``random.Random(seed)``, so a run is exactly
reproducible.

Background, per 5-minute row with ``c`` real mentions:

* negative mentions ~ Binomial(c, p_h), where the hour's share ``p_h`` ~ Beta with mean
  ``USUAL_SHARE`` = 0.15 and concentration 200 (sd about 0.025: shares wander hour to hour);
* authors = round(c x U(0.85, 0.95)); engagement ~ c x Gamma(2, 1.5) (mean 3 per mention);
* the busiest author (``top_author_count``): a fan account writing ~ Binomial(c, 0.02) of
  each row (about 2 % of the traffic).  A bucket's field is the hour's busiest author, and
  the detector adds up the rows of one hour, so each row carries that author's share of
  it.  These draws come from their own generator (seed + 1): every other number is
  exactly what the generator drew before the field existed, and ``--variant unknown``
  leaves the field at 0 (unknown) to measure the detector as before.

Injected surge, starting at a random 5-minute row at least 15 days into the series and not
within two days of a labelled NAB window (those hold real news): ``extra = size x e x
ramp(t)``, where ``e`` is the row's typical count (median of the same 5-minute slot over the
previous 7 days) and ``ramp`` rises linearly over 30 minutes, holds 3 hours and decays over
2 hours.  Scenarios (the tier the rules should reach is stated by construction):

| scenario | size | negative share of injected | authors of injected | engagement | expected tier |
|---|---|---|---|---|---|
| volume | 4 | usual (0.15) | distinct | usual | watch |
| negative | 1 | 0.60 | distinct | usual | warning |
| firestorm | 6 | 0.70 | distinct | 2 x usual per mention | firestorm |
| one_account | 4 | 0.90 | one account | none | watch |

The one account is its hour's busiest author: in its rows ``top_author_count`` is its own
mentions (the fan account's rows before it started in the same hour still count: an upper
bound, like the store's heavy-hitter summary).  Injected mentions of the other scenarios
come from distinct authors and leave the busiest author as it was.

The detector runs over the 14 days before the start and 12 hours after it, exactly as the
live system would (hourly buckets, evaluated every 5 minutes on the partial hour).  Reported:
detection rate, delay of the first alarm after the injected start, the tier the episode
reached (first alarm plus escalations) against the expected tier, and the delay until the
expected tier was reached.  Rewrites only its own table inside the ``surge`` region of
``docs/benchmarks.md`` (between ``<!-- surge-inject:start -->`` and ``<!-- surge-inject:end -->``).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "layers" / "common"))

from stormwatch.surge import TIERS, Point, backtest, settings_for  # noqa: E402
from stormwatch.timeutil import floor_hour  # noqa: E402
from surge_nab import load_nab, nab_dir, shared_dir  # noqa: E402

USUAL_SHARE = 0.15
SHARE_CONCENTRATION = 200.0
TOP_AUTHOR_SHARE = 0.02  # the busiest ordinary author's share of the traffic
STEP = timedelta(minutes=5)
EVERY = timedelta(minutes=15)  # the live cadence: the fastest collector runs every 15 min
ROWS_PER_DAY = 288
SCENARIOS = {
    "volume": {"size": 4.0, "share": USUAL_SHARE, "one_account": False, "eng": 1.0,
               "expected": "watch"},
    "negative": {"size": 1.0, "share": 0.60, "one_account": False, "eng": 1.0,
                 "expected": "warning"},
    "firestorm": {"size": 6.0, "share": 0.70, "one_account": False, "eng": 2.0,
                  "expected": "firestorm"},
    "one_account": {"size": 4.0, "share": 0.90, "one_account": True, "eng": 0.0,
                    "expected": "watch"},
}  # fmt: skip
INJECT_START = "<!-- surge-inject:start -->"
INJECT_END = "<!-- surge-inject:end -->"


def ramp(minutes: float) -> float:
    if minutes < 0:
        return 0.0
    if minutes < 30:
        return minutes / 30
    if minutes < 210:
        return 1.0
    if minutes < 330:
        return 1.0 - (minutes - 210) / 120
    return 0.0


Row = tuple[float, float, int, float, int]


def background(
    rng: random.Random, values: list[float], top_rng: random.Random | None = None
) -> list[Row]:
    """(count, negative, authors, engagement, busiest author) per row: real counts, synthetic
    the rest; without ``top_rng`` the busiest author is unknown (0)."""
    out = []
    share = USUAL_SHARE
    for i, c in enumerate(values):
        if i % 12 == 0:
            a = USUAL_SHARE * SHARE_CONCENTRATION
            share = rng.betavariate(a, SHARE_CONCENTRATION - a)
        n = int(c)
        neg = rng.binomialvariate(n, share) if n else 0
        authors = round(n * rng.uniform(0.85, 0.95))
        eng = n * rng.gammavariate(2.0, 1.5) if n else 0.0
        top = top_rng.binomialvariate(n, TOP_AUTHOR_SHARE) if (top_rng and n) else 0
        out.append((float(n), float(neg), authors, eng, top))
    return out


def typical(values: list[float], i: int) -> float:
    past = [values[i - d * ROWS_PER_DAY] for d in range(1, 8) if i - d * ROWS_PER_DAY >= 0]
    return max(statistics.median(past), 1.0) if past else 1.0


def run_trial(
    rng: random.Random, data: dict, bg: list, scenario: str, top_known: bool = True
) -> dict:
    sc = SCENARIOS[scenario]
    times, values = data["times"], data["values"]
    n = len(times)
    blocked = [(a - timedelta(days=2), b + timedelta(days=2)) for a, b in data["windows"]]
    for _ in range(1000):
        start = rng.randrange(15 * ROWS_PER_DAY, n - ROWS_PER_DAY // 2)
        if not any(a <= times[start] <= b for a, b in blocked):
            break
    lo = start - 14 * ROWS_PER_DAY
    hi = min(n, start + ROWS_PER_DAY // 2)
    points = []
    account_hours = set()  # hours in which the one account is already counted
    for i in range(lo, hi):
        c, neg, authors, eng, top = bg[i]
        r = ramp((i - start) * 5.0)
        if r > 0:
            extra = round(sc["size"] * typical(values, i) * r)
            c += extra
            neg += rng.binomialvariate(extra, sc["share"]) if extra else 0
            if sc["one_account"]:
                # an hourly bucket counts distinct authors: the account once per hour
                hour = floor_hour(times[i])
                if extra and hour not in account_hours:
                    account_hours.add(hour)
                    authors += 1
                if extra and top_known:  # the account is the hour's busiest author
                    top = extra
            else:
                authors += round(extra * rng.uniform(0.85, 0.95))
                eng += extra * 3.0 * sc["eng"] * rng.uniform(0.8, 1.2)
        points.append(Point(times[i], c, neg, authors, eng, complete=True, top_author_count=top))
    alarms = backtest(points, settings_for("balanced"), step=STEP, every=EVERY)
    t0 = times[start]
    after = [a for a in alarms if a.time > t0 and a.time <= times[hi - 1] + STEP]
    result = {"series": data["name"], "start": t0.isoformat(), "scenario": scenario}
    if not after:
        result.update(detected=False, tier=None)
        return result
    first = after[0]
    episode = [first] + [a for a in after[1:] if a.escalation]
    reached = max(episode, key=lambda a: TIERS.index(a.tier)).tier
    result.update(
        detected=True,
        first_tier=first.tier,
        tier=reached,
        delay_min=round((first.time - t0).total_seconds() / 60, 1),
    )
    hit = next((a for a in episode if a.tier == sc["expected"]), None)
    if hit is not None:
        result["delay_to_expected_tier_min"] = round((hit.time - t0).total_seconds() / 60, 1)
    return result


def background_alarms(series: dict, backgrounds: dict, settings=None) -> dict:
    """Alarms on the un-injected backgrounds: real NAB volume at the usual synthetic tone.

    Any warning or firestorm here is a false one (the tone never shifts); watch alarms are
    the volume detector's usual alarms on NAB's real spikes.
    """
    settings = settings or settings_for("balanced")
    tiers = dict.fromkeys(TIERS, 0)
    triggers: dict[str, int] = {}
    weeks = 0.0
    for name, data in series.items():
        points = [
            Point(t, c, neg, a, e, top_author_count=top)
            for t, (c, neg, a, e, top) in zip(data["times"], backgrounds[name], strict=True)
        ]
        weeks += (data["times"][-1] - data["times"][0]).total_seconds() / (7 * 86400)
        for alarm in backtest(points, settings, step=STEP, every=EVERY):
            tiers[alarm.tier] += 1
            trigger = alarm.evidence.trigger
            triggers[trigger] = triggers.get(trigger, 0) + 1
    false_tone = tiers["warning"] + tiers["firestorm"]
    return {
        "series_weeks": round(weeks, 1),
        "by_tier": tiers,
        "by_trigger": triggers,
        "false_warnings_per_series_week": round(false_tone / weeks, 3),
        "alarms_per_series_week": round(sum(tiers.values()) / weeks, 3),
    }


def summarise(results: list[dict]) -> dict:
    out = {}
    for scenario, sc in SCENARIOS.items():
        rows = [r for r in results if r["scenario"] == scenario]
        det = [r for r in rows if r["detected"]]
        confusion = {t: sum(1 for r in det if r["tier"] == t) for t in TIERS}
        delays = [r["delay_min"] for r in det]
        exp_delays = [
            r["delay_to_expected_tier_min"] for r in det if "delay_to_expected_tier_min" in r
        ]
        by_series = {}
        for r in rows:
            s = by_series.setdefault(r["series"], [0, 0])
            s[0] += r["detected"]
            s[1] += 1
        out[scenario] = {
            "expected_tier": sc["expected"],
            "trials": len(rows),
            "detected": len(det),
            "tier_reached": confusion,
            "tier_accuracy_of_detected": round(confusion[sc["expected"]] / len(det), 3)
            if det
            else None,
            "median_delay_min": statistics.median(delays) if delays else None,
            "p90_delay_min": sorted(delays)[int(0.9 * (len(delays) - 1))] if delays else None,
            "median_delay_to_expected_tier_min": statistics.median(exp_delays)
            if exp_delays
            else None,
            "detected_by_series": {k.split("_")[-1].removesuffix(".csv"): f"{v[0]}/{v[1]}"
                                   for k, v in sorted(by_series.items())},
        }  # fmt: skip
    return out


VARIANTS = {
    "known": "busiest author known (`top_author_count`, as the store fills it)",
    "unknown": "busiest author unknown (0: the generator before the field; every other draw "
    "identical)",
}


def render(runs: dict[str, tuple[dict, dict]], trials: int, seed: int) -> str:
    """The injection tables, one per variant of the busiest-author field."""
    lines = [
        INJECT_START,
        "### Firestorm tiers on injected surges",
        "",
        f"_Script `bench/surge_inject.py` (seed {seed}, {trials} trials per scenario spread over "
        "the five NAB series; real NAB volume with synthetic sentiment, authors and engagement; "
        "surges injected at random starts away from the labelled windows, ramp 30 min, hold 3 h, "
        "decay 2 h; shipped defaults, sensitivity balanced). Sizes are multiples of the slot's "
        "typical count added on top._",
    ]
    for variant, (summary, quiet) in runs.items():
        lines += ["", f"**{VARIANTS[variant]}**", "", *_table(summary), "", _quiet_line(quiet)]
    lines.append(INJECT_END)
    return "\n".join(lines)


def _fmt(v) -> str:
    return "–" if v is None else f"{v:g} min"


def _table(summary: dict) -> list[str]:
    lines = [
        "| scenario | expected tier | detected | median delay | p90 delay | tier reached "
        "(watch/warning/firestorm) | tier accuracy (detected) | median delay to expected tier "
        "| detected per series |",
        "|---|---|---:|---:|---:|---|---:|---:|---|",
    ]
    for name, s in summary.items():
        tr = s["tier_reached"]
        accuracy = s["tier_accuracy_of_detected"]
        lines.append(
            f"| {name} | {s['expected_tier']} | {s['detected']}/{s['trials']} | "
            f"{_fmt(s['median_delay_min'])} | {_fmt(s['p90_delay_min'])} | "
            f"{tr['watch']}/{tr['warning']}/{tr['firestorm']} | "
            f"{'–' if accuracy is None else accuracy}"
            f" | {_fmt(s['median_delay_to_expected_tier_min'])} | "
            + ", ".join(f"{k} {v}" for k, v in s["detected_by_series"].items())
            + " |"
        )
    return lines


def _quiet_line(quiet: dict) -> str:
    return (
        f"The same backgrounds without any injection ({quiet['series_weeks']} series-weeks, "
        "real NAB volume, synthetic tone that never shifts): "
        f"{quiet['alarms_per_series_week']} alarms per series-week (by tier "
        f"{quiet['by_tier']}, by trigger {quiet['by_trigger']}); false warnings or "
        f"firestorms: **{quiet['false_warnings_per_series_week']} per series-week**."
    )


def write_region(text: str, path: Path) -> None:
    doc = path.read_text()
    if INJECT_START in doc and INJECT_END in doc:
        before, rest = doc.split(INJECT_START, 1)
        _, after = rest.split(INJECT_END, 1)
        doc = before + text + after
    elif "<!-- surge:end -->" in doc:
        doc = doc.replace("<!-- surge:end -->", text + "\n<!-- surge:end -->", 1)
    else:
        raise SystemExit("docs/benchmarks.md has no surge region: run bench/surge_nab.py first")
    path.write_text(doc)


def run_variant(series: dict, trials: int, seed: int, top_known: bool) -> tuple[dict, dict]:
    """(summary, un-injected alarms) of every scenario, the busiest author known or not."""
    rng = random.Random(seed)
    top_rng = random.Random(seed + 1) if top_known else None
    names = sorted(series)
    backgrounds = {name: background(rng, series[name]["values"], top_rng) for name in names}
    results = []
    for scenario in SCENARIOS:
        for t in range(trials):
            name = names[t % len(names)]
            results.append(run_trial(rng, series[name], backgrounds[name], scenario, top_known))
    return summarise(results), background_alarms(series, backgrounds) | {"results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="seeded injection benchmark of the tiers")
    parser.add_argument("--trials", type=int, default=30, help="trials per scenario")
    parser.add_argument("--seed", type=int, default=20150301)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--variant",
        choices=[*VARIANTS, "both"],
        default="both",
        help="the busiest author known (top_author_count), unknown (0), or both",
    )
    args = parser.parse_args(argv)
    root = nab_dir()
    if root is None:
        print(
            f"SKIP: NAB data not found under {shared_dir() / 'data' / 'nab'} "
            "(set STORMWATCH_SHARED to the folder holding data/nab)."
        )
        return 0
    series = load_nab(root)
    for name in series:
        series[name]["name"] = name
    variants = list(VARIANTS) if args.variant == "both" else [args.variant]
    runs = {v: run_variant(series, args.trials, args.seed, v == "known") for v in variants}
    for variant, (summary, quiet) in runs.items():
        results = quiet.pop("results")
        _print(variant, summary, quiet)
        if args.json:
            print(json.dumps({"summary": summary, "background": quiet, "results": results},
                             indent=2, default=str))  # fmt: skip
    if not args.no_write:
        write_region(render(runs, args.trials, args.seed), REPO / "docs" / "benchmarks.md")
        print("wrote the injection tables into the surge section of docs/benchmarks.md")
    return 0


def _print(variant: str, summary: dict, quiet: dict) -> None:
    print(f"[{VARIANTS[variant]}] un-injected backgrounds: {quiet}")
    for name, s in summary.items():
        print(
            f"{name:12} expected {s['expected_tier']:9} detected {s['detected']}/{s['trials']} "
            f"median delay {s['median_delay_min']} min; reached {s['tier_reached']}; "
            f"accuracy {s['tier_accuracy_of_detected']}; per series {s['detected_by_series']}"
        )


if __name__ == "__main__":
    _ = datetime.now(UTC)
    raise SystemExit(main())
