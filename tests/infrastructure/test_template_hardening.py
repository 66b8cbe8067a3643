"""template.yaml against the IaC scanner (checkov, run by scripts/scan-templates.sh in `make test`):
every exception is justified on the resource, and what the justification claims holds."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.infrastructure import cfn_template as cfn
from tests.infrastructure.cfn_template import REPO

NO_VALUE = {"Ref": "AWS::NoValue"}
WITH_KMS_KEY = {"Fn::If": ["HasKmsKey", {"Ref": "KmsKeyArn"}, NO_VALUE]}
# every function of the template, the web function included (derived, not a hand-kept list)
FUNCTIONS = tuple(cfn.functions())


def _skipping(check_id: str) -> list[str]:
    return [name for name, res in cfn.resources().items() if check_id in cfn.checkov_skips(res)]


def test_the_scanner_finds_template_yaml_among_the_templates_it_scans():
    # When the scan script lists what it would scan (no checkov needed for that)
    listed = subprocess.run(
        ["bash", str(REPO / "scripts/scan-templates.sh"), "--list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # Then template.yaml is among them, and nothing from the build or the tool venvs
    assert "template.yaml" in listed
    assert not [path for path in listed if path.startswith((".aws-sam", ".tools", ".venv"))]


def test_every_scanner_exception_names_a_check_and_gives_a_one_line_reason():
    # Given every checkov skip in the template
    skips = [
        (name, check, reason)
        for name, res in cfn.resources().items()
        for check, reason in cfn.checkov_skips(res).items()
    ]
    assert skips
    for name, check, reason in skips:
        # Then it names one check and says why in one line a reviewer can read
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), (name, check)
        assert 30 <= len(reason) <= 200 and "\n" not in reason, (name, check, reason)


def test_the_dlq_exception_holds_every_failure_of_those_functions_lands_in_a_queue():
    # Given the functions excused from a function DLQ (CKV_AWS_116)
    excused = _skipping("CKV_AWS_116")
    assert set(FUNCTIONS) <= set(excused)
    for fn in excused:
        events = cfn.events(fn)
        # Then they have only scheduled (async), stream and queue triggers
        kinds = {event["Type"] for event in events.values()}
        assert kinds <= {"ScheduleV2", "DynamoDB", "SQS"}, fn
        # And an async trigger means an on-failure destination for the async invocation
        if cfn.events(fn, "ScheduleV2"):
            on_failure = cfn.function_property(fn, "EventInvokeConfig")["DestinationConfig"]
            assert on_failure["OnFailure"]["Type"] == "SQS", fn
        # And each stream trigger has its own on-failure destination
        for event in cfn.events(fn, "DynamoDB").values():
            assert event["Properties"]["DestinationConfig"]["OnFailure"]["Type"] == "SQS", fn
        # And each queue trigger's queue redrives what keeps failing to another queue
        for event in cfn.events(fn, "SQS").values():
            queue = cfn.resources()[event["Properties"]["Queue"]["Fn::GetAtt"][0]]
            target = queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]
            assert cfn.resources()[target["Fn::GetAtt"][0]]["Type"] == "AWS::SQS::Queue", fn


def test_the_environment_exception_holds_no_variable_is_named_like_a_secret():
    # Given the functions excused from encrypting their environment with a key (CKV_AWS_173)
    secretish = re.compile(r"(?i)password|secret|token|api_?key|private|credential")
    for fn in _skipping("CKV_AWS_173"):
        # Then none of their variables is named like a secret (secrets come from SSM)
        assert not [name for name in cfn.function_environment(fn) if secretish.search(name)], fn


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_each_function_has_a_reserved_concurrency_parameter(logical_id):
    # Given the function's reserved concurrency
    limit = cfn.function_property(logical_id, "ReservedConcurrentExecutions")
    # Then it is a parameter of its own: a number of at least 1 (0 would stop the function)
    parameter = cfn.template()["Parameters"][limit["Ref"]]
    assert limit == {"Ref": logical_id.removesuffix("Function") + "ConcurrencyLimit"}
    assert parameter["Type"] == "Number"
    assert parameter["MinValue"] >= 1 and parameter["Default"] >= 1


def test_collect_may_run_every_source_at_once_by_default():
    # Given one collect schedule per source: they can fire in the same minute
    from stormwatch.sources import FACTORIES

    default = cfn.template()["Parameters"]["CollectConcurrencyLimit"]["Default"]
    # Then the default limit lets every source's run go at once, without throttling
    assert default >= len(FACTORIES)
    # And report has room for a stream batch and the hourly digest at the same time
    assert cfn.template()["Parameters"]["ReportConcurrencyLimit"]["Default"] >= 2


def test_the_optional_kms_key_is_an_arn_or_empty_and_decides_a_condition():
    # Given the KmsKeyArn parameter
    parameter = cfn.template()["Parameters"]["KmsKeyArn"]
    pattern = re.compile(parameter["AllowedPattern"])
    # Then it defaults to empty, accepts a key ARN and refuses an alias (CloudWatch Logs needs
    # the key's ARN)
    assert parameter["Default"] == ""
    assert pattern.fullmatch("")
    assert pattern.fullmatch(
        "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    assert not pattern.fullmatch("alias/aws/sns")
    # And the condition is "a key was given"
    assert cfn.template()["Conditions"]["HasKmsKey"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "KmsKeyArn"}, ""]}]
    }


def test_the_key_encrypts_the_table_the_log_groups_and_the_alarm_topic_when_given():
    resources = cfn.resources()
    # Then the table is KMS-encrypted always, with the key when given
    sse = resources["Table"]["Properties"]["SSESpecification"]
    assert sse["SSEEnabled"] is True and sse["SSEType"] == "KMS"
    assert sse["KMSMasterKeyId"] == WITH_KMS_KEY
    # And every log group and the alarm topic use the key when given
    for name in cfn.resources("AWS::Logs::LogGroup"):
        assert resources[name]["Properties"]["KmsKeyId"] == WITH_KMS_KEY, name
    assert resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == WITH_KMS_KEY
    # And never the AWS managed SNS key, which CloudWatch alarms cannot publish under
    assert "alias/aws/sns" not in json.dumps(resources)


# every function that reads or writes the table (dispatch does not: it plans from the watchlist)
TABLE_USERS = tuple(
    fn
    for fn in FUNCTIONS
    if any(
        str(a).startswith("dynamodb:")
        for s in cfn.policy_statements(fn)
        for a in cfn.as_list(s["Action"])
    )
)


@pytest.mark.parametrize("logical_id", TABLE_USERS)
def test_with_a_key_each_function_may_use_exactly_that_key(logical_id):
    # Given the function's statements that hold only when a key is given
    conditional = cfn.conditional_statements(logical_id)
    # Then there is one, granting the key's data actions on the key alone
    assert set(conditional) == {"HasKmsKey"}
    (statement,) = conditional["HasKmsKey"]
    assert statement["Resource"] == {"Ref": "KmsKeyArn"}
    assert set(statement["Action"]) == {
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:DescribeKey",
    }
