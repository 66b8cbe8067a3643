"""template.yaml held against the code: handlers, settings, table keys, stream filters, layers."""

from __future__ import annotations

import ast
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from stormwatch import settings as settings_module
from stormwatch.events import CollectEvent, DigestEvent
from stormwatch.models import Mention, SourceNotice, Surge
from stormwatch.sources import FACTORIES, get_source

from tests.infrastructure import cfn_template as cfn
from tests.infrastructure.cfn_template import REPO

# which settings model each function's handler builds from the environment
SETTINGS_OF = {
    "DispatchFunction": settings_module.DispatchSettings,
    "CollectFunction": settings_module.CollectSettings,
    "ScoreFunction": settings_module.Settings,
    "ReportFunction": settings_module.ReportSettings,
    "WebFunction": settings_module.WebSettings,
}


def _handler_file(logical_id: str) -> tuple[Path, str]:
    code_uri = cfn.function_property(logical_id, "CodeUri")
    handler = cfn.function_property(logical_id, "Handler")
    module, _, function = handler.rpartition(".")
    return REPO / code_uri / (module.replace(".", "/") + ".py"), function


def _env_names(model: type) -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        alias = field.validation_alias or field.alias or name
        if not isinstance(alias, str):  # AliasChoices/AliasPath: not used by our settings
            raise AssertionError(f"{model.__name__}.{name}: use a plain string alias")
        names.add(alias.upper())
    return names


def _sample_mention(**changes) -> Mention:
    values = {
        "topic": "acme-cloud",
        "source": "hackernews",
        "native_id": "42318877",
        "published": datetime(2026, 11, 25, 7, 41, 12, tzinfo=UTC),
    }
    return Mention(**(values | changes))


def _sample_surge() -> Surge:
    return Surge(
        topic="acme-cloud",
        detected_at=datetime(2026, 11, 25, 7, 45, 20, tzinfo=UTC),
        tier="warning",
        observed=41.0,
        expected=6.2,
        score=7.9,
        threshold=4.1,
        negative_share=0.78,
        usual_negative_share=0.21,
    )


def _stream_insert(sk: str, event_name: str = "INSERT") -> dict:
    return {
        "eventName": event_name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {"pk": {"S": "T#acme-cloud"}, "sk": {"S": sk}}},
    }


def test_the_template_defines_exactly_the_five_functions():
    # Given the template
    # When its functions are listed
    # Then they are dispatch, collect, score, report and web
    assert set(cfn.functions()) == set(SETTINGS_OF)


@pytest.mark.parametrize("logical_id", sorted(SETTINGS_OF))
def test_each_handler_resolves_to_a_function_defined_in_its_code_uri(logical_id):
    # Given a function's CodeUri and Handler
    path, function = _handler_file(logical_id)
    # When its module is read
    assert path.is_file(), f"{logical_id}: {path.relative_to(REPO)} does not exist"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined = {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    } | {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    # Then the handler function is defined at module level
    assert function in defined, f"{logical_id}: {function} not defined in {path.name}"


@pytest.mark.parametrize("logical_id", sorted(SETTINGS_OF))
def test_each_handler_builds_the_settings_model_these_tests_check(logical_id):
    # Given the settings model this test file pairs with the function
    model = SETTINGS_OF[logical_id]
    path, _ = _handler_file(logical_id)
    # When the handler's source is read
    source = path.read_text(encoding="utf-8")
    # Then it really builds that model (so the env check below checks the right one)
    built = rf"\b{model.__name__}\.from_environment\("
    assert re.search(built, source), f"{path.name} does not use {model}"


@pytest.mark.parametrize("logical_id", sorted(SETTINGS_OF))
def test_every_environment_variable_the_settings_read_is_defined(logical_id):
    # Given the variables the function's settings model reads
    wanted = _env_names(SETTINGS_OF[logical_id])
    # When the function's environment (Globals + own) is looked up
    defined = set(cfn.function_environment(logical_id))
    # Then each one is defined
    assert wanted <= defined, f"{logical_id} lacks {sorted(wanted - defined)}"


@pytest.mark.parametrize("logical_id", sorted(SETTINGS_OF))
def test_powertools_is_configured_for_every_function(logical_id):
    # Given a function's environment
    env = cfn.function_environment(logical_id)
    # Then Powertools knows its service, namespace and log level
    assert env["POWERTOOLS_SERVICE_NAME"]
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Stormwatch"
    assert "POWERTOOLS_LOG_LEVEL" in env and "LOG_LEVEL" in env


def test_layer_paths_in_the_environment_match_the_settings_defaults_and_the_assets_layer():
    # Given the environment every function gets and the settings' defaults
    defaults = settings_module.Settings.model_fields
    for logical_id in SETTINGS_OF:
        env = cfn.function_environment(logical_id)
        # Then the watchlist and templates are read from where the assets layer puts them
        assert env["WATCHLIST_PATH"] == "/opt/watchlist.yaml"
        assert env["TEMPLATES_DIR"] == "/opt/templates"
    assert str(defaults["watchlist_path"].default) == "/opt/watchlist.yaml"
    assert str(defaults["templates_dir"].default) == "/opt/templates"
    # And the assets layer's Makefile writes exactly those two paths under ARTIFACTS_DIR (= /opt)
    makefile = (REPO / "layers/assets/Makefile").read_text(encoding="utf-8")
    assert '"$(ARTIFACTS_DIR)/watchlist.yaml"' in makefile
    assert '"$(ARTIFACTS_DIR)/templates/"' in makefile


def test_assets_layer_symlinks_point_at_the_real_templates_and_watchlist():
    # Given layers/assets (its symlinks make `sam build --cached` notice template changes)
    assets = REPO / "layers/assets"
    # Then they resolve to the repository's templates/ and watchlist.yaml
    assert (assets / "templates").is_symlink()
    assert (assets / "templates").resolve() == (REPO / "templates").resolve()
    assert (assets / "watchlist.yaml").is_symlink()
    assert (assets / "watchlist.yaml").resolve() == (REPO / "watchlist.yaml").resolve()
    # And the things they point at exist and hold mail templates
    assert (REPO / "watchlist.yaml").is_file()
    assert list((REPO / "templates").glob("*.j2"))


def test_common_layer_lands_the_package_at_opt_python_stormwatch():
    # Given the CommonLayer
    layer = cfn.resources()["CommonLayer"]
    content = REPO / layer["Properties"]["ContentUri"]
    makefile = (content / "Makefile").read_text(encoding="utf-8")
    # Then its content holds the package and the requirements
    assert (content / "stormwatch" / "__init__.py").is_file()
    assert (content / "requirements.txt").is_file()
    # And the build copies the package to python/stormwatch (= /opt/python/stormwatch)
    assert '"$(ARTIFACTS_DIR)/python/stormwatch"' in makefile


def test_layer_requirements_leave_out_what_the_runtime_provides():
    # Given the layer's requirements
    text = (REPO / "layers/common/requirements.txt").read_text(encoding="utf-8")
    names = {
        re.split(r"[\[<>=~!; ]", line.strip(), maxsplit=1)[0].lower()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    # Then boto3/botocore are not bundled, and what the handlers import is
    assert not names & {"boto3", "botocore"}
    assert {"aws-lambda-powertools", "pydantic", "jinja2"} <= names


def test_table_keys_are_pk_and_sk_strings_with_expires_at_ttl():
    # Given the table
    table = cfn.resources()["Table"]["Properties"]
    # Then its key schema is pk (hash) and sk (range), both strings
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {
        "pk": "HASH",
        "sk": "RANGE",
    }
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        "pk": "S",
        "sk": "S",
    }
    # And the TTL attribute is the one the store writes
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert '"expires_at"' in (REPO / "layers/common/stormwatch/store.py").read_text()


def test_table_is_durable_and_streams_new_images():
    # Given the table resource
    resource = cfn.resources()["Table"]
    table = resource["Properties"]
    # Then it is pay-per-request, encrypted, recoverable, retained, and streams NEW_IMAGE
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_the_key_formats_the_code_writes_reach_the_right_function():
    # Given the sort keys the code writes for a mention and a surge
    mention_sk = _sample_mention().sort_key
    surge_sk = _sample_surge().sort_key
    assert mention_sk.startswith("M#") and surge_sk.startswith("S#")
    # When their INSERT records meet the stream filters
    # Then new mentions go to score only, new surges to report only
    assert cfn.passes_filters("ScoreFunction", _stream_insert(mention_sk))
    assert not cfn.passes_filters("ReportFunction", _stream_insert(mention_sk))
    assert cfn.passes_filters("ReportFunction", _stream_insert(surge_sk))
    assert not cfn.passes_filters("ScoreFunction", _stream_insert(surge_sk))


def test_source_down_notices_the_collector_writes_reach_the_report_function_only():
    # Given the sort key the collector writes when a source goes down for a topic
    notice_sk = SourceNotice(
        topic="acme-cloud",
        source="reddit",
        detected_at=datetime(2026, 11, 25, 7, 30, tzinfo=UTC),
        failures=3,
    ).sort_key
    assert notice_sk.startswith("N#")
    # When its INSERT meets the stream filters (a second filter next to the S# one)
    # Then the report function gets it, the scorer does not, and surges still reach report
    assert cfn.passes_filters("ReportFunction", _stream_insert(notice_sk))
    assert not cfn.passes_filters("ScoreFunction", _stream_insert(notice_sk))
    assert cfn.passes_filters("ReportFunction", _stream_insert(_sample_surge().sort_key))
    # And the local cycle forwards the same prefix to the report handler
    assert '"N#"' in (REPO / "layers/common/stormwatch/cycle.py").read_text()


@pytest.mark.parametrize(
    "sk",
    [
        "H#2026-11-25T07",  # hourly bucket
        "D#2026-11-25#0123456789ab",  # digest sent marker
        "C#acme-cloud",  # checkpoint
        "stormwatch-delivery#5d41402abc4b2a76b9719d911017c592",  # idempotency record
    ],
)
def test_items_that_are_not_mentions_or_surges_invoke_nothing(sk):
    # Given an INSERT of some other item kind
    record = _stream_insert(sk)
    # Then neither stream consumer is invoked for it
    assert not cfn.passes_filters("ScoreFunction", record)
    assert not cfn.passes_filters("ReportFunction", record)


def test_updates_and_ttl_deletes_of_mentions_invoke_nothing():
    # Given a mention's sort key
    sk = _sample_mention().sort_key
    # When the item is modified (scored) or removed (TTL)
    # Then no function is invoked: only INSERTs pass
    for event_name in ("MODIFY", "REMOVE"):
        assert not cfn.passes_filters("ScoreFunction", _stream_insert(sk, event_name))


def test_both_stream_consumers_read_the_tables_stream_and_no_more_than_two_do():
    # Given the DynamoDB events of all functions
    consumers = [
        (fn, event) for fn in cfn.functions() for event in cfn.events(fn, "DynamoDB").values()
    ]
    # Then score and report each read the table's stream from LATEST
    assert sorted(fn for fn, _ in consumers) == ["ReportFunction", "ScoreFunction"]
    for _, event in consumers:
        assert event["Properties"]["Stream"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
        assert event["Properties"]["StartingPosition"] == "LATEST"
    # (DynamoDB Streams throttles beyond two readers per shard)


def test_schedule_inputs_are_valid_events_for_their_functions():
    # Given the collect schedules' inputs (the dispatch function's), Scheduler's placeholder
    # filled in
    collect = cfn.events("DispatchFunction", "ScheduleV2")
    sources = {}
    for name, event in collect.items():
        raw = event["Properties"]["Input"].replace(
            "<aws.scheduler.scheduled-time>", "2026-11-25T09:00:00Z"
        )
        request = CollectEvent.model_validate(json.loads(raw))
        sources[request.source] = event["Properties"]["ScheduleExpression"]
        # Then each names a source the code knows
        assert get_source(request.source) is not None, name
    # And every registered source is scheduled (an unscheduled source would never collect)
    assert set(sources) == set(FACTORIES)
    assert sources["hackernews"] == "rate(15 minutes)"
    assert sources["rss"] == "rate(30 minutes)"
    # Given the report schedule's input with Scheduler's placeholder filled in
    (digest,) = cfn.events("ReportFunction", "ScheduleV2").values()
    raw = digest["Properties"]["Input"].replace(
        "<aws.scheduler.scheduled-time>", "2026-11-25T08:00:00Z"
    )
    request = DigestEvent.model_validate(json.loads(raw))
    # Then it is an hourly digest run that carries the scheduled time
    assert request.kind == "digest" and request.scheduled_time is not None
    assert digest["Properties"]["ScheduleExpression"] == "cron(0 * * * ? *)"
