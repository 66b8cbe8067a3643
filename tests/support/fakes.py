"""In-memory collaborators for unit tests of the pure core (no boto3, no moto)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from stormwatch.models import (
    BackfillProgress,
    Checkpoint,
    FetchResult,
    Mention,
    ScoredMention,
    SourceNotice,
    StreamedMention,
    bounded_notes,
)


class MemoryStore:
    """The slice of stormwatch.store.Store that the collector uses."""

    def __init__(self, fail_writes_after: int | None = None):
        self.mentions: dict[tuple[str, str], Mention] = {}
        self.scored: dict[tuple[str, str], ScoredMention] = {}
        self.checkpoint_rows: dict[tuple[str, str], Checkpoint] = {}
        self.fail_writes_after = fail_writes_after
        self.writes = 0
        self.notices: dict[tuple[str, str], SourceNotice] = {}

    def get_checkpoint(self, source: str, topic: str) -> Checkpoint:
        return self.checkpoint_rows.get((source, topic), Checkpoint(source=source, topic=topic))

    def put_mention(self, item: Mention | ScoredMention) -> bool:
        """Keeps the mention in `mentions` and, as the collector scored it, in `scored`."""
        if self.fail_writes_after is not None and self.writes >= self.fail_writes_after:
            raise OSError("simulated DynamoDB outage")
        self.writes += 1
        scored = item if isinstance(item, ScoredMention) else ScoredMention(mention=item)
        key = (scored.mention.topic, scored.mention.sort_key)
        if key in self.mentions:
            return False
        self.mentions[key] = scored.mention
        self.scored[key] = scored
        return True

    def record_success(
        self, source, topic, *, cursor, count, at, notes=(), truncated=False, first=False
    ):
        old = self.get_checkpoint(source, topic)
        self.checkpoint_rows[(source, topic)] = old.model_copy(
            update={
                "last_notes": bounded_notes(notes),
                "last_truncated": truncated,
                "cursor": cursor if cursor is not None else old.cursor,
                "last_run": at,
                "last_success": at,
                "first_success": old.first_success or (at if first else None),
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

    def save_backfill(self, source: str, topic: str, progress: BackfillProgress) -> None:
        old = self.get_checkpoint(source, topic)
        self.checkpoint_rows[(source, topic)] = old.model_copy(update={"backfill": progress})

    def count_backfill_scored(self, source: str, topic: str, count: int) -> None:
        old = self.get_checkpoint(source, topic)
        self.checkpoint_rows[(source, topic)] = old.model_copy(
            update={"backfill_scored": old.backfill_scored + count}
        )

    def put_notice(self, notice: SourceNotice) -> bool:
        key = (notice.topic, notice.sort_key)
        if key in self.notices:
            return False
        self.notices[key] = notice
        return True


@dataclass
class ScriptedSource:
    """A source that returns prepared results (or raises) and records the cursors it got."""

    history: ClassVar[timedelta] = timedelta(0)  # cannot look back (see stormwatch.backfill)
    name: str = "fake"
    results: list = field(default_factory=list)
    seen_cursors: list = field(default_factory=list)

    def fetch(self, topic, cursor, http, *, now: datetime, deadline=None) -> FetchResult:
        self.seen_cursors.append(cursor)
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


@dataclass
class PostedRequest:
    url: str
    body: bytes
    headers: dict[str, str]


class RecordingSession:
    """A requests.Session stand-in for chat webhooks: keeps each POST and answers with the
    next scripted status (200 once the script runs out); an exception in the script is raised."""

    def __init__(self, script: list[int | Exception] | None = None):
        self.posts: list[PostedRequest] = []
        self.script = list(script or [])

    def post(self, url, *, data, headers, timeout, allow_redirects):
        import requests

        assert allow_redirects is False and timeout
        self.posts.append(PostedRequest(url, data, dict(headers)))
        step = self.script.pop(0) if self.script else 200
        if isinstance(step, Exception):
            raise step
        response = requests.Response()
        response.status_code = step
        response._content = b"ok" if step < 300 else b"invalid_payload"
        return response


class OnceOnly:
    """A deliver() with the contract of runtime.make_deliver: each key sends at most once.

    `sent[key]` is (the e-mail in the target's language, the target's address); `targets`
    and `notifications` keep what each key was sent with."""

    def __init__(self):
        self.sent: dict = {}
        self.targets: dict = {}
        self.notifications: dict = {}

    def __call__(self, key, notification, target):
        if key in self.sent:
            return f"id-{key}", True
        self.sent[key] = (notification.email_for(target.language), target.address)
        self.targets[key] = target
        self.notifications[key] = notification
        return f"id-{key}", False


def public_dns(host: str) -> list[str]:
    """A resolver for tests (no network): every host is one public address."""
    return ["93.184.215.14"]


def in_stream_order(items: list[ScoredMention], first: int = 1000) -> list[StreamedMention]:
    """Scored mentions as one stream batch delivers them: increasing sequence numbers."""
    return [StreamedMention(scored=s, sequence=first + n) for n, s in enumerate(items)]
