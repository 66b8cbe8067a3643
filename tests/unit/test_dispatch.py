"""The dispatch plan: which topics a period collects, fairly, and the tasks' queue ids."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from stormwatch.dispatch import PACES, CollectTask, Pace, fair_slice, period_of, plan_dispatch

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

topic_names = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=60, unique=True)


@given(topics=topic_names, capacity=st.integers(1, 80), first=st.integers(0, 10**6))
def test_every_topic_is_collected_within_ceil_topics_over_capacity_periods(topics, capacity, first):
    """Given N topics and a source that can collect `capacity` of them a period
    When the plan runs for ceil(N / capacity) consecutive periods from any period on
    Then every topic was collected at least once, and no period exceeds the capacity."""
    window = math.ceil(len(topics) / capacity)
    collected: set[str] = set()
    for period in range(first, first + window):
        chosen = fair_slice(topics, period, capacity)
        assert len(chosen) == min(capacity, len(topics))
        assert len(set(chosen)) == len(chosen)
        collected |= set(chosen)
    assert collected == set(topics)


def test_when_the_topics_fit_every_period_collects_all_of_them():
    # Given fewer topics than the capacity
    topics = ["b", "a", "c"]
    # When any period is planned
    # Then it collects all of them, in name order
    for period in (0, 1, 12345):
        assert fair_slice(topics, period, capacity=10) == ["a", "b", "c"]


def test_the_tail_of_a_long_watchlist_is_not_starved():
    # Given 1,000 topics and GDELT's capacity (one request at a time, every 5.5 s)
    topics = [f"topic-{i:04d}" for i in range(1000)]
    pace = PACES["gdelt"]
    assert pace.capacity < len(topics)
    # When one period after another is dispatched
    start = NOW
    last_seen: dict[str, int] = {}
    for n in range(3 * math.ceil(len(topics) / pace.capacity)):
        at = start + timedelta(minutes=pace.period_minutes * n)
        for task in plan_dispatch("gdelt", topics, at=at, pace=pace):
            last_seen[task.topic] = n
    # Then the last topics are collected like the first ones (the old walk never reached them)
    assert set(last_seen) == set(topics)
    assert "topic-0999" in last_seen


def test_a_retried_dispatch_sends_the_same_tasks_with_the_same_deduplication_ids():
    # Given the same scheduled time, dispatched twice (Scheduler or Lambda retried)
    topics = ["acme-cloud", "deutsche-bahn"]
    first = plan_dispatch("hackernews", topics, at=NOW, pace=PACES["hackernews"])
    second = plan_dispatch("hackernews", topics, at=NOW, pace=PACES["hackernews"])
    # Then the tasks and their deduplication ids are equal (the FIFO queue drops the repeat)
    assert first == second
    assert [t.deduplication_id() for t in first] == [t.deduplication_id() for t in second]
    # And the next period's tasks are new messages
    later = plan_dispatch(
        "hackernews", topics, at=NOW + timedelta(minutes=15), pace=PACES["hackernews"]
    )
    assert {t.deduplication_id() for t in later}.isdisjoint(t.deduplication_id() for t in first)


@given(topic=st.text(min_size=1, max_size=300))
def test_queue_ids_fit_sqs_whatever_the_topic_name(topic):
    """Given any topic name (any characters, any length)
    When its task's message group and deduplication ids are made
    Then they are at most 128 characters of the ASCII letters, digits and punctuation SQS
    allows, for a serial and a concurrent source alike."""
    for source in ("gdelt", "hackernews"):
        task = CollectTask(source=source, topic=topic, period=1)
        for value in (task.group_id(PACES[source]), task.deduplication_id()):
            assert 0 < len(value) <= 128
            assert all(33 <= ord(ch) <= 126 for ch in value)


def test_a_serial_source_shares_one_message_group_and_a_concurrent_one_groups_by_topic():
    # Given two topics of GDELT (one request at a time) and of Hacker News
    def groups(source: str) -> set[str]:
        pace = PACES[source]
        return {t.group_id(pace) for t in plan_dispatch(source, ["a", "b"], at=NOW, pace=pace)}

    # Then GDELT's tasks share one group (Lambda runs one batch of it at a time), and Hacker
    # News's topics have a group each (they run side by side, a topic never twice at once)
    assert len(groups("gdelt")) == 1
    assert len(groups("hackernews")) == 2


def test_the_time_model_plans_with_the_workers_a_source_may_use():
    # Given a serial and a concurrent pace with the same numbers
    serial = Pace(period_minutes=30, concurrency=4, seconds_per_topic=10, serial=True)
    wide = Pace(period_minutes=30, concurrency=4, seconds_per_topic=10)
    # Then the serial source has one worker, the other four, and capacity follows
    assert (serial.workers, wide.workers) == (1, 4)
    assert wide.capacity == 4 * serial.capacity
    assert serial.capacity == math.floor(1800 * 0.8 / 10)
    assert wide.seconds_for(10) == 30  # ceil(10 / 4) rounds of 10 s


def test_a_task_refuses_what_it_does_not_know():
    # Given a queue message with an unknown field or an empty topic
    # Then it is refused with the field named (the task fails alone, then is dead-lettered)
    with pytest.raises(ValidationError, match="surprise"):
        CollectTask.model_validate({"source": "rss", "topic": "t", "period": 1, "surprise": 1})
    with pytest.raises(ValidationError, match="topic"):
        CollectTask.model_validate({"source": "rss", "topic": "", "period": 1})


def test_periods_count_schedule_periods_from_the_epoch():
    pace = PACES["hackernews"]
    assert period_of(pace, NOW + timedelta(minutes=15)) == period_of(pace, NOW) + 1
    assert period_of(pace, NOW + timedelta(minutes=14)) == period_of(pace, NOW)


def test_a_backfill_request_is_not_swallowed_by_the_periods_live_task():
    # Given the scheduled live task of a period and a backfill asked for in the same period
    live = CollectTask(source="hackernews", topic="acme-cloud", period=7)
    backfill = CollectTask(source="hackernews", topic="acme-cloud", period=7, backfill_days=28)
    # Then the queue sees two different messages (deduplication would drop the second)
    assert live.deduplication_id() != backfill.deduplication_id()
