"""The sample events in events/ are what the functions really receive.

The same files drive `sam local invoke -e` and `stormwatch invoke`; here every one is parsed
through the models the handlers use, and every stream record must pass the FilterCriteria that
template.yaml gives the function it is meant for.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stormwatch.dispatch import PACES, CollectTask
from stormwatch.events import CollectEvent, DigestEvent, StreamRecord
from stormwatch.models import Mention, Surge
from stormwatch.sources import REGISTRY

from tests.infrastructure import cfn_template as cfn

EVENTS = Path(__file__).resolve().parents[2] / "events"

# which function each sample event is for, and how it is parsed
# (one collect event per registered source: the registry is the list of sources)
TARGETS = {
    **{f"collect_{name}.json": ("DispatchFunction", "collect") for name in sorted(REGISTRY)},
    "backfill_hackernews.json": ("DispatchFunction", "collect"),  # stormwatch.backfill
    "sqs_collect_task.json": ("CollectFunction", "sqs"),  # a task the dispatch function queued
    "score_mention_insert.json": ("ScoreFunction", "stream"),
    "report_digest.json": ("ReportFunction", "digest"),
    "report_digest_topic.json": ("ReportFunction", "digest"),
    "report_surge_insert.json": ("ReportFunction", "stream"),
}
TOPICS = {"acme-cloud", "deutsche-bahn"}
SCHEDULED_AT = "2026-11-25T09:00:00Z"  # of the collect schedule samples
STREAM_RECORD_KEYS = {
    "eventID",
    "eventName",
    "eventSource",
    "awsRegion",
    "dynamodb",
    "eventSourceARN",
}
STREAM_DYNAMODB_KEYS = {
    "ApproximateCreationDateTime",
    "Keys",
    "NewImage",
    "SequenceNumber",
    "SizeBytes",
    "StreamViewType",
}


def _load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def _stream_records(name: str) -> list[dict]:
    return _load(name)["Records"]


def test_every_sample_event_is_covered_by_this_test():
    # Given the files in events/
    present = {path.name for path in EVENTS.glob("*.json")}
    # Then each one is known here (and so parsed below), and none is missing
    assert present == set(TARGETS)


@pytest.mark.parametrize(
    ("name", "source"),
    [
        (name, name.removeprefix("collect_").removesuffix(".json"))
        for name in TARGETS
        if name.startswith("collect_")
    ],
)
def test_collect_events_name_their_source(name, source):
    # Given a scheduler input for collect
    # When it is parsed as the handler does
    event = CollectEvent.model_validate(_load(name))
    # Then it asks for that source, for all topics
    assert event.source == source
    assert event.topic is None


def test_collect_events_match_the_schedule_inputs_in_the_template():
    # Given the inputs the collect schedules send, Scheduler's placeholder filled in with the
    # samples' scheduled time
    inputs = [
        json.loads(e["Properties"]["Input"].replace("<aws.scheduler.scheduled-time>", SCHEDULED_AT))
        for e in cfn.events("DispatchFunction", "ScheduleV2").values()
    ]
    # Then the sample events are exactly those inputs
    assert sorted(inputs, key=str) == sorted(
        [_load(name) for name in TARGETS if name.startswith("collect_")], key=str
    )


def test_the_sqs_sample_carries_a_collect_task_of_a_sample_topic_on_its_fifo_queue():
    # Given the sample SQS event of the collect function
    (record,) = _load("sqs_collect_task.json")["Records"]
    # When its body is parsed as the collect handler does
    task = CollectTask.model_validate_json(record["body"])
    # Then it asks for one registered source and one sample topic, from a FIFO queue, with the
    # message group and deduplication id the dispatch function gives such a task
    assert task.source in REGISTRY and task.topic in TOPICS
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(".fifo")
    assert record["attributes"]["MessageGroupId"] == task.group_id(PACES[task.source])
    assert record["attributes"]["MessageDeduplicationId"] == task.deduplication_id()


def test_hourly_digest_event_carries_the_scheduled_time():
    # Given the hourly dispatcher's input as Scheduler delivers it
    event = DigestEvent.model_validate(_load("report_digest.json"))
    # Then it is a digest run at 08:00 UTC that decides for all topics
    assert event.kind == "digest"
    assert event.scheduled_time is not None
    assert event.scheduled_time.isoformat() == "2026-11-25T08:00:00+00:00"
    assert event.topic is None and event.force is False


def test_single_topic_digest_event_forces_one_topic():
    # Given the manual "send this topic's digest now" event
    event = DigestEvent.model_validate(_load("report_digest_topic.json"))
    # Then it names the topic and forces the send
    assert event.topic == "acme-cloud"
    assert event.force is True


@pytest.mark.parametrize("name", ["score_mention_insert.json", "report_surge_insert.json"])
def test_stream_events_have_the_shape_lambda_delivers(name):
    # Given a sample DynamoDB stream event
    records = _stream_records(name)
    assert records
    for record in records:
        # Then each record has the fields Lambda's DynamoDB event source sends
        assert set(record) >= STREAM_RECORD_KEYS
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventName"] == "INSERT"
        assert record["eventSourceARN"].startswith("arn:aws:dynamodb:")
        assert "/stream/" in record["eventSourceARN"]
        ddb = record["dynamodb"]
        assert set(ddb) >= STREAM_DYNAMODB_KEYS
        assert ddb["StreamViewType"] == "NEW_IMAGE"
        assert ddb["SequenceNumber"].isdigit()
        # And the keys are the item's own pk/sk
        assert ddb["Keys"] == {"pk": ddb["NewImage"]["pk"], "sk": ddb["NewImage"]["sk"]}
    # And records have distinct sequence numbers (partial batch failures name them)
    assert len({r["dynamodb"]["SequenceNumber"] for r in records}) == len(records)


def test_mention_inserts_parse_into_valid_mentions_with_their_stored_keys():
    # Given the two mention INSERTs
    records = _stream_records("score_mention_insert.json")
    assert len(records) == 2
    topics = set()
    for raw in records:
        # When a record is parsed as the score handler does
        record = StreamRecord.from_raw(raw)
        image = record.new_image
        mention = Mention(
            **{
                key: image.get(key)
                for key in (
                    "topic",
                    "source",
                    "native_id",
                    "published",
                    "url",
                    "title",
                    "text",
                    "author",
                    "lang",
                    "engagement",
                    "channel",
                )
                if key in image
            }
        )
        topics.add(mention.topic)
        # Then the item is a mention stored under the keys the code derives from it
        assert image["kind"] == "mention"
        assert record.keys == {"pk": f"T#{mention.topic}", "sk": mention.sort_key}
        assert image["author_key"] == mention.author_key
        # And the TTL lies after publication
        assert int(image["expires_at"]) > mention.published.timestamp()
        assert image["collected_at"].endswith("Z")
    assert topics == TOPICS


def test_surge_insert_parses_into_a_surge_stored_under_its_key():
    # Given the surge INSERT
    (raw,) = _stream_records("report_surge_insert.json")
    # When it is parsed as the report handler does
    record = StreamRecord.from_raw(raw)
    image = record.new_image
    surge = Surge.model_validate({k: v for k, v in image.items() if k in Surge.model_fields})
    # Then it is a surge with its evidence and sample mentions
    assert image["kind"] == "surge"
    assert record.keys == {"pk": f"T#{surge.topic}", "sk": surge.sort_key}
    assert surge.topic in TOPICS
    assert surge.observed > surge.expected
    assert isinstance(image["complete"], bool) and isinstance(image["escalation"], bool)
    assert surge.evidence and surge.sample_mentions
    assert all(isinstance(m, dict) and m.get("url") for m in surge.sample_mentions)


@pytest.mark.parametrize("name", ["score_mention_insert.json", "report_surge_insert.json"])
def test_stream_records_pass_the_filter_of_their_function_only(name):
    # Given a sample stream event and the function it is meant for
    target, _ = TARGETS[name]
    consumers = [fn for fn in cfn.functions() if cfn.events(fn, "DynamoDB")]
    for record in _stream_records(name):
        # When Lambda applies the template's FilterCriteria
        # Then the intended function receives the record and no other stream consumer does
        assert cfn.passes_filters(target, record), (name, target)
        for other in consumers:
            if other != target:
                assert not cfn.passes_filters(other, record), (name, other)


def test_the_filter_matcher_follows_lambda_rules_for_prefix_and_equals():
    # Given a pattern like the template's
    pattern = {"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "M#"}]}}}}

    def record(event_name, sk):
        return {"eventName": event_name, "dynamodb": {"Keys": {"sk": {"S": sk}}}}

    # Then equal values and prefixes match, anything else does not
    assert cfn.matches(pattern, record("INSERT", "M#2026"))
    assert not cfn.matches(pattern, record("MODIFY", "M#2026"))
    assert not cfn.matches(pattern, record("INSERT", "H#2026"))
    assert not cfn.matches(pattern, {"eventName": "INSERT", "dynamodb": {}})
