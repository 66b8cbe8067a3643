"""Our NAB scorer (bench/nab_scoring.py) reproduces NAB's published scoring rules."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from nab_scoring import (
    PROFILES,
    nab_normalise,
    nab_probation_rows,
    nab_scaled_sigmoid,
    nab_score_corpus,
    nab_score_file,
)

T0 = datetime(2015, 3, 1, tzinfo=UTC)
STD = PROFILES["standard"]


def timeline(n: int = 2000) -> list[datetime]:
    return [T0 + timedelta(minutes=5 * i) for i in range(n)]


def window(ts: list[datetime], a: int, b: int) -> tuple[datetime, datetime]:
    return (ts[a], ts[b])


def test_given_the_scaled_sigmoid_then_it_has_nabs_documented_values():
    # NAB's documentation: -1 -> 0.98661, -0.5 -> 0.84828, 0 -> 0, 1 -> -0.98661, >= 3 -> -1
    assert nab_scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert nab_scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert nab_scaled_sigmoid(0.0) == pytest.approx(0.0)
    assert nab_scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert nab_scaled_sigmoid(3.0) == -1.0


def test_given_file_lengths_then_probation_is_15_percent_capped_at_750_rows():
    assert nab_probation_rows(2000) == 300
    assert nab_probation_rows(15902) == 750


def test_given_no_detections_then_each_window_costs_fn_weight_and_normalises_to_zero():
    ts = timeline()
    wins = [window(ts, 500, 599), window(ts, 1200, 1299)]
    score = nab_score_file(ts, [False] * len(ts), wins, STD)
    assert score.raw == pytest.approx(-2.0)
    assert nab_normalise(score.raw, 2, STD) == pytest.approx(0.0)


def test_given_detections_at_each_window_start_then_the_score_is_perfect():
    ts = timeline()
    wins = [window(ts, 500, 599), window(ts, 1200, 1299)]
    det = [i in (500, 1200) for i in range(len(ts))]
    score = nab_score_file(ts, det, wins, STD)
    assert score.raw == pytest.approx(2.0)
    assert nab_normalise(score.raw, 2, STD) == pytest.approx(100.0)


def test_given_a_late_detection_then_it_earns_less_and_only_the_first_one_counts():
    ts = timeline()
    wins = [window(ts, 500, 599)]
    middle = [i in (550, 560, 599) for i in range(len(ts))]
    score = nab_score_file(ts, middle, wins, STD)
    # position of row 550 is -(599 - 550 + 1) / 100 = -0.5
    assert score.windows[0].first_detection == 550
    assert score.raw == pytest.approx(nab_scaled_sigmoid(-0.5) / nab_scaled_sigmoid(-1.0))
    assert score.false_positives == []


def test_given_false_positives_then_they_cost_fp_weight_less_when_just_after_a_window():
    ts = timeline()
    wins = [window(ts, 500, 599)]
    # Before any window: a full -fpWeight
    before = nab_score_file(ts, [i == 400 for i in range(len(ts))], wins, STD)
    assert before.fp_score == pytest.approx(-0.11)
    # Just after the window: almost free; far after it: a full -fpWeight
    just_after = nab_score_file(ts, [i == 605 for i in range(len(ts))], wins, STD)
    far_after = nab_score_file(ts, [i == 1500 for i in range(len(ts))], wins, STD)
    assert -0.11 < just_after.fp_score < -0.01
    assert far_after.fp_score == pytest.approx(-0.11)


def test_given_detections_in_probation_then_they_are_ignored():
    ts = timeline()
    wins = [window(ts, 500, 599)]
    score = nab_score_file(ts, [i == 10 for i in range(len(ts))], wins, STD)
    assert score.false_positives == []
    assert score.raw == pytest.approx(-1.0)


def test_given_the_low_fn_profile_then_misses_cost_double_and_normalisation_follows():
    ts = timeline()
    wins = [window(ts, 500, 599)]
    low_fn = PROFILES["reward_low_FN_rate"]
    miss = nab_score_file(ts, [False] * len(ts), wins, low_fn)
    assert miss.raw == pytest.approx(-2.0)
    assert nab_normalise(miss.raw, 1, low_fn) == pytest.approx(0.0)
    # half the raw range: detecting nothing but with raw score -0.5 -> (1.5 / 3) = 50
    assert nab_normalise(-0.5, 1, low_fn) == pytest.approx(50.0)


def test_given_several_files_then_the_corpus_score_pools_raw_scores():
    ts = timeline()
    wins = [window(ts, 500, 599)]
    files = {
        "a": (ts, [i == 500 for i in range(len(ts))], wins),
        "b": (ts, [False] * len(ts), wins),
    }
    score, per_file = nab_score_corpus(files, STD)
    assert score == pytest.approx(50.0)
    assert set(per_file) == {"a", "b"}


def test_given_an_alarm_on_the_live_clock_then_it_is_credited_to_the_last_row_that_had_ended():
    # Given NAB-style 5-minute rows stamped at :02:53, :07:53, ... and an alarm at 21:15:00
    from surge_nab import detections_from_alarms

    rows = [
        datetime(2015, 3, 11, 20, 57, 53, tzinfo=UTC) + timedelta(minutes=5 * i) for i in range(6)
    ]
    alarm = datetime(2015, 3, 11, 21, 15, tzinfo=UTC)
    # When the alarm is mapped to a row
    det = detections_from_alarms(rows, [alarm])
    # Then it marks 21:07:53 (ended 21:12:53), not 21:12:53, which was still open at 21:15
    assert [r.strftime("%H:%M:%S") for r, d in zip(rows, det, strict=True) if d] == ["21:07:53"]


def test_given_a_series_when_thinned_then_it_keeps_its_labels_and_about_that_share_of_mentions():
    # Given a 5-minute series with a labelled window
    from surge_nab import thin

    ts = [datetime(2015, 3, 1, tzinfo=UTC) + timedelta(minutes=5 * i) for i in range(2000)]
    data = {"times": ts, "values": [float(40 + i % 7) for i in range(2000)], "windows": [1]}
    # When thinned to 10 % twice with the fixed seed
    once, again = thin(data, 0.1), thin(data, 0.1)
    # Then it is reproducible, keeps times and labels, never adds mentions, keeps about 10 %
    assert once["values"] == again["values"]
    assert once["times"] is ts and once["windows"] == [1]
    assert all(0 <= t <= v for t, v in zip(once["values"], data["values"], strict=True))
    assert sum(once["values"]) == pytest.approx(0.1 * sum(data["values"]), rel=0.05)
    assert thin(data, 1.0) is data
