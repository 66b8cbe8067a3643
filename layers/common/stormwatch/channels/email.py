"""E-mail through SES: the first channel. The notification already holds the e-mail rendered
in each language its recipients read; this picks the target's and hands it to the Mailer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stormwatch.channels.base import ChannelError, Target
from stormwatch.mailer import Mailer, MailerError

if TYPE_CHECKING:
    from stormwatch.notification import Notification


class EmailChannel:
    kind = "email"

    def __init__(self, mailer: Mailer) -> None:
        self._mailer = mailer

    def send(self, notification: Notification, target: Target) -> str:
        email = notification.email_for(target.language)
        try:
            return self._mailer.send(email, target.address)
        except MailerError as exc:
            raise ChannelError(str(exc), retryable=exc.retryable) from exc
