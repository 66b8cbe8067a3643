"""`stormwatch tune --topic T`: replay the detector over a topic's stored history with the
readers' feedback as labels, per sensitivity, and recommend one (stormwatch.feedback).

The adapter: reads the hourly points exactly as `stormwatch backtest --topic` does
(`backtest.read_topic_points`) and the feedback items from the same table, and replays through
the detector's public entry point (`surge.backtest` with `surge.settings_for`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from stormwatch import surge
from stormwatch.backtest import DEFAULT_TABLE, read_topic_points
from stormwatch.feedback import labels, recommend, replay_with_labels, tune_report
from stormwatch.store import Store


def detector_replay(points: Sequence[Any], sensitivity: str) -> list[datetime]:
    return [alarm.time for alarm in surge.backtest(points, surge.settings_for(sensitivity))]


def tune_topic(
    topic: str,
    *,
    client: Any,
    table: str = DEFAULT_TABLE,
    days: int = 35,
    until: datetime | None = None,
    current: str = "balanced",
) -> str:
    """The report `stormwatch tune` prints for one topic."""
    end = (until or datetime.now(UTC)).astimezone(UTC)
    points = read_topic_points(topic, table=table, client=client, days=days, until=end)
    feedback = Store(client, table).feedback_between(topic, end - timedelta(days=days), end)
    results = replay_with_labels(points, labels(feedback), surge.SENSITIVITIES, detector_replay)
    return tune_report(topic, results, recommend(results, current))
