"""One place per source: the watchlist's source fields, the source registry, the template's
collect schedules, the sample events and the SSM grants all name the same sources."""

from __future__ import annotations

import json

import pytest
from stormwatch.events import CollectEvent
from stormwatch.privacy import PSEUDONYM_KEY
from stormwatch.secrets import StaticSecrets, UndeclaredSecret
from stormwatch.sources import REGISTRY, declared_secrets, get_source
from stormwatch.watchlist import Sources

from tests.infrastructure import cfn_template as cfn
from tests.infrastructure.cfn_template import REPO

SSM_ARN_PREFIX = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"


def _scheduled_sources() -> list[str]:
    events = cfn.events("CollectFunction", "ScheduleV2").values()
    return [
        CollectEvent.model_validate(json.loads(e["Properties"]["Input"])).source for e in events
    ]


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
    and GDELT's stays inside its rolling three-month window (what a backfill may ask of it)."""
    from datetime import timedelta

    from stormwatch.sources import history_of
    from stormwatch.sources.gdelt import WINDOW_DAYS

    for name, entry in REGISTRY.items():
        assert "history" in vars(entry.cls), f"{name} does not declare its history"
        assert isinstance(entry.cls.history, timedelta) and entry.cls.history >= timedelta(0)
    history = history_of()
    assert set(history) == set(REGISTRY)
    assert timedelta(0) < history["gdelt"] < timedelta(days=WINDOW_DAYS)
    assert history["rss"] == timedelta(0)
