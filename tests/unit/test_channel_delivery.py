"""Who gets what, once, through which channel; what happens when a channel fails."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from stormwatch.channels.base import (
    ChannelError,
    JsonPoster,
    Target,
    check_webhook_url,
    send_with_retries,
)
from stormwatch.channels.slack import SlackChannel
from stormwatch.channels.sms import SmsChannel
from stormwatch.config import WatchlistError, parse_watchlist
from stormwatch.digest import build_digest
from stormwatch.models import ChannelHealth
from stormwatch.render import render_digest
from stormwatch.reporting import notify
from stormwatch.secrets import NoSecrets, StaticSecrets

from tests.support.channels import (
    NOW,
    TEMPLATES,
    hostile_notice,
    hostile_surge,
    make_topic,
    notification_for,
)
from tests.support.fakes import OnceOnly, RecordingSession, public_dns

CHANNELS = [
    {"kind": "slack", "url_parameter": "channels/slack/comms"},
    {"kind": "teams", "url_parameter": "channels/teams/comms", "tiers": ["warning", "firestorm"]},
    {"kind": "sms", "numbers": ["+447700900123", "+49 151 2345 6789"]},
]


def routed(item, channels=CHANNELS) -> list[str]:
    deliver = OnceOnly()
    notify(make_topic(channels), item, deliver=deliver, templates_dir=TEMPLATES, watchlist_name="w")
    return sorted(t.channel for t in deliver.targets.values())


def test_each_channel_hears_only_the_tiers_it_asked_for():
    # Slack: every tier; Teams: warning and up; SMS: firestorm only (its default)
    assert routed(hostile_surge("watch")) == ["email", "slack"]
    assert routed(hostile_surge("warning")) == ["email", "slack", "teams"]
    assert routed(hostile_surge("firestorm")) == ["email", "slack", "sms", "sms", "teams"]


def test_source_down_notices_go_to_chat_but_not_to_phones_unless_asked():
    assert routed(hostile_notice()) == ["email", "slack", "teams"]
    loud = [{"kind": "sms", "numbers": ["+447700900123"], "notices": True}]
    assert routed(hostile_notice(), loud) == ["email", "sms"]


def test_alerts_switched_off_reach_no_channel():
    deliver = OnceOnly()
    topic = make_topic(CHANNELS)
    topic = topic.model_copy(update={"alerts": topic.alerts.model_copy(update={"enabled": False})})
    notify(topic, hostile_surge(), deliver=deliver, templates_dir=TEMPLATES, watchlist_name="w")
    assert deliver.sent == {}


def test_each_alert_goes_once_per_channel_and_target_and_email_keys_are_unchanged():
    # Given the same surge handled twice (a stream retry)
    deliver = OnceOnly()
    topic = make_topic(CHANNELS)
    for _ in range(2):
        outcome = notify(
            topic, hostile_surge(), deliver=deliver, templates_dir=TEMPLATES, watchlist_name="w"
        )
    # Then the second run only repeats, and each (channel, target) has its own key
    assert outcome.sent == 0 and outcome.repeats == 5
    keys = sorted(deliver.sent)
    base = "alert#acme-cloud#S#2026-11-25T08:00:00Z#firestorm#"
    assert all(k.startswith(base) for k in keys)
    # e-mail keeps key#recipient (deliveries remembered before channels existed still count)
    assert sum(1 for k in keys if k.count("#") == base.count("#")) == 1
    assert {k[len(base) :].split("#")[0] for k in keys if k.count("#") > base.count("#")} == {
        "slack",
        "teams",
        "sms",
    }


class FlakyDeliver(OnceOnly):
    """Slack raises; everything else is delivered."""

    def __call__(self, key, notification, target):
        if target.channel == "slack":
            raise ChannelError("hooks.slack.com answered HTTP 404 no_service")
        return super().__call__(key, notification, target)


class HealthLog:
    def __init__(self):
        self.results = []

    def record_channel_result(self, topic, channel, *, at, error):
        self.results.append((topic, channel, at, error))


def test_one_failing_channel_blocks_no_other_and_its_health_is_recorded():
    # Given Slack refuses the message
    deliver, health = FlakyDeliver(), HealthLog()
    outcome = notify(
        make_topic(CHANNELS),
        hostile_surge(),
        deliver=deliver,
        templates_dir=TEMPLATES,
        watchlist_name="w",
        health=health,
        now=NOW,
    )
    # Then every other target got it, and the failure is noted without address or URL
    assert sorted(d.channel for d in outcome.deliveries) == ["email", "sms", "sms", "teams"]
    (failure,) = outcome.failures
    assert failure.channel == "slack" and "no_service" in failure.error
    assert "channels/slack" not in failure.target and len(failure.target) == 12
    # And the health log says Slack failed and the others worked, once per channel
    assert sorted((c, e is None) for _, c, _, e in health.results) == [
        ("email", True),
        ("slack", False),
        ("sms", True),
        ("teams", True),
    ]


# --- retries and HTTP -------------------------------------------------------------------------


def test_retryable_failures_are_retried_with_growing_backoff_then_succeed():
    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ChannelError("HTTP 503", retryable=True)
        return "id-1"

    assert send_with_retries(flaky, sleep=sleeps.append) == "id-1"
    assert len(calls) == 3 and len(sleeps) == 2 and sleeps[1] > sleeps[0] >= 0.5


def test_retries_are_bounded_and_a_permanent_failure_is_not_retried():
    calls, sleeps = [], []

    def down():
        calls.append(1)
        raise ChannelError("HTTP 503", retryable=True)

    with pytest.raises(ChannelError):
        send_with_retries(down, sleep=sleeps.append)
    assert len(calls) == 3 and sum(sleeps) < 5

    calls.clear()

    def refused():
        calls.append(1)
        raise ChannelError("HTTP 400 invalid_payload")

    with pytest.raises(ChannelError):
        send_with_retries(refused, sleep=sleeps.append)
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("answer", "retryable"),
    [(500, True), (503, True), (429, True), (400, False), (404, False), (302, False)],
)
def test_http_answers_are_sorted_into_retry_or_not_and_the_url_stays_secret(answer, retryable):
    poster = JsonPoster(RecordingSession([answer]), resolve=public_dns)
    with pytest.raises(ChannelError) as caught:
        poster.post("https://hooks.slack.com/services/T0/B0/SECRETTOKEN", b"{}")
    assert caught.value.retryable is retryable
    assert "SECRETTOKEN" not in str(caught.value) and "hooks.slack.com" in str(caught.value)


def test_a_network_error_is_retryable_and_does_not_leak_the_url():
    poster = JsonPoster(
        RecordingSession([requests.ConnectionError("https://x/SECRETTOKEN")]), resolve=public_dns
    )
    with pytest.raises(ChannelError) as caught:
        poster.post("https://hooks.slack.com/services/T0/B0/SECRETTOKEN", b"{}")
    assert caught.value.retryable and "SECRETTOKEN" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.slack.com/services/x",
        "https://localhost/x",
        "https://127.0.0.1/x",
        "https://10.0.0.7/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://user:pw@hooks.example.com/x",
        "file:///etc/passwd",
    ],
)
def test_webhook_urls_must_be_https_on_a_public_host(url):
    with pytest.raises(ChannelError):
        check_webhook_url(url, resolve=public_dns)


def test_a_webhook_host_that_resolves_to_a_private_address_is_refused_without_its_path():
    # Given a public-looking name whose DNS points into the VPC (netguard, as for sources)
    def inside(host):
        return ["10.0.0.5"]

    poster = JsonPoster(RecordingSession(), resolve=inside)
    with pytest.raises(ChannelError) as caught:
        poster.post("https://hooks.example.com/services/SECRETTOKEN", b"{}")
    assert "hooks.example.com" in str(caught.value) and "SECRETTOKEN" not in str(caught.value)


def test_only_the_local_demo_may_post_to_loopback_over_http():
    assert check_webhook_url("http://127.0.0.1:8080/slack", allow_loopback=True)
    with pytest.raises(ChannelError):
        check_webhook_url("http://10.0.0.7/slack", allow_loopback=True)


def test_a_missing_ssm_parameter_is_a_clear_permanent_failure():
    channel = SlackChannel(NoSecrets(), JsonPoster(RecordingSession(), resolve=public_dns))
    target = Target(channel="slack", address="channels/slack/comms")
    with pytest.raises(ChannelError, match="channels/slack/comms") as caught:
        channel.send(notification_for(hostile_surge()), target)
    assert not caught.value.retryable


def test_slack_posts_the_block_kit_message_to_the_url_from_ssm():
    session = RecordingSession()
    secrets = StaticSecrets({"channels/slack/comms": "https://hooks.slack.com/services/T/B/X"})
    channel = SlackChannel(secrets, JsonPoster(session, resolve=public_dns))
    ident = channel.send(
        notification_for(hostile_surge()), Target(channel="slack", address="channels/slack/comms")
    )
    (post,) = session.posts
    assert post.url.endswith("/T/B/X") and b'"blocks"' in post.body and len(ident) == 36


# --- SMS through SNS (moto in process) --------------------------------------------------------


def test_sms_goes_through_sns_publish_to_the_number(aws):
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    channel = SmsChannel(boto3.client("sns"))
    message_id = channel.send(
        notification_for(hostile_surge()), Target(channel="sms", address="+447700900123")
    )
    sent = list(sns_backends[DEFAULT_ACCOUNT_ID]["eu-central-1"].sms_messages.items())
    assert sent == [
        (message_id, ("+447700900123", sent[0][1][1])),
    ]
    assert sent[0][1][1].startswith("[stormwatch] FIRESTORM: AcmeCloud")


# --- the watchlist ----------------------------------------------------------------------------

WATCHLIST = """\
version: 1
topics:
  - name: acme-cloud
    terms: [acme]
    sources: {{hackernews: {{}}}}
    alerts:
      channels:
{channels}
"""


def problems(channels: str) -> list:
    with pytest.raises(WatchlistError) as caught:
        parse_watchlist(WATCHLIST.format(channels=channels), "wl.yaml")
    return caught.value.problems


def test_a_webhook_url_written_into_the_watchlist_is_refused_with_file_line_topic_and_field():
    (problem,) = problems(
        "        - kind: slack\n          url_parameter: https://hooks.slack.com/services/T/B/X\n"
    )
    assert (problem.file, problem.line, problem.topic) == ("wl.yaml", 9, "acme-cloud")
    assert "url_parameter" in problem.field and "SSM parameter" in problem.message
    assert "hooks.slack.com/services/T/B/X" in problem.message  # it says what it got


@pytest.mark.parametrize("number", ["07700900123", "+0123456789", "+44 7700 900123 ext 5", "+1"])
def test_phone_numbers_must_be_e164(number):
    (problem,) = problems(f"        - kind: sms\n          numbers: ['{number}']\n")
    assert "E.164" in problem.message and problem.topic == "acme-cloud"


def test_an_unknown_channel_kind_or_field_is_refused():
    assert problems("        - kind: pager\n          url_parameter: channels/x/y\n")
    assert problems("        - kind: slack\n          url: channels/x/y\n")
    assert problems("        - kind: webhook\n          url_parameter: channels/w/x\n")  # no secret


def test_phone_numbers_are_stored_without_spaces():
    wl = parse_watchlist(
        WATCHLIST.format(channels="        - kind: sms\n          numbers: ['+49 151 2345-6789']\n")
    )
    assert wl.topics[0].alerts.channels[0].numbers == ["+4915123456789"]


# --- the digest says when a channel fails -----------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "Slack delivery failing since"), ("de", "Zustellung über Slack scheitert seit")],
)
def test_the_digest_coverage_says_which_channel_is_failing_since_when(lang, words):
    topic = make_topic(CHANNELS)
    health = [
        ChannelHealth(
            topic="acme-cloud",
            channel="slack",
            failing_since=NOW - timedelta(hours=5),
            consecutive_failures=4,
            last_error="ChannelError: hooks.slack.com answered HTTP 404 <b>no_service</b>",
        ),
        ChannelHealth(topic="acme-cloud", channel="sms", last_success=NOW),
    ]
    view = build_digest(
        topic,
        now=NOW,
        period_start=NOW - timedelta(days=1),
        mentions=[],
        previous_count=0,
        surges=[],
        sources=[],
        watchlist_name="w",
        channels=health,
        language=lang,
    )
    email = render_digest(view, TEMPLATES, lang=lang)
    assert [row.channel for row in view.failing_channels] == ["Slack"]
    for part in (email.text, email.html):
        assert words in part and "SMS" not in part.split(words)[1][:200]
    assert "<b>no_service" not in email.html  # the error is escaped like every other
