"""Recipient addresses are personal data: a failing send names the recipient by its hash,
never by its address — in the exception, its causes, and whatever a handler logs."""

from __future__ import annotations

import logging
import traceback
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from stormwatch.channels.email import EmailChannel
from stormwatch.mailer import Mailer, MailerError
from stormwatch.models import RenderedEmail, recipient_hash
from stormwatch.reporting import DeliveryFailed, send_digest
from stormwatch.watchlist import Topic

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SENDER = "alerts@stormwatch.example"
RECIPIENT = "dana.reyes@acme.example"


class RejectingSes:
    """Fails like SES does, quoting the address in its own message."""

    def __init__(self, error: Exception):
        self.error = error

    def send_email(self, **request):
        raise self.error


def not_verified() -> ClientError:
    message = (
        "Email address is not verified. The following identities failed the check in region "
        f"EU-CENTRAL-1: {RECIPIENT}"
    )
    return ClientError({"Error": {"Code": "MessageRejected", "Message": message}}, "SendEmail")


def email() -> RenderedEmail:
    return RenderedEmail(subject="s", html="<p>x</p>", text="x\n", headers={})


def everything_logged(exc: BaseException) -> str:
    """What the Lambda runtime writes for an unhandled exception: the whole chain."""
    return "".join(traceback.format_exception(exc))


@pytest.mark.parametrize(
    "error", [not_verified(), EndpointConnectionError(endpoint_url="https://email.example")]
)
def test_a_rejected_send_names_the_recipient_by_hash_only(error):
    # Given SES rejects the message and quotes the recipient's address
    mailer = Mailer(RejectingSes(error), SENDER)
    # When the send fails
    with pytest.raises(MailerError) as caught:
        mailer.send(email(), RECIPIENT)
    # Then neither the error nor anything chained to it holds the address, only its hash
    logged = everything_logged(caught.value)
    assert RECIPIENT not in logged and "dana.reyes" not in logged
    assert recipient_hash(RECIPIENT) in str(caught.value)


@pytest.mark.parametrize(
    "bad", ["dana.reyes@acme", "dana.reyes@acme.example\r\nBcc: x@evil.example"]
)
def test_an_invalid_recipient_is_not_quoted(bad):
    with pytest.raises(MailerError) as caught:
        Mailer(RejectingSes(not_verified()), SENDER).send(email(), bad)
    assert "dana.reyes" not in everything_logged(caught.value)


def test_logs_of_a_failing_digest_send_hold_no_address(caplog):
    # Given a topic whose digest goes to one recipient, and SES rejecting it
    topic = Topic.model_validate(
        {"name": "acme", "terms": ["acme"], "sources": {}, "digest": {"recipients": [RECIPIENT]}}
    )
    channel = EmailChannel(Mailer(RejectingSes(not_verified()), SENDER))

    class EmptyStore:
        def __getattr__(self, name):
            return lambda *args, **kwargs: [] if name != "count_between" else 0

    # When the digest is sent, and the failure raised and logged the way the handler does
    with caplog.at_level(logging.DEBUG):
        outcome = send_digest(
            topic,
            store=EmptyStore(),
            deliver=lambda key, notification, target: (channel.send(notification, target), False),
            templates_dir=TEMPLATES,
            now=datetime(2026, 11, 25, 8, tzinfo=UTC),
            watchlist_name="Brand team",
        )
        failed = DeliveryFailed(outcome.failures)
        logging.getLogger("stormwatch.test").exception("report failed", exc_info=failed)
    # Then the failure is recorded, and no captured log line or recorded error holds the address
    assert outcome.failures and "MessageRejected" in outcome.failures[0].error
    recorded = " ".join(f.error for f in outcome.failures) + everything_logged(failed)
    for text in (caplog.text, recorded):
        assert RECIPIENT not in text and "dana.reyes" not in text
