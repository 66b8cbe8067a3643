"""An independent implementation of the Numenta Anomaly Benchmark (NAB v1.1) scoring.

Written from NAB's published description and its scorer's behaviour (numenta/NAB,
``nab/sweeper.py`` and ``nab/runner.py``; no code copied):

* Each labelled window is a range of rows.  The first detection inside a window scores
  ``tpWeight * S(p) / S(-1)``, where ``p = -(right - i + 1) / width`` is the detection's
  relative position (-1 at the left edge, about 0 at the right edge) and ``S(x) = 2 *
  sigmoid(-5 x) - 1`` is the scaled sigmoid.  A window with no detection scores ``-fnWeight``.
  Later detections in the same window do not add anything.
* A detection outside every window is a false positive scoring ``fpWeight * S(d)``, where
  ``d = |i - right_prev| / (width_prev - 1)`` is its distance past the preceding window in
  window widths; before the first window, and from three widths on, ``S`` is -1.
* The first ``min(floor(0.15 n), 0.15 * 5000)`` rows are probationary: detections there, and
  windows starting there, are not scored.
* The raw scores of all files are summed and normalised to 0 (the null detector: every
  window missed, ``-fnWeight`` each) .. 100 (every window detected at its left edge, without
  false positives): ``100 * (raw - null) / (perfect - null)``.

Pure Python, no NAB or pandas dependency, so the benchmark runs anywhere the package does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

PROBATION_PERCENT = 0.15

# NAB's three application profiles (config/profiles.json); the benchmark reads the shared
# copy when present and falls back to these.
PROFILES = {
    "standard": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0},
    "reward_low_FP_rate": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.22, "tnWeight": 1.0},
    "reward_low_FN_rate": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11, "tnWeight": 1.0},
}


def nab_scaled_sigmoid(position: float) -> float:
    """NAB's scaled sigmoid: ~0.987 at -1 (window start), 0 at 0 (window end), -1 from 3."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def nab_probation_rows(n_rows: int, percent: float = PROBATION_PERCENT) -> int:
    return int(min(math.floor(percent * n_rows), percent * 5000))


@dataclass
class WindowResult:
    start: int  # row index of the window's first row
    end: int  # row index of the window's last row
    first_detection: int | None  # row index of the first detection inside, if any
    score: float  # weighted contribution of this window


@dataclass
class FileScore:
    raw: float
    windows: list[WindowResult] = field(default_factory=list)
    false_positives: list[int] = field(default_factory=list)  # row indices
    fp_score: float = 0.0
    probation_rows: int = 0


def nab_window_rows(
    timestamps: Sequence[datetime], windows: Sequence[tuple[datetime, datetime]]
) -> list[tuple[int, int]]:
    """Row ranges (inclusive) of the windows: rows whose timestamp lies within [start, end]."""
    out = []
    for start, end in windows:
        rows = [i for i, t in enumerate(timestamps) if start <= t <= end]
        if rows:
            out.append((rows[0], rows[-1]))
    return sorted(out)


def nab_score_file(
    timestamps: Sequence[datetime],
    detections: Sequence[bool],
    windows: Sequence[tuple[datetime, datetime]],
    cost: dict,
    *,
    probation_percent: float = PROBATION_PERCENT,
) -> FileScore:
    """Raw NAB score of one data file for one profile (cost matrix)."""
    if len(timestamps) != len(detections):
        raise ValueError("timestamps and detections differ in length")
    n = len(timestamps)
    probation = nab_probation_rows(n, probation_percent)
    tp_w, fp_w, fn_w = cost["tpWeight"], cost["fpWeight"], cost["fnWeight"]
    max_tp = nab_scaled_sigmoid(-1.0)
    ranges = nab_window_rows(timestamps, windows)
    # windows that start inside the probationary period are not scored (as in NAB)
    results = [WindowResult(a, b, None, -fn_w) for a, b in ranges if a >= probation]
    result = FileScore(raw=0.0, windows=results, probation_rows=probation)
    by_start = {w.start: w for w in results}
    in_window = [None] * n
    for a, b in ranges:
        for i in range(a, b + 1):
            in_window[i] = (a, b)

    prev_end: int | None = None
    prev_width = 0
    for i in range(n):
        span = in_window[i]
        if span is not None:
            a, b = span
            if detections[i] and i >= probation and a in by_start:
                w = by_start[a]
                if w.first_detection is None:
                    width = b - a + 1
                    position = -(b - i + 1) / width
                    w.first_detection = i
                    w.score = nab_scaled_sigmoid(position) * tp_w / max_tp
            if i == b:
                prev_end, prev_width = b, b - a + 1
        elif detections[i] and i >= probation:
            # distance past the preceding window, in window widths (3 = "far": full penalty)
            distance = 3.0 if prev_end is None else abs(i - prev_end) / max(prev_width - 1, 1)
            result.fp_score += nab_scaled_sigmoid(distance) * fp_w
            result.false_positives.append(i)
    result.raw = sum(w.score for w in results) + result.fp_score
    return result


def nab_normalise(raw_total: float, n_windows: int, cost: dict) -> float:
    """NAB's normalised score: 0 = null detector, 100 = perfect detector."""
    null = -cost["fnWeight"] * n_windows
    perfect = cost["tpWeight"] * n_windows
    if perfect == null:
        return 0.0
    return 100.0 * (raw_total - null) / (perfect - null)


def nab_score_corpus(files: dict[str, tuple[Sequence[datetime], Sequence[bool], list]], cost: dict):
    """Score several files under one profile; returns (normalised score, {name: FileScore})."""
    per_file = {
        name: nab_score_file(ts, det, wins, cost) for name, (ts, det, wins) in files.items()
    }
    raw = sum(f.raw for f in per_file.values())
    n_windows = sum(len(f.windows) for f in per_file.values())
    return nab_normalise(raw, n_windows, cost), per_file
