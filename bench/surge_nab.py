"""NAB realTweets benchmark of the shipped surge detector.

    python bench/surge_nab.py [--sensitivity balanced] [--no-write] [--json] [--no-protocol]

Runs ``stormwatch.surge.backtest`` with the shipped default settings (one setting for all five
series, nothing per series) over the NAB realTweets subset in ``../shared/data/nab`` (or
``$STORMWATCH_SHARED/data/nab``), exactly as the live system would see the data: 5-minute
counts aggregated into hourly buckets, evaluated every 15 minutes (the live cadence: the
fastest collector, Hacker News, runs on ``rate(15 minutes)`` in ``template.yaml``, and each
collection run triggers the scorer) with the current hour partial.  A 5-minute row is known
once it has ended; each alarm is mapped to the last row the detector had seen when it fired.

Reports, per NAB profile, the normalised score (``bench/nab_scoring.py``), the windows
detected, false alarms per series-week, the delay of the first alarm in each window relative
to the labelled point and to the window start, and the cost of one ``evaluate`` call on four
weeks of hourly buckets; then the generalisation protocol (issue 9): the one tuned knob picked
by a false-alarm budget on quiet stretches, leave-one-series-out, and the series binomially
thinned to 10 % and 1 % (low-volume topics), each next to the in-sample number.  Rewrites only
the ``surge`` region of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "layers" / "common"))

from nab_scoring import (  # noqa: E402
    PROFILES,
    nab_normalise,
    nab_scaled_sigmoid,
    nab_score_file,
)
from stormwatch.surge import (  # noqa: E402
    DetectorSettings,
    Point,
    backtest,
    evaluate,
    settings_for,
)
from stormwatch.timeutil import floor_hour, parse_timestamp  # noqa: E402

START = "<!-- surge:start -->"
END = "<!-- surge:end -->"
INJECT_START = "<!-- surge-inject:start -->"
INJECT_END = "<!-- surge-inject:end -->"
STEP = timedelta(minutes=5)  # NAB's rows
EVERY = timedelta(minutes=15)  # the live evaluation cadence (template.yaml: rate(15 minutes))


def shared_dir() -> Path:
    return Path(os.environ.get("STORMWATCH_SHARED") or REPO.parent / "shared")


def nab_dir() -> Path | None:
    path = shared_dir() / "data" / "nab"
    return path if (path / "labels" / "windows.json").is_file() else None


def _ts(text: str) -> datetime:
    return parse_timestamp(text, "NAB timestamp", naive_is_utc=True)  # NAB times are UTC


def load_nab(root: Path) -> dict[str, dict]:
    windows = json.loads((root / "labels" / "windows.json").read_text())
    labels = json.loads((root / "labels" / "labels.json").read_text())
    series = {}
    for name in sorted(windows):
        with (root / name).open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        times = [_ts(r["timestamp"]) for r in rows]
        series[name] = {
            "times": times,
            "values": [float(r["value"]) for r in rows],
            "windows": [(_ts(a), _ts(b)) for a, b in windows[name]],
            "labels": [_ts(x) for x in labels.get(name, [])],
        }
    return series


def load_profiles(root: Path) -> dict[str, dict]:
    path = root / "profiles.json"
    if path.is_file():
        data = json.loads(path.read_text())
        return {name: p["CostMatrix"] for name, p in data.items()}
    return PROFILES


def seen_row(times: list[datetime], when: datetime) -> int:
    """The last row the detector had seen at ``when`` (a row is known once it has ended)."""
    return bisect.bisect_right(times, when - STEP) - 1


def detections_from_alarms(times: list[datetime], alarm_times: list[datetime]) -> list[bool]:
    """Mark the last row the detector had seen when each alarm fired."""
    det = [False] * len(times)
    for when in alarm_times:
        i = seen_row(times, when)
        if 0 <= i < len(times):
            det[i] = True
    return det


def run_detector(
    data: dict, settings: DetectorSettings, every: timedelta | None = EVERY
) -> list[datetime]:
    points = [Point(time=t, count=v) for t, v in zip(data["times"], data["values"], strict=True)]
    return [a.time for a in backtest(points, settings, step=STEP, every=every)]


def robust_z_reference(data: dict) -> list[datetime]:
    """The published reference: hourly robust z (7-day median/MAD, z >= 5, 24 h cooldown).

    Evaluated on complete hours only, so it fires at the end of the hour.
    """
    hours: dict[datetime, float] = {}
    for t, v in zip(data["times"], data["values"], strict=True):
        key = floor_hour(t)
        hours[key] = hours.get(key, 0.0) + v
    keys = sorted(hours)
    values = [hours[k] for k in keys]
    fired: list[datetime] = []
    last = None
    for i in range(168, len(keys) - 1):  # the last hour is incomplete
        window = values[i - 168 : i]
        med = statistics.median(window)
        mad = statistics.median(abs(x - med) for x in window) * 1.4826
        z = (values[i] - med) / mad if mad > 0 else 0.0
        when = keys[i] + timedelta(hours=1)
        if z >= 5 and (last is None or when - last >= timedelta(hours=24)):
            fired.append(when)
            last = when
    return fired


def score_all(series: dict, alarms: dict[str, list[datetime]], profiles: dict) -> dict:
    out: dict = {"profiles": {}, "series": {}}
    per_series_week = []
    total_fp = 0
    total_weeks = 0.0
    delays_label = []
    delays_start = []
    detected = 0
    n_windows = 0
    for name, data in series.items():
        det = detections_from_alarms(data["times"], alarms[name])
        fs = nab_score_file(data["times"], det, data["windows"], profiles["standard"])
        start_row = fs.probation_rows
        weeks = (data["times"][-1] - data["times"][start_row]).total_seconds() / (7 * 86400)
        fp = len(fs.false_positives)
        total_fp += fp
        total_weeks += weeks
        per_series_week.append(fp / weeks)
        rows = []
        for w in fs.windows:
            n_windows += 1
            label = next(
                (x for x in data["labels"] if data["times"][w.start] <= x <= data["times"][w.end]),
                None,
            )
            entry = {
                "window": [data["times"][w.start].isoformat(), data["times"][w.end].isoformat()],
                "label": label.isoformat() if label else None,
                "detected": w.first_detection is not None,
            }
            if w.first_detection is not None:
                detected += 1
                fired = min(
                    t for t in alarms[name] if seen_row(data["times"], t) == w.first_detection
                )
                entry["first_alarm"] = fired.isoformat()
                entry["hours_after_window_start"] = round(
                    (fired - data["times"][w.start]).total_seconds() / 3600, 2
                )
                delays_start.append(entry["hours_after_window_start"])
                if label:
                    entry["hours_after_label"] = round((fired - label).total_seconds() / 3600, 2)
                    delays_label.append(entry["hours_after_label"])
            rows.append(entry)
        out["series"][name] = {
            "alarms": len(alarms[name]),
            "false_alarms": fp,
            "scored_weeks": round(weeks, 2),
            "false_alarms_per_week": round(fp / weeks, 3),
            "windows": rows,
        }
    for pname, cost in profiles.items():
        raw = 0.0
        nw = 0
        for name, data in series.items():
            det = detections_from_alarms(data["times"], alarms[name])
            fs = nab_score_file(data["times"], det, data["windows"], cost)
            raw += fs.raw
            nw += len(fs.windows)
        out["profiles"][pname] = round(nab_normalise(raw, nw, cost), 1)
    out["windows_detected"] = detected
    out["windows_total"] = n_windows
    out["false_alarms"] = total_fp
    out["false_alarms_per_series_week"] = round(total_fp / total_weeks, 3) if total_weeks else 0
    out["median_hours_after_label"] = (
        round(statistics.median(delays_label), 2) if delays_label else None
    )
    out["median_hours_after_window_start"] = (
        round(statistics.median(delays_start), 2) if delays_start else None
    )
    return out


def time_evaluate(series: dict, settings: DetectorSettings, repeats: int = 200) -> dict:
    """Cost of one evaluate() call on four weeks (672) of hourly buckets, partial last hour."""
    data = next(iter(series.values()))
    hours: dict[datetime, float] = {}
    for t, v in zip(data["times"], data["values"], strict=True):
        key = floor_hour(t)
        hours[key] = hours.get(key, 0.0) + v
    keys = sorted(hours)[-(672 + 1) :]
    history = [Point(time=k, count=hours[k], negative=0.2 * hours[k], authors=0) for k in keys]
    now = keys[-1] + timedelta(minutes=25)
    samples = []
    cpu = []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        evaluate(history, now, settings)
        samples.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    samples.sort()
    return {
        "hours": len(history),
        # CPU time of this process: other engineers' load on the machine does not inflate it
        "cpu_median_ms": round(statistics.median(cpu), 3),
        "median_ms": round(statistics.median(samples), 3),
        "p95_ms": round(samples[int(0.95 * len(samples)) - 1], 3),
        "min_ms": round(samples[0], 3),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


GRID = (0.9, 1.0, 1.1, 1.2, 1.3, 1.5)  # calibration_margin candidates
VOLUMES = (1.0, 0.1, 0.01)  # the series as recorded, and binomially thinned to 10 % and 1 %
THIN_SEED = 20150226
FA_BUDGET = 1.0  # alarms per topic-week on quiet stretches the product accepts (issue 9)


def thin(data: dict, fraction: float, seed: int = THIN_SEED) -> dict:
    """Binomial thinning of the counts (each mention kept with probability ``fraction``),
    same labels: the same topic as a niche one.  Seeded, so a run is reproducible."""
    if fraction >= 1.0:
        return data
    rng = random.Random(f"{seed}:{fraction}:{data['values'][:50]}")
    values = [float(rng.binomialvariate(int(v), fraction)) for v in data["values"]]
    return {**data, "values": values}


class Runs:
    """Alarms per (series, volume, margin), computed once."""

    def __init__(self, series: dict, base: DetectorSettings):
        self.series = series
        self.base = base
        self.thinned = {(n, v): thin(d, v) for n, d in series.items() for v in VOLUMES}
        self.cache: dict[tuple[str, float, float], list[datetime]] = {}

    def alarms(self, name: str, volume: float, margin: float) -> list[datetime]:
        key = (name, volume, margin)
        if key not in self.cache:
            settings = replace(self.base, calibration_margin=margin)
            self.cache[key] = run_detector(self.thinned[(name, volume)], settings)
        return self.cache[key]

    def score(self, names: list[str], volume: float, margin: float, profiles: dict) -> dict:
        data = {n: self.thinned[(n, volume)] for n in names}
        return score_all(data, {n: self.alarms(n, volume, margin) for n in names}, profiles)


def quiet_rate(runs: Runs, names: list[str], margin: float, profiles: dict) -> float:
    """Alarms per topic-week outside the labelled windows (the quiet stretches), averaged over
    the three volumes.  Labels only say where the quiet stretches are; no score is used."""
    rates = [
        runs.score(names, v, margin, profiles)["false_alarms_per_series_week"] for v in VOLUMES
    ]
    return sum(rates) / len(rates)


def pick_margin(runs: Runs, names: list[str], profiles: dict) -> float:
    """The lowest bar within the false-alarm budget on these series' quiet stretches."""
    within = [z for z in GRID if quiet_rate(runs, names, z, profiles) <= FA_BUDGET]
    return min(within) if within else max(GRID)


def held_out_scores(runs: Runs, picks: dict[str, float], volume: float, profiles: dict) -> dict:
    """Each series scored with the margin picked without it; NAB's sums over the five."""
    raw = {p: 0.0 for p in profiles}
    windows, found, fp, weeks = 0, 0, 0, 0.0
    for name, margin in picks.items():
        r = runs.score([name], volume, margin, profiles)
        for p, cost in profiles.items():
            raw[p] += _raw(runs, name, volume, margin, cost)
        windows += r["windows_total"]
        found += r["windows_detected"]
        fp += r["false_alarms"]
        weeks += r["series"][name]["scored_weeks"]
    return {
        "profiles": {p: round(nab_normalise(raw[p], windows, c), 1) for p, c in profiles.items()},
        "windows": f"{found}/{windows}",
        "false_alarms_per_series_week": round(fp / weeks, 3),
    }


def _raw(runs: Runs, name: str, volume: float, margin: float, cost: dict) -> float:
    d = runs.thinned[(name, volume)]
    det = detections_from_alarms(d["times"], runs.alarms(name, volume, margin))
    return nab_score_file(d["times"], det, d["windows"], cost).raw


def protocol(series: dict, profiles: dict, base: DetectorSettings) -> dict:
    """Leave-one-series-out by the false-alarm budget, at each volume, next to in sample."""
    runs = Runs(series, base)
    names = list(series)
    loso_picks = {n: pick_margin(runs, [m for m in names if m != n], profiles) for n in names}
    all_pick = pick_margin(runs, names, profiles)
    out: dict = {"grid": list(GRID), "budget": FA_BUDGET, "loso_picks": loso_picks}
    out["in_sample_pick"] = all_pick
    out["quiet_rates"] = {z: round(quiet_rate(runs, names, z, profiles), 3) for z in GRID}
    for volume in VOLUMES:
        shipped = runs.score(names, volume, base.calibration_margin, profiles)
        out[str(volume)] = {
            "shipped": {
                "profiles": shipped["profiles"],
                "windows": f"{shipped['windows_detected']}/{shipped['windows_total']}",
                "false_alarms_per_series_week": shipped["false_alarms_per_series_week"],
            },
            "loso": held_out_scores(runs, loso_picks, volume, profiles),
            "in_sample": held_out_scores(runs, dict.fromkeys(names, all_pick), volume, profiles),
        }
    return out


def ceiling(series: dict, profiles: dict, alarms: dict[str, list[datetime]]) -> dict:
    """The best standard score this detector's detections allow: every false alarm removed."""
    cost = profiles["standard"]
    raw, nw = 0.0, 0
    for name, data in series.items():
        fs = nab_score_file(
            data["times"],
            detections_from_alarms(data["times"], alarms[name]),
            data["windows"],
            cost,
        )
        raw += sum(w.score for w in fs.windows)
        nw += len(fs.windows)
    # every window found exactly at its labelled point (about 0.86 each), no false alarm
    at_label = nab_scaled_sigmoid(-0.5) / nab_scaled_sigmoid(-1.0)
    return {
        "without_false_alarms": round(nab_normalise(raw, nw, cost), 1),
        "all_windows_at_label_no_false_alarms": round(nab_normalise(at_label * nw, nw, cost), 1),
        "one_window_missed_rest_at_label": round(
            nab_normalise(at_label * (nw - 1) - cost["fnWeight"], nw, cost), 1
        ),
    }


def render_protocol(pr: dict) -> list[str]:
    lines = [
        "",
        "### Generalisation: leave-one-series-out and low volume",
        "",
        "The one tuned knob, `calibration_margin`, is picked without looking at detections: "
        f"the lowest value in {pr['grid']} whose alarms on the quiet stretches (outside the "
        f"labelled windows) stay within **{pr['budget']} per topic-week**, averaged over the "
        "series as recorded and thinned to 10 % and 1 %. Leave-one-series-out: picked on four "
        "series, the fifth scored with it. In sample: picked on all five. Thinned: every "
        "5-minute count binomially thinned (each mention kept with probability 10 % or 1 %, "
        f"seed {THIN_SEED}), same labels - the same topics as niche ones.",
        "",
        "Picks: leave-one-series-out "
        + ", ".join(
            f"{n.split('_')[-1].removesuffix('.csv')} {m}" for n, m in pr["loso_picks"].items()
        )
        + f"; on all five {pr['in_sample_pick']}. Alarms per topic-week on the quiet "
        "stretches by margin: "
        + ", ".join(f"{z}: {r}" for z, r in pr["quiet_rates"].items())
        + ".",
        "",
        "| volume | run | standard | reward low FP | reward low FN | windows | FA / series-week |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for volume in ("1.0", "0.1", "0.01"):
        label = {"1.0": "as recorded", "0.1": "thinned to 10 %", "0.01": "thinned to 1 %"}[volume]
        rows = pr[volume]
        for run, name in (
            ("shipped", "shipped default"),
            ("loso", "leave-one-series-out"),
            ("in_sample", "in sample (picked on all five)"),
        ):
            r = rows[run]
            p = r["profiles"]
            lines.append(
                f"| {label} | {name} | {p['standard']} | {p['reward_low_FP_rate']} | "
                f"{p['reward_low_FN_rate']} | {r['windows']} | "
                f"{r['false_alarms_per_series_week']} |"
            )
        gap = rows["in_sample"]["profiles"]["standard"] - rows["loso"]["profiles"]["standard"]
        lines.append(f"| {label} | in sample minus leave-one-series-out | {gap:+.1f} | | | | |")
    return lines


def render(result: dict) -> str:
    det = result["detector"]
    ref = result["reference"]
    s = result["settings"]
    lines = [
        START,
        "## Surge detector on NAB realTweets",
        "",
        f"_Script `bench/surge_nab.py` ({result['date']}, Python {result['python']}, "
        f"{result['machine']}). Data: the five NAB realTweets series in `../shared/data/nab` "
        "(5-minute counts, 16 labelled windows); scored with our own implementation of NAB's "
        "scoring (`bench/nab_scoring.py`: windows, scaled sigmoid, 15 % probation, the three "
        "profiles, null/perfect normalisation)._",
        "",
        f"Shipped defaults, sensitivity **{s['sensitivity']}**, one setting for all series "
        f"(threshold z ≥ {s['threshold_z']} and ≥ {s['calibration_margin']} × the topic's "
        f"usual weekly maximum score, min ratio {s['min_ratio']}, min count "
        f"{s['min_count']}, cooldown {s['cooldown_hours']} h). The detector sees the data as the "
        f"live system would: hourly buckets, evaluated every {result['every_minutes']} minutes "
        "(the live cadence: the fastest collector runs every 15 minutes and each run triggers "
        "the scorer) on the partial hour; a 5-minute row counts once it has ended.",
        "",
        "| detector | standard | reward low FP | reward low FN | windows found | "
        "false alarms / series-week | median first alarm vs label | vs window start |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in (("stormwatch surge (shipped defaults)", det), ("robust z reference", ref)):
        p = r["profiles"]
        lines.append(
            f"| {label} | {p['standard']} | {p['reward_low_FP_rate']} | "
            f"{p['reward_low_FN_rate']} | {r['windows_detected']}/{r['windows_total']} | "
            f"{r['false_alarms_per_series_week']} | {r['median_hours_after_label']:+} h | "
            f"{r['median_hours_after_window_start']:+} h |"
        )
    lines += [
        "",
        "Published on these five series, standard profile, thresholds tuned on all realTweets: "
        "ARTime 85.7, CAD-OSE 69.8, Numenta HTM 66.6, Twitter ADVec 63.1; hourly robust z "
        '(7-day median/MAD, z ≥ 5, 24 h cooldown) 75.4. The "robust z reference" row is our '
        "re-implementation of that last one, scored by our scorer, as a check on the scorer.",
        "",
        "Per window (first alarm of the shipped detector; delays in hours, negative = before):",
        "",
        "| series | window | label | first alarm | vs label | vs window start |",
        "|---|---|---|---|---:|---:|",
    ]
    for name, info in det["series"].items():
        short = name.split("_")[-1].removesuffix(".csv")
        for w in info["windows"]:
            lines.append(
                f"| {short} | {w['window'][0][:16]} … {w['window'][1][:16]} | "
                f"{(w['label'] or '')[:16]} | {w.get('first_alarm', 'missed')[:16]} | "
                f"{w.get('hours_after_label', '–')} | {w.get('hours_after_window_start', '–')} |"
            )
    lines += [
        "",
        "| series | alarms | false alarms | scored weeks | false alarms / week |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, info in det["series"].items():
        short = name.split("_")[-1].removesuffix(".csv")
        lines.append(
            f"| {short} | {info['alarms']} | {info['false_alarms']} | {info['scored_weeks']} | "
            f"{info['false_alarms_per_week']} |"
        )
    c = result["cost"]
    lines += [
        "",
        f"Cost of one `evaluate()` on {c['hours']} hourly buckets (4 weeks, partial last hour), "
        f"pure Python: median **{c['cpu_median_ms']} ms CPU time**; wall clock median "
        f"{c['median_ms']} ms, p95 {c['p95_ms']} ms, fastest {c['min_ms']} ms (1-minute load "
        f"average {c['load_average_1min']} while measuring: the machine is shared).",
    ]
    if "sensitivities" in result:
        lines += [
            "",
            "Other sensitivities (same data, same scorer):",
            "",
            "| sensitivity | standard | reward low FP | reward low FN | windows "
            "| FA / series-week |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, r in result["sensitivities"].items():
            p = r["profiles"]
            lines.append(
                f"| {name} | {p['standard']} | {p['reward_low_FP_rate']} | "
                f"{p['reward_low_FN_rate']} | {r['windows_detected']}/{r['windows_total']} | "
                f"{r['false_alarms_per_series_week']} |"
            )
    if "protocol" in result:
        lines += render_protocol(result["protocol"])
    if "ceiling" in result:
        c = result["ceiling"]
        lines += [
            "",
            "Ceiling (standard profile): these detections without any false alarm would score "
            f"{c['without_false_alarms']}; every window found exactly at its labelled point "
            f"without false alarms {c['all_windows_at_label_no_false_alarms']}, with one window "
            f"missed {c['one_window_missed_rest_at_label']}. NAB centres each window on its "
            "label, so a detector that fires when the labelled event happens earns about 0.86 "
            "of a window; more needs alarms hours before the labelled point.",
        ]
    lines += [
        "",
        "Honesty note: the margin is picked by the false-alarm budget (the labels only mark "
        "the quiet stretches), and 0.9 is the lowest margin the grid holds. The structural "
        "choices of this round (plain z instead of exact tail scores, leaving storm hours out "
        "instead of capping them, the storm line 20) were compared on these same five series, "
        "as recorded and thinned, while it was developed; so the leave-one-series-out rows test "
        "the margin, not those choices. The five NAB realTweets series kept aside (never read "
        "here) are the test of those.",
        END,
    ]
    return "\n".join(lines)


def write_region(text: str, path: Path) -> None:
    doc = path.read_text() if path.is_file() else "# Benchmarks\n\n"
    if START in doc and END in doc:
        before, rest = doc.split(START, 1)
        old, after = rest.split(END, 1)
        # keep the injection table bench/surge_inject.py writes inside this region
        if INJECT_START in old and INJECT_END in old and INJECT_START not in text:
            inject = INJECT_START + old.split(INJECT_START, 1)[1].split(INJECT_END, 1)[0]
            text = text.replace(END, inject + INJECT_END + "\n" + END)
        doc = before + text + after
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(doc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sensitivity", default="balanced")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    parser.add_argument("--all-sensitivities", action="store_true")
    parser.add_argument(
        "--every", type=int, default=15, help="evaluation cadence in minutes (live: 15)"
    )
    parser.add_argument(
        "--no-protocol", action="store_true", help="skip leave-one-series-out and thinning"
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
    profiles = load_profiles(root)
    settings = settings_for(args.sensitivity)
    every = timedelta(minutes=args.every)
    t0 = time.perf_counter()
    alarms = {name: run_detector(data, settings, every) for name, data in series.items()}
    elapsed = time.perf_counter() - t0
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "settings": {
            "sensitivity": settings.sensitivity,
            "threshold_z": settings.threshold_z,
            "calibration_margin": settings.calibration_margin,
            "min_ratio": settings.min_ratio,
            "min_count": settings.min_count,
            "cooldown_hours": settings.cooldown_hours,
        },
        "every_minutes": args.every,
        "detector": score_all(series, alarms, profiles),
        "ceiling": ceiling(series, profiles, alarms),
        "reference": score_all(
            series, {n: robust_z_reference(d) for n, d in series.items()}, profiles
        ),
        "cost": time_evaluate(series, settings),
        "backtest_seconds": round(elapsed, 2),
    }
    if args.all_sensitivities:
        result["sensitivities"] = {
            name: score_all(
                series,
                {n: run_detector(d, settings_for(name), every) for n, d in series.items()},
                profiles,
            )
            for name in ("fewer", "balanced", "more")
        }
    if not args.no_protocol:
        result["protocol"] = protocol(series, profiles, settings)
    d = result["detector"]
    print(
        f"surge detector ({settings.sensitivity}): "
        + ", ".join(f"{k} {v}" for k, v in d["profiles"].items())
        + f"; windows {d['windows_detected']}/{d['windows_total']}; false alarms/series-week "
        f"{d['false_alarms_per_series_week']}; median first alarm vs label "
        f"{d['median_hours_after_label']} h; evaluate() {result['cost']['cpu_median_ms']} ms CPU"
    )
    r = result["reference"]
    print("robust z reference: " + ", ".join(f"{k} {v}" for k, v in r["profiles"].items()))
    if "protocol" in result:
        print(f"protocol: {json.dumps(result['protocol'])}")
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    if not args.no_write:
        write_region(render(result), REPO / "docs" / "benchmarks.md")
        print("wrote the surge section of docs/benchmarks.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
