"""The embedded endpoint of `stormwatch run`/`demo` under concurrency: moto's DynamoDB is not
thread-safe (its transactions copy and restore whole tables), so the local runner serialises
the requests; two scorers on one batch must count each mention exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from stormwatch import local
from stormwatch.models import Mention, ScoredMention, Sentiment
from stormwatch.store import Store

from tests.support.fakes import in_stream_order

pytestmark = [pytest.mark.server, pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

HOUR = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
TABLE = "stormwatch-concurrency"
MENTIONS = 40


def scored(i: int) -> ScoredMention:
    mention = Mention(
        topic="acme",
        source="hackernews",
        native_id=str(i),
        published=HOUR + timedelta(minutes=i % 60),
        text=f"acme is down {i}",
        author=f"user{i}",
    )
    return ScoredMention(mention=mention, sentiment=Sentiment(label="negative", score=-0.8))


def test_two_scorers_on_one_batch_in_threads_count_each_mention_once():
    with local.aws_endpoint():
        # Given mentions stored on the embedded endpoint
        local.ensure_table(TABLE)
        store = Store(boto3.client("dynamodb"), TABLE, clock=lambda: HOUR)
        batch = in_stream_order([scored(i) for i in range(MENTIONS)])
        for item in batch:
            store.put_mention(item.scored)
        # When two scorers count the same batch at once, one record at a time
        errors: list[BaseException] = []

        def score() -> None:
            own = Store(boto3.client("dynamodb"), TABLE, clock=lambda: HOUR)
            try:
                for item in batch:
                    own.apply_scores("acme", HOUR, [item])
            except BaseException as exc:  # reported below, in the test thread
                errors.append(exc)

        threads = [threading.Thread(target=score) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Then every mention is scored and the hour's bucket counts each exactly once
        assert errors == []
        mentions = store.mentions_between("acme", HOUR, HOUR + timedelta(hours=1))
        assert all(m.sentiment is not None for m in mentions)
        assert [b.count for b in store.buckets_between("acme", HOUR, HOUR)] == [MENTIONS]
