"""The live watchlist: versions of one object in a versioned S3 bucket, validated before they go
live, and re-read by every function at most every `MAX_AGE_SECONDS` (no deploy needed).

Why S3 and not AppConfig: README "Change the watchlist without a deploy". In short: S3 object
versions are the history and a rollback is a copy of an old version; moto implements S3
versioning fully (local runs and tests), but neither AppConfig deployments nor the appconfigdata
API that Powertools' AppConfigProvider calls; and the validation we need (`stormwatch check`,
match examples included) is Python, which AppConfig could only run as a validator Lambda.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import yaml
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, field_validator

from stormwatch.config import (
    WatchlistError,
    WatchlistProblem,
    cached_watchlist,
    parse_watchlist,
    run_examples,
)
from stormwatch.settings import Settings
from stormwatch.watchlist import Watchlist

logger = logging.getLogger(__name__)

# the object every function reads (template.yaml grants s3:GetObject on exactly this key)
WATCHLIST_KEY = "watchlist.yaml"
# well below the shortest schedule period (15 minutes): a push is live within one period
MAX_AGE_SECONDS = 60
# where `stormwatch run`/`demo` keep the watchlist on their endpoint
LOCAL_LOCATION = f"s3://stormwatch-local-watchlist/{WATCHLIST_KEY}"
NOTE_METADATA = "note"  # x-amz-meta-note: why a version was pushed (percent-encoded)
NOTE_CHARS = 200
PACKAGED = "packaged"  # the version label of the packaged /opt/watchlist.yaml
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class StoreUnavailable(RuntimeError):
    """The store cannot be read or written (network, permissions, no such bucket)."""


class WatchlistLocation(BaseModel):
    """s3://bucket/key of the watchlist object."""

    model_config = ConfigDict(frozen=True)
    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str) -> WatchlistLocation:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if not uri.startswith("s3://") or not bucket or not key:
            raise ValueError(f"a watchlist location is s3://bucket/key, got {uri!r}")
        return cls(bucket=bucket, key=key)

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        if not BUCKET_NAME.match(value):
            raise ValueError(f"not an S3 bucket name: {value!r}")
        return value

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class StoredVersion(BaseModel):
    """One version's text as stored."""

    version_id: str
    text: str


class VersionInfo(BaseModel):
    """One line of `stormwatch watchlist history`."""

    version_id: str
    modified: datetime
    size: int
    live: bool
    note: str = ""


@dataclass(frozen=True)
class PushResult:
    version_id: str
    changed: bool  # False: the text was the live version already, nothing was written


def validated_watchlist(text: str, file: str) -> Watchlist:
    """What `stormwatch check` holds a watchlist to, as one error: the model, the queries and
    every topic's match examples. A version must pass this before it goes live."""
    watchlist = parse_watchlist(text, file)
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    problems = []
    for result in run_examples(watchlist.topics):
        if result.ok:
            continue
        kind = "match" if result.expected else "no_match"
        problems.append(
            WatchlistProblem(
                file,
                _example_line(root, watchlist, result.topic, kind, result.text),
                result.topic,
                f"examples.{kind}",
                f"{'should match but does not' if result.expected else 'should not match but does'}"
                f": {result.text!r}",
            )
        )
    if problems:
        raise WatchlistError(problems)
    return watchlist


def _example_line(
    root: yaml.Node | None, watchlist: Watchlist, topic: str, kind: str, text: str
) -> int | None:
    """The line of a failing example in the YAML text, for the error message."""
    from stormwatch.config import _node_at  # the one YAML-path walker (config.py)

    index = next(i for i, t in enumerate(watchlist.topics) if t.name == topic)
    examples = getattr(watchlist.topics[index].examples, kind)
    node = _node_at(root, ("topics", index, "examples", kind, examples.index(text)))
    return node.start_mark.line + 1 if node is not None else None


def _is_missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NoSuchVersion")


class WatchlistStore:
    """The versioned watchlist object: the CLI pushes and rolls back, the functions read the
    latest version (GetObject only)."""

    def __init__(self, s3_client: Any, location: WatchlistLocation) -> None:
        self._s3 = s3_client
        self.location = location

    def _call(self, operation: str, **params: Any) -> Any:
        try:
            return getattr(self._s3, operation)(Bucket=self.location.bucket, **params)
        except ClientError as exc:
            if _is_missing(exc):
                raise
            raise StoreUnavailable(f"{self.location}: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"{self.location}: {exc}") from exc

    def ensure_bucket(self) -> None:
        """Create the bucket with versioning on (local endpoints; template.yaml does it on AWS)."""
        try:
            self._s3.head_bucket(Bucket=self.location.bucket)
        except ClientError:
            region = self._s3.meta.region_name
            # us-east-1 is the one region S3 refuses to be named as a location constraint
            where = {} if region == "us-east-1" else {"LocationConstraint": region}
            self._s3.create_bucket(Bucket=self.location.bucket, CreateBucketConfiguration=where)
        self._s3.put_bucket_versioning(
            Bucket=self.location.bucket, VersioningConfiguration={"Status": "Enabled"}
        )

    def latest(self) -> StoredVersion | None:
        """The live version, or None when nothing was pushed yet."""
        return self._read()

    def get(self, version_id: str) -> StoredVersion:
        stored = self._read(version_id)
        if stored is None:
            raise StoreUnavailable(f"{self.location}: no version {version_id!r}")
        return stored

    def _read(self, version_id: str | None = None) -> StoredVersion | None:
        params: dict[str, Any] = {"Key": self.location.key}
        if version_id:
            params["VersionId"] = version_id
        try:
            response = self._call("get_object", **params)
        except ClientError:
            return None  # no such key (or version)
        text = response["Body"].read().decode("utf-8")
        return StoredVersion(version_id=response.get("VersionId") or "null", text=text)

    def push(self, text: str, *, file: str, note: str = "") -> PushResult:
        """Validate `text` like `stormwatch check`, then make it the live version (WatchlistError
        and nothing written when it fails)."""
        validated_watchlist(text, file)
        live = self.latest()
        if live is not None and live.text == text:
            return PushResult(live.version_id, changed=False)
        response = self._call(
            "put_object",
            Key=self.location.key,
            Body=text.encode("utf-8"),
            ContentType="application/yaml",
            Metadata={NOTE_METADATA: quote(note[:NOTE_CHARS])},
        )
        return PushResult(response.get("VersionId") or "null", changed=True)

    def history(self, limit: int = 20) -> list[VersionInfo]:
        """The newest `limit` versions, newest first (deleted ones left out)."""
        pages = self._s3.get_paginator("list_object_versions").paginate(
            Bucket=self.location.bucket, Prefix=self.location.key
        )
        versions: list[dict[str, Any]] = []
        try:
            for page in pages:
                versions += [v for v in page.get("Versions", []) if v["Key"] == self.location.key]
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"{self.location}: {exc}") from exc
        versions.sort(key=lambda v: v["LastModified"], reverse=True)
        return [self._info(v) for v in versions[:limit]]

    def _info(self, version: dict[str, Any]) -> VersionInfo:
        head = self._call("head_object", Key=self.location.key, VersionId=version["VersionId"])
        return VersionInfo(
            version_id=version["VersionId"],
            modified=version["LastModified"],
            size=version["Size"],
            live=version["IsLatest"],
            note=unquote(head.get("Metadata", {}).get(NOTE_METADATA, "")),
        )

    def rollback(self, version_id: str | None = None) -> PushResult:
        """Make an earlier version live again (default: the one before the live one), as a new
        version, so the history keeps what happened. It is validated again first: the rules
        may have grown stricter since it was pushed."""
        if version_id is None:
            history = self.history(limit=2)
            if len(history) < 2:
                raise StoreUnavailable(f"{self.location}: no earlier version to roll back to")
            version_id = history[1].version_id
        old = self.get(version_id)
        file = f"{self.location} version {version_id}"
        return self.push(old.text, file=file, note=f"rollback to {version_id}")


@dataclass(frozen=True)
class _Running:
    watchlist: Watchlist
    version: str  # the store's version id, or PACKAGED


class LiveWatchlist:
    """What a function runs: the store's live version, looked up at most every `max_age`
    seconds; the packaged file when the store is empty (or unreachable before any version
    ran). A version whose model or queries fail is refused: the running one stays."""

    def __init__(
        self,
        packaged_path: Path,
        store: WatchlistStore | None,
        *,
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._packaged_path = packaged_path
        self._store = store
        self._max_age = max_age
        self._clock = clock
        self._running: _Running | None = None
        self._checked_at = 0.0
        self._refused: set[str] = set()

    @property
    def version(self) -> str:
        self.get()
        assert self._running is not None
        return self._running.version

    def get(self) -> Watchlist:
        now = self._clock()
        stale = now - self._checked_at >= self._max_age
        if self._running is None or self._store is None or stale:
            self._checked_at = now
            self._running = self._next()
        return self._running.watchlist

    def _packaged(self, why: str) -> _Running:
        if self._running is None or self._running.version != PACKAGED:
            logger.warning("watchlist: running the packaged %s (%s)", self._packaged_path, why)
        return _Running(cached_watchlist(str(self._packaged_path)), PACKAGED)

    def _next(self) -> _Running:
        if self._store is None:
            return _Running(cached_watchlist(str(self._packaged_path)), PACKAGED)
        try:
            stored = self._store.latest()
        except StoreUnavailable as exc:
            if self._running is not None:
                logger.warning("watchlist store unreachable, keeping the running version: %s", exc)
                return self._running
            return self._packaged(f"store unreachable: {exc}")
        if stored is None:
            return self._packaged(f"{self._store.location} holds no version yet")
        if self._running is not None and stored.version_id == self._running.version:
            return self._running
        if stored.version_id in self._refused:
            return self._running or self._packaged("the live version was refused")
        return self._validate(stored)

    def _validate(self, stored: StoredVersion) -> _Running:
        """The model and every query, as at load time; not the match examples: `push` ran
        them, and running them here would decode the German dictionary (~1.8 s of CPU) at every
        cold start, in functions that never match text."""
        assert self._store is not None
        try:
            watchlist = parse_watchlist(
                stored.text, f"{self._store.location} version {stored.version_id}"
            )
        except WatchlistError as exc:
            self._refused.add(stored.version_id)
            logger.error("watchlist version %s refused: %s", stored.version_id, exc)
            return self._running or self._packaged("the live version was refused")
        logger.info("watchlist version %s is live", stored.version_id)
        return _Running(watchlist, stored.version_id)


_LIVE: dict[tuple[str, str], LiveWatchlist] = {}


def live_watchlist(packaged_path: Path, location: str, s3_client: Any = None) -> LiveWatchlist:
    """One LiveWatchlist per (file, location) for the life of the container, so its cache
    outlives an invocation; `location` "" means the packaged file only."""
    key = (str(packaged_path), location)
    if key not in _LIVE:
        store = None
        if location:
            if s3_client is None:
                from stormwatch.runtime import aws_client

                s3_client = aws_client("s3")
            store = WatchlistStore(s3_client, WatchlistLocation.parse(location))
        _LIVE[key] = LiveWatchlist(packaged_path, store)
    return _LIVE[key]


def running_watchlist(settings: Settings, live: LiveWatchlist | None = None) -> Watchlist:
    """The watchlist a function runs now: `live` (local runs and tests pass their own), else
    the container's LiveWatchlist for the settings' file and location."""
    live = live or live_watchlist(settings.watchlist_path, settings.watchlist_location)
    return live.get()
