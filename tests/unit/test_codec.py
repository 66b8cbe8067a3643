"""The item <-> model codec: what is stored reads back as the same model, whichever way the
item comes back (GetItem/Query or a stream image: both decode through events)."""

from __future__ import annotations

import base64
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from stormwatch.codec import (
    PACK_TEXT_BYTES,
    mention_item,
    scored_from_item,
    state_from_item,
    state_item,
    tally_from_item,
    tally_item,
)
from stormwatch.events import deserialize_image
from stormwatch.models import (
    AUTHOR_KEY_CHARS,
    DETECTOR_FIELDS,
    MAX_TEXT_CHARS,
    TOP_AUTHORS,
    BucketTally,
    DetectorState,
    HourBucket,
    Mention,
    ScoredMention,
    Sentiment,
    hour_key,
    iso,
    space_saving,
)
from stormwatch.scoring import hourly_points
from stormwatch.store import _to_ddb

from tests.support.ddb_units import item_size

START = datetime(2026, 1, 1, tzinfo=UTC)
words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
hours = st.integers(0, 24 * 400).map(lambda h: START + timedelta(hours=h))
seconds = st.integers(0, 3600 * 24 * 400).map(lambda s: START + timedelta(seconds=s))


def through_dynamodb(item: dict) -> dict:
    """Plain values -> DynamoDB JSON (as store writes) -> plain values (as store reads)."""
    return deserialize_image({k: _to_ddb(v) for k, v in item.items()})


sentiments = st.builds(
    Sentiment,
    label=st.sampled_from(["negative", "neutral", "positive"]),
    score=st.floats(-1, 1).map(lambda x: round(x, 6)),
    confidence=st.floats(0, 1).map(lambda x: round(x, 6)),
    lang=st.sampled_from(["en", "de", "und"]),
    terms=st.lists(words.filter(bool), max_size=4).map(tuple),
)
mentions = st.builds(
    Mention,
    topic=st.sampled_from(["acme", "deutsche-bahn"]),
    source=st.sampled_from(["hackernews", "rss", "bluesky"]),
    native_id=st.text(min_size=1, max_size=20).filter(str.strip),
    published=seconds,
    url=st.none() | st.just("https://example.com/a?b=1"),
    title=words,
    text=words,
    author=words,
    lang=st.none() | st.sampled_from(["en", "de"]),
    engagement=st.integers(0, 10**9),
    channel=words,
    backfill=st.booleans(),
)


@given(mentions, st.none() | sentiments, st.sampled_from(["", "t:abc", "u:123"]))
def test_a_mention_item_reads_back_as_the_mention_it_was(mention, sentiment, story):
    # Given a mention as the collector stores it (scored, or not)
    scored = ScoredMention(mention=mention, sentiment=sentiment, story=story)
    # When it is written as an item and read back (or arrives as a stream image)
    item = mention_item(scored, expires_at=1_900_000_000)
    # Then it is the same scored mention
    assert scored_from_item(through_dynamodb(item)) == scored


long_texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=80
).map(lambda words: (words + " ") * (PACK_TEXT_BYTES // max(len(words.encode()), 1) + 1))


@given(mentions, long_texts, st.booleans())
def test_a_long_text_is_stored_compressed_and_reads_back_from_any_image(mention, text, stream):
    # Given a mention with a text longer than PACK_TEXT_BYTES
    long = Mention.model_validate({**mention.model_dump(), "text": text[:MAX_TEXT_CHARS]})
    scored = ScoredMention(mention=long)
    # When it is written and read back through boto3 (bytes) or a Lambda stream event (base64)
    item = mention_item(scored, expires_at=1_900_000_000)
    image = {k: _to_ddb(v) for k, v in item.items()}
    if stream and "text_z" in image:
        image["text_z"] = {"B": base64.b64encode(image["text_z"]["B"]).decode()}
    # Then it is the same mention, and its text was stored plain only where packing saves nothing
    assert scored_from_item(deserialize_image(image)) == scored
    packed = "text_z" in item
    assert packed != ("text" in item)
    assert not packed or len(item["text_z"]) < len(scored.mention.text.encode())


def test_a_long_post_costs_fewer_write_units_than_stored_plain():
    # Given a 3,000-character post (a GitHub issue body, a Reddit self-post)
    text = " ".join(f"step {i}: the deploy failed again with error E{i % 7}" for i in range(70))
    post = Mention(topic="acme", source="github", native_id="1", published=START, text=text)
    # When it is stored
    item = mention_item(ScoredMention(mention=post), expires_at=1_900_000_000)
    # Then it fits one write unit (1 KB) where its text alone was about three
    assert len(text.encode()) > 3000
    assert item_size({k: _to_ddb(v) for k, v in item.items()}) <= 1024


@given(mentions, st.none() | sentiments, st.sampled_from(["", "t:abc", "u:123"]))
def test_an_item_written_before_the_key_left_the_attributes_still_reads(mention, sentiment, story):
    # Given a mention item in the earlier layout: the key's parts, `kind`, `author_key` and
    # `collected_at` stored as attributes too, the text plain
    scored = ScoredMention(mention=mention, sentiment=sentiment, story=story)
    item = {k: v for k, v in mention_item(scored, expires_at=1).items() if k != "text_z"}
    item |= {
        "kind": "mention",
        "topic": mention.topic,
        "source": mention.source,
        "native_id": mention.native_id,
        "published": iso(mention.published),
        "text": mention.text,
        "author_key": mention.author_key,
        "collected_at": iso(START),
    }
    # When it is read, Then it is the mention it was
    assert scored_from_item(through_dynamodb(item)) == scored


keys = st.frozensets(st.text("0123456789abcdef", min_size=AUTHOR_KEY_CHARS, max_size=10))


@given(
    hours,
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.lists(keys, max_size=3),
    keys,
    st.dictionaries(st.sampled_from(["rss", "hackernews"]), st.integers(1, 1000)),
    st.integers(0, 10**40 - 1),
    st.dictionaries(st.text("0123456789abcdef", min_size=10, max_size=10), st.integers(1, 99)),
)
def test_a_bucket_item_reads_back_as_the_bucket_it_was(
    hour, count, engagement, author_batches, stories, by_source, applied_through, top
):
    # Given a bucket as the scorer keeps it, its authors counted in a few batches (a batch
    # of 60 keys and more turns the sketch dense)
    bucket = HourBucket(
        topic="acme",
        hour=hour,
        count=count,
        negative=count // 2,
        neutral=count - count // 2,
        engagement=engagement,
        by_source=by_source,
        top_author=max(top.values(), default=0),
    )
    tally = BucketTally.of(
        bucket, stories=stories, applied_through=applied_through, top_authors=top
    )
    for batch in author_batches:
        tally = tally.with_keys(sorted(batch), [])
    # When it is written as an item and read back, Then it is the same
    assert tally_from_item(through_dynamodb(tally_item(tally, expires_at=1))) == tally


@given(keys, keys)
def test_a_bucket_written_before_the_sketches_reads_with_its_exact_counts_and_converts(
    authors, stories
):
    # Given a bucket item as deployed tables hold it: exact author and story sets
    legacy = {
        "pk": "T#acme",
        "sk": "H#2026-01-01T05",
        "topic": "acme",
        "count": 7,
        "applied_through": "0" * 39 + "9",
    }
    if authors:
        legacy["author_set"] = set(authors)
    if stories:
        legacy["story_set"] = set(stories)
    # When it is read
    tally = tally_from_item(through_dynamodb(legacy))
    # Then its distinct counts are the sets' sizes (exact below the sketches' sparse limits)
    if len(authors) <= 48:
        assert tally.bucket.authors == len(authors)
    if len(stories) <= 24:
        assert tally.bucket.stories == len(stories)
    # And written back, it holds sketches instead of the sets, with the same counts
    item = tally_item(tally, expires_at=1)
    assert "author_set" not in item and "story_set" not in item
    assert tally_from_item(through_dynamodb(item)) == tally


def test_a_storm_hours_bucket_item_is_no_bigger_than_a_quiet_ones_write_unit():
    # Given a quiet hour (3 authors) and a storm hour (4,000 authors, 900 stories), every
    # source counting and the top-author summary full
    def item_bytes(n_authors: int, n_stories: int) -> int:
        bucket = HourBucket(
            topic="deutsche-bahn",
            hour=START,
            count=5000,
            negative=2500,
            neutral=2000,
            positive=500,
            engagement=123456,
            by_source={s: 555 for s in ("reddit", "hackernews", "bluesky", "mastodon", "rss")},
        )
        tally = BucketTally.of(
            bucket,
            authors=[f"{i:010x}" for i in range(n_authors)],
            stories=[f"t:{i}" for i in range(n_stories)],
            applied_through=10**39,
            top_authors={f"{i:010x}": 99 for i in range(TOP_AUTHORS)},
        )
        item = {k: _to_ddb(v) for k, v in tally_item(tally, expires_at=1_900_000_000).items()}
        return item_size(item)

    # Then both fit one write unit (1 KB): the sketches do not grow with the hour
    assert item_bytes(3, 2) <= 1024
    assert item_bytes(4000, 900) <= 1024
    assert item_bytes(40_000, 9_000) == item_bytes(4000, 900)


@given(st.lists(st.sampled_from([f"a{i}" for i in range(40)]), max_size=300), st.integers(1, 30))
def test_the_top_author_summary_stays_small_and_never_undercounts(keys, loud):
    # Given an hour's authors, one of them posting `loud` times more than in the sample
    stream = keys + ["loud"] * loud
    # When they are counted in three batches
    summary: dict[str, int] = {}
    for start in range(0, len(stream), 100):
        summary = space_saving(summary, stream[start : start + 100])
    # Then the summary holds at most TOP_AUTHORS entries, its largest count is never below
    # the true top count, and exact when nobody was ever pushed out
    true_top = max(Counter(stream).values())
    assert len(summary) <= TOP_AUTHORS
    assert max(summary.values()) >= true_top
    if len(set(stream)) <= TOP_AUTHORS:
        assert max(summary.values()) == true_top


def test_the_detector_sees_the_hours_top_author_count():
    # Given a bucket whose most active author wrote 7 of its mentions
    hour = START
    bucket = HourBucket(topic="acme", hour=hour, count=9, authors=3, top_author=7)
    # When the surge check turns buckets into the detector's points
    [point] = hourly_points([bucket], hour, hour)
    # Then the point carries that count
    assert point.top_author_count == 7


@given(
    st.dictionaries(
        hours.map(hour_key), st.tuples(*[st.integers(0, 10**7)] * len(DETECTOR_FIELDS))
    ),
    st.integers(0, 10**6),
    st.none() | hours.map(hour_key),
)
def test_a_detector_state_item_reads_back_as_the_state_it_was(
    hours_with_values, version, open_from
):
    # Given a topic's detector state (its first open hour unknown in items from before)
    state = DetectorState(
        topic="acme", hours=hours_with_values, version=version, open_from=open_from
    )
    # When it is written as an item and read back, Then it is the same
    assert state_from_item(through_dynamodb(state_item(state))) == state
