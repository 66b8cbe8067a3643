"""Count DynamoDB items and request units around real calls (moto or any endpoint).

Botocore event hooks on one client see each call's parameters and parsed response; from the
item sizes they work out what DynamoDB on-demand would bill: a write unit per started 1 KB of
each item written (a failed conditional write too), a read unit per started 4 KB read
(strongly consistent; half for eventually consistent reads, summed per Query page), twice
both inside transactions. An UpdateItem's size is the item after the update, read back
through the same client with counting paused (DynamoDB bills the larger of before and after).

    with counting(client) as units:
        ...
    units.wru, units.rru, units.items_written, units.items_read

Item size follows DynamoDB's rules closely enough for cost (names + values; numbers about
one byte per two digits plus one).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
_PARAMS = "ddb_units_params"


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB JSON."""
    (kind, raw), *_ = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return len(raw.lstrip("-").replace(".", "").lstrip("0")) // 2 + 1
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in raw)
    if kind == "NS":
        return sum(value_size({"N": n}) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


@dataclass
class Units:
    """What the counted calls cost; `calls` by operation name."""

    wru: float = 0.0
    rru: float = 0.0
    items_written: int = 0
    items_read: int = 0
    calls: dict[str, int] = field(default_factory=dict)

    def per(self, mentions: int) -> dict[str, float]:
        n = max(mentions, 1)
        return {
            "items_written_per_mention": round(self.items_written / n, 3),
            "items_read_per_mention": round(self.items_read / n, 3),
            "wru_per_mention": round(self.wru / n, 3),
            "rru_per_mention": round(self.rru / n, 3),
        }


class _Counter:
    def __init__(self, client: Any, units: Units):
        self.client = client
        self.units = units
        self.paused = False

    def remember(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS] = params

    def count(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any):
        if self.paused:
            return
        name = model.name
        self.units.calls[name] = self.units.calls.get(name, 0) + 1
        params = context.get(_PARAMS, {})
        handler = getattr(self, f"_{name}", None)
        if handler is not None:
            handler(params, parsed)

    def _written(self, size: int, factor: int = 1) -> None:
        self.units.items_written += 1
        self.units.wru += write_units(size) * factor

    def _stored_size(self, table: str, key: dict[str, Any]) -> int:
        self.paused = True
        try:
            item = self.client.get_item(TableName=table, Key=key).get("Item") or key
        finally:
            self.paused = False
        return item_size(item)

    def _PutItem(self, params, parsed) -> None:
        self._written(item_size(params["Item"]))

    def _UpdateItem(self, params, parsed) -> None:
        self._written(self._stored_size(params["TableName"], params["Key"]))

    def _DeleteItem(self, params, parsed) -> None:
        self._written(item_size(params["Key"]))

    def _BatchWriteItem(self, params, parsed) -> None:
        for requests in params["RequestItems"].values():
            for request in requests:
                put = request.get("PutRequest")
                self._written(item_size(put["Item"] if put else request["DeleteRequest"]["Key"]))

    def _TransactWriteItems(self, params, parsed) -> None:
        for action in params["TransactItems"]:
            (kind, body), *_ = action.items()
            if kind == "Put":
                self._written(item_size(body["Item"]), factor=2)
            elif kind == "Update":
                self._written(self._stored_size(body["TableName"], body["Key"]), factor=2)
            elif kind == "Delete":
                self._written(item_size(body["Key"]), factor=2)
            else:  # ConditionCheck: a read of the item, billed as a write unit
                self.units.wru += 2

    def _read(self, items: list[dict[str, Any]], consistent: bool, one_by_one: bool) -> None:
        self.units.items_read += len(items)
        if one_by_one:
            self.units.rru += sum(read_units(item_size(i), consistent) for i in items)
        else:  # a Query page is billed on its total size
            self.units.rru += read_units(sum(item_size(i) for i in items), consistent)

    def _GetItem(self, params, parsed) -> None:
        item = parsed.get("Item")
        consistent = bool(params.get("ConsistentRead"))
        if item:
            self._read([item], consistent, one_by_one=True)
        else:
            self.units.rru += read_units(0, consistent)

    def _Query(self, params, parsed) -> None:
        self._read(parsed.get("Items", []), bool(params.get("ConsistentRead")), False)

    def _BatchGetItem(self, params, parsed) -> None:
        for table, items in parsed.get("Responses", {}).items():
            consistent = bool(params["RequestItems"][table].get("ConsistentRead"))
            self._read(items, consistent, one_by_one=True)


def attach(client: Any, units: Units) -> Any:
    """Count every later DynamoDB call through `client` into `units`; returns the client."""
    counter = _Counter(client, units)
    client.meta.events.register("provide-client-params.dynamodb.*", counter.remember)
    client.meta.events.register("after-call.dynamodb.*", counter.count)
    client.meta.ddb_units_counter = counter
    return client


def detach(client: Any) -> None:
    counter = client.meta.ddb_units_counter
    client.meta.events.unregister("provide-client-params.dynamodb.*", counter.remember)
    client.meta.events.unregister("after-call.dynamodb.*", counter.count)


@contextmanager
def counting(client: Any) -> Iterator[Units]:
    """Count what the DynamoDB calls made through `client` inside the block cost."""
    units = Units()
    attach(client, units)
    try:
        yield units
    finally:
        detach(client)
