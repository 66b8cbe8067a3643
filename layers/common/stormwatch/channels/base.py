"""The channel port: what every delivery channel implements, and what they share.

A channel turns a `Notification` into one message for one `Target` and returns a delivery id.
It raises `ChannelError` when the message was not taken; `retryable` says whether trying again
later may help (a timeout, a 429 or 5xx), so `send_with_retries` can back off a bounded number of
times. Error messages never carry a webhook URL (it is a credential) or a phone number.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ConfigDict

from stormwatch import netguard
from stormwatch.netguard import Resolver, resolve_host

if TYPE_CHECKING:
    from stormwatch.notification import Notification
    from stormwatch.secrets import Secrets

# retries inside one invocation: 3 attempts, 0.5 s then 1 s (+ jitter); more is left to the
# stream's own retries (template.yaml), so one slow channel cannot eat the Lambda timeout
RETRY_ATTEMPTS = 3
RETRY_BASE_SECONDS = 0.5
# connect, read: a chat webhook answers in well under a second when it is healthy
HTTP_TIMEOUT = (3.05, 10.0)
# a uuid5 namespace for delivery ids: the same (notification, target) always gets the same id,
# so a receiver can drop a retried delivery
_DELIVERY_NAMESPACE = uuid.UUID("6f1c2a9e-5b7d-4c1e-9a8f-3d2b1c0e4f5a")
USER_AGENT = "stormwatch-notifier/1"


class ChannelError(Exception):
    """The channel did not take the message; `retryable`: trying again later may work."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class Target(BaseModel):
    """One place a notification goes: an e-mail address, a phone number, or the SSM parameter
    naming a webhook URL (with the one naming its signing secret)."""

    model_config = ConfigDict(frozen=True)

    channel: str
    address: str
    secret: str | None = None
    language: str = "en"

    @property
    def ref(self) -> str:
        """A short non-reversible id of the address, for keys and logs (no personal data)."""
        return hashlib.sha256(self.address.strip().casefold().encode()).hexdigest()[:12]


@runtime_checkable
class Channel(Protocol):
    kind: str

    def send(self, notification: Notification, target: Target) -> str:
        """Deliver one message; return its delivery id or raise ChannelError."""
        ...


def delivery_id(notification: Notification, target: Target) -> str:
    """The same id for every attempt of one (notification, channel, target)."""
    name = f"{notification.key}#{target.channel}#{target.ref}"
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, name))


def send_with_retries(
    send: Callable[[], str],
    *,
    attempts: int = RETRY_ATTEMPTS,
    base_seconds: float = RETRY_BASE_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Call `send` until it succeeds, backing off exponentially (with jitter) after retryable
    ChannelErrors; at most `attempts` calls. A non-retryable error is raised at once."""
    for attempt in range(attempts):
        try:
            return send()
        except ChannelError as exc:
            if not exc.retryable or attempt == attempts - 1:
                raise
            jitter = 1 + random.random() / 2  # noqa: S311 - spreading retries, not security
            sleep(base_seconds * (2**attempt) * jitter)
    raise AssertionError("unreachable")  # pragma: no cover


def secret_value(secrets: Secrets, name: str | None, what: str) -> str:
    """A channel's URL or signing secret from SSM, or a ChannelError naming the parameter."""
    if not name:
        raise ChannelError(f"no SSM parameter named for the {what}")
    value = secrets.get(name)
    if not value:
        raise ChannelError(f"SSM parameter {name} (the {what}) is not set")
    return value


def check_webhook_url(
    url: str, *, allow_loopback: bool = False, resolve: Resolver | None = resolve_host
) -> str:
    """An https URL without credentials whose host is, and resolves to, public addresses only
    (stormwatch.netguard, as for source fetches), or ChannelError. `allow_loopback` lets the
    local demo post to its receiver on http://127.0.0.1; nothing in Lambda sets it."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".").lower()
    if allow_loopback and parts.scheme in ("http", "https") and host in ("127.0.0.1", "::1"):
        return url.strip()
    if parts.scheme != "https" or not host or parts.username or parts.password:
        raise ChannelError("the webhook URL must be https://host/... without credentials")
    try:
        netguard.check_url(url.strip(), resolve=resolve)
    except netguard.RefusedTarget as exc:
        # the message names the host, never the path (a webhook's path is its credential)
        reason = str(exc).rsplit(": refused", 1)[0]
        raise ChannelError(f"webhook host refused: {reason}") from None
    return url.strip()


class JsonPoster:
    """POSTs a JSON body to a webhook: no redirects followed (a redirect could point anywhere),
    bounded timeouts, status codes sorted into retryable or not."""

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        allow_loopback: bool = False,
        resolve: Resolver | None = resolve_host,
    ) -> None:
        self._session = session or requests.Session()
        self.allow_loopback = allow_loopback
        self._resolve = resolve

    def post(self, url: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        checked = check_webhook_url(url, allow_loopback=self.allow_loopback, resolve=self._resolve)
        host = urlsplit(checked).hostname
        request_headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            **(headers or {}),
        }
        try:
            response = self._session.post(
                checked,
                data=body,
                headers=request_headers,
                timeout=HTTP_TIMEOUT,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise ChannelError(
                f"could not reach {host}: {type(exc).__name__}", retryable=True
            ) from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise ChannelError(f"{host} answered HTTP {status}", retryable=True)
        if status >= 300:
            # the body is the receiver's words (Slack: "invalid_payload", "no_service")
            detail = response.text[:120].strip() if response.text else ""
            raise ChannelError(f"{host} answered HTTP {status} {detail}".rstrip())
