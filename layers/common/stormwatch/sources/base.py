"""What every source implements, and the text/URL helpers they share.

A source turns one topic plus a checkpoint into a `FetchResult`. It does no AWS and reads no
environment: the HTTP client, the clock and the deadline are passed in. It returns every item it
parsed (the runner re-checks the topic query locally and stores them), describes each item it
could not use in `FetchResult.skipped`, and raises `HttpError` only when the source as a whole
failed, in which case the runner keeps the old cursor.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from stormwatch.models import FetchResult
from stormwatch.secrets import NoSecrets, Secrets
from stormwatch.sources.window import PacerPerClient
from stormwatch.timeutil import parse_timestamp as parse_timestamp  # the sources' import
from stormwatch.urls import strip_tracking as strip_tracking  # the sources' import
from stormwatch.watchlist import Topic

if TYPE_CHECKING:
    from stormwatch.http import HttpResponse

# Raw HTML beyond this is not worth parsing: the stored text is bounded to a few KB anyway.
MAX_HTML_CHARS = 200_000
# A publish date further ahead than this is malformed, not clock skew between servers: one
# item dated in the year 3000 would otherwise move a cursor there and silence the source.
MAX_AHEAD = timedelta(hours=1)
# Nothing any source serves was published before this; earlier is a zero or broken timestamp.
EARLIEST_PUBLISHED = datetime(2000, 1, 1, tzinfo=UTC)


def published_problem(published: datetime, now: datetime) -> str | None:
    """Why `published` cannot be an item's real publish date at `now`, or None when it can.
    The one rule for every source (the collector refuses such items; see also the cursors,
    which never move past `now`)."""
    if published > now + MAX_AHEAD:
        return f"published {published.isoformat()} is more than {MAX_AHEAD} in the future"
    if published < EARLIEST_PUBLISHED:
        return f"published {published.isoformat()} is before 2000"
    return None


class HttpGetter(Protocol):
    """The part of HttpClient/ReplayHttpClient (stormwatch.http) most sources use."""

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse: ...


class SourceHttp(HttpGetter, Protocol):
    """What the collector hands every source: GET, and POST for the sources that log in or
    ask for a token (Bluesky, Reddit). A source that only reads declares `HttpGetter`."""

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> HttpResponse: ...


@runtime_checkable
class Source(Protocol):
    name: str
    # the SSM parameters (short names, "reddit/client_id") the source may read: the one list
    # that the collect function's IAM policy and `get_source`'s guard are checked against
    secret_names: ClassVar[tuple[str, ...]]
    # how far back the source can search (timedelta(0): no history; its hours before the
    # first run are "no history", not zero). A source with history reads an owed range in its
    # cursor, `{"high": <epoch>, "gap": [lo, hi]}` (stormwatch.sources.window): that is how a
    # backfill asks it for the past (stormwatch.backfill)
    history: ClassVar[timedelta]

    def fetch(
        self,
        topic: Topic,
        cursor: str | None,
        http: SourceHttp,
        *,
        now: datetime,
        deadline: float | None = None,
    ) -> FetchResult: ...


@runtime_checkable
class PlansAcrossTopics(Protocol):
    """A source whose limit is one budget for all its topics (YouTube's daily quota): the
    collect function hands it every topic that uses it before a run, even a one-topic run."""

    def plan_across(self, topics: list[Topic], now: datetime) -> None: ...


class KeyedSource:
    """The constructor of the sources that read an API key or token from `secrets` and pace
    their requests; `clock` and `sleep` are injectable so tests need not wait."""

    def __init__(
        self,
        secrets: Secrets | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.secrets = secrets or NoSecrets()
        self.clock = clock
        self.sleep = sleep
        self.pacers = PacerPerClient()


# --------------------------------------------------------------------------------------------
# HTML → text

_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "tr",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "blockquote",
        "section",
        "article",
        "header",
        "footer",
        "hr",
        "dd",
        "dt",
    ]
)
_DROP_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._drop = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_TAGS:
            self._drop += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_TAGS:
            self._drop = max(0, self._drop - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._drop:
            self.parts.append(data)


_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_NEWLINES = re.compile(r"\n{2,}")


def html_to_text(value: str | None, *, limit: int = MAX_HTML_CHARS) -> str:
    """Visible text of an HTML fragment: tags removed, entities decoded, `<p>`/`<br>` → newline.

    Script/style content is dropped. Text that was *escaped* in the HTML (`&lt;script&gt;`) is
    text, and comes back as the literal characters; escaping it again is the renderer's job.
    """
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        text = value
    else:
        parser = _TextExtractor()
        try:
            parser.feed(value[:limit])
            parser.close()
        except (AssertionError, ValueError):  # pragma: no cover - defensive, parser is lenient
            return _SPACES.sub(" ", unescape(re.sub(r"<[^>]*>", " ", value[:limit]))).strip()
        text = "".join(parser.parts)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _NEWLINES.sub("\n", "\n".join(lines)).strip()


# --------------------------------------------------------------------------------------------
# URLs


def stable_id(*parts: str) -> str:
    """A short deterministic id for items the source gives none (sha256, hex)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
