"""Notifications for the channel tests: a topic with every channel, hostile mention text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from stormwatch.models import SourceNotice, Surge
from stormwatch.notification import Notification
from stormwatch.reporting import notify
from stormwatch.watchlist import Topic

from tests.support.fakes import OnceOnly

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

# what mention text (and anything else from outside) may try in a chat message
HOSTILE = [
    "<!channel> everyone look",
    "<!here|here> and <!everyone>",
    "ping <@U024BE7LH> and <#C024BE7LH>",
    "<http://evil.example|Click to verify your account>",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "@channel @here @everyone",
    "[click](javascript:alert(1)) **bold** _it_",
    "<at>Jane Doe</at>",
    "a &amp; b & c < d > e",
    "bidi \u202eevil\u202c and zero\u200bwidth \u2066iso\u2069",
]
HOSTILE_TEXT = " · ".join(HOSTILE)

ALL_CHANNELS = [
    {"kind": "slack", "url_parameter": "channels/slack/comms"},
    {"kind": "teams", "url_parameter": "channels/teams/comms"},
    {
        "kind": "webhook",
        "url_parameter": "channels/webhook/ops",
        "signing_secret_parameter": "channels/webhook/ops-secret",
    },
    {"kind": "sms", "numbers": ["+447700900123"], "tiers": ["watch", "warning", "firestorm"]},
]


def make_topic(channels: list[dict] | None = None, **overrides) -> Topic:
    data = {
        "name": "acme-cloud",
        "display_name": "AcmeCloud",
        "terms": ["acmecloud"],
        "sources": {"hackernews": {}},
        "digest": {"timezone": "Europe/Berlin", "recipients": ["comms@example.com"]},
        "alerts": {
            "recipients": ["oncall@example.com"],
            "channels": ALL_CHANNELS if channels is None else channels,
        },
        "playbook": {
            "owner": "Dana <!channel>",
            "first_steps": [f"Step {HOSTILE_TEXT}", "Call <@U024BE7LH> now"],
            "holding_statement": f"We know. {HOSTILE_TEXT}",
        },
    }
    data.update(overrides)
    return Topic.model_validate(data)


def hostile_surge(tier: str = "firestorm", samples: int = 5, **overrides) -> Surge:
    mentions = [
        {
            "title": f"{HOSTILE[i % len(HOSTILE)]} #{i}",
            "text": HOSTILE_TEXT,
            "url": "https://news.example/a?b=<c>&d=|e" if i == 0 else "javascript:alert(1)",
            "author": "<@U024BE7LH>",
            "source": "<!here>",
            "published": "2026-11-25T07:00:00Z",
            "engagement": 3,
            "label": "negative",
        }
        for i in range(samples)
    ]
    fields = {
        "topic": "acme-cloud",
        "detected_at": NOW,
        "tier": tier,
        "observed": 40,
        "expected": 5,
        "score": 8,
        "threshold": 5,
        "negative_share": 0.8,
        "usual_negative_share": 0.2,
        "evidence": {"top_terms": ["<!channel>", "outage"], "drivers": {"<@U1>": 3}},
        "sample_mentions": mentions,
    }
    fields.update(overrides)
    return Surge(**fields)


def hostile_notice() -> SourceNotice:
    return SourceNotice(
        topic="acme-cloud",
        source="reddit",
        detected_at=NOW,
        failures=3,
        last_error=f"HTTP 503: {HOSTILE_TEXT}",
    )


def notification_for(item, topic: Topic | None = None, **options) -> Notification:
    """The Notification reporting.notify builds for `item` (sent to a recording deliver)."""
    deliver = OnceOnly()
    notify(
        topic or make_topic(),
        item,
        deliver=deliver,
        templates_dir=TEMPLATES,
        watchlist_name="Brand <!here> team",
        **options,
    )
    return next(iter(deliver.notifications.values()))
