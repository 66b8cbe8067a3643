"""SES access: the only module that talks to SES.

A rendered e-mail goes out as one MIME multipart/alternative message (plain text first, HTML
second, both UTF-8, quoted-printable) through SESv2 `SendEmail` with `Content.Raw`. Raw rather
than `Content.Simple` because only a raw message carries our own headers on every botocore
version, and because it is the same bytes the local `out/` preview and moto see.

The headers are the rendered e-mail's (`stormwatch.render`): `Auto-Submitted: auto-generated`
and `X-Stormwatch-Topic` always. With the web function's URL configured (`WEB_URL`), the
e-mail channel (`stormwatch.channels.email`) sets `List-Unsubscribe: <https://…/unsubscribe?t=…>`
(the recipient's signed one-click link) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`;
otherwise `List-Unsubscribe: <SettingsUrl>` only when `SettingsUrl` is set (a settings page, not
a one-click endpoint) and no `List-Unsubscribe-Post`. The mailer refuses `List-Unsubscribe-Post`
unless `List-Unsubscribe` holds an https URI to post to (RFC 8058).

moto (5.x) accepts `Content.Raw` for sesv2 and records the message with the v1 SES backend's
`sent_messages`, so the integration test can read it back.
"""

from __future__ import annotations

import re
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import parseaddr
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from stormwatch.models import RenderedEmail, recipient_hash

# headers the mailer sets itself; a RenderedEmail cannot override them
_RESERVED = {
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "return-path",
}
# SES or the network said "not now": the caller (Lambda retry / failure destination) may try again
_RETRYABLE = {
    "TooManyRequestsException",
    "LimitExceededException",
    "Throttling",
    "ThrottlingException",
    "ServiceUnavailable",
    "InternalFailure",
}
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # printable ASCII without ':' (RFC 5322 ftext)
_HTTPS_URI = re.compile(r"<https://[^>]+>", re.IGNORECASE)
# anything that looks like an address in a message from SES (it quotes the failed identities)
_ADDRESS_LIKE = re.compile(r"[^\s<>\"',;:()]+@[^\s<>\"',;:()]+")


class MailerError(Exception):
    """SES did not take the message. `code`: SES's error code; `retryable`: later may work.

    Recipient addresses are personal data and end up in logs with the exception: the message
    names a recipient by `recipient_hash` only, and nothing that holds an address is chained
    (`from None`)."""

    def __init__(self, message: str, *, code: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class EmailSender(Protocol):
    """The part of a boto3 SESv2 client the mailer calls."""

    def send_email(self, **request: Any) -> dict[str, Any]: ...


class Mailer:
    def __init__(
        self, sesv2_client: EmailSender, sender: str, *, configuration_set: str | None = None
    ):
        self._ses = sesv2_client
        self.sender = _address(sender, "sender", display_name=True)
        self.configuration_set = configuration_set or None

    def build_message(self, email: RenderedEmail, to: str) -> EmailMessage:
        """The MIME message exactly as it will be sent (also used for previews)."""
        recipient = _recipient(to)
        msg = EmailMessage(policy=SMTP)
        try:
            msg["From"] = self.sender
            msg["To"] = recipient
            msg["Subject"] = email.subject
            for name, value in email.headers.items():
                if name.casefold() in _RESERVED or not _HEADER_NAME.match(name):
                    raise MailerError(f"header {name!r} may not be set by a rendered e-mail")
                msg[name] = value
            _check_one_click(email.headers)
        except ValueError as exc:  # CR/LF in a header value: header injection
            raise MailerError(
                f"invalid header in the e-mail to recipient #{recipient_hash(to)}: "
                f"{_redacted(str(exc))}"
            ) from None
        msg.set_content(email.text, subtype="plain", charset="utf-8", cte="quoted-printable")
        msg.add_alternative(email.html, subtype="html", charset="utf-8", cte="quoted-printable")
        return msg

    def send(self, email: RenderedEmail, to: str) -> str:
        """Send one e-mail to one recipient; returns SES's MessageId."""
        message = self.build_message(email, to)
        request: dict[str, Any] = {
            "FromEmailAddress": _api_address(self.sender),
            "Destination": {"ToAddresses": [message["To"]]},
            "Content": {"Raw": {"Data": message.as_bytes()}},
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        try:
            response = self._ses.send_email(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            detail = _redacted(str(error.get("Message", "")).strip(), keep=self.sender)
            raise MailerError(
                f"SES rejected the e-mail to recipient #{recipient_hash(to)} from {self.sender}: "
                f"{code}: {detail}{_hint(code, detail)}",
                code=code,
                retryable=code in _RETRYABLE,
            ) from None
        except BotoCoreError as exc:
            raise MailerError(
                f"could not reach SES to send the e-mail to recipient #{recipient_hash(to)}: "
                f"{_redacted(str(exc))}",
                code=type(exc).__name__,
                retryable=True,
            ) from None
        return str(response["MessageId"])


def _check_one_click(headers: dict[str, str]) -> None:
    """RFC 8058: List-Unsubscribe-Post promises a one-click POST, which needs an https URI in
    List-Unsubscribe; without one a client would offer a button that cannot work."""
    folded = {name.casefold(): value for name, value in headers.items()}
    if "list-unsubscribe-post" in folded and not _HTTPS_URI.search(
        folded.get("list-unsubscribe", "")
    ):
        raise MailerError("List-Unsubscribe-Post needs an https URI in List-Unsubscribe")


def _recipient(value: str) -> str:
    """The recipient's address, or a MailerError naming it by hash only."""
    try:
        return _address(value, "recipient")
    except MailerError as exc:
        problem = str(exc).split(":", 1)[0]  # "invalid recipient address (...)", no value
        raise MailerError(f"{problem}: #{recipient_hash(value or '')}") from None


def _redacted(text: str, *, keep: str = "") -> str:
    """`text` with every address-like word replaced, except our own sender address."""
    _, sender = parseaddr(keep)
    return _ADDRESS_LIKE.sub(lambda m: m[0] if m[0] == sender else "<address>", text)


def _address(value: str, what: str, *, display_name: bool = False) -> str:
    """One address (a display name only where allowed), or a MailerError naming it."""
    raw = (value or "").strip()
    if not raw or "\r" in raw or "\n" in raw or "," in raw or ";" in raw:
        raise MailerError(f"invalid {what} address: {value!r}")
    name, spec = parseaddr(raw)
    if (name and not display_name) or (not display_name and spec != raw):
        raise MailerError(f"invalid {what} address (a plain address is expected): {value!r}")
    local, _, domain = spec.rpartition("@")
    if not local or "." not in domain or any(ch.isspace() or ch in '<>"' for ch in spec):
        raise MailerError(f"invalid {what} address: {value!r}")
    try:
        return str(Address(display_name=name, addr_spec=spec))
    except (ValueError, IndexError) as exc:
        raise MailerError(f"invalid {what} address: {value!r}: {exc}") from exc


def _api_address(address: str) -> str:
    """The API wants non-ASCII display names as RFC 2047 encoded-words, as in a header."""
    if address.isascii():
        return address
    name, spec = parseaddr(address)
    return f"{Header(name, 'utf-8').encode()} <{spec}>"


def _hint(code: str, detail: str) -> str:
    text = detail.casefold()
    if code == "MessageRejected" and ("verif" in text or "authority" in text):
        return (
            " (verify the sender identity in SES; while the account is in the SES sandbox the "
            "recipient must be verified too)"
        )
    if code in ("MailFromDomainNotVerifiedException",):
        return " (the sender's MAIL FROM domain is not verified in SES)"
    if code in ("AccountSuspendedException", "SendingPausedException"):
        return " (sending is paused for this account or configuration set)"
    if code == "NotFoundException":
        return " (does the configuration set exist in this region?)"
    return ""
