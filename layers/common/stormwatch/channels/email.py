"""E-mail through SES: the first channel. The notification already holds the e-mail rendered
in each language its recipients read; this picks the target's and hands it to the Mailer.

With the web function's URL configured (`links`), every e-mail carries its recipient's own
one-click unsubscribe (RFC 8058: an https URL in List-Unsubscribe, and List-Unsubscribe-Post;
over the local demo's http://127.0.0.1 only List-Unsubscribe), signed for this recipient and
topic; the URL holds a keyed hash, never the address. It replaces the settings page that
`stormwatch.render` puts into List-Unsubscribe otherwise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from stormwatch.channels.base import ChannelError, Target
from stormwatch.links import LinkBuilder
from stormwatch.mailer import Mailer, MailerError
from stormwatch.models import RenderedEmail, now_utc

if TYPE_CHECKING:
    from stormwatch.notification import Notification


class EmailChannel:
    kind = "email"

    def __init__(
        self,
        mailer: Mailer,
        links: LinkBuilder | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self._mailer = mailer
        self._links = links
        self._clock = clock

    def send(self, notification: Notification, target: Target) -> str:
        email = self._with_unsubscribe(
            notification.email_for(target.language), notification.topic, target.address
        )
        try:
            return self._mailer.send(email, target.address)
        except MailerError as exc:
            raise ChannelError(str(exc), retryable=exc.retryable) from exc

    def _with_unsubscribe(self, email: RenderedEmail, topic: str, address: str) -> RenderedEmail:
        if self._links is None:
            return email
        url = self._links.unsubscribe_url(topic, address, now=self._clock())
        headers = {**email.headers, "List-Unsubscribe": f"<{url}>"}
        if url.startswith("https://"):  # RFC 8058 one-click needs https (not the local demo)
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return email.model_copy(update={"headers": headers})
