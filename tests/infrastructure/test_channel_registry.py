"""The channel lists agree: the watchlist's channel kinds, the channel registry, the channel
modules and template.yaml's permissions for the report function (and for no other)."""

from __future__ import annotations

import json
import typing

from stormwatch.channels.base import Channel
from stormwatch.channels.registry import REGISTRY, ChannelParts, build_channels
from stormwatch.config import load_watchlist
from stormwatch.links import LINK_KEY_PARAMETER
from stormwatch.watchlist import CHANNEL_PARAMETER, AlertSettings

from tests.infrastructure import cfn_template as cfn
from tests.infrastructure.cfn_template import REPO


def watchlist_kinds() -> set[str]:
    """The `kind` values the watchlist's alerts.channels accepts."""
    union = typing.get_args(AlertSettings.model_fields["channels"].annotation)[0]
    members = typing.get_args(typing.get_args(union)[0])
    return {typing.get_args(m.model_fields["kind"].annotation)[0] for m in members}


def actions_of(logical_id: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for statement in cfn.policy_statements(logical_id):
        for action in cfn.as_list(statement["Action"]):
            out.setdefault(action, []).extend(cfn.as_list(statement["Resource"]))
    return out


def test_every_watchlist_channel_kind_is_registered_and_every_registered_one_is_usable():
    # e-mail is the recipients' channel; every other registered kind can be named in a watchlist
    assert watchlist_kinds() == set(REGISTRY) - {"email"}


def test_every_registered_channel_builds_and_speaks_the_channel_protocol():
    parts = ChannelParts(mailer=None, secrets=None, poster=None, sns=None)  # type: ignore[arg-type]
    channels = build_channels(parts)
    assert set(channels) == set(REGISTRY)
    for kind, channel in channels.items():
        assert isinstance(channel, Channel) and channel.kind == kind


def test_the_report_function_may_call_what_each_channel_calls():
    report = actions_of("ReportFunction")
    for spec in REGISTRY.values():
        if spec.aws_action:
            assert spec.aws_action in report, spec.kind


def test_channel_parameters_are_readable_by_report_only_and_only_under_channels():
    # Given the SSM grants of the report function
    resources = json.dumps(actions_of("ReportFunction").get("ssm:GetParameter", []))
    # Then exactly the channels/ path of the stage's prefix is readable, as the watchlist's
    # parameter names require, and report's SSM_PREFIX points at that prefix (beside it: the
    # one link key, tests/infrastructure/test_web_function.py)
    assert any(spec.reads_ssm for spec in REGISTRY.values())
    assert resources.count("parameter/") == 2
    assert "parameter/stormwatch/${Stage}/channels/*" in resources
    assert f"parameter/stormwatch/${{Stage}}/{LINK_KEY_PARAMETER}" in resources
    assert CHANNEL_PARAMETER.pattern.startswith("^channels/")
    env = json.dumps(cfn.function_environment("ReportFunction"))
    assert "/stormwatch/${Stage}" in env and "SSM_PREFIX" in env
    # And collect's source credentials do not include them
    collect = json.dumps(actions_of("CollectFunction").get("ssm:GetParameter", []))
    assert "channels" not in collect


def test_sns_publish_is_report_only_and_the_only_grant_on_every_resource():
    # sns:Publish to a phone number has no resource ARN: "*" is the only way to allow it
    # (docs/channels.md); it must stay the single "*" resource of the template and report's
    for fn in cfn.functions():
        for action, resources in actions_of(fn).items():
            if "*" in resources:
                assert (fn, action) == ("ReportFunction", "sns:Publish")


def test_the_demo_watchlist_uses_every_chat_channel_with_parameters_under_channels():
    watchlist = load_watchlist(REPO / "watchlist.yaml")
    used = {c.kind for t in watchlist.topics for c in t.alerts.channels}
    assert used == watchlist_kinds()
