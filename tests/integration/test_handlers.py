"""Each Lambda handler with the sample events from events/, against moto in-process."""

from __future__ import annotations

import copy
import json
import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from stormwatch import local
from stormwatch.channels.base import JsonPoster
from stormwatch.cycle import DEMO_NOW, CycleConfig, wire_handlers
from stormwatch.models import SourceNotice
from stormwatch.store import Store

from tests.support.ddb_units import counting
from tests.support.fakes import RecordingSession

SENDER = "stormwatch@example.com"


def event(name: str) -> dict:
    return json.loads(local.repo_path("events", name).read_text())


@pytest.fixture
def wired(table, tmp_path):
    """The three handlers wired to moto, the demo recordings and the demo clock."""
    saved = dict(os.environ)
    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    config = CycleConfig(
        watchlist_path=local.repo_path("watchlist.yaml"),
        templates_dir=local.repo_path("templates"),
        out_dir=tmp_path,
        table_name=table,
        sender=SENDER,
        replay_dir=local.repo_path("demo", "recordings"),
        clock=lambda: DEMO_NOW,
    )
    # chat webhooks answer from memory (no sockets); SMS goes to moto's SNS
    session = RecordingSession()
    wired = wire_handlers(config, poster=JsonPoster(session, allow_loopback=True))
    yield {**wired, "chat": session}
    os.environ.clear()
    os.environ.update(saved)


def invoke(wired, function: str, payload: dict) -> dict:
    context = local.FakeLambdaContext(f"stormwatch-{function}")
    return wired["handlers"][function].lambda_handler(payload, context)


def sms_messages() -> list:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return list(sns_backends[DEFAULT_ACCOUNT_ID]["eu-central-1"].sms_messages.values())


def ses_messages() -> list:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID]["eu-central-1"].sent_messages


def collect(wired, payload: dict) -> dict:
    """What a source's schedule sets off: dispatch, then the collect batches of its tasks."""
    reports = wired["collect"](payload)
    return {"new": sum(r.get("new", 0) for r in reports), "topics": reports}


def test_collect_event_stores_matching_mentions_and_saves_the_checkpoint(wired):
    # Given the scheduler's input for the Hacker News source
    # When it is dispatched and collected against the recorded responses
    response = collect(wired, event("collect_hackernews.json"))
    # Then it reports per topic, stores new mentions and moves the checkpoint; the topic is
    # new to the source, so its live run is followed by a backfill of the days before
    store: Store = wired["store"]
    assert {t["source"] for t in response["topics"]} == {"hackernews"} and response["new"] > 0
    assert [t["backfill"] for t in response["topics"]] == [False, True]
    mentions = store.mentions_between("acme-cloud", DEMO_NOW - timedelta(days=28), DEMO_NOW)
    assert len(mentions) == response["new"]
    checkpoint = store.get_checkpoint("hackernews", "acme-cloud")
    assert checkpoint.cursor and checkpoint.health() == "ok"
    # And running the same schedule again stores nothing twice
    again = collect(wired, event("collect_hackernews.json"))
    assert again["new"] == 0


def test_score_event_scores_each_mention_once_even_when_the_batch_is_retried(wired, table):
    # Given the mentions the stream event describes exist in the table
    stream_event = event("score_mention_insert.json")
    local.put_stream_images(stream_event, table)
    # When the score handler gets the batch, and Lambda retries it
    first = invoke(wired, "score", stream_event)
    second = invoke(wired, "score", stream_event)
    # Then no record failed and the hourly bucket counted each mention exactly once
    assert first["batchItemFailures"] == [] and second["batchItemFailures"] == []
    store: Store = wired["store"]
    since = DEMO_NOW - timedelta(days=2)
    topics = ("acme-cloud", "deutsche-bahn")
    counted = _counted(store)
    assert counted == len(stream_event["Records"])
    scored = [m for t in topics for m in store.mentions_between(t, since, DEMO_NOW)]
    assert len(scored) == counted and all(m.sentiment is not None for m in scored)


def _counted(store: Store) -> int:
    since = DEMO_NOW - timedelta(days=2)
    topics = ("acme-cloud", "deutsche-bahn")
    return sum(b.count for t in topics for b in store.buckets_between(t, since, DEMO_NOW))


def test_a_malformed_stream_record_fails_alone(wired, table):
    # Given a batch whose last record's image lacks required fields
    stream_event = event("score_mention_insert.json")
    local.put_stream_images(stream_event, table)
    broken = copy.deepcopy(stream_event["Records"][0])
    broken["dynamodb"]["NewImage"].pop("sk")  # its key, which names publication and source
    broken["dynamodb"]["SequenceNumber"] = "4421584700000000017450439999"
    stream_event["Records"].append(broken)
    # When scored
    response = invoke(wired, "score", stream_event)
    # Then only the broken record is reported for retry, and the others are counted
    assert response["batchItemFailures"] == [{"itemIdentifier": "4421584700000000017450439999"}]
    assert _counted(wired["store"]) == 2


def test_records_after_a_failed_one_are_handed_back_and_the_retry_counts_each_once(wired, table):
    # Given a batch whose first record cannot be read (Lambda restarts the shard there)
    stream_event = event("score_mention_insert.json")
    local.put_stream_images(stream_event, table)
    good = copy.deepcopy(stream_event["Records"])
    stream_event["Records"][0]["dynamodb"]["NewImage"].pop("sk")
    # When scored
    response = invoke(wired, "score", stream_event)
    # Then the failed record and every record after it are handed back, none counted
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == {
        r["dynamodb"]["SequenceNumber"] for r in good
    }
    assert _counted(wired["store"]) == 0
    # And when the stream redelivers from the failed record (readable now), in two
    # different batches that overlap, each mention is counted exactly once
    assert invoke(wired, "score", {"Records": good[:1]})["batchItemFailures"] == []
    assert invoke(wired, "score", {"Records": good})["batchItemFailures"] == []
    assert _counted(wired["store"]) == len(good)


def test_a_mention_stored_unscored_is_scored_in_memory_and_not_written_back(wired, table):
    # Given mention items stored without a sentiment (before scoring moved to collection)
    stream_event = event("score_mention_insert.json")
    for record in stream_event["Records"]:
        image = record["dynamodb"]["NewImage"]
        for name in [n for n in image if n.startswith("sentiment_")]:
            image.pop(name)
    local.put_stream_images(stream_event, table)
    # When the score handler gets them
    with counting(wired["store"]._db) as units:
        response = invoke(wired, "score", stream_event)
    # Then they are counted, and no mention item was written
    assert response["batchItemFailures"] == [] and _counted(wired["store"]) == 2
    assert units.calls.get("PutItem", 0) == 4  # two buckets, two topics' detector states
    assert "UpdateItem" not in units.calls and "TransactWriteItems" not in units.calls


def test_digest_is_sent_once_per_topic_day_and_recipient_even_when_retried(wired):
    # Given collected and scored mentions
    collect(wired, event("collect_rss.json"))
    # When the forced digest for one topic is invoked twice (a retry)
    first = invoke(wired, "report", event("report_digest_topic.json"))
    second = invoke(wired, "report", event("report_digest_topic.json"))
    # Then it went to each recipient once, its summary to Slack once, and the retry was
    # recognised as a repeat
    assert [d["channel"] for d in first["deliveries"]] == ["email", "slack"]
    assert first["sent"] == 2 and first["repeats"] == 0
    assert second["sent"] == 0 and second["repeats"] == 2
    assert second["deliveries"][0]["message_id"] == first["deliveries"][0]["message_id"]
    assert len(ses_messages()) == 1 and len(wired["chat"].posts) == 1
    assert b"Daily digest: AcmeCloud" in wired["chat"].posts[0].body


def test_hourly_dispatcher_sends_only_the_topics_whose_local_hour_it_is(wired):
    # Given acme-cloud's digest is due at 08:00 Europe/London and deutsche-bahn's at 07:00 Berlin
    # When the hourly schedule fires at 08:00 UTC (08:00 in London, 09:00 in Berlin)
    response = invoke(wired, "report", event("report_digest.json"))
    # Then only acme-cloud's digest is sent
    assert {d["topic"] for d in response["deliveries"]} == {"acme-cloud"}
    # And at 06:00 UTC (07:00 in Berlin) only deutsche-bahn's
    at_six = {"kind": "digest", "scheduled_time": "2026-11-25T06:00:00Z"}
    assert {d["topic"] for d in invoke(wired, "report", at_six)["deliveries"]} == {"deutsche-bahn"}


def test_surge_insert_sends_the_alert_once(wired, table):
    # Given a surge item arrives on the stream
    stream_event = event("report_surge_insert.json")
    local.put_stream_images(stream_event, table)
    # When the report handler gets it twice (a retry)
    first = invoke(wired, "report", stream_event)
    second = invoke(wired, "report", stream_event)
    # Then the alert went out once to the topic's alert recipients and each of its channels
    assert first["batchItemFailures"] == [] and first["sent"] >= 1
    assert second["sent"] == 0 and second["repeats"] == first["sent"]
    by_channel = Counter(d["channel"] for d in first["deliveries"])
    assert len(ses_messages()) == by_channel["email"] == 1
    # (a warning: Slack, Teams and the webhook take every tier the demo gives them, SMS too)
    assert by_channel == {"email": 1, "slack": 1, "teams": 1, "webhook": 1, "sms": 1}
    assert len(wired["chat"].posts) == 3


def test_a_failing_chat_channel_blocks_no_other_and_is_retried_alone(wired, table):
    # Given Slack answers 500 on every attempt (the retries with backoff included)
    wired["chat"].script = [500, 500, 500]
    stream_event = event("report_surge_insert.json")
    local.put_stream_images(stream_event, table)
    # When the report handler gets the surge, the record fails (a batch of one: the invocation)
    with pytest.raises(BatchProcessingError, match="via slack"):
        invoke(wired, "report", stream_event)
    # Then e-mail, Teams, the webhook and SMS went out all the same
    assert len(ses_messages()) == 1 and len(sms_messages()) == 1
    posted = [post.url.rsplit("/", 1)[-1] for post in wired["chat"].posts]
    assert posted == ["slack"] * 3 + ["teams", "webhook"]  # Slack tried 3 times, with backoff
    # And the store says Slack is failing, since now
    (health,) = [h for h in wired["store"].channel_health("acme-cloud") if h.failing]
    assert health.channel == "slack" and health.consecutive_failures == 1
    assert "HTTP 500" in health.last_error
    # When the stream retries the record and Slack is back
    again = invoke(wired, "report", stream_event)
    # Then only Slack is sent; the others are repeats, and Slack is healthy again
    sent = [d["channel"] for d in again["deliveries"] if not d["repeat"]]
    assert sent == ["slack"] and again["batchItemFailures"] == []
    assert len(ses_messages()) == 1 and len(sms_messages()) == 1
    assert not any(h.failing for h in wired["store"].channel_health("acme-cloud"))


def test_idempotency_records_expire_with_the_table_ttl(wired, table):
    # Given a digest has been sent (by e-mail, and its summary to Slack)
    invoke(wired, "report", event("report_digest_topic.json"))
    # Then each idempotency record carries expires_at, the table's TTL attribute, days ahead
    items = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "IDEMPOTENCY#delivery"}},
    )["Items"]
    assert len(items) == 2
    for item in items:
        expires = datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC)
        assert expires > datetime.now(UTC) + timedelta(days=2)


def test_a_source_down_notice_insert_sends_one_short_email(wired, table):
    # Given the collector stored a "source down" notice for reddit (its 3rd failure in a row)
    notice = SourceNotice(
        topic="acme-cloud",
        source="reddit",
        detected_at=DEMO_NOW,
        failures=3,
        since=DEMO_NOW - timedelta(hours=1),
        last_error="HTTP 503",
    )
    assert wired["store"].put_notice(notice)
    keys = {"pk": {"S": "T#acme-cloud"}, "sk": {"S": notice.sort_key}}
    image = boto3.client("dynamodb").get_item(TableName=table, Key=keys)["Item"]
    # And its insert arrives on the stream, like a surge's
    stream_event = copy.deepcopy(event("report_surge_insert.json"))
    record = stream_event["Records"][0]
    record["dynamodb"].update({"Keys": keys, "NewImage": image})
    stream_event["Records"] = [record]
    # When the report handler gets it twice (a retry)
    first = invoke(wired, "report", stream_event)
    second = invoke(wired, "report", stream_event)
    # Then one "source down" e-mail per alert recipient went out, once, and the notice went to
    # the chat channels that take notices (Slack, Teams, webhook; SMS does not by default)
    assert first["batchItemFailures"] == [] and first["sent"] >= 1
    assert {d["kind"] for d in first["deliveries"]} == {"notice"}
    assert all("source down: reddit" in d["subject"] for d in first["deliveries"])
    assert second["sent"] == 0 and second["repeats"] == first["sent"]
    channels = sorted(d["channel"] for d in first["deliveries"])
    assert channels == ["email", "slack", "teams", "webhook"]
    assert len(ses_messages()) == 1 and sms_messages() == []


def test_a_surge_for_a_topic_no_longer_watched_is_dropped_not_retried(wired, table):
    # Given a surge item for a topic that has left the watchlist
    stream_event = copy.deepcopy(event("report_surge_insert.json"))
    for record in stream_event["Records"]:
        for image in (record["dynamodb"]["Keys"], record["dynamodb"]["NewImage"]):
            image["pk"] = {"S": "T#retired-topic"}
        record["dynamodb"]["NewImage"]["topic"] = {"S": "retired-topic"}
    local.put_stream_images(stream_event, table)
    # When the report handler gets it
    response = invoke(wired, "report", stream_event)
    # Then nothing is sent and the record is not handed back for retry
    assert response["batchItemFailures"] == [] and response["sent"] == 0


@pytest.mark.parametrize(
    ("event_name", "sort_key"),
    [
        ("MODIFY", None),  # the surge item rewritten (e.g. by a repair or a TTL refresh)
        ("REMOVE", None),  # TTL deleting it
        ("INSERT", "M#2026-11-25T07:45:20Z#rss#x"),  # a mention key carrying a surge image
        ("INSERT", "H#2026-11-25T07"),  # a bucket key
    ],
)
def test_the_report_handler_alerts_only_on_inserts_of_surge_and_notice_items(
    wired, table, event_name, sort_key
):
    # Given a stream record that the FilterCriteria should never have let through
    stream_event = copy.deepcopy(event("report_surge_insert.json"))
    local.put_stream_images(stream_event, table)
    for record in stream_event["Records"]:
        record["eventName"] = event_name
        if sort_key:
            record["dynamodb"]["Keys"]["sk"] = {"S": sort_key}
    # When the report handler gets it anyway
    response = invoke(wired, "report", stream_event)
    # Then no alert goes out, and the record is skipped, not handed back for retry
    assert response["sent"] == 0 and response["batchItemFailures"] == []
    assert ses_messages() == []


def test_the_score_handler_scores_only_inserts_of_mentions(wired, table):
    # Given mention records that arrive as MODIFY (the scorer's own sentiment write)
    stream_event = event("score_mention_insert.json")
    local.put_stream_images(stream_event, table)
    for record in stream_event["Records"]:
        record["eventName"] = "MODIFY"
    # When the score handler gets them
    response = invoke(wired, "score", stream_event)
    # Then nothing is scored or counted, and nothing is handed back for retry
    assert response["batchItemFailures"] == []
    store: Store = wired["store"]
    since = DEMO_NOW - timedelta(days=2)
    assert store.buckets_between("acme-cloud", since, DEMO_NOW) == []


def test_collect_bounds_every_request_by_the_invocations_own_deadline(wired):
    # Given a collect invocation with 60 s left
    deps = wired["handlers"]["collect"].deps_factory()
    replay, bounds = deps.http, []

    class Recorder:
        def until(self, deadline):
            bounds.append(deadline)
            return replay

    deps.http = Recorder()
    context = local.FakeLambdaContext("stormwatch-collect", timeout_seconds=60)
    try:
        # When it runs
        started = time.monotonic()
        invoke_with(wired, "collect", event("sqs_collect_task.json"), context)
    finally:
        deps.http = replay
    # Then its HTTP client is bound to the deadline, the safety margin before the timeout
    margin = wired["handlers"]["collect"].SAFETY_MARGIN_SECONDS
    assert len(bounds) == 1 and bounds[0] <= started + 60 - margin + 1


def invoke_with(wired, function: str, payload: dict, context) -> dict:
    return wired["handlers"][function].lambda_handler(payload, context)


def test_a_one_topic_youtube_run_notes_the_days_quota_plan_for_the_digests_coverage(wired):
    # Given the demo watchlist, whose acme-cloud collects YouTube
    # When YouTube is dispatched and collected for that one topic
    collect(wired, {"source": "youtube", "topic": "acme-cloud"})
    # Then the run was planned across the watchlist's YouTube topics, and its notes (which the
    # digest's coverage shows beside the source) say how the day's quota was dealt out
    store = wired["handlers"]["collect"].deps_factory().store
    notes = store.get_checkpoint("youtube", "acme-cloud").last_notes
    assert notes[0] == (
        "YouTube: 1 of 1 topics searched today, quota 10,000 units a day: 2,000 for this "
        "topic, 1,000 for backfills"
    )


def test_a_collect_task_that_cannot_be_read_fails_alone_and_its_batch_mates_are_collected(wired):
    # Given a queue batch of a good Hacker News task and a task whose body is damaged, in
    # another message group (another topic)
    batch = event("sqs_collect_task.json")
    broken = copy.deepcopy(batch["Records"][0])
    broken["messageId"] = "broken-1"
    broken["body"] = '{"source": "hackernews"'
    broken["attributes"]["MessageGroupId"] = "hackernews.other-topic"
    batch["Records"].append(broken)
    # When the collect handler gets the batch
    response = invoke(wired, "collect", batch)
    # Then only the damaged task is handed back for retry (and, after three, dead-lettered)
    assert response["batchItemFailures"] == [{"itemIdentifier": "broken-1"}]
    # And the good one was collected: its checkpoint moved on
    store: Store = wired["store"]
    assert store.get_checkpoint("hackernews", "acme-cloud").health() == "ok"


def test_a_failing_source_is_a_health_state_not_a_failed_task(wired):
    # Given a Hacker News task whose API fails
    deps = wired["handlers"]["collect"].deps_factory()
    replay = deps.http

    class Down:
        paced = False

        def until(self, deadline):
            return self

        def get(self, *args, **kwargs):
            raise ConnectionError("hn.algolia.com unreachable")

    deps.http = Down()
    try:
        # When the task is collected
        response = invoke(wired, "collect", event("sqs_collect_task.json"))
    finally:
        deps.http = replay
    # Then the task is done (no retry storm, no dead letter): the failure is the topic's
    # health, its checkpoint kept for the next period, which the digest shows
    assert response["batchItemFailures"] == []
    checkpoint = wired["store"].get_checkpoint("hackernews", "acme-cloud")
    assert checkpoint.consecutive_failures == 1 and "unreachable" in checkpoint.last_error
    assert checkpoint.cursor is None


def test_dispatch_queues_each_topic_once_per_period_on_its_sources_fifo_queue(wired):
    # Given real (moto) FIFO task queues and the dispatch function wired to them
    from stormwatch.taskqueue import SqsTaskQueues

    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="collect-rss.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    deps = wired["handlers"]["dispatch"].deps_factory()
    inline, deps.queues = deps.queues, SqsTaskQueues(sqs, {"rss": url})
    try:
        # When the RSS schedule fires, and its invocation is retried
        first = invoke(wired, "dispatch", event("collect_rss.json"))
        invoke(wired, "dispatch", event("collect_rss.json"))
    finally:
        deps.queues = inline
    # Then each topic using RSS is queued once (the retry is deduplicated), in its own group
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]
    bodies = sorted(json.loads(m["Body"])["topic"] for m in messages)
    assert first["dispatched"] == len(bodies) == 2 and first["waiting"] == 0
    assert bodies == ["acme-cloud", "deutsche-bahn"]
    assert len({m["Attributes"]["MessageGroupId"] for m in messages}) == 2


def test_a_serial_sources_batch_holds_its_group_one_pace_gap_before_the_next(wired):
    # Given a GDELT task (one request every 5 s) and an HTTP client that talks to a server
    from stormwatch.dispatch import PACES, CollectTask
    from stormwatch.taskqueue import sqs_record

    deps = wired["handlers"]["collect"].deps_factory()
    replay, waits = deps.http, []

    class Live:
        paced = True

        def until(self, deadline):
            return replay

    deps.http, deps.sleep = Live(), waits.append
    task = CollectTask(source="gdelt", topic="acme-cloud", period=1)
    try:
        # When its batch is collected
        response = invoke(wired, "collect", {"Records": [sqs_record(task)]})
    finally:
        deps.http, deps.sleep = replay, time.sleep
    # Then, before the next batch of the group may start, the worker waits out GDELT's pace
    assert response["batchItemFailures"] == []
    assert waits == [PACES["gdelt"].gap_seconds]


def test_a_collect_batch_lists_its_sources_topics_once_not_once_per_task(wired, monkeypatch):
    # Given a batch of three tasks of one source (the list of a source's topics walks the
    # whole watchlist: about 5 ms per call at 1,000 topics)
    from stormwatch.dispatch import CollectTask
    from stormwatch.taskqueue import sqs_record
    from stormwatch.watchlist import Watchlist

    listed: list[str] = []
    original = Watchlist.topics_for_source

    def counted(self, source):
        listed.append(source)
        return original(self, source)

    monkeypatch.setattr(Watchlist, "topics_for_source", counted)
    tasks = [CollectTask(source="hackernews", topic="acme-cloud", period=p) for p in (1, 2, 3)]
    # When the collect handler gets the batch
    response = invoke(
        wired, "collect", {"Records": [sqs_record(t, n) for n, t in enumerate(tasks)]}
    )
    # Then every task was run, and the source's topics were listed once for the whole batch
    assert response["batchItemFailures"] == [] and len(response["topics"]) >= 3
    assert listed == ["hackernews"]
