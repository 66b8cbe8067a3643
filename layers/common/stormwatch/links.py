"""Signed links: what the storm page, feedback and unsubscribe URLs carry instead of a login.

A token is ``v1.<claims>.<mac>``: the claims (action, topic, subject, expiry, nonce) as compact
JSON in base64url, and HMAC-SHA256 over ``v1.<claims>`` with a key derived from the one link key
in SSM (``links/signing_key``, see `LINK_KEY_PARAMETER`). The subject is the surge's detection time
(storm page, feedback) or a keyed hash of the recipient (unsubscribe): no address or other
personal data ever appears in a URL. `verify` compares MACs in constant time
(`hmac.compare_digest`) before it reads a claim, then checks version, action and expiry.

The token proves who may do what; whether a POST token was already used is the table's business
(`stormwatch.store.Store.use_token`, a conditional put per nonce): a replayed POST is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets as random_source
from datetime import datetime, timedelta
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stormwatch.models import FeedbackVerdict, utc

# the SSM parameter (under the stage's prefix) holding the link key: 32+ random bytes, e.g.
# `openssl rand -base64 48`; template.yaml grants the web and report functions exactly this one
LINK_KEY_PARAMETER = "links/signing_key"
MIN_KEY_BYTES = 32
VERSION = "v1"
MAX_TOKEN_CHARS = 1024  # a real token is ~250; anything longer is refused unread

# what a link lets its holder do; the web function serves each under /<action>
LinkAction = Literal["storm", "real", "noise", "handled", "mute", "unsubscribe", "resubscribe"]
FEEDBACK_ACTIONS: tuple[FeedbackVerdict, ...] = get_args(FeedbackVerdict)
# actions that change something: only a POST does them, and each token only once
POST_ACTIONS: frozenset[str] = frozenset({*FEEDBACK_ACTIONS, "unsubscribe", "resubscribe"})
# how long a link works after it was sent
LIFETIME: dict[str, timedelta] = {
    "storm": timedelta(days=30),
    **{verdict: timedelta(days=14) for verdict in FEEDBACK_ACTIONS},
    # an unsubscribe link must still work when someone finally reads an old e-mail
    "unsubscribe": timedelta(days=90),
    "resubscribe": timedelta(days=30),
}


class TokenRefused(Exception):
    """The token is not one we issued for this action, or no longer valid. The message says
    why in general terms only (it is shown to whoever holds the link)."""


class LinkClaims(BaseModel):
    """What a token grants: `action` on `topic` for `subject` until `expires` (epoch s)."""

    model_config = ConfigDict(frozen=True)

    action: LinkAction
    topic: str = Field(min_length=1, max_length=100)
    # the surge's detection time (ISO, as in its sort key) or a recipient's keyed hash
    subject: str = Field(min_length=1, max_length=100)
    expires: int = Field(ge=0)
    # makes every issued token distinct; a used POST token is remembered by it
    nonce: str = Field(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")


class LinkSigner:
    """Issues and checks tokens with one key. repr never shows the key."""

    def __init__(self, key: str | bytes) -> None:
        raw = key.encode() if isinstance(key, str) else key
        if len(raw) < MIN_KEY_BYTES:
            raise ValueError(f"the link key must have at least {MIN_KEY_BYTES} bytes")
        # separate keys for separate uses, so a MAC of one kind can never pass as the other
        self._token_key = hmac.digest(raw, b"stormwatch/link-token/v1", "sha256")
        self._recipient_key = hmac.digest(raw, b"stormwatch/recipient/v1", "sha256")

    def __repr__(self) -> str:
        return "LinkSigner(key=<hidden>)"

    def recipient_ref(self, address: str) -> str:
        """A keyed, non-reversible id for an address (an unsubscribe link's subject; the
        table's record of who left a topic). Without the key it cannot be guessed from a list
        of addresses, unlike a plain hash."""
        normal = address.strip().casefold().encode()
        return hmac.digest(self._recipient_key, normal, "sha256")[:16].hex()

    def issue(
        self, action: LinkAction, topic: str, subject: str, *, now: datetime, nonce: str = ""
    ) -> str:
        claims = LinkClaims(
            action=action,
            topic=topic,
            subject=subject,
            expires=int((utc(now) + LIFETIME[action]).timestamp()),
            nonce=nonce or random_source.token_urlsafe(12),
        )
        return self.encode(claims)

    def encode(self, claims: LinkClaims) -> str:
        body = json.dumps(claims.model_dump(), separators=(",", ":"), sort_keys=True)
        signed = f"{VERSION}.{_b64(body.encode())}"
        return f"{signed}.{_b64(self._mac(signed))}"

    def verify(self, token: str, action: str, *, now: datetime) -> LinkClaims:
        """The claims of a token we issued for `action` that has not expired, or TokenRefused."""
        claims = self.decode(token)
        if claims.action != action:
            raise TokenRefused("this link is for something else")
        if claims.expires <= int(utc(now).timestamp()):
            raise TokenRefused("this link has expired")
        return claims

    def decode(self, token: str) -> LinkClaims:
        """The claims of a token whose MAC is ours (no expiry or action check), or
        TokenRefused."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not token.isascii():
            raise TokenRefused("this link is not valid")
        version, _, rest = token.partition(".")
        body, _, mac = rest.partition(".")
        if version != VERSION or not body or not mac:
            raise TokenRefused("this link is not valid")
        try:
            given = _unb64(mac)
        except ValueError:
            raise TokenRefused("this link is not valid") from None
        if not hmac.compare_digest(given, self._mac(f"{version}.{body}")):
            raise TokenRefused("this link is not valid")
        try:
            return LinkClaims.model_validate_json(_unb64(body))
        except (ValueError, ValidationError):  # signed by us, so only an old format gets here
            raise TokenRefused("this link is not valid") from None

    def _mac(self, signed: str) -> bytes:
        return hmac.digest(self._token_key, signed.encode("ascii"), "sha256")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Strict base64url without padding; ValueError for anything else (so one token has exactly
    one spelling, and a tampered character is never silently ignored)."""
    if not text or any(ch not in _B64_ALPHABET for ch in text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
    if _b64(data) != text:  # non-canonical trailing bits
        raise ValueError("not canonical base64url")
    return data


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def token_fingerprint(token: str) -> str:
    """A short id of a token for logs (never log the token: it is a credential)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:12]


class LinkBuilder:
    """Absolute URLs of the web function (its Function URL, WEB_URL) with fresh tokens."""

    def __init__(self, signer: LinkSigner, base_url: str) -> None:
        if not base_url.startswith("https://") and not base_url.startswith("http://127.0.0.1"):
            raise ValueError("the web function's URL must be https:// (or local http://127.0.0.1)")
        self.signer = signer
        self.base_url = base_url.rstrip("/")

    def url(self, action: LinkAction, topic: str, subject: str, *, now: datetime) -> str:
        token = self.signer.issue(action, topic, subject, now=now)
        return f"{self.base_url}/{action}?t={token}"

    def unsubscribe_url(self, topic: str, address: str, *, now: datetime) -> str:
        """The one-click unsubscribe URL for one recipient of one topic (RFC 8058)."""
        return self.url("unsubscribe", topic, self.signer.recipient_ref(address), now=now)

    def __repr__(self) -> str:
        return f"LinkBuilder(base_url={self.base_url!r})"
