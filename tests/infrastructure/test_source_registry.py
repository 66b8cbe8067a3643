"""One place per source: the watchlist's source fields, the source registry, the template's
collect schedules, task queues and queue mappings, the dispatch paces, the sample events and
the SSM grants all name the same sources."""

from __future__ import annotations

import json
import re

import pytest
from stormwatch.dispatch import BATCH_SIZE, PACES
from stormwatch.events import CollectEvent
from stormwatch.privacy import PSEUDONYM_KEY
from stormwatch.secrets import StaticSecrets, UndeclaredSecret
from stormwatch.sources import REGISTRY, declared_secrets, get_source
from stormwatch.watchlist import Sources

from tests.infrastructure import cfn_template as cfn
from tests.infrastructure.cfn_template import REPO

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
SSM_ARN_PREFIX = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"


def _schedule_input(schedule: dict) -> CollectEvent:
    """A schedule's input as the dispatch function reads it, Scheduler's placeholder filled."""
    raw = schedule["Input"].replace(SCHEDULED_TIME, "2026-11-25T09:00:00Z")
    return CollectEvent.model_validate(json.loads(raw))


def _schedules() -> dict[str, dict]:
    """source -> its collect schedule (the dispatch function's ScheduleV2 event)."""
    events = cfn.events("DispatchFunction", "ScheduleV2").values()
    return {_schedule_input(e["Properties"]).source: e["Properties"] for e in events}


def _scheduled_sources() -> list[str]:
    events = cfn.events("DispatchFunction", "ScheduleV2").values()
    return [_schedule_input(e["Properties"]).source for e in events]


def _queues() -> dict[str, str]:
    """source -> the logical id of its task queue, from the dispatch function's COLLECT_QUEUES."""
    text = cfn.function_environment("DispatchFunction")["COLLECT_QUEUES"]["Fn::Sub"]
    return {
        source: re.fullmatch(r"\$\{(\w+)\}", ref).group(1)  # type: ignore[union-attr]
        for source, ref in json.loads(text).items()
    }


def _mappings() -> dict[str, dict]:
    """queue logical id -> the properties of the collect function's SQS event for it."""
    events = cfn.events("CollectFunction", "SQS").values()
    return {e["Properties"]["Queue"]["Fn::GetAtt"][0]: e["Properties"] for e in events}


def _sample_event_sources() -> dict[str, str]:
    """events/collect_<name>.json -> the source it names."""
    return {
        path.stem.removeprefix("collect_"): json.loads(path.read_text(encoding="utf-8"))["source"]
        for path in sorted((REPO / "events").glob("collect_*.json"))
    }


def test_every_source_is_named_alike_in_watchlist_registry_schedules_and_events():
    """Given the watchlist's `sources` fields, the registry, the collect schedules and the
    sample events
    When their source names are compared
    Then they are the same set, each schedule once and each sample event named after its
    source (a source forgotten in one place would never collect or never be configurable)."""
    fields = set(Sources.model_fields)
    scheduled = _scheduled_sources()
    samples = _sample_event_sources()

    assert set(REGISTRY) == fields
    assert sorted(scheduled) == sorted(fields), "one collect schedule per source"
    assert set(samples) == fields
    assert all(stem == source for stem, source in samples.items())


def test_a_topic_enables_every_source_field_it_sets():
    """Given a topic that sets every source field (each with its defaults, or the minimum a
    source needs)
    When its enabled sources are listed
    Then each field is there: none is silently skipped by a hand-kept list."""
    required = {"rss": {"feeds": ["https://example.com/feed.xml"]}}
    sources = Sources.model_validate(
        {name: required.get(name, {}) for name in Sources.model_fields}
    )
    assert sorted(sources.enabled()) == sorted(Sources.model_fields)
    disabled = Sources.model_validate({"hackernews": {"enabled": False}})
    assert disabled.enabled() == []


def test_the_collect_function_may_read_exactly_the_declared_secrets():
    """Given each source's own `secret_names`, and the pseudonym key the function reads itself
    When the collect function's SSM statement is read
    Then it allows ssm:GetParameter on exactly those parameters, no wildcard."""
    (statement,) = [
        s
        for s in cfn.policy_statements("CollectFunction")
        if any(str(a).startswith("ssm:") for a in cfn.as_list(s["Action"]))
    ]
    assert cfn.as_list(statement["Action"]) == ["ssm:GetParameter"]
    arns = [r["Fn::Sub"] for r in cfn.as_list(statement["Resource"])]
    assert all(a.startswith(f"{SSM_ARN_PREFIX}/stormwatch/${{Stage}}/") for a in arns)
    names = [a.split("/stormwatch/${Stage}/", 1)[1] for a in arns]
    assert sorted(names) == sorted([*declared_secrets(), PSEUDONYM_KEY])
    assert not any("*" in a for a in arns)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_a_source_reads_only_the_secrets_it_declares(name):
    """Given a source built through the registry with every secret available
    When it asks for a secret of another source
    Then it is refused with both names, and its own secrets come through."""
    everything = StaticSecrets({secret: "value" for secret in declared_secrets()})
    source = get_source(name, secrets=everything)
    view = source.secrets if hasattr(source, "secrets") else None
    if view is None:
        assert REGISTRY[name].secret_names == (), "a source with secrets keeps them as .secrets"
        return
    for own in REGISTRY[name].secret_names:
        assert view.get(own) == "value"
    foreign = next(s for s in declared_secrets() if s not in REGISTRY[name].secret_names)
    with pytest.raises(UndeclaredSecret, match=rf"{name}.*{foreign}"):
        view.get(foreign)


def test_each_source_declares_on_its_own_class_how_far_back_it_can_search():
    """Given every registered source
    When its history is read
    Then its own class declares it (not inherited by accident), as a non-negative timedelta,
    the registry's copy (read without importing the adapter) is the same, and GDELT's stays
    inside its rolling three-month window (what a backfill may ask of it)."""
    from datetime import timedelta

    from stormwatch.sources import history_of
    from stormwatch.sources.gdelt import WINDOW_DAYS

    for name, entry in REGISTRY.items():
        assert "history" in vars(entry.cls), f"{name} does not declare its history"
        assert isinstance(entry.cls.history, timedelta) and entry.cls.history >= timedelta(0)
        assert entry.history == entry.cls.history, (
            f"{name}: its class says {entry.cls.history}, stormwatch.sources.REGISTRY says "
            f"{entry.history}; change the registry's line to the class's value"
        )
    history = history_of()
    assert set(history) == set(REGISTRY)
    assert timedelta(0) < history["gdelt"] < timedelta(days=WINDOW_DAYS)
    assert history["rss"] == timedelta(0)


def test_every_source_has_a_pace_a_fifo_task_queue_and_one_queue_mapping():
    """Given the registry, the dispatch paces and the template
    When each source's queue and its mapping are looked up
    Then every source has exactly one FIFO queue (redriven to the collect dead-letter queue,
    its visibility timeout at least 6x the collect timeout, as AWS recommends) and one mapping
    from it with the pace's MaximumConcurrency, the shared batch size and partial batch
    responses: no source is dispatched to a queue nothing reads, or read without a limit."""
    assert set(PACES) == set(REGISTRY)
    queues = _queues()
    assert set(queues) == set(REGISTRY)
    resources = cfn.resources("AWS::SQS::Queue")
    mappings = _mappings()
    timeout = cfn.function_property("CollectFunction", "Timeout")
    for source, queue in queues.items():
        props = resources[queue]["Properties"]
        assert props["FifoQueue"] is True, source
        assert props["VisibilityTimeout"] >= 6 * timeout, source
        redrive = props["RedrivePolicy"]
        assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["CollectDeadLetterQueue", "Arn"]}
        mapping = mappings.pop(queue)
        assert mapping["ScalingConfig"]["MaximumConcurrency"] == PACES[source].concurrency
        assert mapping["BatchSize"] == BATCH_SIZE
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mappings == {}, "a queue mapping without a source"


def test_each_schedule_runs_at_its_pace_and_collect_may_run_every_mapping_at_once():
    """Given the paces, the schedules and collect's reserved concurrency
    When they are compared
    Then each schedule's rate is its pace's period (the time model plans with it), and the
    reserved concurrency's default covers the sum of the mappings' MaximumConcurrency, as AWS
    asks (otherwise Lambda throttles the batches)."""
    for source, schedule in _schedules().items():
        expected = f"rate({PACES[source].period_minutes} minutes)"
        assert schedule["ScheduleExpression"] == expected, source
        assert SCHEDULED_TIME in schedule["Input"]
    limit = cfn.template()["Parameters"]["CollectConcurrencyLimit"]["Default"]
    assert limit >= sum(p.concurrency for p in PACES.values())


def test_dispatch_may_send_to_exactly_the_task_queues_and_nothing_else():
    """Given the dispatch function's policy
    When its statements are read
    Then sqs:SendMessage is allowed on exactly the sources' task queues, and it has no table
    access at all (dispatch plans from the watchlist and the clock alone)."""
    statements = cfn.policy_statements("DispatchFunction")
    actions = {a for s in statements for a in cfn.as_list(s["Action"])}
    assert actions == {"sqs:SendMessage", "s3:GetObject"}
    (send,) = [s for s in statements if "sqs:SendMessage" in cfn.as_list(s["Action"])]
    arns = {r["Fn::GetAtt"][0] for r in cfn.as_list(send["Resource"])}
    assert arns == set(_queues().values())


def test_a_serial_source_is_held_at_least_its_own_pace_between_batches():
    """Given the sources whose APIs take one request at a time
    When their pace is compared with the source's own spacing of requests
    Then the gap held after a batch is at least that spacing (the next batch's first request
    keeps it too)."""
    from stormwatch.sources.gdelt import PACE_SECONDS
    from stormwatch.sources.github import PACE_ANONYMOUS, PACE_TOKEN
    from stormwatch.sources.reddit import RSS_PACE_SECONDS

    assert PACES["gdelt"].serial and PACES["gdelt"].gap_seconds >= PACE_SECONDS
    assert PACES["reddit"].serial and PACES["reddit"].gap_seconds >= RSS_PACE_SECONDS
    github = PACES["github"]
    assert github.serial and github.gap_seconds >= max(PACE_ANONYMOUS, PACE_TOKEN)
    assert all(p.gap_seconds == 0 for p in PACES.values() if not p.serial)
