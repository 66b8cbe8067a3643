"""template.yaml's guarantees: failure destinations, least privilege, no scans, no secrets."""

from __future__ import annotations

import ast
import json
import re

import pytest

from tests.infrastructure import cfn_template as cfn
from tests.infrastructure.cfn_template import REPO

FOURTEEN_DAYS = 14 * 24 * 3600

# the exact DynamoDB actions each function may use on the table
TABLE_ACTIONS = {
    # storm page: Query; feedback, mute, unsubscribe: puts (in a transaction), resubscribe: delete
    "WebFunction": {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"},
    "CollectFunction": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
    "ScoreFunction": {
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "dynamodb:ConditionCheckItem",
    },
    "ReportFunction": {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    },
}


def _queue_id(destination: dict) -> str:
    """Logical id of the queue behind a {"Fn::GetAtt": [Queue, "Arn"]} destination."""
    assert isinstance(destination, dict) and "Fn::GetAtt" in destination, destination
    logical_id, attribute = destination["Fn::GetAtt"]
    assert attribute == "Arn"
    return logical_id


def _all_statements() -> list[tuple[str, dict]]:
    return [(fn, st) for fn in cfn.functions() for st in cfn.policy_statements(fn)]


def _walk(value):
    if isinstance(value, dict):
        for key, sub in value.items():
            yield key
            yield from _walk(sub)
    elif isinstance(value, list):
        for sub in value:
            yield from _walk(sub)
    else:
        yield value


# --- every asynchronous path ends in a failure destination ----------------------------------


def test_every_schedule_retries_and_has_a_dead_letter_queue():
    # Given all ScheduleV2 events
    schedules = [
        (fn, name, event["Properties"])
        for fn in cfn.functions()
        for name, event in cfn.events(fn, "ScheduleV2").items()
    ]
    from stormwatch.sources import FACTORIES

    # one collect schedule per registered source, plus the hourly digest dispatcher
    assert len(schedules) == len(FACTORIES) + 1
    for fn, name, props in schedules:
        # Then each has a retry policy with bounded attempts and age
        retry = props["RetryPolicy"]
        assert 0 <= retry["MaximumRetryAttempts"] <= 185, (fn, name)
        assert 60 <= retry["MaximumEventAgeInSeconds"] <= 86400, (fn, name)
        # And a dead-letter queue defined in this template
        queue = _queue_id(props["DeadLetterConfig"]["Arn"])
        assert cfn.resources()[queue]["Type"] == "AWS::SQS::Queue", (fn, name)
        # And a generated name, so dev and prod stacks can share an account
        assert props.get("OmitName") is True, (fn, name)


@pytest.mark.parametrize("logical_id", ["DispatchFunction", "ReportFunction"])
def test_scheduled_functions_send_failed_async_invocations_to_a_queue(logical_id):
    # Given a function that Scheduler invokes asynchronously
    assert cfn.events(logical_id, "ScheduleV2")
    config = cfn.function_property(logical_id, "EventInvokeConfig")
    # Then Lambda's async retries are bounded and failures land in an SQS queue
    assert config["MaximumRetryAttempts"] in (0, 1, 2)
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    assert cfn.resources()[_queue_id(on_failure["Destination"])]["Type"] == "AWS::SQS::Queue"


def test_every_stream_consumer_isolates_bad_records_and_keeps_what_it_gives_up():
    # Given all DynamoDB stream events
    streams = [
        (fn, event["Properties"])
        for fn in cfn.functions()
        for event in cfn.events(fn, "DynamoDB").values()
    ]
    assert len(streams) == 2
    for fn, props in streams:
        # Then a failing batch is split, retried a bounded number of times, reported per item
        assert props["BisectBatchOnFunctionError"] is True, fn
        assert 0 <= props["MaximumRetryAttempts"] <= 10, fn
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], fn
        # And what is finally given up is recorded in a queue
        on_failure = props["DestinationConfig"]["OnFailure"]
        assert on_failure["Type"] == "SQS", fn
        assert cfn.resources()[_queue_id(on_failure["Destination"])]["Type"] == "AWS::SQS::Queue"
        # And only INSERTs reach the function
        for pattern in cfn.filter_patterns(fn):
            assert pattern["eventName"] == ["INSERT"], fn


def _failure_queues() -> dict[str, dict]:
    """The queues that hold failures: every queue but the collect task queues, which redrive
    to one of them (tests/infrastructure/test_source_registry.py holds those)."""
    queues = cfn.resources("AWS::SQS::Queue")
    return {name: q for name, q in queues.items() if "RedrivePolicy" not in q["Properties"]}


def test_failure_queues_are_encrypted_keep_messages_14_days_and_are_alarmed():
    # Given the failure queues
    queues = _failure_queues()
    alarms = cfn.resources("AWS::CloudWatch::Alarm").values()
    alarmed = {
        dim["Value"]["Fn::GetAtt"][0]
        for alarm in alarms
        for dim in alarm["Properties"]["Dimensions"]
        if dim["Name"] == "QueueName"
    }
    assert len(queues) >= 3
    for name, queue in queues.items():
        # Then each is encrypted and keeps messages for 14 days
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, name
        assert queue["Properties"]["MessageRetentionPeriod"] == FOURTEEN_DAYS, name
        # And an alarm fires as soon as one message is visible
        assert name in alarmed, f"{name} has no alarm"
    for alarm in alarms:
        props = alarm["Properties"]
        assert props["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert props["ComparisonOperator"] == "GreaterThanThreshold"
        assert props["Threshold"] == 0


def test_failure_queue_urls_and_function_arns_are_outputs():
    # Given the outputs
    outputs = cfn.template()["Outputs"]
    values = [json.dumps(o["Value"]) for o in outputs.values()]
    # Then the table, every function's ARN and every failure queue's URL are there
    assert "TableName" in outputs
    for fn in cfn.functions():
        assert json.dumps({"Fn::GetAtt": [fn, "Arn"]}) in values, fn
    for queue in _failure_queues():
        assert json.dumps({"Ref": queue}) in values, queue


# --- least privilege -------------------------------------------------------------------------


def test_policies_are_inline_statements_only():
    # Given every function's Policies
    for fn in cfn.functions():
        policies = cfn.as_list(cfn.functions()[fn]["Properties"].get("Policies", []))
        # Then none is a SAM policy template or managed policy (DynamoDBCrudPolicy grants Scan)
        for policy in policies:
            assert isinstance(policy, dict) and set(policy) == {"Statement"}, (fn, policy)


def test_no_iam_action_is_a_wildcard_and_nothing_may_scan():
    # Given every inline statement in the template's functions
    for fn, statement in _all_statements():
        actions = cfn.as_list(statement["Action"])
        # Then no action contains a wildcard and none is Scan
        assert statement["Effect"] == "Allow"
        assert not [a for a in actions if "*" in a], (fn, actions)
        assert "dynamodb:Scan" not in actions, fn
        assert "NotAction" not in statement and "NotResource" not in statement, fn
    # And Scan appears nowhere in the template
    assert "Scan" not in (REPO / "template.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("logical_id", sorted(TABLE_ACTIONS))
def test_each_function_gets_exactly_its_table_actions_on_the_table_only(logical_id):
    # Given the function's statements about DynamoDB
    statements = [
        st
        for st in cfn.policy_statements(logical_id)
        if any(a.startswith("dynamodb:") for a in cfn.as_list(st["Action"]))
    ]
    actions = {a for st in statements for a in cfn.as_list(st["Action"])}
    # Then they are exactly the actions it needs, on the table and nothing else
    assert actions == TABLE_ACTIONS[logical_id]
    for st in statements:
        assert cfn.as_list(st["Resource"]) == [{"Fn::GetAtt": ["Table", "Arn"]}]


def test_only_report_may_send_mail_and_only_from_the_sender_identity():
    # Given the SES statements of all functions
    ses = [
        (fn, st)
        for fn, st in _all_statements()
        if any(a.startswith("ses:") for a in cfn.as_list(st["Action"]))
    ]
    # Then only report has one, for SendEmail only
    assert [fn for fn, _ in ses] == ["ReportFunction"]
    ((_, statement),) = ses
    assert cfn.as_list(statement["Action"]) == ["ses:SendEmail"]
    # And its resources are SES identity / configuration-set ARNs built from parameters
    resources = json.dumps(statement["Resource"])
    assert "*" not in resources
    assert ":identity/${SenderAddress}" in resources
    assert ":identity/${SenderDomain}" in resources
    assert ":configuration-set/${SesConfigurationSet}" in resources
    assert "HasConfigurationSet" in resources  # no configuration set -> no ARN for it


_SCAN_KEYWORDS = {
    "TableName",
    "FilterExpression",
    "Segment",
    "TotalSegments",
    "IndexName",
    "Select",
}
_DYNAMODB_RECEIVER = re.compile(r"(?i)db|dynamo|table|client|resource")


def _scan_calls(source: str) -> list[int]:
    """Lines that scan DynamoDB: `<client/table>.scan(...)`, `.scan(TableName=...)`,
    `get_paginator("scan")` or a "Scan" operation name. Other methods called `scan` (the
    Hacker News source's own pager) are not DynamoDB and do not count."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and node.value == "Scan":
            lines.append(node.lineno)
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr == "get_paginator" and any(
            isinstance(a, ast.Constant) and a.value == "scan" for a in node.args
        ):
            lines.append(node.lineno)
        if node.func.attr == "scan":
            receiver = ast.unparse(node.func.value)
            keywords = {k.arg for k in node.keywords}
            if keywords & _SCAN_KEYWORDS or _DYNAMODB_RECEIVER.search(receiver):
                lines.append(node.lineno)
    return lines


def test_the_scan_detector_tells_dynamodb_scans_from_other_scan_methods():
    # Given code that scans the table in the usual ways, and a pager with its own scan()
    # Then the table scans are found and the pager is not
    assert _scan_calls("client.scan(TableName='t')") == [1]
    assert _scan_calls("self._db.scan(**kwargs)") == [1]
    assert _scan_calls("table.scan()") == [1]
    assert _scan_calls("p = c.get_paginator('scan')") == [1]
    assert _scan_calls("op = 'Scan'") == [1]
    assert _scan_calls("run.scan(query, lo, hi, budget)") == []


def test_python_sources_never_scan_the_table():
    # Given every Python file that ends up in Lambda
    files = [
        *(REPO / "layers/common/stormwatch").rglob("*.py"),
        *(REPO / "functions").rglob("*.py"),
    ]
    assert files
    # Then none scans DynamoDB (a scan reads, and bills, the whole table)
    offenders = {
        str(path.relative_to(REPO)): lines
        for path in files
        if (lines := _scan_calls(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


# --- runtime, architecture, secrets -----------------------------------------------------------


@pytest.mark.parametrize("logical_id", sorted(TABLE_ACTIONS))
def test_custom_metrics_are_off_unless_chosen(logical_id):
    # Given a function (with Globals applied)
    # Then Powertools emits no EMF metric (each is a billed custom metric) unless CustomMetrics
    # says Enabled, and the default is Disabled (bench/cost.py: more than all of DynamoDB)
    parameter = cfn.template()["Parameters"]["CustomMetrics"]
    assert parameter["AllowedValues"] == ["Disabled", "Enabled"]
    assert parameter["Default"] == "Disabled"
    assert cfn.template()["Conditions"]["HasCustomMetrics"] == {
        "Fn::Equals": [{"Ref": "CustomMetrics"}, "Enabled"]
    }
    assert cfn.function_environment(logical_id)["POWERTOOLS_METRICS_DISABLED"] == {
        "Fn::If": ["HasCustomMetrics", "false", "true"]
    }


@pytest.mark.parametrize("logical_id", sorted(TABLE_ACTIONS))
def test_functions_run_python313_on_arm64_traced_as_chosen_with_both_layers(logical_id):
    # Given a function (with Globals applied)
    # Then it runs python3.13 on arm64 with the common and assets layers, traced by X-Ray
    # exactly when TracingMode says so, and its code learns the same (stormwatch.tracing loads
    # the X-Ray SDK only then)
    assert cfn.function_property(logical_id, "Runtime") == "python3.13"
    assert cfn.function_property(logical_id, "Architectures") == ["arm64"]
    assert cfn.function_property(logical_id, "Tracing") == {"Ref": "TracingMode"}
    assert cfn.template()["Parameters"]["TracingMode"]["AllowedValues"] == ["Disabled", "Active"]
    assert cfn.template()["Conditions"]["IsTraced"] == {
        "Fn::Equals": [{"Ref": "TracingMode"}, "Active"]
    }
    assert cfn.function_environment(logical_id)["POWERTOOLS_TRACE_DISABLED"] == {
        "Fn::If": ["IsTraced", "false", "true"]
    }
    assert cfn.function_property(logical_id, "Layers") == [
        {"Ref": "CommonLayer"},
        {"Ref": "AssetsLayer"},
    ]


def test_layers_are_built_for_python313_on_arm64():
    # Given the layers
    layers = cfn.resources("AWS::Serverless::LayerVersion")
    assert set(layers) == {"CommonLayer", "AssetsLayer"}
    for name, layer in layers.items():
        props, metadata = layer["Properties"], layer["Metadata"]
        # Then each is built for arm64 and declared for python3.13 on arm64
        assert metadata["BuildArchitecture"] == "arm64", name
        assert metadata["BuildMethod"] in ("python3.13", "makefile"), name
        assert props["CompatibleRuntimes"] == ["python3.13"], name
        assert props["CompatibleArchitectures"] == ["arm64"], name
        if metadata["BuildMethod"] == "makefile":
            # And a Makefile build has its build-<LogicalId> target
            makefile = (REPO / props["ContentUri"] / "Makefile").read_text(encoding="utf-8")
            assert re.search(rf"^build-{name}:", makefile, flags=re.MULTILINE), name
    # And the dependencies are installed for CPython 3.13 on aarch64, not for this machine,
    # exactly as locked: the lock's versions only, each file checked against its hashes
    common = (REPO / "layers/common/Makefile").read_text(encoding="utf-8")
    assert "--python-version 3.13" in common
    assert "aarch64" in common and "x86_64" not in common
    assert re.search(r"^LOCK := \$\(SRC\)/requirements\.lock$", common, flags=re.MULTILINE)
    assert '-r "$(LOCK)"' in common
    assert "--require-hashes" in common and "--no-deps" in common


def test_parameters_hold_no_secrets():
    # Given the template's parameters and full text
    parameters = cfn.template()["Parameters"]
    text = (REPO / "template.yaml").read_text(encoding="utf-8")
    secretish = re.compile(r"(?i)password|secret|token|api[_-]?key|private")
    for name, parameter in parameters.items():
        default = str(parameter.get("Default", ""))
        # Then no default looks like a key or password
        assert not re.fullmatch(r"[A-Za-z0-9+/=_\-]{24,}", default), name
        # And a secret-sounding parameter would be NoEcho without a default
        if secretish.search(name):
            assert parameter.get("NoEcho") is True and "Default" not in parameter, name
    # And the template contains no access keys or private keys
    assert not re.search(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", text)
    assert "-----BEGIN" not in text
    assert not [v for v in _walk(cfn.template()) if isinstance(v, str) and "123456789012" in v]
