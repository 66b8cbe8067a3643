"""A retried score batch still raises the storm's alert: the surge check runs for every topic
in the batch, whether or not anything new was written, and writing the surge is idempotent."""

from __future__ import annotations

import pytest
from stormwatch.models import Surge
from stormwatch.scoring import check_surges, write_scores
from stormwatch.store import ScoreWriteResult
from stormwatch.watchlist import Watchlist

from tests.support.fakes import in_stream_order
from tests.unit.test_scoring_stories import NOW, SurgeStore, burst, topic


class Throttled(Exception):
    """What boto3 raises when DynamoDB throttles a write."""


class RetryingStore(SurgeStore):
    """Remembers what it scored (a repeat is a no-op, as in DynamoDB) and throttles the first
    surge write."""

    def __init__(self, items):
        super().__init__(items)
        self.scored: set[str] = set()
        self.surges: dict[str, Surge] = {}
        self.surge_attempts = 0

    def apply_scores(self, topic, hour, items):
        new = [i.mention.sort_key for i in items if i.mention.sort_key not in self.scored]
        repeats = [i.mention.sort_key for i in items if i.mention.sort_key in self.scored]
        if new:
            self.write({i.mention.sort_key: i.scored.story for i in items})
        self.scored.update(new)
        return ScoreWriteResult(written=new, already_scored=repeats)

    def put_surge(self, surge: Surge) -> bool:
        self.surge_attempts += 1
        if self.surge_attempts == 1:
            raise Throttled("ProvisionedThroughputExceededException")
        if surge.sort_key in self.surges:
            return False
        self.surges[surge.sort_key] = surge
        return True

    def latest_surge(self, topic, since):
        stored = sorted(self.surges.values(), key=lambda s: s.detected_at)
        return stored[-1] if stored else None


def deliver(store: RetryingStore, items) -> list[Surge]:
    """What the score handler does with one delivery of a stream batch."""
    outcome = write_scores(store, in_stream_order(items))
    return check_surges(store, Watchlist(topics=[topic()]), outcome.topics, now=NOW)


def test_a_surge_whose_write_was_throttled_is_written_when_the_batch_is_retried():
    # Given a burst of forty different negative voices in the current hour
    items = burst(["AcmeCloud outage hits thousands"] * 40, channel="comment")
    store = RetryingStore(items)
    # When the first delivery scores them but the surge write is throttled
    with pytest.raises(Throttled):
        deliver(store, items)
    assert store.scored and not store.surges
    # And Lambda retries the batch (every mention is already scored), and retries it again
    retried = deliver(store, items)
    again = deliver(store, items)
    # Then the surge item is written exactly once, by the retry
    assert len(store.surges) == 1
    assert [s.topic for s in retried] == ["acme-cloud"] and again == []
