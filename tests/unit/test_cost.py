"""The cost model: list prices applied to usage, unit costs scaled by a watchlist's shape, the
template's schedules, and `stormwatch cost`."""

from __future__ import annotations

import json

import pytest
from stormwatch import cli, cost, template_facts


def units(**per_mention: float) -> cost.UnitCosts:
    return cost.UnitCosts(
        measured_on="2026-11-29",
        command="bench/cost.py --topics 5 --mentions-per-day 2000",
        machine="test",
        per_mention=cost.DriverUnits(**per_mention),
        per_source_topic_run=cost.DriverUnits(wru=1, rru=3),
        per_topic_day=cost.DriverUnits(emails=1),
        per_schedule_fire=cost.DriverUnits(),
        stored_bytes_per_mention=1000,
        custom_metrics=0,
        platform_log_bytes_per_invocation=0,
        tracing=False,
    )


def shape(topics: int = 5, mentions: float = 10_000) -> cost.WatchlistShape:
    return cost.WatchlistShape(
        topics=topics,
        mentions_per_day=mentions,
        source_topic_runs_per_day=0,
        schedule_fires_per_day=0,
        retention_days=90,
    )


def test_a_million_write_units_cost_the_list_price():
    # Given a month with one million write and one million read request units
    usage = cost.Usage(dynamodb_wru=1e6, dynamodb_rru=1e6)
    # When it is priced
    bill = cost.price(usage)
    # Then writes cost US$0.625 and reads US$0.125 (us-east-1 on-demand), nothing else
    assert bill.usd["dynamodb_writes"] == pytest.approx(0.625)
    assert bill.usd["dynamodb_reads"] == pytest.approx(0.125)
    assert bill.total == pytest.approx(0.75)


def test_lambda_compute_is_priced_by_architecture():
    usage = cost.Usage(lambda_gb_s=400_000)
    assert cost.price(usage, "arm64").total == pytest.approx(5.33336)
    assert cost.price(usage, "x86_64").total == pytest.approx(6.66668)


def test_the_per_mention_part_grows_linearly_with_mentions():
    # Given unit costs of two write units per mention
    measured = units(wru=2.0)
    # When the mentions double
    small = cost.monthly_usage(shape(mentions=1000), measured)
    large = cost.monthly_usage(shape(mentions=2000), measured)
    # Then the write units double, over a 730-hour month
    assert small.dynamodb_wru == pytest.approx(2000 * 730 / 24)
    assert large.dynamodb_wru == pytest.approx(2 * small.dynamodb_wru)


def test_storage_keeps_every_mention_for_the_retention_days():
    usage = cost.monthly_usage(shape(mentions=1000), units())
    assert usage.dynamodb_storage_gb == pytest.approx(1000 * 90 * 1000 / 1024**3)


def test_shape_counts_collection_runs_per_source_schedule():
    # Given two topics, one on two sources, and schedules of 96 and 48 runs a day
    result = cost.shape_of(
        [["hackernews", "rss"], ["rss"]],
        {"hackernews": 96.0, "rss": 48.0},
        24.0,
        mentions_per_topic_per_day=100,
        retention_days=90,
    )
    # Then the runs are per (source, topic), the fires per schedule
    assert result.source_topic_runs_per_day == 96 + 48 + 48
    assert result.schedule_fires_per_day == 96 + 48 + 24
    assert result.mentions_per_day == 200


def test_a_source_without_a_schedule_is_refused_by_name():
    with pytest.raises(ValueError, match=r"no collect schedule for source.*telegram"):
        cost.shape_of(
            [["telegram"]], {"rss": 48.0}, 0, mentions_per_topic_per_day=1, retention_days=1
        )


def test_the_explanation_states_its_assumptions():
    measured = units(wru=2.0)
    text = cost.explain(shape(), measured, cost.estimate(shape(), measured))
    assert text.startswith("About US$")
    assert "free tier NOT subtracted" in text
    assert measured.command in text


@pytest.mark.parametrize(
    ("expression", "minutes"),
    [
        ("rate(15 minutes)", 15),
        ("rate(1 hour)", 60),
        ("cron(0 * * * ? *)", 60),
        ("cron(30 6 * * ? *)", 1440),
    ],
)
def test_schedule_periods(expression, minutes):
    assert template_facts.period_minutes(expression) == minutes


def test_an_unmodelled_schedule_is_refused():
    with pytest.raises(ValueError, match="only rate"):
        template_facts.period_minutes("cron(0/5 8-17 ? * MON-FRI *)")


def test_the_template_gives_runs_per_source_and_stream_batches(repo):
    # Given the repository's template
    facts = template_facts.functions(template_facts.load_template(repo / "template.yaml"))
    per_source, other = template_facts.runs_per_day(facts)
    # Then every collect schedule counts per source, the digest dispatcher apart
    assert per_source["hackernews"] == 96
    assert other == 24
    # and the scorer's stream mapping lets mention inserts through, not bucket updates
    (mapping,) = facts["score"].streams
    insert = {"eventName": "INSERT", "dynamodb": {"Keys": {"sk": {"S": "M#2026"}}}}
    assert mapping.passes(insert)
    assert not mapping.passes({**insert, "eventName": "MODIFY"})
    assert mapping.batch_size >= 1


def test_cli_estimates_the_watchlist(repo, tmp_path, capsys):
    # Given measured unit costs and the example watchlist
    path = tmp_path / "units.json"
    path.write_text(units(wru=2.0).model_dump_json(), encoding="utf-8")
    # When the user asks what it costs at 100 mentions a day per topic
    code = cli.main(
        ["cost", str(repo / "watchlist.yaml"), "--mentions-per-day", "100", "--units", str(path)]
    )
    # Then an estimate with its assumptions is printed
    out = capsys.readouterr().out
    assert code == 0
    assert "About US$" in out and "Assumptions:" in out


def test_cli_json_and_default_units(repo, capsys):
    code = cli.main(["cost", str(repo / "watchlist.yaml"), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["monthly_usd"] > 0
    assert set(result["usd"]) >= {"dynamodb_writes", "lambda_compute", "ses"}


def test_cli_missing_units_file_is_a_usage_error(repo, tmp_path, capsys):
    code = cli.main(["cost", str(repo / "watchlist.yaml"), "--units", str(tmp_path / "no.json")])
    assert code == 2
    assert "stormwatch cost:" in capsys.readouterr().err
