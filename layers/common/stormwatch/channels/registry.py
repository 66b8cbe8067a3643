"""Every channel stormwatch can deliver through, and how each is built.

The watchlist names chat/SMS channels by kind (`stormwatch.watchlist.ChannelSettings`); e-mail is
the alert and digest recipients. tests/unit/test_channel_registry.py holds this registry, the
watchlist's kinds and template.yaml's permissions (`aws_action`, `reads_ssm`) together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stormwatch.channels.base import Channel, JsonPoster
from stormwatch.channels.email import EmailChannel
from stormwatch.channels.slack import SlackChannel
from stormwatch.channels.sms import SmsChannel, SmsPublisher
from stormwatch.channels.teams import TeamsChannel
from stormwatch.channels.webhook import WebhookChannel
from stormwatch.links import LinkBuilder
from stormwatch.mailer import Mailer
from stormwatch.secrets import Secrets


@dataclass(frozen=True)
class ChannelParts:
    """What the channels are built from; the report function's composition root fills it."""

    mailer: Mailer
    secrets: Secrets
    poster: JsonPoster
    sns: SmsPublisher  # a boto3 SNS client (creating one makes no AWS call)
    # the web function's links (one-click unsubscribe in every e-mail); None: not configured
    links: LinkBuilder | None = None


@dataclass(frozen=True)
class ChannelSpec:
    kind: str
    build: Callable[[ChannelParts], Channel]
    # its webhook URL / signing secret are SSM parameters under channels/
    reads_ssm: bool = False
    # the AWS API action it calls, which template.yaml must grant the report function
    aws_action: str | None = None
    label: str = ""  # how the digest names it ("Slack delivery failing since …")


REGISTRY: dict[str, ChannelSpec] = {
    spec.kind: spec
    for spec in (
        ChannelSpec(
            "email",
            lambda p: EmailChannel(p.mailer, p.links),
            aws_action="ses:SendEmail",
            label="E-mail",
        ),
        ChannelSpec(
            "slack", lambda p: SlackChannel(p.secrets, p.poster), reads_ssm=True, label="Slack"
        ),
        ChannelSpec(
            "teams", lambda p: TeamsChannel(p.secrets, p.poster), reads_ssm=True, label="Teams"
        ),
        ChannelSpec(
            "webhook",
            lambda p: WebhookChannel(p.secrets, p.poster),
            reads_ssm=True,
            label="Webhook",
        ),
        ChannelSpec("sms", lambda p: SmsChannel(p.sns), aws_action="sns:Publish", label="SMS"),
    )
}


def build_channels(parts: ChannelParts) -> dict[str, Channel]:
    return {kind: spec.build(parts) for kind, spec in REGISTRY.items()}


def channel_label(kind: str) -> str:
    spec = REGISTRY.get(kind)
    return spec.label if spec else kind
