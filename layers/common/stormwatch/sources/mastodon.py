"""Mastodon: public hashtag timelines on the instances a topic lists (no credentials).

Requests
    ``GET {instance}/api/v1/timelines/tag/{hashtag}?limit=40&min_id=<checkpoint>`` for every
    instance × hashtag. Hashtags come from ``mastodon.hashtags`` or, when empty, from the
    topic's search terms with spaces and punctuation removed ("deutsche bahn" → #deutschebahn);
    Mastodon matches hashtags case-insensitively.

Paging and the cursor
    ``min_id`` returns the statuses *immediately newer* than the checkpoint, so pages walk
    upward from the checkpoint without gaps; the next page's ``min_id`` is taken from the
    ``Link: <…min_id=…>; rel="prev"`` header (falling back to the newest id seen). The cursor is
    a JSON object ``{"<instance>#<hashtag>": "<min_id>"}``; a run stopped by the page cap or the
    deadline has fetched everything up to its cursor, so nothing is skipped. The first run reads
    the newest page only. An empty page ends the walk (a short page does not: servers may cap
    ``limit`` lower); a ``min_id`` that does not move (a looping cursor) stops it with a note.

Backfill
    A backfill step (stormwatch.backfill) hands the source ``{"high": <now>, "gap": [lo, hi]}``
    instead of its cursor. Each instance × hashtag timeline is then paged *back* with
    ``max_id``: the first page starts below ``hi`` (``max_id`` = Mastodon's snowflake id for
    that time: ids are milliseconds << 16, the trick Mastodon.py uses for date-based paging; a
    server whose ids are not snowflakes simply starts from its newest page), the next from the
    ``Link: …; rel="next"`` header (or the smallest id seen), until a page lies wholly below
    ``lo``, the page cap or the deadline. A timeline stopped early owes the range below the
    oldest position it reached; the step's result names the union as its ``gap``, and the next
    step continues there. Its reach is what the instance still holds: instances commonly prune
    remote statuses after some weeks (``tootctl statuses remove``), so the source declares 30
    days.

Failures
    An instance that requires sign-in (401, or 422 "This method requires an authenticated user"
    on older versions), forbids access (403), has no such API (404/410) or keeps failing is
    skipped and named in the run's skipped list; its cursor stays. Only when every request
    fails does the run fail (HttpError), which marks the source failing in health.

Items
    ``native_id`` is the status ``uri`` (its ActivityPub id), identical on every instance that
    shows the toot, so the same toot seen via two instances is stored once (the store key is
    published + source + native id, and ``created_at`` is the same everywhere). Reblog wrappers
    are unwrapped to the original. ``content`` is HTML and is reduced to text; the content
    warning (``spoiler_text``) becomes the title. The ``language`` field is set by the poster's
    client and often wrong, so it is not used (the scorer detects the language itself).
    Engagement = reblogs + favourites + replies.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

from pydantic import ValidationError

from stormwatch.http import HttpError
from stormwatch.models import FetchResult, Mention
from stormwatch.query import search_terms
from stormwatch.sources.base import (
    HttpGetter,
    html_to_text,
    parse_timestamp,
    stable_id,
    strip_tracking,
)
from stormwatch.sources.window import WindowCursor, owed_range
from stormwatch.watchlist import MastodonOptions, Topic

PAGE_SIZE = 40
MAX_NATIVE_ID = 300
SIGN_IN_STATUSES = frozenset({401, 403, 422})
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([a-z]+)"?', re.IGNORECASE)


def hashtags_for(topic: Topic, opts: MastodonOptions) -> list[str]:
    """The configured hashtags, or the topic's search terms squeezed into hashtags."""
    tags = opts.hashtags or [
        re.sub(r"\W+", "", term.rstrip("*")).casefold() for term in search_terms(topic)
    ]
    seen: set[str] = set()
    out = []
    for tag in tags:
        key = tag.casefold()
        if tag and key not in seen:
            seen.add(key)
            out.append(tag)
    return out


def link_min_id(link_header: str | None) -> str | None:
    """``min_id`` of the ``rel="prev"`` link (the page of newer statuses), if any."""
    for url, rel in _LINK.findall(link_header or ""):
        if rel.lower() == "prev":
            values = parse_qs(urlsplit(url).query).get("min_id")
            if values and values[0]:
                return values[0]
    return None


def _id_key(value: str) -> tuple[int, str]:
    """Mastodon ids are numeric strings (snowflakes); others (Pleroma) sort as strings."""
    return (len(value), value) if value.isdigit() else (0, value)


def parse_status(status: Any, topic: str, instance: str, source: str = "mastodon") -> Mention:
    """One status (a reblog is unwrapped) as a Mention; ValueError if unusable."""
    if not isinstance(status, dict):
        raise ValueError("malformed status: expected an object")
    if isinstance(status.get("reblog"), dict):
        status = status["reblog"]
    uri = status.get("uri") or status.get("url")
    if not isinstance(uri, str) or not uri.strip():
        raise ValueError(f"malformed status id={status.get('id')!r}: missing uri")
    uri = uri.strip()
    native = uri if len(uri) <= MAX_NATIVE_ID else stable_id(uri)
    try:
        account = status.get("account") if isinstance(status.get("account"), dict) else {}
        acct = str(account.get("acct") or account.get("username") or "")
        if acct and "@" not in acct:
            # local accounts have no domain in `acct`; add it so authors compare across instances
            host = urlsplit(str(account.get("url") or instance)).netloc
            acct = f"{acct}@{host}" if host else acct
        counts = [status.get(k) for k in ("reblogs_count", "favourites_count", "replies_count")]
        url = status.get("url") if isinstance(status.get("url"), str) else uri
        return Mention(
            topic=topic,
            source=source,
            native_id=native,
            published=parse_timestamp(status.get("created_at"), "created_at"),
            url=strip_tracking(url),
            title=html_to_text(status.get("spoiler_text") or ""),
            text=html_to_text(
                status.get("content") if isinstance(status.get("content"), str) else ""
            ),
            author=acct,
            engagement=sum(
                max(0, c) for c in counts if isinstance(c, int) and not isinstance(c, bool)
            ),
            channel=f"Mastodon {urlsplit(instance).netloc}",
            lang=None,  # the `language` field is unreliable (see the module docstring)
        )
    except (ValidationError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"malformed status {uri[:120]}: {reason}") from exc


def _load_cursor(cursor: str | None) -> dict[str, str]:
    if not cursor or not cursor.strip():
        return {}
    data = json.loads(cursor)
    if not isinstance(data, dict):
        raise ValueError("cursor is not an object")
    return {str(k): str(v) for k, v in data.items() if v}


class MastodonSource:
    """`mastodon`: see the module docstring."""

    name = "mastodon"
    secret_names: ClassVar[tuple[str, ...]] = ()
    # tag timelines page back with max_id, as far as the instance keeps statuses (see Backfill)
    history: ClassVar[timedelta] = timedelta(days=30)

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock  # no credentials or state needed: public timelines only

    def fetch(
        self,
        topic: Topic,
        cursor: str | None,
        http: HttpGetter,
        *,
        now: datetime,
        deadline: float | None = None,
    ) -> FetchResult:
        opts = topic.sources.mastodon or MastodonOptions()
        step = owed_range(cursor)  # a backfill step (live keys are never "gap")
        if step is not None:
            walk = _BackWalk(topic, opts, http, step, deadline, self.clock, self.name)
            return walk.run()
        skipped: list[str] = []
        try:
            positions = _load_cursor(cursor)
        except (ValueError, TypeError):
            skipped.append(f"ignored unreadable cursor {cursor!r}; starting from the newest page")
            positions = {}
        mentions: dict[str, Mention] = {}
        pages = 0
        truncated = False
        attempted = failed = 0
        last_error: HttpError | None = None
        refused: set[str] = set()
        for instance in opts.instances:
            for tag in hashtags_for(topic, opts):
                key = f"{instance}#{tag.casefold()}"
                if instance in refused:
                    continue
                if deadline is not None and self.clock() >= deadline:
                    skipped.append(f"time budget used up before {key}; next run continues")
                    truncated = True
                    continue
                attempted += 1
                url = f"{instance}/api/v1/timelines/tag/{quote(tag, safe='')}"
                min_id = positions.get(key)
                first_run = min_id is None
                used: set[str] = set()
                for page in range(opts.max_pages):
                    if deadline is not None and self.clock() >= deadline:
                        truncated = True
                        skipped.append(f"{key}: time budget used up; next run continues")
                        break
                    params: dict[str, str] = {"limit": str(PAGE_SIZE)}
                    if min_id:
                        params["min_id"] = min_id
                    try:
                        resp = http.get(url, params=params)
                        statuses = resp.json()
                        if not isinstance(statuses, list):
                            raise HttpError(f"GET {url}: expected a list of statuses", url=url)
                    except HttpError as exc:
                        last_error = exc
                        failed += page == 0
                        if exc.status in SIGN_IN_STATUSES:
                            refused.add(instance)
                            skipped.append(
                                f"{instance} refuses anonymous hashtag timelines "
                                f"(HTTP {exc.status}); skipped"
                            )
                        else:
                            skipped.append(f"{key}: {exc}")
                        break
                    pages += 1
                    if not statuses:
                        break
                    newest: str | None = None
                    for status in statuses:
                        try:
                            mention = parse_status(status, topic.name, instance, self.name)
                        except ValueError as exc:
                            skipped.append(str(exc))
                        else:
                            mentions.setdefault(mention.native_id, mention)
                        sid = status.get("id") if isinstance(status, dict) else None
                        if isinstance(sid, str | int) and (
                            newest is None or _id_key(str(sid)) > _id_key(newest)
                        ):
                            newest = str(sid)
                    next_min = link_min_id(resp.headers.get("link")) or newest
                    if not next_min or next_min == min_id or next_min in used:
                        skipped.append(f"{key}: the page cursor did not move; stopped")
                        break
                    used.add(next_min)
                    min_id = next_min
                    positions[key] = next_min
                    if first_run:
                        break  # first run: the newest page only; later runs walk up from it
                else:
                    truncated = True
                    skipped.append(
                        f"{key}: page cap of {opts.max_pages} reached; next run continues"
                    )
        if attempted and failed == attempted and last_error is not None:
            raise HttpError(
                f"every Mastodon request failed; last: {last_error}",
                url=last_error.url,
                status=last_error.status,
            )
        return FetchResult(
            mentions=sorted(mentions.values(), key=lambda m: (m.published, m.native_id)),
            cursor=json.dumps(positions, separators=(",", ":"), sort_keys=True)
            if positions
            else None,
            pages=pages,
            skipped=skipped,
            truncated=truncated,
        )


# --------------------------------------------------------------------------------------------
# Backfill: paging back with max_id (see the module docstring)


def snowflake_at(epoch: int) -> str:
    """Mastodon's status id for a time (milliseconds << 16): `max_id` below it pages from there."""
    return str((epoch * 1000) << 16)


def link_max_id(link_header: str | None) -> str | None:
    """``max_id`` of the ``rel="next"`` link (the page of older statuses), if any."""
    for url, rel in _LINK.findall(link_header or ""):
        if rel.lower() == "next":
            values = parse_qs(urlsplit(url).query).get("max_id")
            if values and values[0]:
                return values[0]
    return None


@dataclass
class _BackWalk:
    """One backfill step over every instance × hashtag timeline of a topic."""

    topic: Topic
    opts: MastodonOptions
    http: HttpGetter
    step: WindowCursor
    deadline: float | None
    clock: Callable[[], float]
    source: str
    mentions: dict[str, Mention] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    pages: int = 0
    owed_tops: list[int] = field(default_factory=list)

    def run(self) -> FetchResult:
        assert self.step.gap is not None
        attempted = failed = 0
        last_error: HttpError | None = None
        for instance in self.opts.instances:
            for tag in hashtags_for(self.topic, self.opts):
                attempted += 1
                try:
                    self.walk(instance, tag)
                except HttpError as exc:
                    failed, last_error = failed + 1, exc
                    self.note_failure(instance, tag, exc)
                    if exc.status in SIGN_IN_STATUSES:
                        break  # the instance refuses: its other hashtags would too
        if attempted and failed == attempted and last_error is not None:
            raise HttpError(
                f"every Mastodon backfill request failed; last: {last_error}",
                url=last_error.url,
                status=last_error.status,
            )
        return self.result()

    def note_failure(self, instance: str, tag: str, exc: HttpError) -> None:
        assert self.step.gap is not None
        if exc.status in SIGN_IN_STATUSES:
            self.skipped.append(f"{instance} refuses anonymous hashtag timelines; skipped")
        else:  # a passing failure: the whole range stays owed for the next step
            self.skipped.append(f"{instance}#{tag.casefold()} (backfill): {exc}")
            self.owed_tops.append(self.step.gap[1])

    def walk(self, instance: str, tag: str) -> None:
        """Page one timeline back from the top of the owed range to its bottom."""
        assert self.step.gap is not None
        lo, hi = self.step.gap
        url = f"{instance}/api/v1/timelines/tag/{quote(tag, safe='')}"
        max_id, position = snowflake_at(hi + 1), hi
        for _ in range(self.opts.max_pages):
            if self.deadline is not None and self.clock() >= self.deadline:
                break
            resp = self.http.get(url, params={"limit": str(PAGE_SIZE), "max_id": max_id})
            statuses = resp.json()
            if not isinstance(statuses, list):
                raise HttpError(f"GET {url}: expected a list of statuses", url=url)
            self.pages += 1
            oldest_id, times = self.keep(statuses, instance, lo)
            if not statuses or all(t <= lo for t in times) or oldest_id is None:
                return  # read down to the bottom of the range
            position = min(position, min(times))  # where the walk has read down to
            next_max = link_max_id(resp.headers.get("link")) or oldest_id
            if next_max == max_id:
                self.skipped.append(f"{instance}#{tag} (backfill): max_id did not move; stopped")
                return
            max_id = next_max
        self.owed_tops.append(position)

    def keep(self, statuses: list[Any], instance: str, lo: int) -> tuple[str | None, list[int]]:
        """Store the page's statuses above `lo`; the smallest id and every status's time."""
        oldest_id: str | None = None
        times: list[int] = []
        for status in statuses:
            sid = status.get("id") if isinstance(status, dict) else None
            if isinstance(sid, str | int) and (
                oldest_id is None or _id_key(str(sid)) < _id_key(oldest_id)
            ):
                oldest_id = str(sid)
            try:
                mention = parse_status(status, self.topic.name, instance, self.source)
            except ValueError as exc:
                self.skipped.append(str(exc))
                continue
            ts = int(mention.published.timestamp())
            times.append(ts)
            if ts > lo:
                self.mentions.setdefault(mention.native_id, mention)
        return oldest_id, times

    def result(self) -> FetchResult:
        assert self.step.gap is not None and self.step.high is not None
        lo = self.step.gap[0]
        top = max(self.owed_tops, default=None)
        owed = (lo, top + 1) if top is not None and top + 1 > lo else None
        if owed:
            self.skipped.append("backfill stopped early (page cap or time budget); continues")
        return FetchResult(
            mentions=sorted(self.mentions.values(), key=lambda m: (m.published, m.native_id)),
            cursor=WindowCursor(high=self.step.high, gap=owed).dump(),
            pages=self.pages,
            skipped=self.skipped,
            truncated=owed is not None,
        )
