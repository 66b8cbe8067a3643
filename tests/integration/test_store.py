"""The DynamoDB adapter against moto: conditional writes, exactly-once buckets, checkpoints."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from stormwatch.models import Mention, ScoredMention, Sentiment, SourceNotice, Surge
from stormwatch.store import Store, from_ddb, notice_from_item

HOUR = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
NOW = HOUR + timedelta(minutes=30)


def make_store(dynamodb, table) -> Store:
    return Store(dynamodb, table, clock=lambda: NOW)


def mention(i: int, author: str = "", minute: int = 5) -> Mention:
    return Mention(
        topic="acme",
        source="hackernews",
        native_id=str(i),
        published=HOUR + timedelta(minutes=minute),
        text=f"acme text {i}",
        author=author or f"user{i}",
        engagement=i,
        url="https://example.com/x",
    )


def scored(m: Mention, label: str = "negative") -> ScoredMention:
    score = {"negative": -0.8, "neutral": 0.0, "positive": 0.7}[label]
    return ScoredMention(
        mention=m, sentiment=Sentiment(label=label, score=score, lang="en", terms=("down",))
    )


def test_a_repeated_mention_write_is_a_no_op(dynamodb, table):
    # Given a stored mention
    store = make_store(dynamodb, table)
    assert store.put_mention(mention(1)) is True
    # When the same mention is written again, Then nothing new is stored
    assert store.put_mention(mention(1)) is False
    assert len(store.mentions_between("acme", HOUR, HOUR + timedelta(hours=1))) == 1


def test_scores_land_on_mentions_and_in_the_bucket_exactly_once_even_when_retried(dynamodb, table):
    # Given three stored mentions by two authors
    store = make_store(dynamodb, table)
    mentions = [mention(1, "ann"), mention(2, "bob"), mention(3, "ann")]
    for m in mentions:
        store.put_mention(m)
    batch = [scored(mentions[0]), scored(mentions[1], "positive"), scored(mentions[2])]
    # When the batch is applied, and then the same batch again (a Lambda retry)
    first = store.apply_scores("acme", HOUR, batch)
    second = store.apply_scores("acme", HOUR, batch)
    # Then the first write counts all three, the retry counts none
    assert len(first.written) == 3 and second.written == []
    assert len(second.already_scored) == 3
    bucket = store.buckets_between("acme", HOUR, HOUR)[0]
    assert (bucket.count, bucket.negative, bucket.positive, bucket.authors) == (3, 2, 1, 2)
    assert bucket.by_source == {"hackernews": 3}
    # And each mention now carries its sentiment
    stored = store.mentions_between("acme", HOUR, HOUR + timedelta(hours=1))
    assert {s.sentiment.label for s in stored} == {"negative", "positive"}


def test_a_partly_repeated_batch_counts_only_the_new_mentions(dynamodb, table):
    # Given one mention already scored and one new
    store = make_store(dynamodb, table)
    old, new = mention(1), mention(2)
    store.put_mention(old)
    store.put_mention(new)
    store.apply_scores("acme", HOUR, [scored(old)])
    # When a batch with both arrives
    result = store.apply_scores("acme", HOUR, [scored(old), scored(new)])
    # Then only the new one is added to the bucket
    assert result.written == [new.sort_key]
    assert store.buckets_between("acme", HOUR, HOUR)[0].count == 2


def test_more_than_one_transaction_worth_of_mentions_is_split(dynamodb, table):
    # Given 101 mentions in one hour (DynamoDB allows 100 actions per transaction)
    store = make_store(dynamodb, table)
    mentions = [mention(i, minute=i % 60) for i in range(101)]
    for m in mentions:
        store.put_mention(m)
    # When scored in one call, Then all are counted
    result = store.apply_scores("acme", HOUR, [scored(m, "neutral") for m in mentions])
    assert len(result.written) == 101
    assert store.buckets_between("acme", HOUR, HOUR)[0].count == 101


def test_checkpoint_success_then_failure_keeps_cursor_and_counts_failures(dynamodb, table):
    store = make_store(dynamodb, table)
    # Given a successful run that saved a cursor
    store.record_success("hackernews", "acme", cursor="1700000000", count=4, at=NOW)
    # When two runs fail
    store.record_failure("hackernews", "acme", error="HTTP 503", at=NOW)
    store.record_failure("hackernews", "acme", error="HTTP 503 again", at=NOW)
    # Then the cursor is kept, failures counted, and the last success remembered
    checkpoint = store.get_checkpoint("hackernews", "acme")
    assert checkpoint.cursor == "1700000000"
    assert checkpoint.consecutive_failures == 2
    assert checkpoint.last_error == "HTTP 503 again"
    assert checkpoint.last_success == NOW and checkpoint.total_count == 4
    # And a later success resets the failure count
    store.record_success("hackernews", "acme", cursor=None, count=0, at=NOW)
    assert store.get_checkpoint("hackernews", "acme").consecutive_failures == 0
    assert store.get_checkpoint("hackernews", "acme").cursor == "1700000000"


def test_a_refused_failure_is_stored_as_refused_until_an_ordinary_outcome(dynamodb, table):
    """Given a run refused by the platform, then an ordinary failure, then a success
    When the checkpoint is read after each
    Then its health is refused, then degraded, then ok (the kind is per failure)."""
    store = make_store(dynamodb, table)
    store.record_failure("reddit", "acme", error="HTTP 403", at=NOW, kind="refused")
    assert store.get_checkpoint("reddit", "acme").health() == "refused"
    store.record_failure("reddit", "acme", error="HTTP 503", at=NOW)
    assert store.get_checkpoint("reddit", "acme").health() == "degraded"
    store.record_success("reddit", "acme", cursor=None, count=0, at=NOW)
    assert store.get_checkpoint("reddit", "acme").health() == "ok"


def test_surges_are_stored_once_and_found_again(dynamodb, table):
    store = make_store(dynamodb, table)
    surge = Surge(
        topic="acme",
        detected_at=NOW,
        tier="warning",
        observed=40,
        expected=3,
        score=9.1,
        threshold=5,
        negative_share=0.8,
        usual_negative_share=0.2,
        authors=30,
        evidence={"trigger": "volume", "reasons": ["volume score 9.1 above 6.0"]},
    )
    # When stored twice, Then the second is a no-op
    assert store.put_surge(surge) is True
    assert store.put_surge(surge) is False
    # And it is found by range and as the latest
    assert store.surges_between("acme", HOUR, HOUR + timedelta(hours=2))[0].tier == "warning"
    assert store.latest_surge("acme", since=HOUR).evidence.reasons == ["volume score 9.1 above 6.0"]


def test_no_code_path_scans_the_table(repo):
    # Every access is GetItem, Query, conditional Put, Update or a transaction of those
    sources = list((repo / "layers/common/stormwatch").rglob("*.py"))
    sources += list((repo / "functions").rglob("*.py"))
    scans = re.compile(r"(_db|client|table|dynamodb)\.scan\(|[\"']Scan[\"']")
    assert not [p for p in sources if scans.search(p.read_text())]


def test_story_keys_land_on_mentions_and_copies_count_once_in_the_bucket(dynamodb, table):
    # Given three mentions, two of them copies of one story (the batch's shared key)
    store = make_store(dynamodb, table)
    mentions = [mention(1), mention(2), mention(3)]
    for m in mentions:
        store.put_mention(m)
    keys = {mentions[0].sort_key: "t:aaa", mentions[1].sort_key: "t:aaa"}
    # When scored in two batches (the third mention gets its own key)
    store.apply_scores("acme", HOUR, [scored(mentions[0]), scored(mentions[1])], keys)
    store.apply_scores("acme", HOUR, [scored(mentions[2])])
    # Then the bucket counts three mentions but two stories, and gives the keys back
    bucket = store.buckets_between("acme", HOUR, HOUR)[0]
    assert (bucket.count, bucket.stories) == (3, 2)
    assert "t:aaa" in store.stories_between("acme", HOUR, HOUR)
    raw = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "T#acme"}, "sk": {"S": mentions[0].sort_key}}
    )
    assert raw["Item"]["story_key"] == {"S": "t:aaa"}


def test_failures_are_counted_atomically_and_a_notice_is_stored_once(dynamodb, table):
    store = make_store(dynamodb, table)
    # When a source fails three times, each call says how many failures in a row there are
    counts = [store.record_failure("reddit", "acme", error="HTTP 503", at=NOW) for _ in range(3)]
    assert counts == [1, 2, 3]
    # And a notice for the outage is stored once, and read back the same
    notice = SourceNotice(topic="acme", source="reddit", detected_at=NOW, failures=3)
    assert store.put_notice(notice) is True
    assert store.put_notice(notice) is False
    raw = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "T#acme"}, "sk": {"S": notice.sort_key}}
    )
    assert notice_from_item(from_ddb(raw["Item"])) == notice


def test_the_authors_a_digest_knows_are_the_keys_mentions_carry(dynamodb, table):
    # Given a scored mention by "ann" in an hourly bucket
    store = make_store(dynamodb, table)
    by_ann = mention(1, "ann")
    store.put_mention(by_ann)
    store.apply_scores("acme", HOUR, [scored(by_ann)])
    # When the digest asks who has been heard in that hour
    heard = store.authors_between("acme", HOUR, HOUR + timedelta(hours=1))
    # Then it gets exactly the key by which a later mention of ann is recognised
    assert heard == {mention(2, "ann").short_author_key}


def test_a_topics_checkpoints_come_back_in_the_order_asked_with_blanks_for_new_sources(
    dynamodb, table
):
    # Given two sources that ran for a topic and one that never did
    store = make_store(dynamodb, table)
    store.record_success("rss", "acme", cursor="c1", count=2, at=NOW)
    store.record_failure("hackernews", "acme", error="HTTP 503", at=NOW)
    # When the topic's checkpoints are read together
    checkpoints = store.checkpoints("acme", ["hackernews", "github", "rss"])
    # Then each source has its own, in order, and the new one is a fresh checkpoint
    assert [(c.source, c.health()) for c in checkpoints] == [
        ("hackernews", "degraded"),
        ("github", "never-run"),
        ("rss", "ok"),
    ]
    assert checkpoints[2].cursor == "c1"


def stored_expiry(dynamodb, table, m: Mention) -> datetime:
    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "T#acme"}, "sk": {"S": m.sort_key}})[
        "Item"
    ]
    return datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC)


def test_a_mention_expires_from_its_collection_never_later(dynamodb, table):
    # Given a store keeping mentions 90 days, collecting at NOW
    store = make_store(dynamodb, table)
    retention = timedelta(days=90)
    # When a mention dated in 2999 (it got past a source) and one published today are stored
    future = mention(1).model_copy(update={"published": datetime(2999, 1, 1, tzinfo=UTC)})
    today = mention(2)
    store.put_mention(future)
    store.put_mention(today)
    # Then neither lives longer than the retention from collection
    assert stored_expiry(dynamodb, table, future) == NOW + retention
    assert stored_expiry(dynamodb, table, today) == today.published + retention
    # And a mention published long ago goes no later than the retention after its publication
    old = mention(3).model_copy(update={"published": NOW - timedelta(days=400)})
    store.put_mention(old)
    assert stored_expiry(dynamodb, table, old) <= NOW + retention
