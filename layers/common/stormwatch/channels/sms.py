"""SMS through Amazon SNS: one short line to an E.164 number (`sns.publish(PhoneNumber=…)`).

Sent as Transactional (SNS's higher-reliability route, meant for alerts). An account starts in
the SNS SMS sandbox, where only verified numbers receive texts (README, Channels).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from stormwatch.channels.base import ChannelError, Target
from stormwatch.channels.message import sms_line

if TYPE_CHECKING:
    from stormwatch.notification import Notification

_RETRYABLE = {"Throttling", "ThrottlingException", "ThrottledException", "InternalError"}


class SmsPublisher(Protocol):
    """The part of a boto3 SNS client the channel calls."""

    def publish(self, **request: Any) -> dict[str, Any]: ...


class SmsChannel:
    kind = "sms"

    def __init__(self, sns_client: SmsPublisher) -> None:
        self._sns = sns_client

    def send(self, notification: Notification, target: Target) -> str:
        try:
            response = self._sns.publish(
                PhoneNumber=target.address,
                Message=sms_line(notification),
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
                },
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            # the number stays out of the message: it is personal data
            raise ChannelError(
                f"SNS did not take the text message to number {target.ref}: {code}",
                retryable=code in _RETRYABLE,
            ) from exc
        except BotoCoreError as exc:
            raise ChannelError(
                f"could not reach SNS: {type(exc).__name__}", retryable=True
            ) from exc
        return str(response["MessageId"])
