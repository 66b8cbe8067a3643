"""When a digest is due: once per local date at the topic's hour, across clock changes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from stormwatch.reporting import due_topics
from stormwatch.watchlist import Watchlist

BERLIN = ZoneInfo("Europe/Berlin")


def watchlist(hour: int, timezone: str = "Europe/Berlin") -> Watchlist:
    topic = {
        "name": "acme-cloud",
        "terms": ["acme"],
        "sources": {"hackernews": {}},
        "digest": {"hour": hour, "timezone": timezone, "recipients": ["comms@example.com"]},
    }
    return Watchlist.model_validate({"name": "Brand team", "topics": [topic]})


def digests_per_local_date(hour: int, timezone: str, first: date, days: int) -> Counter[date]:
    """Run the hourly UTC schedule over `days` days; count the digests due per local date."""
    lists = watchlist(hour, timezone)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(days=1)
    due: Counter[date] = Counter()
    for n in range((days + 2) * 24):
        scheduled = start + timedelta(hours=n)
        if due_topics(lists, scheduled):
            due[scheduled.astimezone(ZoneInfo(timezone)).date()] += 1
    return due


def test_spring_forward_digest_hour_maps_to_the_next_existing_instant():
    # Given a digest at 02:00 in Berlin, an hour that does not exist on 2027-03-28
    lists = watchlist(2)
    # When the hourly schedule runs at 01:00 UTC, the first instant after the gap (03:00 CEST)
    due = due_topics(lists, datetime(2027, 3, 28, 1, 0, tzinfo=UTC))
    # Then the digest is due
    assert [t.name for t in due] == ["acme-cloud"]


@pytest.mark.parametrize("hour", [0, 1, 2, 3, 23])
@pytest.mark.parametrize(
    ("timezone", "around"),
    [
        ("Europe/Berlin", date(2027, 3, 27)),  # spring: 02:00-03:00 does not exist
        ("Europe/Berlin", date(2027, 10, 30)),  # autumn: 02:00-03:00 happens twice
        ("America/New_York", date(2027, 3, 13)),
        ("Australia/Lord_Howe", date(2027, 4, 3)),  # a half-hour change
    ],
)
def test_exactly_one_digest_per_local_date_across_clock_changes(hour, timezone, around):
    # Given a digest hour and a few days around a clock change
    # When the hourly UTC schedule runs over them
    due = digests_per_local_date(hour, timezone, around, days=3)
    # Then each local date has exactly one digest
    for offset in range(3):
        assert due[around + timedelta(days=offset)] == 1, (timezone, hour, around, due)
