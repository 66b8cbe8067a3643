"""Microsoft Teams through a Workflows webhook ("When a Teams webhook request is received"; the
Office 365 connectors are retired): a message with one Adaptive Card attachment.

Hostile text only ever goes into `TextRun`s of `RichTextBlock`s, which Teams shows as text (no
Markdown, no HTML); links are `Action.OpenUrl` buttons and `selectAction`s built from checked
URLs only. Teams accepts messages up to about 28 KB; every string here is capped so a card stays
far below that.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from stormwatch.channels.base import JsonPoster, Target, delivery_id, secret_value
from stormwatch.channels.message import ChatMention, ChatMessage, chat_message
from stormwatch.channels.text import teams_text

if TYPE_CHECKING:
    from stormwatch.notification import Notification
    from stormwatch.secrets import Secrets

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.4"  # what the Workflows "post card" actions render
HEADLINE_CHARS = 150
TEXT_CHARS = 1200
LINE_CHARS = 300
MAX_ACTIONS = 5


class TeamsChannel:
    kind = "teams"

    def __init__(self, secrets: Secrets, poster: JsonPoster) -> None:
        self._secrets = secrets
        self._poster = poster

    def send(self, notification: Notification, target: Target) -> str:
        url = secret_value(self._secrets, target.address, "Teams workflow URL")
        body = json.dumps(teams_payload(notification), ensure_ascii=False).encode()
        self._poster.post(url, body)
        return delivery_id(notification, target)


def teams_payload(notification: Notification) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": CARD_CONTENT_TYPE,
                "contentUrl": None,
                "content": adaptive_card(chat_message(notification)),
            }
        ],
    }


def adaptive_card(message: ChatMessage) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        _rich(_run(message.headline, HEADLINE_CHARS, weight="Bolder", size="Large")),
        _rich(_run(message.intro, TEXT_CHARS)),
    ]
    for label, value in message.facts:
        body.append(_rich(_run(label, 100, weight="Bolder"), _run(": " + value, LINE_CHARS)))
    if message.mentions:
        body.append(_rich(_run(message.mentions_title, 100, weight="Bolder"), separator=True))
        for m in message.mentions:
            text = _run("• " + m.text, LINE_CHARS)
            if m.url:
                text["selectAction"] = {"type": "Action.OpenUrl", "url": m.url}
            runs = [text] + ([_run(" — " + m.source, 60, subtle=True)] if m.source else [])
            body.append(_rich(*runs, *_credit(m)))
    if message.steps:
        body.append(_rich(_run(message.steps_title, 100, weight="Bolder"), separator=True))
        body += [_rich(_run(f"{i}. {step}", LINE_CHARS)) for i, step in enumerate(message.steps, 1)]
    if message.statement:
        body.append(_rich(_run(message.statement_title, 100, weight="Bolder")))
        body.append(_rich(_run(message.statement, TEXT_CHARS, italic=True)))
    if message.footer:
        body.append(_rich(_run(message.footer, 300, subtle=True), separator=True))
    return {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
        "actions": [
            {"type": "Action.OpenUrl", "title": teams_text(link.label, 60), "url": link.url}
            for link in message.links[:MAX_ACTIONS]
        ],
    }


def _run(
    text: str,
    limit: int,
    *,
    weight: str | None = None,
    size: str | None = None,
    italic: bool = False,
    subtle: bool = False,
) -> dict[str, Any]:
    run: dict[str, Any] = {"type": "TextRun", "text": teams_text(text, limit)}
    if weight:
        run["weight"] = weight
    if size:
        run["size"] = size
    if italic:
        run["italic"] = True
    if subtle:
        run["isSubtle"] = True
    return run


def _rich(*runs: dict[str, Any], separator: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "RichTextBlock", "inlines": list(runs)}
    if separator:
        block["separator"] = True
    return block


def _credit(m: ChatMention) -> list[dict[str, Any]]:
    """ " · site · licence · by author" runs for CC BY-SA content: the licence and the author
    open their pages (checked links only); [] for content that needs no credit."""
    if m.credit is None:
        return []
    runs = [_separator(), _run(m.credit.site, 80, subtle=True), _separator()]
    runs.append(_link_run(m.credit.licence, m.credit.licence_url))
    if m.byline:
        runs += [_separator(), _link_run(m.byline, m.credit.profile_url)]
    return runs


def _separator() -> dict[str, Any]:
    # a run's text is cleaned and trimmed (teams_text), so the spaces need a run of their own
    return {"type": "TextRun", "text": " · ", "isSubtle": True}


def _link_run(text: str, url: str | None) -> dict[str, Any]:
    run = _run(text, 100, subtle=True)
    if url:
        run["selectAction"] = {"type": "Action.OpenUrl", "url": url}
    return run
