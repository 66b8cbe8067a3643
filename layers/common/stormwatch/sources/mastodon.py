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
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

from pydantic import ValidationError

from stormwatch.http import HttpError
from stormwatch.models import FetchResult, Mention
from stormwatch.query import search_terms
from stormwatch.secrets import Secrets, SourceState
from stormwatch.sources.base import html_to_text, parse_timestamp, stable_id, strip_tracking
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
    # tag timelines page back with max_id: a backfill is not built yet
    history: ClassVar[timedelta] = timedelta(0)

    def __init__(
        self,
        secrets: Secrets | None = None,
        state: SourceState | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock  # no credentials or state needed: public timelines only

    def fetch(
        self,
        topic: Topic,
        cursor: str | None,
        http: Any,
        *,
        now: datetime,
        deadline: float | None = None,
    ) -> FetchResult:
        opts = topic.sources.mastodon or MastodonOptions()
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
