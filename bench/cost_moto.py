"""In-process moto helpers for the cost benchmark: cheap transactions, unmetered item sizes and
the table's stream. Only moto's speed changes here, never what the handlers see."""

from __future__ import annotations

import copy
from typing import Any

from cost_meter import Item, item_size
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends


def backend(region: str) -> DynamoDBBackend:
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region]


class _NoCopy:
    """Stands in for the `copy` module inside moto's transact_write_items: its whole-table
    backup becomes the table itself (we keep our own backup of the touched items instead)."""

    @staticmethod
    def deepcopy(obj: Any, memo: Any = None) -> Any:
        return obj


def fast_transactions() -> None:
    """moto backs up every table a TransactWriteItems touches, whole, before running it: with
    tens of thousands of mentions that copy is the benchmark's runtime. Back up only the items
    the transaction names and put them back if it is cancelled: the same outcome."""
    from moto.dynamodb import models

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_items_backup", False):
        return

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved = []
        for entry in transact_items:
            (_, op), *_ = entry.items()
            table = self.get_table(op["TableName"])
            key = op.get("Key") or {
                name: op["Item"][name]
                for name in (table.hash_key_attr, table.range_key_attr)
                if name
            }
            hash_key, range_key = self.get_keys_value(table, key)
            saved.append(
                (table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key)))
            )
        models.copy = _NoCopy  # type: ignore[assignment]
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved):
                bucket = table.items[hash_key]
                if item is None:
                    bucket.pop(range_key, None)
                else:
                    bucket[range_key] = item
            raise
        finally:
            models.copy = copy  # type: ignore[assignment]

    transact_write_items._items_backup = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


class MotoPeek:
    """An item's current size, read from moto's memory (unmetered, and no HTTP round trip)."""

    def __init__(self, region: str):
        self._backend = backend(region)

    def key_of(self, table: str, item: Item) -> Item:
        found = self._backend.get_table(table)
        return {name: item[name] for name in (found.hash_key_attr, found.range_key_attr) if name}

    def size(self, table: str, key: Item) -> int:
        found = self._backend.get_item(table, key)
        return item_size(found.to_json()["Attributes"]) if found else 0


class MotoStreamReader:
    """The table's stream records since the last read, straight from moto (its DynamoDB Streams
    API is not served in process), shaped as Lambda hands them over."""

    def __init__(self, table: str, region: str):
        self._shard = backend(region).get_table(table).stream_shard
        self._seen = 0

    def read(self) -> list[dict[str, Any]]:
        records = self._shard.items[self._seen :]
        self._seen = len(self._shard.items)
        return [{**r.to_json(), "eventSourceARN": "arn:aws:dynamodb:stream"} for r in records]
