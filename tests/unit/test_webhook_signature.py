"""The generic webhook's signature: what a receiver checks, and what it must refuse."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stormwatch.channels.base import JsonPoster, Target
from stormwatch.channels.webhook import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    SignatureError,
    WebhookChannel,
    sign,
    verify_signature,
)
from stormwatch.secrets import StaticSecrets

from tests.support.channels import hostile_surge, notification_for
from tests.support.fakes import RecordingSession, public_dns

SECRET = "whsec_test_not_real"
BODY = b'{"version": "1", "type": "surge.alert"}'
T = 1_795_600_000


def test_a_signature_made_now_verifies_and_returns_its_timestamp():
    header = sign(SECRET, BODY, T)
    assert header.startswith(f"t={T},v1=")
    assert verify_signature(SECRET, header, BODY, now=T + 10) == T


@pytest.mark.parametrize(
    "body",
    [BODY + b" ", BODY.replace(b"alert", b"alarm"), b"", BODY[:-1]],
    ids=["appended", "changed", "empty", "truncated"],
)
def test_a_tampered_body_is_refused(body):
    header = sign(SECRET, BODY, T)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(SECRET, header, body, now=T)


def test_a_changed_timestamp_is_refused_as_the_signature_covers_it():
    header = sign(SECRET, BODY, T).replace(f"t={T}", f"t={T + 60}")
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(SECRET, header, BODY, now=T + 60)


@pytest.mark.parametrize("age", [301, -301, 86_400])
def test_a_replayed_or_future_request_outside_the_window_is_refused(age):
    # Given a correctly signed request captured and sent again 5 minutes and 1 s later
    header = sign(SECRET, BODY, T)
    with pytest.raises(SignatureError, match="tolerance"):
        verify_signature(SECRET, header, BODY, now=T + age)


def test_the_wrong_secret_is_refused():
    with pytest.raises(SignatureError):
        verify_signature("another-secret", sign(SECRET, BODY, T), BODY, now=T)


@pytest.mark.parametrize(
    "header", [None, "", "v1=abc", f"t={T}", "t=soon,v1=abc", "garbage", f"t={T},v0=abc"]
)
def test_a_missing_or_malformed_header_is_refused(header):
    with pytest.raises(SignatureError):
        verify_signature(SECRET, header, BODY, now=T)


def test_during_secret_rotation_any_matching_v1_is_accepted():
    old = sign("old-secret", BODY, T).split("v1=")[1]
    header = f"{sign(SECRET, BODY, T)},v1={old}"
    assert verify_signature("old-secret", header, BODY, now=T) == T


@given(st.binary(max_size=2000), st.text(min_size=1, max_size=64))
def test_any_body_signed_with_any_secret_verifies_and_one_flipped_byte_does_not(body, secret):
    header = sign(secret, body, T)
    assert verify_signature(secret, header, body, now=T) == T
    flipped = bytes([body[0] ^ 1]) + body[1:] if body else b"x"
    with pytest.raises(SignatureError):
        verify_signature(secret, header, flipped, now=T)


def test_the_channel_signs_exactly_the_bytes_it_posts_with_id_and_event_headers():
    # Given a webhook channel whose URL and secret are in SSM
    session = RecordingSession()
    secrets = StaticSecrets(
        {"channels/webhook/ops": "https://hooks.example.com/in", "channels/webhook/key": SECRET}
    )
    channel = WebhookChannel(secrets, JsonPoster(session, resolve=public_dns), clock=lambda: T)
    notification = notification_for(hostile_surge())
    target = Target(
        channel="webhook", address="channels/webhook/ops", secret="channels/webhook/key"
    )
    # When it sends an alert
    ident = channel.send(notification, target)
    # Then the receiver can verify the raw body with the shared secret
    (post,) = session.posts
    assert post.url == "https://hooks.example.com/in"
    assert verify_signature(SECRET, post.headers[SIGNATURE_HEADER], post.body, now=T + 1) == T
    assert post.headers[DELIVERY_HEADER] == ident == json.loads(post.body)["id"]
    assert post.headers[EVENT_HEADER] == "surge.alert"
    # And a second attempt of the same delivery carries the same id (receivers drop repeats)
    assert channel.send(notification, target) == ident
