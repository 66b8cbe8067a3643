"""The generic webhook: a versioned JSON payload (docs/webhook-v1.schema.json), signed.

The body is signed the way Stripe signs its webhooks: HMAC-SHA256 with the receiver's secret
over ``<unix timestamp>.<raw body>``, sent as

    Stormwatch-Signature: t=1764061200,v1=<64 hex digits>

A receiver recomputes it (`verify_signature` below, or the snippet in docs/channels.md),
compares in constant time and refuses timestamps outside its tolerance (5 minutes by default),
so a captured request cannot be replayed later. `Stormwatch-Delivery` is the same for every
retry of one delivery: receivers drop repeats by it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stormwatch.channels.base import JsonPoster, Target, delivery_id, secret_value
from stormwatch.channels.message import digest_summary
from stormwatch.digest import AlertView, DigestView, MentionItem, NoticeView
from stormwatch.models import iso

if TYPE_CHECKING:
    from stormwatch.notification import Notification
    from stormwatch.secrets import Secrets

SCHEMA_VERSION = "1"
SIGNATURE_HEADER = "Stormwatch-Signature"
DELIVERY_HEADER = "Stormwatch-Delivery"
EVENT_HEADER = "Stormwatch-Event"
TOLERANCE_SECONDS = 300
EVENT_TYPES = {"alert": "surge.alert", "notice": "source.down", "digest": "digest.summary"}


class SignatureError(ValueError):
    """The signature header is missing, malformed, wrong, or outside the replay window."""


class WebhookChannel:
    kind = "webhook"

    def __init__(
        self,
        secrets: Secrets,
        poster: JsonPoster,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secrets = secrets
        self._poster = poster
        self._clock = clock

    def send(self, notification: Notification, target: Target) -> str:
        url = secret_value(self._secrets, target.address, "webhook URL")
        key = secret_value(self._secrets, target.secret, "webhook signing secret")
        ident = delivery_id(notification, target)
        body = json.dumps(webhook_payload(notification, ident), ensure_ascii=False).encode()
        headers = {
            SIGNATURE_HEADER: sign(key, body, int(self._clock())),
            DELIVERY_HEADER: ident,
            EVENT_HEADER: EVENT_TYPES[notification.kind],
        }
        self._poster.post(url, body, headers)
        return ident


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The Stormwatch-Signature header value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={_hmac(secret, body, timestamp)}"


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """Check a Stormwatch-Signature header against the raw body; returns its timestamp.

    Raises SignatureError when the header is missing or malformed, when no v1 signature
    matches (compared in constant time), or when the timestamp is more than `tolerance`
    seconds from `now` (a replay). Several v1= values are allowed (secret rotation)."""
    if not header:
        raise SignatureError("no signature header")
    timestamp, signatures = _parse(header)
    expected = _hmac(secret, body, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("signature does not match the body")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError(f"timestamp outside the {tolerance} s tolerance (replayed?)")
    return timestamp


def _hmac(secret: str, body: bytes, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("malformed signature header (want t=<unix>,v1=<hex>)")
    return timestamp, signatures


def webhook_payload(notification: Notification, ident: str) -> dict[str, Any]:
    """Version 1 of the payload; docs/webhook-v1.schema.json is its contract."""
    view = notification.view
    payload: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "id": ident,
        "type": EVENT_TYPES[notification.kind],
        "watchlist": view.watchlist_name,
        "topic": {"name": view.topic_name, "title": view.topic_title},
        "links": [{"purpose": link.purpose, "url": link.url} for link in notification.links],
    }
    if isinstance(view, AlertView):
        payload["alert"] = _alert(view)
    elif isinstance(view, NoticeView):
        payload["notice"] = {
            "source": view.source,
            "health": view.health,
            "detected_at": iso(view.detected_at),
            "failures": view.failures,
            "last_success": _when(view.since),
            "last_error": view.last_error,
        }
    else:
        payload["digest"] = _digest_payload(view)
    return payload


def _digest_payload(view: DigestView) -> dict[str, Any]:
    return {
        "period_start": iso(view.period_start),
        "period_end": iso(view.period_end),
        "mentions": view.count,
        "previous_day": view.previous_count,
        "negative_share": view.sentiment.negative_share,
        "verdict": view.verdict,
        "surges": view.surges_total,
        "sources_working": view.sources_ok,
        "sources_total": len(view.sources),
        "summary": digest_summary(view),
        "needs_a_reply": [_mention(m) for m in view.most_negative],
    }


def _alert(view: AlertView) -> dict[str, Any]:
    g = view.surge
    return {
        "tier": g.tier,
        "escalation": g.escalation,
        "escalated_from": view.escalated_from,
        "detected_at": iso(g.detected_at),
        "episode_start": _when(g.episode_start),
        "observed_per_hour": g.observed,
        "expected_per_hour": g.expected,
        "score": g.score,
        "threshold": g.threshold,
        "negative_share": g.negative_share,
        "usual_negative_share": g.usual_negative_share,
        "authors": g.authors,
        "complete": g.complete,
        "top_terms": view.top_terms,
        "drivers": view.drivers,
        "failing_sources": view.failing_sources,
        "mentions": [_mention(m) for m in view.samples],
        "playbook": {
            "owner": view.playbook.owner,
            "first_steps": view.playbook.first_steps,
            "holding_statement": view.playbook.holding_statement,
        },
    }


def _mention(m: MentionItem) -> dict[str, Any]:
    return {
        "title": m.title,
        "text": m.text,
        "url": m.url,
        "author": m.author,
        "source": m.source,
        "published": _when(m.published),
        "engagement": m.engagement,
        "sentiment": m.label,
        # site, licence and the author's profile where the content's licence asks for credit
        "attribution": m.credit.model_dump() if m.credit else None,
    }


def _when(value: datetime | None) -> str | None:
    return iso(value) if value else None
