"""The mailer against SES (moto in-process): one MIME multipart/alternative message per recipient,
sent through SESv2 SendEmail with raw content, our headers intact, clear errors on rejection."""

from __future__ import annotations

import email
from email import policy
from email.header import decode_header, make_header
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from stormwatch.mailer import Mailer, MailerError
from stormwatch.models import RenderedEmail, recipient_hash

SENDER = "alerts@stormwatch.example"
REGION = "eu-central-1"  # the `aws` fixture's default region


def rendered(**headers: str) -> RenderedEmail:
    return RenderedEmail(
        subject="[stormwatch] acme-cloud: Sturmwarnung — 132 Erwähnungen (+240 %)",
        html="<!DOCTYPE html><html><body><p>Stimmung: 12,5 % negativ — Grüße</p></body></html>",
        text="Stimmung: 12,5 % negativ — Grüße\n" + "Eine lange Zeile. " * 20 + "\n",
        headers=headers,
    )


def sent_messages() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages


@pytest.fixture
def sesv2(aws):
    client = boto3.client("sesv2", region_name=REGION)
    client.create_email_identity(EmailIdentity=SENDER)
    return client


def test_a_digest_is_accepted_by_ses_as_one_multipart_message_with_both_parts(sesv2):
    # Given a verified sender and a rendered e-mail with an unsubscribe link
    mailer = Mailer(sesv2, SENDER)
    email_in = rendered(
        **{
            "List-Unsubscribe": "<https://example.com/settings>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        }
    )

    # When it is sent
    message_id = mailer.send(email_in, "team@acme.example")

    # Then SES returns an id and holds one message with text and HTML parts in UTF-8
    assert message_id
    [stored] = sent_messages()
    assert stored.id == message_id
    assert stored.source == SENDER
    assert "team@acme.example" in stored.destinations
    msg = email.message_from_string(stored.raw_data, policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Subject"] == "[stormwatch] acme-cloud: Sturmwarnung — 132 Erwähnungen (+240 %)"
    assert msg["From"] == SENDER and msg["To"] == "team@acme.example"
    assert msg["List-Unsubscribe"] == "<https://example.com/settings>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Auto-Submitted"] == "auto-generated"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    assert text.get_content().startswith("Stimmung: 12,5 % negativ — Grüße")
    assert "<p>Stimmung: 12,5 % negativ — Grüße</p>" in html.get_content()
    # the wire format is 7-bit safe with short lines (quoted-printable, encoded subject)
    assert stored.raw_data.isascii()
    assert max(len(line) for line in stored.raw_data.splitlines()) <= 78


def test_the_text_part_comes_first_so_plain_clients_show_it():
    mailer = Mailer(FakeSes(), SENDER)

    msg = mailer.build_message(rendered(), "team@acme.example")

    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


def test_an_unverified_sender_is_rejected_with_a_clear_message(aws):
    # Given SES that knows no identity
    client = boto3.client("sesv2", region_name=REGION)
    mailer = Mailer(client, "nobody@unverified.example")

    # When sending, Then the error names the sender, the recipient by hash only (addresses are
    # personal data and errors end up in logs), SES's reason and what to do
    with pytest.raises(MailerError) as caught:
        mailer.send(rendered(), "team@acme.example")
    message = str(caught.value)
    assert "team@acme.example" not in message and "nobody@unverified.example" in message
    assert f"#{recipient_hash('team@acme.example')}" in message
    assert "MessageRejected" in message
    assert "verify the sender identity" in message
    assert caught.value.code == "MessageRejected" and not caught.value.retryable
    assert sent_messages() == []


class FakeSes:
    """Records send_email calls; optionally fails like SES does."""

    def __init__(self, error_code: str | None = None):
        self.calls: list[dict[str, Any]] = []
        self.error_code = error_code

    def send_email(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        if self.error_code:
            error = {
                "Error": {"Code": self.error_code, "Message": "Maximum sending rate exceeded."}
            }
            raise ClientError(error, "SendEmail")
        return {"MessageId": "fake-0001"}


def test_the_configuration_set_is_named_when_configured():
    ses = FakeSes()

    Mailer(ses, SENDER, configuration_set="stormwatch-dev").send(rendered(), "a@acme.example")
    Mailer(ses, SENDER).send(rendered(), "a@acme.example")

    with_set, without = ses.calls
    assert with_set["ConfigurationSetName"] == "stormwatch-dev"
    assert "ConfigurationSetName" not in without
    assert with_set["Destination"] == {"ToAddresses": ["a@acme.example"]}
    assert isinstance(with_set["Content"]["Raw"]["Data"], bytes)


def test_throttling_is_reported_as_retryable():
    mailer = Mailer(FakeSes(error_code="TooManyRequestsException"), SENDER)

    with pytest.raises(MailerError) as caught:
        mailer.send(rendered(), "a@acme.example")

    assert caught.value.retryable
    assert "Maximum sending rate exceeded." in str(caught.value)


def test_a_display_name_in_the_sender_is_kept_and_encoded_for_the_api():
    ses = FakeSes()

    Mailer(ses, "Störmwatch <alerts@stormwatch.example>").send(rendered(), "a@acme.example")

    request = ses.calls[0]
    api_from = request["FromEmailAddress"]
    assert api_from.isascii() and api_from.endswith(" <alerts@stormwatch.example>")
    assert str(make_header(decode_header(api_from))) == "Störmwatch <alerts@stormwatch.example>"
    raw = email.message_from_bytes(request["Content"]["Raw"]["Data"], policy=policy.default)
    assert raw["From"] == "Störmwatch <alerts@stormwatch.example>"


@pytest.mark.parametrize(
    "recipient",
    [
        "",
        "not-an-address",
        "a@acme.example, b@evil.example",
        "a@acme.example\r\nBcc: x@evil.example",
    ],
)
def test_bad_recipients_are_refused_before_anything_is_sent(recipient):
    ses = FakeSes()

    with pytest.raises(MailerError, match="invalid recipient address"):
        Mailer(ses, SENDER).send(rendered(), recipient)
    assert ses.calls == []


def test_header_injection_through_rendered_headers_is_refused():
    ses = FakeSes()
    bad = rendered(**{"List-Unsubscribe": "<https://x.example>\r\nBcc: victim@evil.example"})

    with pytest.raises(MailerError, match="invalid header"):
        Mailer(ses, SENDER).send(bad, "a@acme.example")
    with pytest.raises(MailerError, match="may not be set"):
        Mailer(ses, SENDER).send(rendered(Bcc="x@evil.example"), "a@acme.example")
    assert ses.calls == []


def test_a_rendered_german_digest_arrives_with_its_facts_in_both_parts(sesv2, repo):
    # Given a real digest rendered from the templates in German
    from datetime import UTC, datetime, timedelta

    from stormwatch.digest import build_digest
    from stormwatch.render import render_digest
    from stormwatch.watchlist import Topic

    now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    topic = Topic.model_validate(
        {
            "name": "acme-cloud",
            "terms": ["acme"],
            "sources": {"hackernews": {}},
            "digest": {"timezone": "Europe/Berlin", "language": "de"},
        }
    )
    view = build_digest(
        topic,
        now=now,
        period_start=now - timedelta(days=1),
        mentions=[],
        previous_count=4,
        surges=[],
        sources=[],
        watchlist_name="stormwatch",
        settings_url="https://example.com/settings",
    )
    digest = render_digest(view, repo / "templates", lang="de")

    # When it is sent
    Mailer(sesv2, SENDER).send(digest, "team@acme.example")

    # Then the recipient's client finds subject, both parts and the unsubscribe header
    [stored] = sent_messages()
    msg = email.message_from_string(stored.raw_data, policy=policy.default)
    assert msg["Subject"] == "[stormwatch] acme-cloud: ruhig — 0 Erwähnungen (-100 %)"
    assert msg["List-Unsubscribe"] == "<https://example.com/settings>"
    assert "Keine Erwähnungen in diesem Zeitraum." in msg.get_body(("plain",)).get_content()
    assert "Keine Erwähnungen in diesem Zeitraum." in msg.get_body(("html",)).get_content()
    assert "25.11.2026 09:00 (Europe/Berlin)" in msg.get_body(("plain",)).get_content()
