"""`stormwatch backtest --topic`: the detector replayed over a topic's stored hourly buckets."""

from __future__ import annotations

import io
import json
import math
import random
from datetime import UTC, datetime, timedelta

from stormwatch.backtest import read_topic_points, run_cli
from stormwatch.models import HourBucket
from stormwatch.store import Store

START = datetime(2025, 3, 3, tzinfo=UTC)
SURGE = START + timedelta(days=14, hours=15)
HOUR = timedelta(hours=1)


def store_history(table: str, dynamodb, *, days: int = 15, surge: bool = True) -> None:
    """Two weeks of ordinary hourly buckets with a daily rhythm, then one loud negative hour."""
    rng = random.Random(4)
    rows = []
    for i in range(days * 24):
        hour = START + timedelta(hours=i)
        mu = 40 * (1 + 0.5 * math.sin((hour.hour - 9) / 24 * 2 * math.pi))
        count = max(0, round(rng.gauss(mu, 0.15 * mu)))
        negative = round(count * 0.15)
        if surge and hour == SURGE:
            count, negative = 8 * count, round(8 * count * 0.7)
        authors = [f"user{rng.randrange(10**6)}" for _ in range(round(count * 0.9))]
        bucket = HourBucket(
            topic="acme-cloud",
            hour=hour,
            count=count,
            negative=negative,
            neutral=count - negative,
            engagement=3 * count,
        )
        rows.append((bucket, authors))
    Store(dynamodb, table).put_baseline_buckets(rows)


def test_given_stored_buckets_with_a_surge_when_backtested_by_topic_then_it_fires_there(
    table, dynamodb
):
    # Given a topic's two weeks of stored buckets with one loud negative hour
    store_history(table, dynamodb)
    out, err = io.StringIO(), io.StringIO()
    until = (START + timedelta(days=15)).isoformat()
    # When `stormwatch backtest --topic` replays them from the table
    status = run_cli(
        ["--topic", "acme-cloud", "--table", table, "--until", until, "--json"], out, err
    )
    # Then exactly one alarm fires, at the end of the surge hour, with the store's sentiment
    # and authors behind its tier
    assert status == 0, err.getvalue()
    result = json.loads(out.getvalue())
    assert [a["time"] for a in result["alarms"]] == ["2025-03-17T16:00:00Z"]
    alarm = result["alarms"][0]
    assert alarm["tier"] == "firestorm"
    assert alarm["evidence"]["negative_share"] > 0.5
    assert alarm["evidence"]["authors"] > 100
    assert result["summary"]["points"] == 15 * 24


def test_given_a_quiet_stored_topic_when_backtested_with_sensitivities_then_fewer_alarms_or_same(
    table, dynamodb
):
    # Given stored buckets with the surge
    store_history(table, dynamodb)
    until = (START + timedelta(days=15)).isoformat()
    counts = {}
    # When replayed at each sensitivity
    for sensitivity in ("fewer", "balanced", "more"):
        out = io.StringIO()
        args = ["--topic", "acme-cloud", "--table", table, "--until", until]
        assert run_cli([*args, "--sensitivity", sensitivity, "--json"], out) == 0
        counts[sensitivity] = len(json.loads(out.getvalue())["alarms"])
    # Then every sensitivity finds the surge, and "more" never alarms less than "fewer"
    assert counts["fewer"] >= 1
    assert counts["fewer"] <= counts["balanced"] <= counts["more"]


def test_given_the_open_hour_when_reading_a_topic_then_only_complete_hours_are_replayed(
    table, dynamodb
):
    # Given stored buckets and a replay that ends in the middle of an hour
    store_history(table, dynamodb, days=4, surge=False)
    until = START + timedelta(days=3, hours=5, minutes=20)
    # When the points are read
    points = read_topic_points("acme-cloud", table=table, client=dynamodb, until=until)
    # Then the hour still filling at `until` is left out and empty hours are zeros
    assert points[-1].time == START + timedelta(days=3, hours=4)
    assert len(points) == 3 * 24 + 5
    assert all(p.count > 0 for p in points)


def test_given_an_unknown_topic_when_backtested_then_it_says_there_is_no_history(table):
    # Given an empty table
    out, err = io.StringIO(), io.StringIO()
    # When a topic without buckets is replayed
    status = run_cli(["--topic", "nobody", "--table", table], out, err)
    # Then it fails with status 2 and names the topic and the table
    assert status == 2
    assert "'nobody'" in err.getvalue()
    assert table in err.getvalue()


def test_given_both_a_csv_and_a_topic_when_run_then_it_is_a_usage_error(tmp_path):
    # Given both sources at once
    err = io.StringIO()
    # When run
    status = run_cli(
        ["--csv", str(tmp_path / "x.csv"), "--topic", "acme-cloud"], io.StringIO(), err
    )
    # Then argparse refuses it
    assert status == 2
    assert "not allowed with" in err.getvalue()


def test_given_a_source_that_began_reading_later_when_read_then_earlier_hours_are_not_baseline(
    table, dynamodb
):
    # Given four days of stored buckets, and the topic's source whose live collection (and
    # coverage) began on day two: the live check leaves the earlier hours out of the baseline
    store_history(table, dynamodb, days=4, surge=False)
    began = START + timedelta(days=2)
    Store(dynamodb, table).record_success(
        "hackernews", "acme-cloud", cursor=None, count=5, at=began, first=True
    )
    # When `backtest --topic` reads the points
    until = START + timedelta(days=4)
    points = read_topic_points("acme-cloud", table=table, client=dynamodb, until=until)
    # Then the hours before that are incomplete, as the live check marks them
    assert {p.complete for p in points if p.time < began} == {False}
    assert {p.complete for p in points if p.time >= began} == {True}


def test_given_a_source_failing_now_when_read_then_the_hours_since_its_success_are_incomplete(
    table, dynamodb
):
    # Given stored buckets and a source whose last success was three hours before `until`
    # and which has failed since
    store_history(table, dynamodb, days=4, surge=False)
    store = Store(dynamodb, table)
    until = START + timedelta(days=4)
    store.record_success("hackernews", "acme-cloud", cursor=None, count=5, at=START, first=True)
    last = until - timedelta(hours=3)
    store.record_success("hackernews", "acme-cloud", cursor=None, count=5, at=last)
    store.record_failure("hackernews", "acme-cloud", error="timeout", at=until)
    # When read
    points = read_topic_points("acme-cloud", table=table, client=dynamodb, until=until)
    # Then the hours from its last success on are incomplete (missing data), as live
    assert [p.time for p in points if not p.complete] == [last, last + HOUR, last + 2 * HOUR]
