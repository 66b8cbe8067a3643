"""`stormwatch backtest --csv`: replay the shipped detector over a CSV and print its alarms."""

from __future__ import annotations

import io
import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stormwatch.backtest import read_points, run_cli

START = datetime(2025, 3, 3, tzinfo=UTC)


def write_series(path: Path, *, surge_at: int | None = None, negative: bool = False) -> Path:
    """Three weeks of hourly counts with a daily rhythm, optionally a negative surge."""
    rng = random.Random(1)
    header = "timestamp,value,neg\n" if negative else "timestamp,value\n"
    lines = [header]
    for i in range(21 * 24):
        t = START + timedelta(hours=i)
        mu = 80 * (1 + 0.5 * math.sin((t.hour - 9) / 24 * 2 * math.pi))
        n = round(rng.gammavariate(mu / 4, 4))
        share = 0.15
        if surge_at is not None and surge_at <= i < surge_at + 3:
            n *= 8
            share = 0.7
        row = f"{t:%Y-%m-%d %H:%M:%S},{n}"
        if negative:
            row += f",{round(n * share)}"
        lines.append(row + "\n")
    path.write_text("".join(lines))
    return path


def test_given_a_csv_with_a_surge_when_backtested_with_json_then_it_prints_the_alarm(tmp_path):
    # Given an hourly CSV with a surge starting on day 18 at 14:00
    csv = write_series(tmp_path / "s.csv", surge_at=18 * 24 + 14, negative=True)
    out = io.StringIO()
    # When `stormwatch backtest --csv s.csv --negative-col neg --json` runs
    status = run_cli(["--csv", str(csv), "--negative-col", "neg", "--json"], out)
    # Then it prints the documented JSON: alarms with ISO time, tier, evidence, and a summary
    assert status == 0
    data = json.loads(out.getvalue())
    assert set(data) == {"alarms", "summary"}
    fired = [a for a in data["alarms"] if a["time"] >= "2025-03-21T14:00:00Z"]
    assert fired, data
    first = fired[0]
    assert first["time"] <= "2025-03-21T15:00:00Z"
    assert first["tier"] in ("warning", "firestorm")
    assert first["evidence"]["negative_share"] > first["evidence"]["usual_negative_share"]
    assert data["summary"]["alarms"] == len(data["alarms"])


def test_given_a_csv_when_backtested_without_json_then_a_readable_table_is_printed(tmp_path):
    # Given a CSV with a surge
    csv = write_series(tmp_path / "s.csv", surge_at=18 * 24 + 14)
    out = io.StringIO()
    # When run without --json
    assert run_cli(["--csv", str(csv)], out) == 0
    # Then a table with the firing time, tier and observed/expected columns is printed
    text = out.getvalue()
    assert "fires at (UTC)" in text
    assert "2025-03-21 15:00:00" in text  # hourly data: fires when the hour is complete
    assert "watch" in text
    assert "alarms (" in text


def test_given_a_missing_column_when_backtested_then_the_error_names_it(tmp_path):
    # Given a CSV without the column the user asked for
    csv = write_series(tmp_path / "s.csv")
    out, err = io.StringIO(), io.StringIO()
    # When --count-col names a column that is not there
    status = run_cli(["--csv", str(csv), "--count-col", "mentions"], out, err)
    # Then it fails with status 2 naming the column and the header it found
    assert status == 2
    assert "'mentions'" in err.getvalue()
    assert "timestamp, value" in err.getvalue()


def test_given_a_bad_timestamp_when_backtested_then_the_error_names_the_line(tmp_path):
    # Given a CSV whose third line has a broken timestamp
    csv = tmp_path / "bad.csv"
    csv.write_text("timestamp,value\n2025-03-03 00:00:00,4\n03/03/2025 1am,5\n")
    out, err = io.StringIO(), io.StringIO()
    # When backtested
    status = run_cli(["--csv", str(csv)], out, err)
    # Then the error points at line 3 and the bad value
    assert status == 2
    assert "line 3" in err.getvalue()
    assert "03/03/2025 1am" in err.getvalue()


def test_given_a_bad_number_when_read_then_the_error_names_line_and_column(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("timestamp,value\n2025-03-03 00:00:00,4\n2025-03-03 01:00:00,many\n")
    with pytest.raises(ValueError, match=r"line 3: bad number in column 'value'"):
        read_points(str(csv))


def test_given_daily_data_when_backtested_then_it_explains_hourly_or_finer_is_needed(tmp_path):
    # Given one row per day
    csv = tmp_path / "daily.csv"
    rows = [f"{(START + timedelta(days=i)):%Y-%m-%d},{100 + i}" for i in range(30)]
    csv.write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    out, err = io.StringIO(), io.StringIO()
    # When backtested
    # Then it refuses with a clear message instead of inventing 23 empty hours a day
    assert run_cli(["--csv", str(csv)], out, err) == 2
    assert "hourly" in err.getvalue()


def test_given_an_unknown_sensitivity_when_run_then_usage_error(tmp_path):
    csv = write_series(tmp_path / "s.csv")
    out, err = io.StringIO(), io.StringIO()
    assert run_cli(["--csv", str(csv), "--sensitivity", "loud"], out, err) == 2
    assert "sensitivity" in err.getvalue()


def test_given_a_missing_file_when_run_then_it_says_so(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert run_cli(["--csv", str(tmp_path / "nope.csv")], out, err) == 2
    assert "nope.csv" in err.getvalue()


def test_given_fewer_alerts_when_backtested_then_no_more_alarms_than_balanced(tmp_path):
    # Given the same series
    csv = write_series(tmp_path / "s.csv", surge_at=18 * 24 + 14)
    counts = {}
    for sensitivity in ("fewer", "balanced", "more"):
        out = io.StringIO()
        # When backtested at each sensitivity
        assert run_cli(["--csv", str(csv), "--sensitivity", sensitivity, "--json"], out) == 0
        counts[sensitivity] = json.loads(out.getvalue())["summary"]["alarms"]
    # Then fewer <= balanced <= more, and the surge is found by all
    assert 1 <= counts["fewer"] <= counts["balanced"] <= counts["more"]
