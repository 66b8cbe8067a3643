"""The shipped detector on real NAB data (skipped when ../shared is absent)."""

from __future__ import annotations

import csv
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stormwatch.surge import Point, backtest, settings_for

REPO = Path(__file__).resolve().parents[2]
NAB = Path(os.environ.get("STORMWATCH_SHARED") or REPO.parent / "shared") / "data" / "nab"

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(
        not (NAB / "labels" / "windows.json").is_file(),
        reason=f"NAB data not found at {NAB} (set STORMWATCH_SHARED); real-data check skipped",
    ),
]


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_given_the_real_facebook_series_when_backtested_then_both_news_spikes_are_flagged():
    # Given NAB's 5-minute counts of tweets mentioning Facebook and its two labelled windows
    name = "realTweets/Twitter_volume_FB.csv"
    with (NAB / name).open(newline="") as handle:
        points = [
            Point(time=_ts(r["timestamp"]), count=float(r["value"])) for r in csv.DictReader(handle)
        ]
    windows = json.loads((NAB / "labels" / "windows.json").read_text())[name]
    labels = [_ts(x) for x in json.loads((NAB / "labels" / "labels.json").read_text())[name]]
    # When the shipped default detector is replayed as the live system runs it (every 15 min)
    alarms = backtest(
        points, settings_for("balanced"), step=timedelta(minutes=5), every=timedelta(minutes=15)
    )
    # Then each labelled window holds an alarm within an hour of the labelled point
    for (a, b), label in zip(windows, labels, strict=True):
        inside = [x.time for x in alarms if _ts(a) <= x.time <= _ts(b)]
        assert inside, f"window {a} .. {b} missed"
        assert min(abs(t - label) for t in inside) <= timedelta(hours=1)
    # And it stays under one alarm per week outside them (about 8 weeks of data)
    outside = [x for x in alarms if not any(_ts(a) <= x.time <= _ts(b) for a, b in windows)]
    assert len(outside) <= 8
