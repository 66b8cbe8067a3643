"""In-memory collaborators for unit tests of the pure core (no boto3, no moto)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from stormwatch.models import Checkpoint, FetchResult, Mention, SourceNotice


class MemoryStore:
    """The slice of stormwatch.store.Store that the collector uses."""

    def __init__(self, fail_writes_after: int | None = None):
        self.mentions: dict[tuple[str, str], Mention] = {}
        self.checkpoint_rows: dict[tuple[str, str], Checkpoint] = {}
        self.fail_writes_after = fail_writes_after
        self.writes = 0
        self.notices: dict[tuple[str, str], SourceNotice] = {}

    def get_checkpoint(self, source: str, topic: str) -> Checkpoint:
        return self.checkpoint_rows.get((source, topic), Checkpoint(source=source, topic=topic))

    def put_mention(self, mention: Mention) -> bool:
        if self.fail_writes_after is not None and self.writes >= self.fail_writes_after:
            raise OSError("simulated DynamoDB outage")
        self.writes += 1
        key = (mention.topic, mention.sort_key)
        if key in self.mentions:
            return False
        self.mentions[key] = mention
        return True

    def record_success(self, source, topic, *, cursor, count, at, notes=(), truncated=False):
        old = self.get_checkpoint(source, topic)
        self.checkpoint_rows[(source, topic)] = old.model_copy(
            update={
                "last_notes": list(notes)[:5],
                "last_truncated": truncated,
                "cursor": cursor if cursor is not None else old.cursor,
                "last_run": at,
                "last_success": at,
                "last_count": count,
                "consecutive_failures": 0,
                "total_count": old.total_count + count,
            }
        )

    def record_failure(self, source, topic, *, error, at, kind=""):
        old = self.get_checkpoint(source, topic)
        self.checkpoint_rows[(source, topic)] = old.model_copy(
            update={
                "last_run": at,
                "last_error": error,
                "last_error_at": at,
                "last_error_kind": kind,
                "last_count": 0,
                "consecutive_failures": old.consecutive_failures + 1,
            }
        )
        return old.consecutive_failures + 1

    def put_notice(self, notice: SourceNotice) -> bool:
        key = (notice.topic, notice.sort_key)
        if key in self.notices:
            return False
        self.notices[key] = notice
        return True


@dataclass
class ScriptedSource:
    """A source that returns prepared results (or raises) and records the cursors it got."""

    name: str = "fake"
    results: list = field(default_factory=list)
    seen_cursors: list = field(default_factory=list)

    def fetch(self, topic, cursor, http, *, now: datetime, deadline=None) -> FetchResult:
        self.seen_cursors.append(cursor)
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result
