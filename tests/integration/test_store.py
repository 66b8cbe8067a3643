"""The DynamoDB adapter against moto: conditional writes, exactly-once buckets, checkpoints."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from stormwatch.codec import STATE_SK
from stormwatch.models import (
    DETECTOR_FIELDS,
    STATE_SETTLE,
    HourBucket,
    Mention,
    ScoredMention,
    Sentiment,
    SourceNotice,
    Surge,
)
from stormwatch.scoring import check_surges, write_scores
from stormwatch.store import Store, from_ddb, notice_from_item
from stormwatch.watchlist import Watchlist

from tests.support.ddb_units import counting
from tests.support.fakes import in_stream_order

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


def test_a_mention_is_stored_with_its_score_and_story_in_one_write(dynamodb, table):
    # Given a mention the collector scored
    store = make_store(dynamodb, table)
    item = scored(mention(1), "positive").model_copy(update={"story": "t:aaa"})
    # When it is stored, Then it reads back with its sentiment and story key
    assert store.put_mention(item) is True
    [back] = store.mentions_between("acme", HOUR, HOUR + timedelta(hours=1))
    assert back == item


def test_a_batch_counts_in_the_bucket_exactly_once_even_when_retried(dynamodb, table):
    # Given three stored mentions by two authors, delivered by the stream
    store = make_store(dynamodb, table)
    mentions = [mention(1, "ann"), mention(2, "bob"), mention(3, "ann")]
    batch = in_stream_order(
        [scored(mentions[0]), scored(mentions[1], "positive"), scored(mentions[2])]
    )
    for record in batch:
        store.put_mention(record.scored)
    # When the batch is applied, and then the same batch again (a Lambda retry)
    first = store.apply_scores("acme", HOUR, batch)
    second = store.apply_scores("acme", HOUR, batch)
    # Then the first write counts all three, the retry counts none
    assert len(first.written) == 3 and second.written == []
    assert len(second.already_scored) == 3
    bucket = store.buckets_between("acme", HOUR, HOUR)[0]
    assert (bucket.count, bucket.negative, bucket.positive, bucket.authors) == (3, 2, 1, 2)
    assert bucket.by_source == {"hackernews": 3}
    assert bucket.top_author == 2  # ann
    assert first.bucket == bucket


def test_a_retry_that_starts_inside_a_counted_batch_counts_only_the_records_after_it(
    dynamodb, table
):
    # Given a batch of four records counted, then a redelivery that starts at its third
    # record and brings two records the first delivery did not have (batch boundaries move
    # after a partial failure or a bisected retry)
    store = make_store(dynamodb, table)
    records = in_stream_order([scored(mention(i)) for i in range(6)])
    store.apply_scores("acme", HOUR, records[:4])
    # When the redelivery is applied
    result = store.apply_scores("acme", HOUR, records[2:])
    # Then only the two records after the counted ones are added
    assert result.written == [records[4].mention.sort_key, records[5].mention.sort_key]
    assert store.buckets_between("acme", HOUR, HOUR)[0].count == 6


def test_a_busy_hours_update_is_one_item_read_and_one_item_written(dynamodb, table):
    # Given an hour that has counted many mentions already
    store = make_store(dynamodb, table)
    records = in_stream_order([scored(mention(i, minute=i % 60)) for i in range(120)])
    store.apply_scores("acme", HOUR, records[:100])
    # When the next batch of that hour is applied
    with counting(dynamodb) as units:
        store.apply_scores("acme", HOUR, records[100:])
    # Then the bucket was read once and written once
    assert (units.items_read, units.items_written) == (1, 1)
    assert store.buckets_between("acme", HOUR, HOUR)[0].count == 120


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


def test_copies_of_one_story_count_once_in_the_bucket(dynamodb, table):
    # Given three mentions, two of them copies of one story (the collector's shared key)
    store = make_store(dynamodb, table)
    items = [scored(mention(i)) for i in (1, 2, 3)]
    keys = ("t:aaa", "t:aaa", "t:b")
    items = [s.model_copy(update={"story": k}) for s, k in zip(items, keys, strict=True)]
    records = in_stream_order(items)
    # When counted in two batches
    store.apply_scores("acme", HOUR, records[:2])
    store.apply_scores("acme", HOUR, records[2:])
    # Then the bucket counts three mentions but two stories, also across hours
    bucket = store.buckets_between("acme", HOUR, HOUR)[0]
    assert (bucket.count, bucket.stories) == (3, 2)
    assert store.story_count_between("acme", HOUR, HOUR + timedelta(hours=1)) == 2


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
    # Given a stored mention by "ann", and nothing summarised yet
    store = make_store(dynamodb, table)
    store.put_mention(scored(mention(1, "ann")))
    # When the digest asks who has been heard in that hour
    heard = store.known_authors("acme", HOUR, HOUR + timedelta(hours=1))
    # Then a later mention of ann is recognised, and bob is not
    assert mention(2, "ann").short_author_key in heard
    assert mention(3, "bob").short_author_key not in heard


def test_who_was_heard_is_read_from_mentions_once_then_from_one_small_item(dynamodb, table):
    # Given a month of mentions by 300 authors, a few an hour, and a clock a day later
    start = HOUR - timedelta(days=30)
    authors = [f"writer{i}" for i in range(300)]
    store = Store(dynamodb, table, clock=lambda: HOUR + timedelta(days=1))
    for i in range(30 * 24):
        published = start + timedelta(hours=i, minutes=10)
        by = Mention(
            **{**mention(i).model_dump(), "published": published, "author": authors[i % 300]}
        )
        store.put_mention(scored(by))
    # When the digest asks twice who was heard in the month
    with counting(dynamodb) as first:
        heard = store.known_authors("acme", start, HOUR)
    with counting(dynamodb) as second:
        again = store.known_authors("acme", start, HOUR)
    # Then every author is known both times, and a stranger is not
    for who in authors:
        key = mention(0, who).short_author_key
        assert key in heard and key in again
    assert mention(0, "stranger").short_author_key not in again
    # And the first read the month's mentions and kept them a day per voice item; the second
    # read those 30 items alone
    assert first.items_read == 30 * 24 and first.items_written == 30
    assert (second.items_read, second.items_written) == (30, 0)


def test_a_digest_keeps_its_periods_authors_but_not_the_unsettled_last_hours(dynamodb, table):
    # Given a day of mentions, the last two in the final hour before the digest
    day = HOUR - timedelta(days=1)
    store = make_store(dynamodb, table)  # the clock: half an hour after HOUR
    early = Mention(**{**mention(1, "early").model_dump(), "published": day + timedelta(hours=2)})
    late = Mention(**{**mention(2, "late").model_dump(), "published": HOUR - timedelta(minutes=9)})
    for m in (early, late):
        store.put_mention(scored(m))
    mentions = store.mentions_between("acme", day, HOUR)
    # When the digest of [day, HOUR) keeps its authors
    assert store.remember_authors("acme", day, HOUR, mentions) is True
    # Then the settled part is summarised; the final hours are read from mentions next time,
    # so a mention of them collected after the digest still counts
    with counting(dynamodb) as units:
        heard = store.known_authors("acme", day, HOUR)
    assert early.short_author_key in heard and late.short_author_key in heard
    assert units.items_read == 1 + 1  # the voice item, and the late mention


def test_while_a_backfill_runs_the_hours_read_from_mentions_are_read_again_later(dynamodb, table):
    # Given last week's mention by ann, and a digest asking while a backfill still runs
    store = Store(dynamodb, table, clock=lambda: HOUR + timedelta(days=1))
    week_ago = HOUR - timedelta(days=7)
    ann = Mention(**{**mention(1, "ann").model_dump(), "published": week_ago})
    store.put_mention(scored(ann))
    with counting(dynamodb) as units:
        first = store.known_authors("acme", HOUR - timedelta(days=30), HOUR, keep=False)
    # When the backfill then stores bob's mention of the week before
    bob = Mention(**{**mention(2, "bob").model_dump(), "published": week_ago - timedelta(days=1)})
    store.put_mention(scored(bob))
    later = store.known_authors("acme", HOUR - timedelta(days=30), HOUR)
    # Then nothing was summarised the first time, and the next digest knows both
    assert units.items_written == 0
    assert ann.short_author_key in first and bob.short_author_key not in first
    assert ann.short_author_key in later and bob.short_author_key in later


def test_a_voice_item_that_reaches_into_the_period_is_not_used(dynamodb, table):
    # Given the authors of [HOUR - 2h, HOUR + 2h) kept as one voice item (a digest whose
    # hour moved), ann among them only after HOUR
    store = Store(dynamodb, table, clock=lambda: HOUR + timedelta(days=1))
    ann = Mention(**{**mention(1, "ann").model_dump(), "published": HOUR + timedelta(hours=1)})
    store.put_mention(scored(ann))
    store.remember_authors(
        "acme", HOUR - timedelta(hours=2), HOUR + timedelta(hours=2), [scored(ann)]
    )
    # When the digest of a period starting at HOUR asks who was heard before it
    heard = store.known_authors("acme", HOUR - timedelta(days=30), HOUR)
    # Then ann is not: she was first heard in the period itself
    assert ann.short_author_key not in heard


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


def test_the_surge_check_reads_the_state_and_open_hours_that_match_the_buckets(dynamodb, table):
    # Given four weeks of imported hourly history and a batch scored into the current hour
    store = make_store(dynamodb, table)
    history = [
        (HourBucket(topic="acme", hour=HOUR - timedelta(hours=h), count=h % 5 + 1), [f"a{h}"])
        for h in range(1, 28 * 24)
    ]
    store.put_baseline_buckets(history)
    records = in_stream_order([scored(mention(i, "ann" if i % 2 else "")) for i in range(9)])
    write_scores(store, records, now=NOW)
    start = NOW - timedelta(days=28)
    # When the surge check reads the topic's history
    with counting(dynamodb) as units:
        seen = store.detector_history("acme", start, NOW)
    # Then it is the state item and the open hours' buckets (the settled hours come from the
    # state), and the same hours and numbers the buckets hold
    assert units.calls == {"GetItem": 1, "Query": 1}
    assert units.items_read <= 1 + STATE_SETTLE // timedelta(hours=1) + 1
    fields = ("hour", *DETECTOR_FIELDS)
    buckets = store.buckets_between("acme", start, NOW)
    assert [b.model_dump(include=set(fields)) for b in seen] == [
        b.model_dump(include=set(fields)) for b in buckets
    ]
    assert seen[-1].count == 9 and seen[-1].top_author == 4  # ann: 1, 3, 5, 7


def test_a_scored_batchs_surge_check_reuses_the_state_its_write_left(dynamodb, table):
    # Given a topic with a detector state and a batch of its mentions
    store = make_store(dynamodb, table)
    store.put_baseline_buckets([(HourBucket(topic="acme", hour=HOUR, count=3), ["a"])])
    write_scores(store, in_stream_order([scored(mention(1))]), now=NOW)
    records = in_stream_order([scored(mention(i)) for i in range(2, 8)])
    watchlist = Watchlist.model_validate(
        {"topics": [{"name": "acme", "terms": ["acme"], "sources": {"hackernews": {}}}]}
    )
    state_reads: list[str] = []

    def note_state_read(params, **_):
        if params["Key"]["sk"]["S"] == STATE_SK:
            state_reads.append(params["Key"]["pk"]["S"])

    dynamodb.meta.events.register("provide-client-params.dynamodb.GetItem", note_state_read)
    # When the batch is scored and its topic checked for a surge, as the score handler does
    outcome = write_scores(store, records, now=NOW)
    check_surges(store, watchlist, outcome.topics, now=NOW, states=outcome.states)
    # Then the state item was read once (by the write), not again by the check
    assert state_reads == ["T#acme"]
    # And what it checks is what the table holds
    (checked,) = store.detector_history("acme", HOUR, NOW, outcome.states["acme"])
    assert checked.count == store.buckets_between("acme", HOUR, NOW)[0].count


def moving_store(dynamodb, table, clock: dict[str, datetime]) -> Store:
    return Store(dynamodb, table, clock=lambda: clock["now"])


def state_writes(dynamodb) -> list[str]:
    """The detector-state items written from now on (their topics' keys)."""
    written: list[str] = []

    def note(params, **_):
        if params["Item"]["sk"]["S"] == STATE_SK:
            written.append(params["Item"]["pk"]["S"])

    dynamodb.meta.events.register("provide-client-params.dynamodb.PutItem", note)
    return written


def score_at(store: Store, clock: dict[str, datetime], at: datetime, *ids: int, first: int):
    clock["now"] = at
    batch = [scored(mention(i).model_copy(update={"published": at})) for i in ids]
    write_scores(store, in_stream_order(batch, first=first), now=at)


def history_matches_buckets(store: Store, now: datetime) -> bool:
    start = now - timedelta(days=28)
    fields = {"hour", *DETECTOR_FIELDS}
    seen = store.detector_history("acme", start, now)
    return [b.model_dump(include=fields) for b in seen] == [
        b.model_dump(include=fields) for b in store.buckets_between("acme", start, now)
    ]


def test_batches_within_the_open_hours_leave_the_state_item_alone(dynamodb, table):
    # Given a topic whose state was written by its first batch
    clock = {"now": NOW}
    store = moving_store(dynamodb, table, clock)
    score_at(store, clock, NOW, 1, first=1)
    written = state_writes(dynamodb)
    # When three more batches come in the same hour
    for n in range(3):
        score_at(store, clock, NOW + timedelta(minutes=5 * (n + 1)), 10 + n, first=10 + n)
    # Then the state item was not rewritten, and the check still sees every mention
    assert written == []
    assert history_matches_buckets(store, clock["now"])
    assert store.detector_history("acme", HOUR, clock["now"])[-1].count == 4


def test_the_state_is_rewritten_once_when_an_hour_settles(dynamodb, table):
    # Given a topic scored in this hour
    clock = {"now": NOW}
    store = moving_store(dynamodb, table, clock)
    score_at(store, clock, NOW, 1, first=1)
    written = state_writes(dynamodb)
    # When batches come over the next three hours, four an hour
    at, seq = NOW, 2
    for _ in range(12):
        at += timedelta(minutes=15)
        score_at(store, clock, at, seq, first=seq)
        seq += 1
    # Then the state was written about once an hour (as hours settled), not once a batch
    assert 1 <= len(written) <= 3
    # And the check sees exactly what the buckets hold
    assert history_matches_buckets(store, at)


def test_a_late_mention_in_a_settled_hour_reaches_the_state(dynamodb, table):
    # Given a topic whose first hour has settled in its state
    clock = {"now": NOW}
    store = moving_store(dynamodb, table, clock)
    score_at(store, clock, NOW, 1, 2, first=1)
    later = NOW + STATE_SETTLE + timedelta(hours=1)
    score_at(store, clock, later, 3, first=3)
    # When a mention published in that settled hour arrives late
    clock["now"] = later + timedelta(minutes=10)
    late = scored(mention(4))  # published in HOUR
    write_scores(store, in_stream_order([late], first=4), now=clock["now"])
    # Then the surge check counts it in its hour
    seen = store.detector_history("acme", HOUR, clock["now"])
    assert seen[0].hour == HOUR and seen[0].count == 3
    assert history_matches_buckets(store, clock["now"])


def test_a_state_item_from_before_open_hours_reads_as_holding_every_hour(dynamodb, table):
    # Given a state item written before states had open hours (it holds every hour it saw)
    clock = {"now": NOW}
    store = moving_store(dynamodb, table, clock)
    score_at(store, clock, NOW, 1, first=1)
    dynamodb.update_item(
        TableName=table,
        Key={"pk": {"S": "T#acme"}, "sk": {"S": STATE_SK}},
        UpdateExpression="REMOVE open_from",
    )
    old = store.detector_state("acme")
    assert old is not None and old.open_from is None
    # When batches follow, in this hour and hours later
    score_at(store, clock, NOW + timedelta(minutes=10), 2, first=2)
    score_at(store, clock, NOW + timedelta(hours=4), 3, first=3)
    # Then the check sees what the buckets hold, and the item has open hours now
    assert history_matches_buckets(store, clock["now"])
    assert store.detector_state("acme").open_from is not None


def test_imported_history_reaches_a_topics_existing_state(dynamodb, table):
    # Given a topic the scorer already keeps a state for
    store = make_store(dynamodb, table)
    write_scores(store, in_stream_order([scored(mention(1))]), now=NOW)
    # When older hours are imported
    old = HOUR - timedelta(days=3)
    store.put_baseline_buckets([(HourBucket(topic="acme", hour=old, count=4), ["x", "y"])])
    # Then the surge check sees them
    seen = store.detector_history("acme", NOW - timedelta(days=28), NOW)
    assert [(b.hour, b.count, b.authors) for b in seen] == [(old, 4, 2), (HOUR, 1, 1)]
