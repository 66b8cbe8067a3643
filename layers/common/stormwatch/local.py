"""Run the real handlers on this machine against an AWS-compatible endpoint.

By default an embedded moto server (DynamoDB, DynamoDB Streams, SES v2 over real HTTP on
127.0.0.1) is started and stopped around the run; `endpoint` points at another one instead.
The stream hop is real too: records are read from the endpoint's DynamoDB stream, filtered
like the Lambda event source mappings in template.yaml, and handed to the handlers in
batches, exactly as Lambda would.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import boto3

from stormwatch.events import StreamRecord

REPO_ROOT = Path(__file__).resolve().parents[3]
STREAM_BATCH_SIZE = 100  # as BatchSize in template.yaml
LOCAL_REGION = "eu-central-1"


def repo_path(*parts: str) -> Path:
    """A path in the checkout (the CLI runs from an editable install of the repository)."""
    return REPO_ROOT.joinpath(*parts)


@dataclass
class FakeLambdaContext:
    """What Powertools and our handlers read from a Lambda context."""

    function_name: str
    timeout_seconds: int = 300
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=lambda: __import__("time").monotonic())

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{LOCAL_REGION}:123456789012:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        import time

        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


def speed_up_moto_transactions() -> None:
    """Make moto copy each table once per transaction instead of once per action in it.

    moto backs up the whole table before *every* action of a TransactWriteItems (so a
    99-mention transaction copies the table 100 times); the copies are identical because they
    are all taken before any write, so taking one per table keeps its behaviour exactly and
    turns minutes into seconds. Local runs only; AWS has no such cost.
    """
    from moto.dynamodb import models

    original = models.DynamoDBBackend.transact_write_items
    if getattr(original, "_copies_once", False):
        return
    real_copy = models.copy

    class CopyOncePerObject:
        def __init__(self) -> None:
            self.copies: dict[int, Any] = {}

        def deepcopy(self, obj: Any, memo: Any = None) -> Any:
            if id(obj) not in self.copies:
                # the stream shard is shared, not copied: copying every past stream record
                # is most of the cost, and a rolled-back transaction's stream records are
                # MODIFY/bucket events that no stream filter of ours lets through
                shard = getattr(obj, "stream_shard", None)
                memo = {id(shard): shard} if shard is not None else {}
                self.copies[id(obj)] = real_copy.deepcopy(obj, memo)
            return self.copies[id(obj)]

        def __getattr__(self, name: str) -> Any:
            return getattr(real_copy, name)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        models.copy = CopyOncePerObject()  # type: ignore[assignment]  # a patch of moto
        try:
            return original(self, transact_items)
        finally:
            models.copy = real_copy

    transact_write_items._copies_once = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


class OneRequestAtATime:
    """A WSGI wrapper that lets one request at a time into moto.

    moto's DynamoDB is not thread-safe: a TransactWriteItems copies and restores whole tables,
    so two scorers in threads against the embedded server lost scores and miscounted buckets.
    Serialising requests gives each its own consistent view; the response body is produced
    inside the lock too (moto builds it while handling)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self.lock:
            result = self.app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


@contextmanager
def aws_endpoint(endpoint: str | None = None, *, quiet: bool = True) -> Iterator[str]:
    """Yield an endpoint URL with boto3 pointed at it (AWS_ENDPOINT_URL); embedded if None."""
    saved = {
        k: os.environ.get(k)
        for k in (
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
            "AWS_SESSION_TOKEN",
        )
    }
    server = None
    try:
        if endpoint is None:
            from moto.server import ThreadedMotoServer

            # one access-log line per request would drown the run's own summary
            logging.getLogger("werkzeug").setLevel(logging.WARNING if quiet else logging.INFO)
            speed_up_moto_transactions()
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=not quiet)
            server.start()
            # werkzeug serves each request in its own thread and reads `server.app` per request
            server._server.app = OneRequestAtATime(server._server.app)  # type: ignore[union-attr]
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            # moto accepts any credentials; these never leave the machine
            os.environ["AWS_ACCESS_KEY_ID"] = "local"
            os.environ["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105
            os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        os.environ.setdefault("AWS_DEFAULT_REGION", LOCAL_REGION)
        yield endpoint
    finally:
        if server is not None:
            server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def ensure_table(table_name: str) -> str:
    """Create the table as template.yaml defines it (keys, stream, TTL); return the stream ARN."""
    client = boto3.client("dynamodb")
    try:
        description = client.describe_table(TableName=table_name)["Table"]
    except client.exceptions.ResourceNotFoundException:
        client.create_table(
            TableName=table_name,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        client.get_waiter("table_exists").wait(TableName=table_name)
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )
        description = client.describe_table(TableName=table_name)["Table"]
    return description["LatestStreamArn"]


def ensure_sender(address: str) -> None:
    """The endpoint's SES must know the sender identity (SES requires a verified sender)."""
    client = boto3.client("sesv2")
    try:
        client.get_email_identity(EmailIdentity=address)
    except client.exceptions.NotFoundException:
        client.create_email_identity(EmailIdentity=address)


class StreamReader:
    """Reads a table's DynamoDB stream from where it last stopped, like a Lambda poller."""

    def __init__(self, stream_arn: str):
        self.stream_arn = stream_arn
        self._client = boto3.client("dynamodbstreams")
        self._positions: dict[str, str] = {}  # shard id -> last sequence number read

    def read(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        shards = self._client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"][
            "Shards"
        ]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id in self._positions:
                iterator = self._client.get_shard_iterator(
                    StreamArn=self.stream_arn,
                    ShardId=shard_id,
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=self._positions[shard_id],
                )["ShardIterator"]
            else:
                iterator = self._client.get_shard_iterator(
                    StreamArn=self.stream_arn,
                    ShardId=shard_id,
                    ShardIteratorType="TRIM_HORIZON",
                )["ShardIterator"]
            while iterator:
                page = self._client.get_records(ShardIterator=iterator, Limit=1000)
                batch = page.get("Records", [])
                for record in batch:
                    record.setdefault("eventSourceARN", self.stream_arn)
                    records.append(record)
                    self._positions[shard_id] = record["dynamodb"]["SequenceNumber"]
                if not batch:
                    break
                iterator = page.get("NextShardIterator")
        return records


def put_stream_images(event: dict[str, Any], table_name: str) -> None:
    """A stream event describes items that exist in the table: put them there first, so a
    handler invoked with a sample event (`stormwatch invoke`, tests) finds what Lambda would."""
    client = boto3.client("dynamodb")
    for record in event["Records"]:
        image = record.get("dynamodb", {}).get("NewImage")
        if image and record.get("eventName") == "INSERT":
            client.put_item(TableName=table_name, Item=image)


def matches_filter(record: dict[str, Any], sort_key_prefix: str) -> bool:
    """The FilterCriteria of template.yaml: INSERT events whose sort key has the prefix."""
    return StreamRecord.from_raw(record).is_insert_of(sort_key_prefix)


def batches(records: list[dict[str, Any]], size: int = STREAM_BATCH_SIZE):
    for start in range(0, len(records), size):
        yield {"Records": records[start : start + size]}


def load_handler(function: str) -> ModuleType:
    """Import functions/<function>/app.py under a unique module name."""
    path = repo_path("functions", function, "app.py")
    if not path.exists():
        raise FileNotFoundError(f"no handler for function {function!r} at {path}")
    name = f"stormwatch_function_{function}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]  # never leave a half-imported handler behind
        raise
    return module


def write_emails(rendered: list[tuple[str, Any]], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, email in rendered:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
        html = out_dir / f"{safe}.html"
        text = out_dir / f"{safe}.txt"
        html.write_text(email.html, encoding="utf-8")
        text.write_text(f"Subject: {email.subject}\n\n{email.text}", encoding="utf-8")
        paths.extend([html, text])
    return paths


@dataclass
class ReceivedRequest:
    """One POST the local channel receiver got: what Slack, Teams or a webhook would see."""

    path: str
    headers: dict[str, str]
    body: bytes
    received: float  # time.monotonic() when it arrived


class ChannelReceiver:
    """A tiny HTTP server on 127.0.0.1 standing in for Slack, Teams and a webhook receiver.

    It answers as they do (Slack: 200 "ok"; a Teams workflow: 202; a webhook: 200) and keeps
    every request, so the demo can write what each channel received under out/channels/."""

    ANSWERS: ClassVar[dict[str, tuple[int, bytes]]] = {
        "/slack": (200, b"ok"),
        "/teams": (202, b""),
        "/webhook": (200, b"{}"),
    }
    MAX_BODY = 1_000_000

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[ReceivedRequest] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import time

                length = min(int(self.headers.get("Content-Length") or 0), receiver.MAX_BODY)
                body = self.rfile.read(length)
                receiver.requests.append(
                    ReceivedRequest(self.path, dict(self.headers), body, time.monotonic())
                )
                status, answer = receiver.ANSWERS.get(self.path, (404, b"unknown channel"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                return  # the demo prints its own summary

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ChannelReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def sms_accepted() -> list[tuple[str, str]]:
    """(phone number, message) of every SMS the embedded SNS accepted (moto, in process)."""
    try:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sns.models import sns_backends
    except ImportError:
        return []
    backend = sns_backends[DEFAULT_ACCOUNT_ID][os.environ.get("AWS_DEFAULT_REGION", LOCAL_REGION)]
    return [(number, message) for number, message, *_ in backend.sms_messages.values()]


def ses_accepted(sender: str) -> int:
    """How many messages the embedded SES accepted (moto keeps them in process)."""
    try:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends
    except ImportError:
        return -1
    backend = ses_backends[DEFAULT_ACCOUNT_ID][os.environ.get("AWS_DEFAULT_REGION", LOCAL_REGION)]
    return sum(1 for m in backend.sent_messages if sender in str(getattr(m, "source", "")))


__all__ = [
    "ChannelReceiver",
    "FakeLambdaContext",
    "ReceivedRequest",
    "StreamReader",
    "aws_endpoint",
    "batches",
    "ensure_sender",
    "ensure_table",
    "load_handler",
    "matches_filter",
    "put_stream_images",
    "repo_path",
    "ses_accepted",
    "sms_accepted",
    "write_emails",
]
