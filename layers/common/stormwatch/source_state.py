"""Source state: small values a source keeps between runs that are not a per-topic cursor
(Bluesky's session tokens, Reddit's OAuth token, GDELT's news-tone points).

`stormwatch.store.Store` implements `SourceState` (pk SRC#<source>, sk STATE#<key>);
`MemorySourceState` is its in-memory twin for tests. Not secrets: they live in the table, with
an expiry, and never come from SSM.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class SourceState(Protocol):
    def get_source_state(self, source: str, key: str) -> dict[str, Any] | None: ...

    def put_source_state(
        self, source: str, key: str, value: dict[str, Any], *, expires_at: int | None = None
    ) -> None: ...


class MemorySourceState:
    """Source state in a dict; `expires_at` (epoch seconds) is kept but not enforced."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.expires: dict[tuple[str, str], int | None] = {}

    def get_source_state(self, source: str, key: str) -> dict[str, Any] | None:
        value = self.items.get((source, key))
        return dict(value) if value is not None else None

    def put_source_state(
        self, source: str, key: str, value: dict[str, Any], *, expires_at: int | None = None
    ) -> None:
        self.items[(source, key)] = dict(value)
        self.expires[(source, key)] = expires_at

    def __repr__(self) -> str:  # values may be tokens
        return f"MemorySourceState(keys={sorted(self.items)})"
