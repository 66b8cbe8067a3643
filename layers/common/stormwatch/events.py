"""Models for what invokes the functions: scheduler inputs and DynamoDB stream records."""

from __future__ import annotations

import base64
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from boto3.dynamodb.types import TypeDeserializer
from pydantic import BaseModel, ConfigDict, Field

from stormwatch.backfill import MAX_DAYS as BACKFILL_MAX_DAYS

_deserializer = TypeDeserializer()


class CollectEvent(BaseModel):
    """Input of a source's collect schedule (the dispatch function): which source to run,
    optionally for one topic only, and optionally a backfill of that many past days
    (`{"source": "hackernews", "topic": "T", "backfill_days": 28}`; stormwatch.backfill).
    `scheduled_time` (Scheduler's `<aws.scheduler.scheduled-time>`) names the period a retry
    dispatches again (stormwatch.dispatch)."""

    model_config = ConfigDict(extra="ignore")

    source: str
    topic: str | None = None
    backfill_days: int | None = Field(default=None, ge=1, le=BACKFILL_MAX_DAYS)
    scheduled_time: datetime | None = None


class DigestEvent(BaseModel):
    """Input of the hourly report schedule.

    `scheduled_time` comes from EventBridge Scheduler's `<aws.scheduler.scheduled-time>`, so a
    retried or replayed invocation decides "which digests are due" exactly like the original.
    """

    model_config = ConfigDict(extra="ignore")

    kind: Literal["digest"] = "digest"
    scheduled_time: datetime | None = None
    topic: str | None = None  # send this topic's digest now regardless of its hour
    force: bool = False


def _plain(value: Any) -> Any:
    """DynamoDB Decimal -> int/float, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return value


def deserialize_image(image: dict[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB JSON (a stream image, a GetItem/Query result) -> plain Python values,
    numbers as int/float. The one decoder for items, whichever way they arrive."""
    return {
        key: _plain(_deserializer.deserialize(_binary_as_bytes(value)))
        for key, value in image.items()
    }


def _binary_as_bytes(value: dict[str, Any]) -> dict[str, Any]:
    """A binary value arrives as bytes from boto3 but as base64 text in the JSON of a Lambda
    stream event: both decode to the same bytes."""
    if isinstance(value.get("B"), str):
        return {"B": base64.b64decode(value["B"])}
    return value


class StreamRecord(BaseModel):
    """The part of a DynamoDB stream record the functions need."""

    model_config = ConfigDict(extra="ignore")

    event_name: str = Field(alias="eventName")
    sequence_number: str
    keys: dict[str, Any]
    new_image: dict[str, Any]

    @property
    def sort_key(self) -> str:
        return str(self.keys.get("sk", ""))

    def is_insert_of(self, *prefixes: str) -> bool:
        """An INSERT of an item whose sort key starts with one of the prefixes: the
        FilterCriteria of template.yaml, checked again in code, so a MODIFY or REMOVE, or an
        item of another kind, never acts as if it were new (a filter is configuration)."""
        return self.event_name == "INSERT" and self.sort_key.startswith(prefixes)

    @classmethod
    def from_raw(cls, record: dict[str, Any]) -> StreamRecord:
        ddb = record["dynamodb"]
        return cls.model_validate(
            {
                "eventName": record["eventName"],
                "sequence_number": ddb["SequenceNumber"],
                "keys": deserialize_image(ddb["Keys"]),
                "new_image": deserialize_image(ddb.get("NewImage", {})),
            }
        )
