"""The collect task queues (SQS FIFO, one per source): the only module that talks to SQS.

`SqsTaskQueues` sends in batches of ten (SendMessageBatch) with each task's message group and
deduplication id (stormwatch.dispatch); `InlineTaskQueues` keeps the tasks in memory for the
local runner, which hands them to the collect handler as SQS events itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from stormwatch.dispatch import PACES, CollectTask

SQS_BATCH = 10  # SendMessageBatch takes at most ten entries


class TaskQueues(Protocol):
    def send(self, tasks: list[CollectTask]) -> int:
        """Enqueue every task on its source's queue; the number sent."""
        ...


class QueueSendFailed(RuntimeError):
    """SQS refused some entries: the dispatch fails, and its retry resends (deduplicated)."""


@dataclass
class SqsTaskQueues:
    sqs: Any  # a boto3 SQS client
    urls: Mapping[str, str]  # source -> queue URL

    def send(self, tasks: list[CollectTask]) -> int:
        by_source: dict[str, list[CollectTask]] = {}
        for task in tasks:
            by_source.setdefault(task.source, []).append(task)
        for source, same_queue in by_source.items():
            url = self._url(source)
            for start in range(0, len(same_queue), SQS_BATCH):
                self._send_batch(url, same_queue[start : start + SQS_BATCH])
        return len(tasks)

    def _url(self, source: str) -> str:
        try:
            return self.urls[source]
        except KeyError:
            raise KeyError(f"no collect queue for source {source!r}") from None

    def _send_batch(self, url: str, tasks: list[CollectTask]) -> None:
        entries = [
            {
                "Id": str(i),
                "MessageBody": task.model_dump_json(exclude_none=True),
                "MessageGroupId": task.group_id(PACES[task.source]),
                "MessageDeduplicationId": task.deduplication_id(),
            }
            for i, task in enumerate(tasks)
        ]
        response = self.sqs.send_message_batch(QueueUrl=url, Entries=entries)
        failed = response.get("Failed") or []
        if failed:
            reasons = "; ".join(f"{f.get('Code')}: {f.get('Message')}" for f in failed[:3])
            raise QueueSendFailed(f"{len(failed)} of {len(tasks)} tasks not queued ({reasons})")


@dataclass
class InlineTaskQueues:
    """In memory, for the local runner: `sqs_events` turns the tasks into the SQS events the
    event source mapping would deliver (one source per event, `batch_size` records each)."""

    tasks: list[CollectTask] = field(default_factory=list)

    def send(self, tasks: list[CollectTask]) -> int:
        self.tasks.extend(tasks)
        return len(tasks)

    def sqs_events(self, batch_size: int) -> list[dict[str, Any]]:
        taken, self.tasks = self.tasks, []
        events = []
        for source in dict.fromkeys(t.source for t in taken):
            same = [t for t in taken if t.source == source]
            for start in range(0, len(same), batch_size):
                chunk = same[start : start + batch_size]
                events.append({"Records": [sqs_record(t, n) for n, t in enumerate(chunk)]})
        return events


def sqs_record(task: CollectTask, n: int = 0) -> dict[str, Any]:
    """An SQS event record carrying `task`, as Lambda delivers one from a FIFO queue."""
    group = task.group_id(PACES[task.source])
    return {
        "messageId": f"{task.deduplication_id()}-{n}",
        "receiptHandle": f"local-{n}",
        "body": json.dumps(task.model_dump(exclude_none=True)),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "0",
            "MessageGroupId": group,
            "MessageDeduplicationId": task.deduplication_id(),
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:eu-central-1:123456789012:collect-{task.source}.fifo",
        "awsRegion": "eu-central-1",
    }
