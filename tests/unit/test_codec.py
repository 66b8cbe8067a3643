"""The item <-> model codec: what is stored reads back as the same model, whichever way the
item comes back (GetItem/Query or a stream image: both decode through events)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from stormwatch.codec import mention_item, scored_from_item, tally_from_item, tally_item
from stormwatch.events import deserialize_image
from stormwatch.models import (
    AUTHOR_KEY_CHARS,
    BucketTally,
    HourBucket,
    Mention,
    ScoredMention,
    Sentiment,
)
from stormwatch.store import _to_ddb

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
    item = mention_item(scored, collected=START, expires_at=1_900_000_000)
    # Then it is the same scored mention
    assert scored_from_item(through_dynamodb(item)) == scored


keys = st.frozensets(st.text("0123456789abcdef", min_size=AUTHOR_KEY_CHARS, max_size=10))


@given(
    hours,
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    keys,
    keys,
    st.dictionaries(st.sampled_from(["rss", "hackernews"]), st.integers(1, 1000)),
    st.integers(0, 10**40 - 1),
)
def test_a_bucket_item_reads_back_as_the_bucket_it_was(
    hour, count, engagement, authors, stories, by_source, applied_through
):
    # Given a bucket as the scorer keeps it
    bucket = HourBucket(
        topic="acme",
        hour=hour,
        count=count,
        negative=count // 2,
        neutral=count - count // 2,
        engagement=engagement,
        authors=len(authors),
        stories=len(stories),
        by_source=by_source,
    )
    tally = BucketTally(
        bucket=bucket, author_keys=authors, story_keys=stories, applied_through=applied_through
    )
    # When it is written as an item and read back, Then it is the same
    assert tally_from_item(through_dynamodb(tally_item(tally, expires_at=1))) == tally
