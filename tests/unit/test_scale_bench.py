"""bench/scale.py's pure parts: what a run of periods says about coverage and starvation."""

from __future__ import annotations

import math
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from scale import START, coverage, planned_coverage, topic_names
from stormwatch.dispatch import PACES, plan_dispatch


def test_coverage_counts_periods_until_every_topic_and_the_longest_gap():
    # Given five topics and four periods that each collected two of them
    periods = [{"a", "b"}, {"c", "d"}, {"e", "a"}, {"b", "c"}]
    # When their coverage is measured
    c = coverage(periods, ["a", "b", "c", "d", "e"])
    # Then every topic was collected after the third period; b waited longest (0 -> 3)
    assert c.periods == 4
    assert c.periods_to_cover == 3
    assert c.max_gap == 3
    assert c.collected_twice == 3  # a, b and c


def test_a_topic_never_collected_is_reported_as_never_covered():
    # Given periods that always skip topic "z"
    c = coverage([{"a"}, {"a"}], ["a", "z"])
    # Then the source never covered the watchlist, and only "a" came back
    assert c.periods_to_cover is None
    assert c.max_gap == 1
    assert c.collected_twice == 1


def test_nothing_collected_twice_has_no_gap():
    assert coverage([{"a"}], ["a"]).max_gap is None


def test_the_dispatch_plan_for_1000_topics_measures_as_the_plan_promises():
    # Given the topics each reddit period is dispatched for 1,000 topics, over two cycles
    names, pace = topic_names(1000), PACES["reddit"]
    periods = [
        {t.topic for t in plan_dispatch("reddit", names, at=at, pace=pace)}
        for at in (START + timedelta(minutes=pace.period_minutes * n) for n in range(40))
    ]
    # When measured like a run's collected topics
    c = coverage(periods, names)
    # Then every topic is covered when the plan says, and comes back within ceil(N / capacity)
    assert c.periods_to_cover == planned_coverage(1000)["reddit"]
    assert c.max_gap is not None and c.max_gap <= math.ceil(1000 / pace.capacity)
    assert c.collected_twice == 1000
