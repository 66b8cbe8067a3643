"""DynamoDB access: the only module that talks to DynamoDB.

One table, keys `pk`/`sk` (see docs/architecture in the README):

    T#<topic>    M#<published>#<source>#<id>   mention (+ sentiment once scored)
    T#<topic>    H#<yyyy-mm-ddThh>             hourly bucket (counts, distinct-count sketches)
    T#<topic>    V#<from ISO>                  authors heard in [from, until): a Bloom filter
    T#<topic>    DSTATE                        detector state: the last four weeks, packed
    T#<topic>    S#<detected ISO>              surge episode / escalation
    T#<topic>    N#<detected ISO>#<source>     notice: a source went down (one per outage)
    T#<topic>    CH#<channel>                  delivery channel health (slack, sms, ...)
    SRC#<source> C#<topic>                     checkpoint + source health
    SRC#<source> STATE#<key>                   source state (e.g. a login session), JSON
    T#<topic>    F#<surge ISO>#<at ISO>#<nonce> feedback on a surge (signed link, web function)
    T#<topic>    MUTE                          alerts muted until `until`
    T#<topic>    UNSUB#<recipient ref>         a recipient left the topic (keyed hash, no address)
    T#<topic>    TOKEN#<nonce>                 a used POST link token (single use)

Every access is GetItem, Query on one partition with a key range, a conditional PutItem,
an UpdateItem, or a TransactWriteItems of those. Nothing scans.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

# every item read back is decoded like a stream image
from stormwatch.codec import (
    STATE_SK,
    bucket_from_item,
    bucket_sk,
    mention_item,
    scored_from_item,
    sequence_text,
    state_from_item,
    state_item,
    tally_from_item,
    tally_item,
    topic_pk,
    voices_from_item,
    voices_item,
)
from stormwatch.events import deserialize_image as from_ddb
from stormwatch.links import LinkClaims
from stormwatch.models import (
    STATE_SETTLE,
    BackfillProgress,
    BucketTally,
    ChannelHealth,
    Checkpoint,
    DetectorState,
    ErrorKind,
    Feedback,
    HeardAuthors,
    HourBucket,
    Mention,
    ScoredMention,
    SourceNotice,
    StreamedMention,
    Surge,
    VoiceRange,
    author_keys,
    bounded_notes,
    hour_key,
    iso,
    now_utc,
    uncovered,
    utc,
)
from stormwatch.sketch import KnownKeys
from stormwatch.timeutil import floor_hour

_serializer = TypeSerializer()

# a bucket is read and written conditionally; a lost race (a second writer, which stream order
# rules out in normal operation) is retried this many times
MAX_BUCKET_ATTEMPTS = 3
MAX_ERROR_CHARS = 500
# a range of hours is summarised for "new voices" this long after it ended: mentions that are
# collected later than that (a slow feed) are not in its summary
VOICE_SETTLE = timedelta(hours=2)


def _to_ddb(value: Any) -> Any:
    """Python -> DynamoDB attribute value (floats become Decimal, as DynamoDB requires)."""
    return _serializer.serialize(_decimalize(value))


def _decimalize(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(round(value, 6)))
    if isinstance(value, dict):
        return {k: _decimalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_decimalize(v) for v in value]
    return value


HOUR = timedelta(hours=1)


class BucketContention(RuntimeError):
    """A bucket changed between its read and its write on every attempt."""


def _checkpoint_key(source: str, topic: str) -> dict[str, Any]:
    return {"pk": {"S": f"SRC#{source}"}, "sk": {"S": f"C#{topic}"}}


def _checkpoint(source: str, topic: str, raw: dict[str, Any] | None) -> Checkpoint:
    """A stored checkpoint item (DynamoDB JSON), or a fresh checkpoint when there is none."""
    if raw is None:
        return Checkpoint(source=source, topic=topic)
    item = from_ddb(raw)
    return Checkpoint.model_validate(
        {k: v for k, v in item.items() if k in Checkpoint.model_fields}
    )


@dataclass
class ScoreWriteResult:
    written: list[str] = field(default_factory=list)  # sort keys newly counted
    already_scored: list[str] = field(default_factory=list)  # repeats: no-op
    bucket: HourBucket | None = None  # the bucket as it stands after the write


class Store:
    def __init__(self, client: Any, table_name: str, *, retention_days: int = 90, clock=now_utc):
        self._db = client
        self.table_name = table_name
        self.retention = timedelta(days=retention_days)
        self._clock = clock

    def _expires_at(self, anchor: datetime) -> int:
        return int((utc(anchor) + self.retention).timestamp())

    def _query(
        self,
        pk: str,
        start: str,
        end: str,
        *,
        descending: bool = False,
        limit: int | None = None,
        consistent: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Items of one partition with start <= sk <= end, following pagination."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :a AND :b",
            "ExpressionAttributeValues": {
                ":pk": {"S": pk},
                ":a": {"S": start},
                ":b": {"S": end},
            },
            "ScanIndexForward": not descending,
        }
        if limit:
            kwargs["Limit"] = limit
        if consistent:
            kwargs["ConsistentRead"] = True
        yielded = 0
        while True:
            page = self._db.query(**kwargs)
            for item in page.get("Items", []):
                yield from_ddb(item)
                yielded += 1
                if limit and yielded >= limit:
                    return
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # ---- mentions -------------------------------------------------------------------------

    def put_mention(self, mention: Mention | ScoredMention) -> bool:
        """Store a mention (scored by the collector: its one write) unless it is already
        there. True when it was new."""
        scored = mention if isinstance(mention, ScoredMention) else ScoredMention(mention=mention)
        collected = self._clock()
        published = scored.mention.published
        # kept RetentionDays from collection at most (a mis-dated item must not live for
        # ever), and no longer than that from publication
        expires_at = self._expires_at(min(utc(published), utc(collected)))
        return self._put_new(mention_item(scored, expires_at=expires_at))

    def _put_new(self, item: dict[str, Any]) -> bool:
        """Put `item` unless its key is stored already (repeats are no-ops, so retries and
        overlapping runs are safe); True when it was new. None values are left out."""
        return self._put_if(
            {k: v for k, v in item.items() if v is not None}, "attribute_not_exists(pk)"
        )

    def _put_if(
        self, item: dict[str, Any], condition: str, values: dict[str, Any] | None = None
    ) -> bool:
        """Put `item` if `condition` holds; False (nothing written) when it does not."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": {k: _to_ddb(v) for k, v in item.items()},
            "ConditionExpression": condition,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = {k: _to_ddb(v) for k, v in values.items()}
        try:
            self._db.put_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mentions_between(self, topic: str, start: datetime, end: datetime) -> list[ScoredMention]:
        """Mentions published in [start, end)."""
        items = self._query(topic_pk(topic), f"M#{iso(start)}", f"M#{iso(end)}")
        return [scored_from_item(item) for item in items if item["sk"] < f"M#{iso(end)}"]

    # ---- scoring: hourly buckets, exactly once per stream record ------------------------

    def apply_scores(
        self, topic: str, hour: datetime, records: Sequence[StreamedMention]
    ) -> ScoreWriteResult:
        """Count `records` (one topic, one hour) into their bucket, each record exactly once.

        One read and one conditional write per call, whatever the batch size: the bucket
        keeps the sequence number of the last stream record it counted (`applied_through`);
        records at or before it are repeats. The write is conditional on that number being
        unchanged since the read, so a lost race re-reads and recounts (see
        stormwatch.scoring.write_scores for why stream order makes this exactly-once).
        """
        for _ in range(MAX_BUCKET_ATTEMPTS):
            before = self._tally(topic, hour)
            after = before.counted(list(records))
            keys = [(r.mention.sort_key, r.sequence > before.applied_through) for r in records]
            result = ScoreWriteResult(
                written=[key for key, new in keys if new],
                already_scored=[key for key, new in keys if not new],
                bucket=after.bucket,
            )
            if not result.written or self._put_tally(after, before.applied_through):
                return result
        raise BucketContention(f"bucket {topic} {hour_key(hour)} changed on every attempt")

    def _tally(self, topic: str, hour: datetime) -> BucketTally:
        response = self._db.get_item(
            TableName=self.table_name,
            Key={"pk": {"S": topic_pk(topic)}, "sk": {"S": bucket_sk(hour)}},
            ConsistentRead=True,
        )
        raw = response.get("Item")
        return tally_from_item(from_ddb(raw)) if raw else BucketTally.empty(topic, hour)

    def _put_tally(self, tally: BucketTally, expected: int) -> bool:
        """Write the bucket unless another write counted into it since `expected` was read."""
        condition = (
            "applied_through = :expected" if expected else "attribute_not_exists(applied_through)"
        )
        values = {":expected": sequence_text(expected)} if expected else None
        item = tally_item(tally, expires_at=self._expires_at(tally.bucket.hour))
        return self._put_if(item, condition, values)

    def buckets_between(
        self, topic: str, start: datetime, end: datetime, *, consistent: bool = False
    ) -> list[HourBucket]:
        """Hourly buckets whose hour lies in [start, end] (hours without mentions are absent);
        `consistent`: as the last write left them (the surge check reads the batch's own)."""
        items = self._query(
            topic_pk(topic), f"H#{hour_key(start)}", f"H#{hour_key(end)}", consistent=consistent
        )
        return [bucket_from_item(item) for item in items]

    # ---- the per-topic detector state: what the surge check reads ----------------------

    def detector_history(
        self, topic: str, start: datetime, end: datetime, state: DetectorState | None = None
    ) -> list[HourBucket]:
        """The hours in [start, end] as the surge check needs them: the settled ones from the
        topic's detector state (`state` if the caller just read it, else one GetItem), the open
        ones from their buckets (one Query of a few items); a topic without a state yet reads
        its buckets."""
        state = state or self.detector_state(topic)
        first_open = state.first_open_hour() if state else None
        if state is None or first_open is None:
            return self.buckets_between(topic, start, end, consistent=True)
        settled = state.buckets(start, min(end, first_open - timedelta(hours=1)))
        return settled + self.buckets_between(topic, max(start, first_open), end, consistent=True)

    def detector_state(self, topic: str) -> DetectorState | None:
        response = self._db.get_item(
            TableName=self.table_name,
            Key={"pk": {"S": topic_pk(topic)}, "sk": {"S": STATE_SK}},
            ConsistentRead=True,
        )
        raw = response.get("Item")
        return state_from_item(from_ddb(raw)) if raw else None

    def update_detector_state(
        self, topic: str, buckets: Sequence[HourBucket], keep_from: datetime
    ) -> DetectorState:
        """Keep the topic's state settled up to STATE_SETTLE before now: one read, and a
        conditional write only when this batch changed a settled hour or the settled hours
        moved on (about once an hour). A topic without a state gets one from its buckets since
        `keep_from` (once)."""
        open_from = floor_hour(self._clock()) - STATE_SETTLE
        for _ in range(MAX_BUCKET_ATTEMPTS):
            state = self.detector_state(topic)
            new = self._settled(topic, state, buckets, keep_from, open_from)
            if new is state:
                return new
            if self._put_state(new, expected=state.version if state else None):
                return new
        raise BucketContention(f"detector state of {topic} changed on every attempt")

    def _settled(
        self,
        topic: str,
        state: DetectorState | None,
        buckets: Sequence[HourBucket],
        keep_from: datetime,
        open_from: datetime,
    ) -> DetectorState:
        """The state to write (its version raised), or `state` itself when nothing it holds
        changed."""
        first_open = state.first_open_hour() if state else None
        if state is None or first_open is None:
            base = DetectorState.of(topic, self.buckets_between(topic, keep_from, open_from))
            changed = base.model_copy(update={"version": state.version if state else 0})
        else:
            late = [b for b in buckets if b.hour < first_open]
            if not late and first_open >= open_from:
                return state
            # hours that settle now, as their buckets hold them (this batch's writes included)
            settling = (
                self.buckets_between(
                    topic, max(first_open, keep_from), open_from - HOUR, consistent=True
                )
                if first_open < open_from
                else []
            )
            changed = state.with_buckets([*late, *settling], keep_from)
        new = changed.settled_until(max(open_from, first_open or open_from))
        return new.model_copy(update={"version": new.version + 1})

    def _put_state(self, state: DetectorState, expected: int | None) -> bool:
        if expected is None:
            return self._put_if(state_item(state), "attribute_not_exists(pk)")
        return self._put_if(state_item(state), "version = :expected", {":expected": expected})

    def put_baseline_buckets(self, buckets: Sequence[tuple[HourBucket, list[str]]]) -> None:
        """Write whole buckets at once (imports of history; tests)."""
        requests = [{"PutRequest": {"Item": self._bucket_item(b, a)}} for b, a in buckets]
        for start in range(0, len(requests), 25):  # BatchWriteItem's limit
            pending = {self.table_name: requests[start : start + 25]}
            while pending:
                response = self._db.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
        # a topic the scorer already keeps a state for sees the imported hours too, as a
        # read of the buckets would give them
        by_topic: dict[str, list[HourBucket]] = {}
        for request in requests:
            bucket = bucket_from_item(from_ddb(request["PutRequest"]["Item"]))
            by_topic.setdefault(bucket.topic, []).append(bucket)
        for topic, imported in by_topic.items():
            state = self.detector_state(topic)
            first_open = state.first_open_hour() if state else None
            if state is not None and first_open is not None:
                settled = [b for b in imported if b.hour < first_open]  # the rest: buckets
                updated = state.with_buckets(settled, keep_from=None)
                self._put_state(
                    updated.model_copy(update={"version": state.version + 1}), state.version
                )

    def _bucket_item(self, bucket: HourBucket, authors: list[str]) -> dict[str, Any]:
        tally = BucketTally.of(bucket, authors)
        item = tally_item(tally, expires_at=self._expires_at(bucket.hour))
        return {k: _to_ddb(v) for k, v in item.items()}

    def story_count_between(self, topic: str, start: datetime, end: datetime) -> int:
        """Distinct stories (`syndication.story_keys`) in the hourly buckets whose hour lies
        in [start, end], copies counted once across hours too: the union of the buckets'
        story sketches (exact up to 24, then an estimate, see models.STORY_SKETCH_PRECISION)."""
        items = self._query(topic_pk(topic), f"H#{hour_key(start)}", f"H#{hour_key(end)}")
        union = BucketTally.empty(topic, start).stories
        for item in items:
            union = union.merged(tally_from_item(item).stories)
        return union.estimate()

    # ---- who has been heard: the digest's "new voices" -------------------------------------

    def known_authors(
        self, topic: str, start: datetime, end: datetime, *, keep: bool = True
    ) -> HeardAuthors:
        """The authors heard in [start, end) (whole hours), for the digest's "new voices": the
        topic's voice items (one Bloom filter per summarised range, `V#<from>`) that lie
        inside it, and the mentions of the hours none covers, read once and kept as a voice
        item of their own when settled (VOICE_SETTLE) and `keep` (False: a backfill may still
        add to them). A Query of about two items a day."""
        start, end = floor_hour(start), floor_hour(end)
        lookback = start - timedelta(days=1)  # a range that began before `start`
        items = self._query(topic_pk(topic), f"V#{iso(lookback)}", f"V#{iso(end)}")
        ranges = [voices_from_item(item) for item in items]
        used = [r for r in ranges if start < r.until <= end]
        heard = HeardAuthors(filters=tuple(r.known for r in used))
        for gap_start, gap_end in uncovered(start, end, [(r.start, r.until) for r in used]):
            mentions = self.mentions_between(topic, gap_start, gap_end)
            heard = heard.with_keys(author_keys(mentions))
            if keep:
                self.remember_authors(topic, gap_start, gap_end, mentions)
        return heard

    def remember_authors(
        self, topic: str, start: datetime, end: datetime, mentions: Sequence[ScoredMention]
    ) -> bool:
        """Keep the authors of `mentions` (those published in [start, end), whole hours) as the
        voice item of that range, when the range has settled (ended VOICE_SETTLE ago: a later
        mention of it is rare). One put, sized by the range's distinct authors; False when
        not kept (not settled, or empty)."""
        start, end = floor_hour(start), floor_hour(min(end, self._clock() - VOICE_SETTLE))
        if end <= start:
            return False
        inside = [m for m in mentions if start <= m.mention.published < end]
        voices = VoiceRange(start=start, until=end, known=KnownKeys.of(author_keys(inside)))
        item = voices_item(topic, voices, expires_at=self._expires_at(end))
        self._db.put_item(TableName=self.table_name, Item={k: _to_ddb(v) for k, v in item.items()})
        return True

    def count_between(self, topic: str, start: datetime, end: datetime) -> int:
        """Scored mentions in the hourly buckets of [start, end)."""
        last_hour = end - timedelta(hours=1)
        return sum(b.count for b in self.buckets_between(topic, start, last_hour))

    # ---- surges ---------------------------------------------------------------------------

    def put_surge(self, surge: Surge) -> bool:
        """Store a surge item; a repeat with the same timestamp is a no-op. True when new."""
        item = surge.model_dump(mode="json")
        item.update(
            {
                "pk": topic_pk(surge.topic),
                "sk": surge.sort_key,
                "kind": "surge",
                "expires_at": self._expires_at(surge.detected_at),
            }
        )
        return self._put_new(item)

    def surges_between(self, topic: str, start: datetime, end: datetime) -> list[Surge]:
        items = self._query(topic_pk(topic), f"S#{iso(start)}", f"S#{iso(end)}")
        return [surge_from_item(item) for item in items]

    def latest_surge(self, topic: str, since: datetime) -> Surge | None:
        items = list(
            self._query(topic_pk(topic), f"S#{iso(since)}", "S#~", descending=True, limit=1)
        )
        return surge_from_item(items[0]) if items else None

    # ---- checkpoints and source health ----------------------------------------------------

    def get_checkpoint(self, source: str, topic: str) -> Checkpoint:
        """A run's one read of its checkpoint, eventually consistent (half the read units): the
        run before it (same FIFO message group) wrote a period ago, and a stale read is safe
        anyway: an older cursor re-reads items whose conditional writes are no-ops, the failure
        count is an atomic ADD, and a skipped write is made by the next run, which reads again."""
        response = self._db.get_item(
            TableName=self.table_name, Key=_checkpoint_key(source, topic), ConsistentRead=False
        )
        return _checkpoint(source, topic, response.get("Item"))

    def checkpoints(self, topic: str, sources: Iterable[str]) -> list[Checkpoint]:
        """Every source's checkpoint for a topic in one BatchGetItem (a topic has < 100).
        Eventually consistent (half the read units): the surge check and the digest read
        health, which a second's lag does not change."""
        names = list(dict.fromkeys(sources))
        found: dict[str, dict[str, Any]] = {}
        pending = {
            self.table_name: {
                "Keys": [_checkpoint_key(source, topic) for source in names],
                "ConsistentRead": False,
            }
        }
        while names and pending:
            response = self._db.batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(self.table_name, []):
                found[item["pk"]["S"].removeprefix("SRC#")] = item
            pending = response.get("UnprocessedKeys") or {}
        return [_checkpoint(source, topic, found.get(source)) for source in names]

    def record_success(
        self,
        source: str,
        topic: str,
        *,
        cursor: str | None,
        count: int,
        at: datetime,
        notes: Sequence[str] = (),
        truncated: bool = False,
        first: bool = False,
    ) -> None:
        """Move the checkpoint. Call only after the run's mentions are durably written, and
        only for a run that changes something (models.Checkpoint.needs_recording).

        `notes` (the source's own remarks, e.g. a quota reached) and `truncated` replace the
        previous run's (models.bounded_notes). `first`: the source's first success for the
        topic, kept as `first_success` (live coverage starts there; a checkpoint older than
        this rule has none, and its coverage is not known)."""
        values = {
            ":at": _to_ddb(iso(at)),
            ":n": _to_ddb(count),
            ":zero": _to_ddb(0),
            ":notes": _to_ddb(bounded_notes(notes)),
            ":trunc": _to_ddb(bool(truncated)),
        }
        expression = (
            "SET last_run = :at, last_success = :at, last_count = :n,"
            " consecutive_failures = :zero, last_notes = :notes, last_truncated = :trunc"
            " ADD total_count :n"
        )
        if first:
            expression = expression.replace(
                "SET ", "SET first_success = if_not_exists(first_success, :at), ", 1
            )
        if cursor is not None:
            expression = expression.replace("SET ", "SET #cursor = :cursor, ", 1)
            values[":cursor"] = _to_ddb(cursor)
        self._update_checkpoint(source, topic, expression, values, cursor is not None)

    def save_backfill(self, source: str, topic: str, progress: BackfillProgress) -> None:
        """Keep a backfill's progress on the checkpoint, beside (never in) the live cursor."""
        self._update_checkpoint(
            source,
            topic,
            "SET backfill = :backfill",
            {":backfill": _to_ddb(progress.model_dump(mode="json"))},
            False,
        )

    def count_backfill_scored(self, source: str, topic: str, count: int) -> None:
        """Add `count` backfilled mentions the scorer newly scored (Checkpoint.backfill_start)."""
        expression = "SET backfill_scored = if_not_exists(backfill_scored, :zero) + :n"
        values = {":n": _to_ddb(count), ":zero": _to_ddb(0)}
        self._update_checkpoint(source, topic, expression, values, False)

    def record_failure(
        self, source: str, topic: str, *, error: str, at: datetime, kind: ErrorKind = ""
    ) -> int:
        """Note a failed run; the cursor stays where it was so the next run catches up.
        `kind` "refused": the platform refuses the client (see Checkpoint.health).

        Returns the number of failed runs in a row, this one included (atomic: of concurrent
        runs exactly one sees each number)."""
        values = {
            ":at": _to_ddb(iso(at)),
            ":err": _to_ddb(error[:MAX_ERROR_CHARS]),
            ":kind": _to_ddb(kind),
            ":one": _to_ddb(1),
            ":zero": _to_ddb(0),
        }
        expression = (
            "SET last_run = :at, last_error = :err, last_error_at = :at, last_error_kind = :kind,"
            " last_count = :zero ADD consecutive_failures :one"
        )
        response = self._update_checkpoint(
            source, topic, expression, values, False, returns="UPDATED_NEW"
        )
        attributes = from_ddb(response.get("Attributes") or {})
        return int(attributes.get("consecutive_failures", 0))

    def _update_checkpoint(
        self,
        source: str,
        topic: str,
        expression: str,
        values: dict[str, Any],
        has_cursor: bool,
        returns: str = "NONE",
    ) -> dict[str, Any]:
        values = {**values, ":source": _to_ddb(source), ":topic": _to_ddb(topic)}
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"pk": {"S": f"SRC#{source}"}, "sk": {"S": f"C#{topic}"}},
            "UpdateExpression": expression.replace(
                "SET ", "SET #source = :source, topic = :topic, ", 1
            ),
            "ExpressionAttributeValues": values,
            "ExpressionAttributeNames": {"#source": "source"},
            "ReturnValues": returns,
        }
        if has_cursor:
            kwargs["ExpressionAttributeNames"]["#cursor"] = "cursor"
        return self._db.update_item(**kwargs)

    # ---- notices: a source went down --------------------------------------------------------

    def put_notice(self, notice: SourceNotice) -> bool:
        """Store a notice; a repeat with the same key is a no-op. True when new (its stream
        insert is what makes the report function send the e-mail)."""
        item = notice.model_dump(mode="json")
        item.update(
            {
                "pk": topic_pk(notice.topic),
                "sk": notice.sort_key,
                "notice": notice.kind,
                "kind": "notice",
                "expires_at": self._expires_at(notice.detected_at),
            }
        )
        return self._put_new(item)

    # ---- delivery channel health ----------------------------------------------------------

    def record_channel_result(
        self, topic: str, channel: str, *, at: datetime, error: str | None
    ) -> None:
        """Note one delivery outcome: a success clears the failure streak; a failure keeps the
        first failure's time as `failing_since` (the digest: "Slack failing since …")."""
        values: dict[str, Any] = {
            ":at": _to_ddb(iso(at)),
            ":topic": _to_ddb(topic),
            ":channel": _to_ddb(channel),
        }
        if error is None:
            expression = (
                "SET topic = :topic, #channel = :channel, last_success = :at,"
                " consecutive_failures = :zero REMOVE failing_since"
            )
            values[":zero"] = _to_ddb(0)
        else:
            expression = (
                "SET topic = :topic, #channel = :channel, last_failure = :at, last_error = :err,"
                " failing_since = if_not_exists(failing_since, :at)"
                " ADD consecutive_failures :one"
            )
            values[":err"] = _to_ddb(error[:MAX_ERROR_CHARS])
            values[":one"] = _to_ddb(1)
        self._db.update_item(
            TableName=self.table_name,
            Key={"pk": {"S": topic_pk(topic)}, "sk": {"S": f"CH#{channel}"}},
            UpdateExpression=expression,
            ExpressionAttributeValues=values,
            ExpressionAttributeNames={"#channel": "channel"},
        )

    def channel_health(self, topic: str) -> list[ChannelHealth]:
        items = self._query(topic_pk(topic), "CH#", "CH#~")
        return [
            ChannelHealth.model_validate(
                {k: v for k, v in item.items() if k in ChannelHealth.model_fields}
            )
            for item in items
        ]

    # ---- source state (not per topic): e.g. a login session kept between runs ------------
    # SRC#<source> / STATE#<key>; the value is stored as a JSON string (no float→Decimal
    # surprises). It may hold tokens: never log it. An item past `expires_at` (DynamoDB's TTL
    # deletes lazily) reads as None.

    def get_source_state(self, source: str, key: str) -> dict[str, Any] | None:
        response = self._db.get_item(
            TableName=self.table_name,
            Key={"pk": {"S": f"SRC#{source}"}, "sk": {"S": f"STATE#{key}"}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item or "value" not in item:
            return None
        expires = item.get("expires_at", {}).get("N")
        if expires is not None and int(expires) <= int(self._clock().timestamp()):
            return None
        try:
            value = json.loads(item["value"]["S"])
        except (KeyError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def put_source_state(
        self, source: str, key: str, value: dict[str, Any], *, expires_at: int | None = None
    ) -> None:
        item: dict[str, Any] = {
            "pk": {"S": f"SRC#{source}"},
            "sk": {"S": f"STATE#{key}"},
            "value": {"S": json.dumps(value, separators=(",", ":"), sort_keys=True)},
            "updated_at": {"S": iso(self._clock())},
        }
        if expires_at is not None:
            item["expires_at"] = {"N": str(int(expires_at))}
        self._db.put_item(TableName=self.table_name, Item=item)

    # ---- signed-link actions (stormwatch.links, the web function) -------------------------
    # Each POST token is used once: the
    # action's writes and a conditional put of T#<topic> / TOKEN#<nonce> go in one transaction, so
    # a replay changes nothing and the first use either happens whole or not at all.
    #
    #     T#<topic>  F#<surge ISO>#<at ISO>#<nonce>   feedback on a surge (real/noise/handled/mute)
    #     T#<topic>  MUTE                             alerts muted until `until`
    #     T#<topic>  UNSUB#<recipient ref>            a recipient left the topic (keyed hash)
    #     T#<topic>  TOKEN#<nonce>                    a used POST token (TTL: its expiry)

    def _used_token_put(self, claims: LinkClaims, at: datetime) -> dict[str, Any]:
        item = {
            "pk": topic_pk(claims.topic),
            "sk": f"TOKEN#{claims.nonce}",
            "kind": "used_token",
            "action": claims.action,
            "used_at": iso(at),
            "expires_at": claims.expires,
        }
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": {k: _to_ddb(v) for k, v in item.items()},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _put(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": {k: _to_ddb(v) for k, v in item.items() if v is not None},
            }
        }

    def _use_token_with(self, claims: LinkClaims, at: datetime, writes: list[dict]) -> bool:
        """Run `writes` with the token's first use, atomically; False when it was used."""
        try:
            self._db.transact_write_items(TransactItems=[self._used_token_put(claims, at), *writes])
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise
        return True

    def record_feedback(self, claims: LinkClaims, *, at: datetime, mute_until: datetime | None):
        """Feedback on the surge detected at `claims.subject` (a mute also sets MUTE)."""
        feedback = {
            "pk": topic_pk(claims.topic),
            "sk": f"F#{claims.subject}#{iso(at)}#{claims.nonce}",
            "kind": "feedback",
            "topic": claims.topic,
            "surge": claims.subject,
            "verdict": claims.action,
            "at": iso(at),
            "expires_at": self._expires_at(at),
        }
        writes = [self._put(feedback)]
        if mute_until is not None:
            mute = {
                "pk": topic_pk(claims.topic),
                "sk": "MUTE",
                "kind": "mute",
                "until": iso(mute_until),
                "expires_at": int(utc(mute_until).timestamp()),
            }
            writes.append(self._put(mute))
        return self._use_token_with(claims, at, writes)

    def feedback_between(self, topic: str, start: datetime, end: datetime) -> list[Feedback]:
        """Feedback on the surges detected in [start, end], oldest surge first."""
        items = self._query(topic_pk(topic), f"F#{iso(start)}", f"F#{iso(end)}#~")
        return [Feedback.model_validate(item) for item in items]

    def muted_until(self, topic: str) -> datetime | None:
        response = self._db.get_item(
            TableName=self.table_name,
            Key={"pk": {"S": topic_pk(topic)}, "sk": {"S": "MUTE"}},
            ConsistentRead=True,
        )
        item = from_ddb(response.get("Item") or {})
        return datetime.fromisoformat(item["until"]) if "until" in item else None

    def set_subscription(self, claims: LinkClaims, *, at: datetime, subscribed: bool) -> bool:
        """Unsubscribe (or come back) the recipient whose keyed hash is `claims.subject`."""
        key = {"pk": {"S": topic_pk(claims.topic)}, "sk": {"S": f"UNSUB#{claims.subject}"}}
        if subscribed:
            write = {"Delete": {"TableName": self.table_name, "Key": key}}
        else:
            item = {
                "pk": topic_pk(claims.topic),
                "sk": f"UNSUB#{claims.subject}",
                "kind": "unsubscribe",
                "at": iso(at),
            }
            write = self._put(item)
        return self._use_token_with(claims, at, [write])

    def unsubscribed(self, topic: str) -> set[str]:
        """The keyed hashes of the recipients who left the topic (one bounded Query)."""
        items = self._query(topic_pk(topic), "UNSUB#", "UNSUB#~")
        return {str(item["sk"]).removeprefix("UNSUB#") for item in items}


def surge_from_item(item: dict[str, Any]) -> Surge:
    return Surge.model_validate({k: v for k, v in item.items() if k in Surge.model_fields})


def notice_from_item(item: dict[str, Any]) -> SourceNotice:
    fields = {k: v for k, v in item.items() if k in SourceNotice.model_fields}
    fields["kind"] = item.get("notice", "source_down")
    return SourceNotice.model_validate(fields)
