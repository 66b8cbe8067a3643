"""Slack through an incoming webhook: a Block Kit message.

Slack's limits (docs.slack.dev, Block Kit reference): at most 50 blocks per message; a section's
text at most 3,000 characters and at most 10 fields of 2,000; a header's plain text at most
150; a button's text at most 75 and its URL at most 3,000; an actions block at most 25
elements; a context block at most 10. Every string is cut to its limit here, and mention text
is escaped (stormwatch.channels.text) so it can neither format, link nor ping.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from stormwatch.channels.base import JsonPoster, Target, delivery_id, secret_value
from stormwatch.channels.message import ChatMention, ChatMessage, chat_message
from stormwatch.channels.text import clip, slack_link, slack_plain, slack_text

if TYPE_CHECKING:
    from stormwatch.notification import Notification
    from stormwatch.secrets import Secrets

MAX_BLOCKS = 50
SECTION_CHARS = 3000
FIELD_CHARS = 2000
MAX_FIELDS = 10
HEADER_CHARS = 150
BUTTON_CHARS = 75
BUTTON_URL_CHARS = 3000
MAX_BUTTONS = 25
FALLBACK_CHARS = 3000  # the notification text; Slack allows far more, phones show less
MENTION_CHARS = 200
STEP_CHARS = 300


class SlackChannel:
    kind = "slack"

    def __init__(self, secrets: Secrets, poster: JsonPoster) -> None:
        self._secrets = secrets
        self._poster = poster

    def send(self, notification: Notification, target: Target) -> str:
        url = secret_value(self._secrets, target.address, "Slack webhook URL")
        body = json.dumps(slack_payload(notification), ensure_ascii=False).encode()
        self._poster.post(url, body)
        return delivery_id(notification, target)


def slack_payload(notification: Notification) -> dict[str, Any]:
    message = chat_message(notification)
    return {
        # the push notification and screen readers show `text`; blocks are the message
        "text": slack_text(message.headline, FALLBACK_CHARS),
        "blocks": slack_blocks(message)[:MAX_BLOCKS],
        # never turn "@channel" or "#general" in the text into pings or links
        "link_names": False,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def slack_blocks(message: ChatMessage) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(message.headline, HEADER_CHARS)},
        _section(slack_text(message.intro, SECTION_CHARS)),
    ]
    if message.facts:
        fields = [
            _mrkdwn(f"*{slack_text(label, 100)}*\n{slack_text(value, FIELD_CHARS - 110)}")
            for label, value in message.facts[:MAX_FIELDS]
        ]
        blocks.append({"type": "section", "fields": fields})
    if message.mentions:
        lines = [
            "• "
            + (slack_link(m.url, m.text, MENTION_CHARS) if m.url else slack_text(m.text, 200))
            + (f" — {slack_text(m.source, 40)}" if m.source else "")
            + _credit(m)
            for m in message.mentions
        ]
        blocks.append({"type": "divider"})
        blocks.append(_section(_titled(message.mentions_title, lines)))
    if message.steps:
        lines = [f"{i}. {slack_text(step, STEP_CHARS)}" for i, step in enumerate(message.steps, 1)]
        blocks.append(_section(_titled(message.steps_title, lines)))
    if message.statement:
        quote = slack_text(message.statement, SECTION_CHARS - 200).replace("\n", "\n>")
        blocks.append(_section(_titled(message.statement_title, [f">{quote}"])))
    buttons = [
        {
            "type": "button",
            "text": _plain(link.label, BUTTON_CHARS),
            "url": link.url,
        }
        for link in message.links[:MAX_BUTTONS]
        if len(link.url) <= BUTTON_URL_CHARS
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    if message.footer:
        blocks.append({"type": "context", "elements": [_mrkdwn(slack_text(message.footer, 300))]})
    return blocks


def _titled(title: str, lines: list[str]) -> str:
    """A bold title over lines, cut at whole lines to fit a section."""
    text = f"*{slack_text(title, 100)}*"
    for line in lines:
        if len(text) + 1 + len(line) > SECTION_CHARS:
            break
        text += "\n" + line
    return text


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(clip(text, SECTION_CHARS))}


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack does not auto-link URLs or channel names in this text
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": slack_plain(text, limit), "emoji": False}


def _credit(m: ChatMention) -> str:
    """ " · site · <licence> · <by author>": what CC BY-SA content needs, links to the licence
    and the author's profile where known; "" for content that needs no credit."""
    if m.credit is None:
        return ""
    parts = [slack_text(m.credit.site, 80)]
    licence = m.credit.licence_url
    parts.append(
        slack_link(licence, m.credit.licence, 40) if licence else slack_text(m.credit.licence, 40)
    )
    if m.byline:
        profile = m.credit.profile_url
        parts.append(slack_link(profile, m.byline, 100) if profile else slack_text(m.byline, 100))
    return " · " + " · ".join(parts)
