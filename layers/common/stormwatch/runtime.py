"""Wiring for the Lambda handlers and the local runner: AWS clients and exactly-once delivery.

boto3 reads AWS_ENDPOINT_URL itself, so the same code talks to AWS or to the local moto server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    # delivery is the report function's alone: collect and score import this module for
    # aws_client and must not load the channels and the rendering stack behind them
    from stormwatch.channels.base import Channel
    from stormwatch.reporting import Deliver

_BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20
)
# a digest or alert key is remembered this long: covers retries and replayed schedules
DELIVERY_MEMORY_SECONDS = 3 * 24 * 3600


def aws_client(service: str) -> Any:
    return boto3.client(service, config=_BOTO_CONFIG)


def make_deliver(
    channels: Mapping[str, Channel],
    dynamodb_client: Any,
    table_name: str,
    lambda_context: Any = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Deliver:
    """Deliver each (key, channel, target) once with Powertools idempotency records in our
    table, through the target's channel, retrying a retryable failure with backoff.

    A retry after success returns the stored delivery id without sending; a concurrent second
    attempt raises IdempotencyAlreadyInProgressError (the invocation fails and is retried
    later); a failed send deletes the record so the retry sends.
    """
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    from stormwatch.channels.base import Target, send_with_retries
    from stormwatch.notification import Notification

    persistence = DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value="IDEMPOTENCY#delivery",
        expiry_attr="expires_at",
        boto3_client=dynamodb_client,
    )

    def mark_repeat(response: Any, idempotent_data: Any) -> Any:  # IdempotentHookFunction
        return {**response, "repeat": True}

    config = IdempotencyConfig(
        event_key_jmespath="key",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=DELIVERY_MEMORY_SECONDS,
        response_hook=mark_repeat,
        lambda_context=lambda_context,
    )

    @idempotent_function(
        data_keyword_argument="delivery",
        persistence_store=persistence,
        config=config,
        key_prefix="stormwatch-delivery",
    )
    def send_once(delivery: dict[str, Any]) -> dict[str, Any]:
        notification = Notification.model_validate(delivery["notification"])
        target = Target.model_validate(delivery["target"])
        channel = channels[target.channel]
        message_id = send_with_retries(lambda: channel.send(notification, target), sleep=sleep)
        return {"message_id": message_id, "repeat": False}

    def deliver(key: str, notification: Notification, target: Target) -> tuple[str, bool]:
        result = send_once(
            delivery={
                "key": key,
                "notification": notification.model_dump(mode="json"),
                "target": target.model_dump(mode="json"),
            }
        )
        return result["message_id"], bool(result.get("repeat"))

    return deliver
