"""template.yaml's web function held against the code: public URL, least privilege, bounds."""

from __future__ import annotations

import json

from stormwatch.links import LINK_KEY_PARAMETER

from tests.infrastructure import cfn_template as cfn


def _ssm_resources(logical_id: str) -> list:
    return [
        resource
        for st in cfn.policy_statements(logical_id)
        if "ssm:GetParameter" in cfn.as_list(st["Action"])
        for resource in cfn.as_list(st["Resource"])
    ]


def test_the_web_function_has_a_public_url_whose_address_is_an_output_and_reaches_report():
    # Given the web function's URL config
    config = cfn.function_property("WebFunction", "FunctionUrlConfig")
    # Then it is public (the signed tokens are the auth) and its URL is an output and in the
    # report function's environment, so messages link to it
    assert config["AuthType"] == "NONE"
    outputs = cfn.template()["Outputs"]
    assert outputs["WebFunctionUrl"]["Value"] == {"Fn::GetAtt": ["WebFunctionUrl", "FunctionUrl"]}
    env = cfn.function_environment("ReportFunction")
    assert env["WEB_URL"] == {"Fn::GetAtt": ["WebFunctionUrl", "FunctionUrl"]}


def test_both_functions_that_sign_or_check_links_read_exactly_the_link_key():
    key = f"parameter/stormwatch/${{Stage}}/{LINK_KEY_PARAMETER}"
    web = json.dumps(_ssm_resources("WebFunction"))
    assert web.count("parameter/") == 1 and key in web
    assert key in json.dumps(_ssm_resources("ReportFunction"))
    assert LINK_KEY_PARAMETER not in json.dumps(_ssm_resources("CollectFunction"))


def test_the_public_function_is_capped_in_concurrency_and_time():
    reserved = cfn.function_property("WebFunction", "ReservedConcurrentExecutions")
    assert reserved == {"Ref": "WebConcurrencyLimit"}
    assert cfn.template()["Parameters"]["WebConcurrencyLimit"]["MaxValue"] <= 100
    assert cfn.function_property("WebFunction", "Timeout") <= 10
    # and it may do nothing but what the web core does
    actions = {a for st in cfn.policy_statements("WebFunction") for a in cfn.as_list(st["Action"])}
    assert actions == {
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "ssm:GetParameter",
        "s3:GetObject",  # the live watchlist's one object
        # only with KmsKeyArn, on that key alone (test_template_hardening)
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:DescribeKey",
    }
