"""The one place that turns stored items into models and back.

Every item arrives as plain values (`events.deserialize_image` decodes GetItem, Query and
stream images alike) and leaves as plain values (`store` serialises them). Mention items,
hourly buckets and the per-topic detector state each have a pair here, and a Hypothesis test
holds each pair to a round trip (tests/unit/test_codec.py).
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from typing import Any

from stormwatch.models import (
    AUTHOR_KEY_CHARS,
    AUTHOR_SKETCH_PRECISION,
    STORY_SKETCH_PRECISION,
    BucketTally,
    DetectorState,
    HourBucket,
    Mention,
    ScoredMention,
    Sentiment,
    VoiceRange,
    hour_key,
    iso,
)
from stormwatch.sketch import DistinctSketch, KnownKeys

BUCKET_KIND = "bucket"
STATE_KIND = "detector_state"
VOICES_KIND = "voices"
STATE_SK = "DSTATE"
# an hourly bucket's sketches (binary attributes), and the exact sets items held before them
AUTHOR_SKETCH = "author_sketch"
STORY_SKETCH = "story_sketch"
LEGACY_AUTHOR_SET = "author_set"
LEGACY_STORY_SET = "story_set"
# a stream SequenceNumber is up to 40 digits (more than a DynamoDB number holds): stored as a
# zero-padded string, so DynamoDB's string order is the numeric order
SEQUENCE_DIGITS = 40


def topic_pk(topic: str) -> str:
    return f"T#{topic}"


def bucket_sk(hour: datetime) -> str:
    return f"H#{hour_key(hour)}"


def sequence_text(sequence: int) -> str:
    return str(sequence).zfill(SEQUENCE_DIGITS)


# ---- mentions ------------------------------------------------------------------------------


# A text at least this long (UTF-8 bytes) is stored zlib-compressed as the binary `text_z`
# when that is smaller: DynamoDB bills a write unit per started KB, and the long posts (GitHub
# issues, Reddit self-posts, Stack Exchange questions, HN comments; up to MAX_TEXT_CHARS)
# compress to about half (bench/mention_items.py). Shorter texts stay readable in the table.
PACK_TEXT_BYTES = 512


def mention_item(scored: ScoredMention, *, expires_at: int) -> dict[str, Any]:
    """A mention (scored or not) -> its item, plain values; None values left out; a long
    text packed (PACK_TEXT_BYTES).

    The keys already say the topic, publication time, source and native id
    (`T#<topic>` / Mention.sort_key): they are not stored again (scored_from_item reads them
    from the keys, and still reads the attributes of items written before)."""
    mention = scored.mention
    item: dict[str, Any] = {
        "pk": topic_pk(mention.topic),
        "sk": mention.sort_key,
        "url": mention.url,
        "title": mention.title,
        **_text_fields(mention.text),
        "author": mention.author,
        "lang": mention.lang,
        "engagement": mention.engagement,
        "channel": mention.channel,
        "expires_at": expires_at,
        "backfill": True if mention.backfill else None,
        "story_key": scored.story or None,
    }
    if scored.sentiment is not None:
        item.update(_sentiment_fields(scored.sentiment))
    return {k: v for k, v in item.items() if v is not None}


def _text_fields(text: str) -> dict[str, Any]:
    raw = text.encode("utf-8")
    if len(raw) >= PACK_TEXT_BYTES:
        packed = zlib.compress(raw, 9)
        if len(packed) < len(raw):
            return {"text_z": packed}
    return {"text": text}


def _text(item: dict[str, Any]) -> str:
    if "text_z" in item:
        return zlib.decompress(bytes(item["text_z"])).decode("utf-8")
    return str(item.get("text", ""))


def _key_parts(item: dict[str, Any]) -> dict[str, str]:
    """topic, published, source and native_id from the keys (`M#<published>#<source>#<id>`);
    an item written before they left the attributes has them there too."""
    _, published, source, native_id = str(item["sk"]).split("#", 3)
    from_keys = {
        "topic": str(item["pk"]).removeprefix("T#"),
        "published": published,
        "source": source,
        "native_id": native_id,
    }
    return {name: str(item.get(name, value)) for name, value in from_keys.items()}


def _sentiment_fields(sentiment: Sentiment) -> dict[str, Any]:
    return {
        "sentiment_label": sentiment.label,
        "sentiment_score": float(sentiment.score),
        "sentiment_confidence": float(sentiment.confidence),
        "sentiment_lang": sentiment.lang,
        "sentiment_terms": list(sentiment.terms),
    }


def scored_from_item(item: dict[str, Any]) -> ScoredMention:
    """A mention item or stream image (plain values) -> ScoredMention (validated); sentiment
    None when the item was stored unscored."""
    mention = Mention(
        **_key_parts(item),
        url=item.get("url"),
        title=item.get("title", ""),
        text=_text(item),
        author=item.get("author", ""),
        lang=item.get("lang"),
        engagement=int(item.get("engagement", 0)),
        channel=item.get("channel", ""),
        backfill=bool(item.get("backfill", False)),
    )
    sentiment = None
    if "sentiment_label" in item:
        sentiment = Sentiment(
            label=item["sentiment_label"],
            score=float(item.get("sentiment_score", 0.0)),
            confidence=float(item.get("sentiment_confidence", 0.5)),
            lang=item.get("sentiment_lang", "und"),
            terms=tuple(item.get("sentiment_terms", ())),
        )
    return ScoredMention(mention=mention, sentiment=sentiment, story=item.get("story_key", ""))


# ---- hourly buckets ------------------------------------------------------------------------


def tally_item(tally: BucketTally, *, expires_at: int) -> dict[str, Any]:
    """A bucket as the scorer keeps it -> its item (plain values; sketches as binary). The
    distinct counts are not stored: they are the sketches' estimates."""
    bucket = tally.bucket
    item: dict[str, Any] = {
        "pk": topic_pk(bucket.topic),
        "sk": bucket_sk(bucket.hour),
        "kind": BUCKET_KIND,
        "topic": bucket.topic,
        "hour_start": iso(bucket.hour),
        "count": bucket.count,
        "negative": bucket.negative,
        "neutral": bucket.neutral,
        "positive": bucket.positive,
        "engagement": bucket.engagement,
        "expires_at": expires_at,
    }
    item.update({f"src_{source}": count for source, count in bucket.by_source.items()})
    for name, sketch in ((AUTHOR_SKETCH, tally.authors), (STORY_SKETCH, tally.stories)):
        if sketch.estimate():  # an empty sketch is left out, as DynamoDB's sets were
            item[name] = sketch.to_bytes()
    if tally.applied_through:
        item["applied_through"] = sequence_text(tally.applied_through)
    if tally.top_authors:
        item["top_authors"] = dict(tally.top_authors)
    return item


def tally_from_item(item: dict[str, Any]) -> BucketTally:
    """A bucket item (plain values) -> the bucket with its sketches and stream position. An
    item written before the sketches (exact `author_set` / `story_set`) reads as the sketches
    of those sets; the scorer's next write of it converts it."""
    top = {str(k): int(v) for k, v in item.get("top_authors", {}).items()}
    bucket = HourBucket(
        topic=item["topic"] if "topic" in item else str(item["pk"]).removeprefix("T#"),
        hour=datetime.fromisoformat(str(item["sk"])[2:] + ":00:00+00:00"),
        count=int(item.get("count", 0)),
        negative=int(item.get("negative", 0)),
        neutral=int(item.get("neutral", 0)),
        positive=int(item.get("positive", 0)),
        engagement=int(item.get("engagement", 0)),
        by_source={
            key.removeprefix("src_"): int(value)
            for key, value in item.items()
            if key.startswith("src_")
        },
        top_author=max(top.values(), default=0),
    )
    tally = BucketTally(
        bucket=bucket,
        authors=_sketch(item, AUTHOR_SKETCH, AUTHOR_SKETCH_PRECISION),
        stories=_sketch(item, STORY_SKETCH, STORY_SKETCH_PRECISION),
        applied_through=int(item.get("applied_through", 0)),
        top_authors=top,
    )
    legacy_authors = [str(a)[:AUTHOR_KEY_CHARS] for a in item.get(LEGACY_AUTHOR_SET, ())]
    return tally.with_keys(legacy_authors, [str(s) for s in item.get(LEGACY_STORY_SET, ())])


def _sketch(item: dict[str, Any], name: str, precision: int) -> DistinctSketch:
    raw = item.get(name)
    return DistinctSketch.from_bytes(bytes(raw)) if raw else DistinctSketch(precision)


def bucket_from_item(item: dict[str, Any]) -> HourBucket:
    return tally_from_item(item).bucket


# ---- the per-topic detector state ----------------------------------------------------------


def state_item(state: DetectorState) -> dict[str, Any]:
    """The state -> its item: the hours packed as zlib-compressed JSON (a few hundred bytes for
    four weeks of a busy topic; most hours repeat small numbers)."""
    packed = json.dumps(state.hours, separators=(",", ":"), sort_keys=True).encode()
    return {
        "pk": topic_pk(state.topic),
        "sk": STATE_SK,
        "kind": STATE_KIND,
        "topic": state.topic,
        "version": state.version,
        "hours": zlib.compress(packed, 9),
        **({"open_from": state.open_from} if state.open_from is not None else {}),
    }


def state_from_item(item: dict[str, Any]) -> DetectorState:
    hours = json.loads(zlib.decompress(bytes(item["hours"])))
    return DetectorState(
        topic=item["topic"],
        hours={hour: tuple(values) for hour, values in hours.items()},
        version=int(item.get("version", 0)),
        open_from=item.get("open_from"),
    )


# ---- who has been heard (the digest's "new voices") ----------------------------------------


def voices_item(topic: str, voices: VoiceRange, *, expires_at: int) -> dict[str, Any]:
    return {
        "pk": topic_pk(topic),
        "sk": f"V#{iso(voices.start)}",
        "kind": VOICES_KIND,
        "until": iso(voices.until),
        "known": voices.known.to_bytes(),
        "expires_at": expires_at,
    }


def voices_from_item(item: dict[str, Any]) -> VoiceRange:
    return VoiceRange(
        start=datetime.fromisoformat(str(item["sk"]).removeprefix("V#")),
        until=datetime.fromisoformat(str(item["until"])),
        known=KnownKeys.from_bytes(bytes(item["known"])),
    )
