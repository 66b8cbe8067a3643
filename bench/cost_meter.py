"""A request meter for boto3: DynamoDB request units as DynamoDB bills them, plus counts of
every other AWS request, attributed to the function that made them.

    meter = RequestMeter(peek=ItemPeek(boto3.Session().client("dynamodb")))
    meter.install(boto3.DEFAULT_SESSION.events)  # before the handlers create their clients
    with meter.attributed_to("score"):
        handler(event, context)

Billing rules (DynamoDB developer guide, "DynamoDB read and write operations"; checked
2026-11-29): an item's size is the sum of its attribute names and values (strings UTF-8,
numbers ~1 byte per two significant digits + 1, lists/maps 3 bytes + 1 per element).
Writes: 1 unit per started KB of the larger of the item before and after (Put, Update,
Delete; a failed condition still costs the existing item's size); transactional x2, every
item of the transaction, ConditionCheck included. Reads: 1 unit per started 4 KB, half for
eventually consistent, x2 transactional; GetItem/BatchGetItem per item (a missing item still
costs the minimum); Query by the summed size of the items it returns, per page.
Stream reads by Lambda's event source mapping are free and never pass through here.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096

Item = dict[str, Any]  # DynamoDB JSON: {"name": {"S": "..."}, ...}


def number_size(text: str) -> int:
    """Bytes of a DynamoDB number: about one per two significant digits, plus one."""
    digits = str(Decimal(text).normalize()).lstrip("-").replace(".", "").lstrip("0")
    digits = digits.split("E")[0] if "E" in digits else digits
    return math.ceil(max(len(digits), 1) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Item | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(v) for name, v in item.items())


def write_units(size: int, *, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    return units * (2 if transactional else 1)


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return units * 2.0
    return float(units) if consistent else units / 2


def item_kind(key: Item) -> str:
    """What an item is, from its key: the sort key's prefix (`M#`, `H#`, `C#`), else the
    partition key's (`IDEMPOTENCY#`)."""
    for name in ("sk", "pk"):
        text = key.get(name, {}).get("S", "")
        if "#" in text:
            return text.split("#", 1)[0] + "#"
    return "other"


class Peek(Protocol):
    """Reads the key and current size of an item without being metered."""

    def key_of(self, table: str, item: Item) -> Item: ...

    def size(self, table: str, key: Item) -> int: ...


class ItemPeek:
    """Reads an item's current size without being metered (its own boto3 client)."""

    def __init__(self, client: Any):
        self._client = client
        self._keys: dict[str, list[str]] = {}

    def key_of(self, table: str, item: Item) -> Item:
        if table not in self._keys:
            schema = self._client.describe_table(TableName=table)["Table"]["KeySchema"]
            self._keys[table] = [k["AttributeName"] for k in schema]
        return {name: item[name] for name in self._keys[table]}

    def size(self, table: str, key: Item) -> int:
        found = self._client.get_item(TableName=table, Key=key, ConsistentRead=True)
        return item_size(found.get("Item"))


@dataclass
class Tally:
    """What one function used, DynamoDB by item kind."""

    wru: Counter[str] = field(default_factory=Counter)
    rru: Counter[str] = field(default_factory=Counter)
    items_written: Counter[str] = field(default_factory=Counter)
    items_read: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)  # "service.Operation"
    emails: int = 0
    aws_seconds: float = 0.0  # CPU time spent inside AWS calls (moto's work, here)
    approximate: Counter[str] = field(default_factory=Counter)  # reads sized from returns only


class RequestMeter:
    """Counts every AWS request made by boto3 clients created after `install`, for the
    function named by `attributed_to` (requests outside it are the harness's, not counted)."""

    def __init__(self, peek: Peek, cpu_clock: Callable[[], float] = time.thread_time):
        self.peek = peek
        self.cpu_clock = cpu_clock
        self.tallies: dict[str, Tally] = defaultdict(Tally)
        self.function: str | None = None

    def install(self, events: Any) -> None:
        events.register("provide-client-params", self._remember_params)
        events.register("before-call", self._before)
        events.register("after-call", self._after)

    @contextmanager
    def attributed_to(self, function: str) -> Iterator[Tally]:
        previous, self.function = self.function, function
        try:
            yield self.tallies[function]
        finally:
            self.function = previous

    # -- botocore event handlers ------------------------------------------------------------

    def _remember_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["meter_params"] = params

    def _before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        if self.function is None:
            return
        context["meter_started"] = self.cpu_clock()
        if model.service_model.service_name == "dynamodb":
            context["meter_before"] = self._sizes_before(
                model.name, context.get("meter_params", {})
            )

    def _after(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: Any, **_: Any
    ) -> None:
        if self.function is None or "meter_started" not in context:
            return
        tally = self.tallies[self.function]
        service = model.service_model.service_name
        tally.requests[f"{service}.{model.name}"] += 1
        params = context.get("meter_params", {})
        if service == "dynamodb":
            self._count_dynamodb(tally, model.name, params, parsed, context["meter_before"])
        elif service in ("sesv2", "ses") and model.name in ("SendEmail", "SendRawEmail"):
            tally.emails += _recipients(params)
        tally.aws_seconds += self.cpu_clock() - context["meter_started"]

    # -- DynamoDB ---------------------------------------------------------------------------

    def _written_keys(self, operation: str, params: dict[str, Any]) -> list[tuple[str, Item]]:
        """(table, key) of every item a write request touches."""
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            table = params["TableName"]
            key = params.get("Key") or self.peek.key_of(table, params["Item"])
            return [(table, key)]
        if operation == "BatchWriteItem":
            return [
                (
                    table,
                    r["DeleteRequest"]["Key"]
                    if "DeleteRequest" in r
                    else self.peek.key_of(table, r["PutRequest"]["Item"]),
                )
                for table, requests in params["RequestItems"].items()
                for r in requests
            ]
        if operation == "TransactWriteItems":
            found = []
            for entry in params["TransactItems"]:
                (_, op), *_ = entry.items()
                key = op.get("Key") or self.peek.key_of(op["TableName"], op["Item"])
                found.append((op["TableName"], key))
            return found
        return []

    def _sizes_before(self, operation: str, params: dict[str, Any]) -> list[int]:
        return [self.peek.size(table, key) for table, key in self._written_keys(operation, params)]

    def _count_dynamodb(
        self, tally: Tally, operation: str, params: dict, parsed: dict, before: list[int]
    ) -> None:
        failed = "Error" in parsed
        keys = self._written_keys(operation, params)
        transactional = operation == "TransactWriteItems"
        for (table, key), old in zip(keys, before, strict=True):
            # a failed write leaves the item as it was; a successful one is measured after
            new = old if failed else self.peek.size(table, key)
            kind = item_kind(key)
            tally.wru[kind] += write_units(max(old, new), transactional=transactional)
            tally.items_written[kind] += 0 if failed else 1
        if operation in ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"):
            self._count_read(tally, operation, params, parsed)

    def _count_read(self, tally: Tally, operation: str, params: dict, parsed: dict) -> None:
        if operation == "GetItem":
            item = parsed.get("Item")
            kind = item_kind(params["Key"])
            tally.rru[kind] += read_units(item_size(item), consistent=_consistent(params))
            tally.items_read[kind] += 1 if item else 0
        elif operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                found = parsed.get("Responses", {}).get(table, [])
                for item in found:
                    tally.rru[item_kind(item)] += read_units(
                        item_size(item), consistent=_consistent(request)
                    )
                    tally.items_read[item_kind(item)] += 1
                missing = len(request["Keys"]) - len(found)
                tally.rru["missing"] += missing * read_units(0, consistent=_consistent(request))
        elif operation == "TransactGetItems":
            for response in parsed.get("Responses", []):
                item = response.get("Item")
                tally.rru[item_kind(item or {})] += read_units(
                    item_size(item), consistent=True, transactional=True
                )
        else:  # Query, Scan: one read of the summed size of what the page returned
            items = parsed.get("Items", [])
            kind = item_kind(items[0]) if items else "empty"
            size = sum(item_size(i) for i in items)
            tally.rru[kind] += read_units(size, consistent=_consistent(params))
            tally.items_read[kind] += len(items)
            if "FilterExpression" in params or params.get("Select") == "COUNT":
                tally.approximate[operation] += 1


def _consistent(params: dict[str, Any]) -> bool:
    return bool(params.get("ConsistentRead"))


def _recipients(params: dict[str, Any]) -> int:
    """SES bills each recipient of a message as one e-mail."""
    destination = params.get("Destination", {})
    count = sum(len(destination.get(k, [])) for k in ("ToAddresses", "CcAddresses", "BccAddresses"))
    return max(count, len(params.get("Destinations", [])), 1)
