"""HTTP for the collectors: one polite `requests.Session`, and a replaying twin for demo and tests.

`HttpClient` is what runs in Lambda: every request has a (connect, read) timeout, carries an
identifying User-Agent, and is retried with exponential backoff plus jitter on 429, 5xx and
connection errors. A `Retry-After` header is honoured; if the server asks for a longer pause than
`max_retry_after` seconds we give up at once (the source is marked failing and the next scheduled
run tries again) instead of sleeping away the Lambda's time budget.

Socket timeouts bound each read, not a request: a server dripping a byte a second never trips
them. So each request (retries, waits and body included) also has an overall `request_budget`,
and `until(deadline)` gives a client bound to the invocation's own deadline: no attempt, wait or
body read runs past it, so the run still has time to record checkpoints and health.

Every request and every redirect hop goes to a public internet address only
(stormwatch.netguard): a feed that redirects to the metadata service is refused, not followed.

`ReplayHttpClient` has the same `.get()`/`.post()` and serves recorded responses from a
directory (see `demo/recordings/README.md` for the format). It never opens a socket.

Both raise `HttpError` for anything that is not a usable response, so a source only has to deal
with one exception type, and the message names the URL (sensitive query values redacted) and the
status.
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from stormwatch import __version__, netguard

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_TIMEOUT = (5.0, 20.0)
# wall time of one request, retries and body included (see the module docstring)
DEFAULT_REQUEST_BUDGET = 45.0
BODY_CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 5
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_ERROR_BODY_BYTES = 16 * 1024
_SENSITIVE_PARAMS = ("key", "token", "secret", "password", "passwd", "auth", "sig", "signature")


def default_user_agent(contact: str = "https://github.com/stormwatch/stormwatch") -> str:
    """`stormwatch/<version> (+<contact>)`: lets API operators see who we are and reach us."""
    return f"stormwatch/{__version__} (+{contact})"


def redact_url(url: str) -> str:
    """The URL with values of secret-looking query parameters replaced by `***`."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [
        (k, "***" if any(s in k.lower() for s in _SENSITIVE_PARAMS) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe="(),:*\"'")))


def full_url(url: str, params: Mapping[str, Any] | None = None) -> str:
    """`url` with `params` appended the way requests would encode them (no network)."""
    if not params:
        return url
    return requests.Request("GET", url, params=dict(params)).prepare().url or url


@dataclass(frozen=True)
class HttpResponse:
    """A finished response: status, headers (case-insensitive lookups), body bytes, final URL."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""
    url: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.headers, CaseInsensitiveDict):
            object.__setattr__(self, "headers", CaseInsensitiveDict(self.headers or {}))

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; a body that is not JSON raises HttpError naming the URL."""
        try:
            return json.loads(self.content)
        except ValueError as exc:
            raise HttpError(
                f"GET {redact_url(self.url)}: response is not valid JSON ({exc})",
                url=self.url,
                status=self.status,
            ) from exc


class HttpError(Exception):
    """A request that produced no usable response (non-retryable status or retries exhausted)."""

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.url = redact_url(url) if url else ""
        self.status = status
        # the start of an error response's body and its headers, so a source can read the API's
        # own error signal (Stack Exchange `error_name`, YouTube `quotaExceeded`, GitHub limits)
        self.body = body[:MAX_ERROR_BODY_BYTES]
        self.headers: Mapping[str, str] = CaseInsensitiveDict(headers or {})


def _retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class HttpClient:
    """The live client. One `requests.Session` (connection reuse), timeouts on every call."""

    def __init__(
        self,
        user_agent: str,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        backoff_base: float = 1.0,
        max_backoff: float = 30.0,
        max_retry_after: float = 60.0,
        max_body_bytes: int = MAX_BODY_BYTES,
        session: requests.Session | None = None,
        rng: random.Random | None = None,
        request_budget: float = DEFAULT_REQUEST_BUDGET,
        clock: Callable[[], float] = time.monotonic,
        resolve: netguard.Resolver | None = None,
        allow_private_targets: bool = False,
    ) -> None:
        if not user_agent.strip():
            raise ValueError("user_agent must identify stormwatch, e.g. default_user_agent()")
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.max_body_bytes = max_body_bytes
        self.request_budget = request_budget
        self.deadline: float | None = None  # the invocation's (on `clock`); see until()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.session.max_redirects = MAX_REDIRECTS
        # None: the system resolver, looked up when used (tests replace it; no DNS in tests)
        self._resolve = resolve
        # the local runner's override (netguard.private_targets_allowed); never in Lambda
        self.allow_private_targets = allow_private_targets

    def until(self, deadline: float | None) -> HttpClient:
        """This client (same session) bound to an invocation's deadline, a `clock` reading:
        requests stop retrying, waiting and reading when it is reached."""
        bound = copy.copy(self)
        bound.deadline = deadline
        return bound

    def _stop_at(self) -> float:
        """When the request starting now must be over: its own budget, or the invocation's
        deadline if that comes first."""
        stop = self._clock() + self.request_budget
        return stop if self.deadline is None else min(stop, self.deadline)

    def _timeout(self, method: str, shown: str, stop: float) -> tuple[float, float]:
        """The (connect, read) timeouts of an attempt, none beyond `stop`; HttpError when no
        time is left to start one."""
        left = stop - self._clock()
        if left <= 0:
            raise HttpError(f"{method} {shown} not sent: no time left in this run", url=shown)
        return (min(self.timeout[0], left), min(self.timeout[1], left))

    def _check_target(self, method: str, url: str) -> None:
        """HttpError when `url` is not a public internet address (netguard)."""
        if self.allow_private_targets:
            return
        try:
            netguard.check_url(url, resolve=self._resolve or netguard.resolve_host)
        except netguard.RefusedTarget as exc:
            raise HttpError(f"{method} {redact_url(url)} refused: {exc}", url=url) from None

    def _check_redirect(self, resp: requests.Response, **_: Any) -> requests.Response:
        """A `response` hook: requests calls it for every hop before following a redirect,
        so the next hop's target is checked before it is sent."""
        if resp.is_redirect:
            target = urljoin(resp.url, resp.headers["location"])
            try:
                self._check_target(resp.request.method or "GET", target)
            except HttpError:
                resp.close()
                raise
        return resp

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: base·2^attempt (capped) plus up to one base."""
        return min(self.max_backoff, self.backoff_base * 2**attempt) + self._rng.uniform(
            0, self.backoff_base
        )

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        shown = redact_url(full_url(url, params))
        attempts = self.max_retries + 1
        last_problem = ""
        stop = self._stop_at()
        self._check_target("GET", full_url(url, params))
        for attempt in range(attempts):
            wait: float | None = None
            timeout = self._timeout("GET", shown, stop)
            try:
                resp = self.session.get(
                    url,
                    params=dict(params) if params else None,
                    headers=dict(headers) if headers else None,
                    timeout=timeout,
                    stream=True,
                    hooks={"response": self._check_redirect},
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
                status: int | None = None
            except requests.RequestException as exc:
                raise HttpError(f"GET {shown} failed: {exc}", url=shown) from exc
            else:
                status = resp.status_code
                if status not in RETRY_STATUSES:
                    return self._response(resp, "GET", shown, stop)
                resp.close()
                last_problem = f"HTTP {status}"
                wait = _retry_after_seconds(resp.headers.get("Retry-After"))
                if wait is not None and wait > self.max_retry_after:
                    raise HttpError(
                        f"GET {shown} failed: HTTP {status}, server asks to retry after "
                        f"{wait:.0f}s (more than the {self.max_retry_after:.0f}s we wait)",
                        url=shown,
                        status=status,
                        headers=dict(resp.headers),
                    )
            self._wait_to_retry(shown, attempt, last_problem, status, wait, stop)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_to_retry(
        self,
        shown: str,
        attempt: int,
        problem: str,
        status: int | None,
        wait: float | None,
        stop: float,
    ) -> None:
        """Sleep before the next attempt of a GET; HttpError when that was the last attempt,
        or when the pause would reach `stop`."""
        if attempt >= self.max_retries:
            raise HttpError(
                f"GET {shown} failed after {attempt + 1} attempts: {problem}",
                url=shown,
                status=status,
            )
        pause = wait if wait is not None else self._backoff(attempt)
        if self._clock() + pause >= stop:
            raise HttpError(
                f"GET {shown} failed after {attempt + 1} attempt(s): {problem}; "
                "no time left in this run to retry",
                url=shown,
                status=status,
            )
        self._sleep(pause)

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> HttpResponse:
        """A POST (token requests, logins). It may not be idempotent, so it is retried only when
        the server says it did not process it: 429/503 *with* a Retry-After we are willing to
        wait. Connection errors, timeouts and other statuses fail at once. Error messages name
        the URL and status only, never the body, the headers or `auth`."""
        shown = redact_url(url)
        attempts = self.max_retries + 1
        stop = self._stop_at()
        self._check_target("POST", url)
        for attempt in range(attempts):
            timeout = self._timeout("POST", shown, stop)
            try:
                resp = self.session.post(
                    url,
                    data=dict(data) if data is not None else None,
                    json=json,
                    headers=dict(headers) if headers else None,
                    auth=auth,
                    timeout=timeout,
                    stream=True,
                    hooks={"response": self._check_redirect},
                )
            except requests.RequestException as exc:
                # the exception text names host/URL, never the body or credentials
                raise HttpError(f"POST {shown} failed: {type(exc).__name__}", url=shown) from None
            status = resp.status_code
            wait = _retry_after_seconds(resp.headers.get("Retry-After"))
            retryable = status in (429, 503) and wait is not None and wait <= self.max_retry_after
            in_time = wait is not None and self._clock() + wait < stop
            if retryable and in_time and attempt + 1 < attempts:
                resp.close()
                self._sleep(wait or 0.0)
                continue
            return self._response(resp, "POST", shown, stop)
        raise AssertionError("unreachable")  # pragma: no cover

    def _response(
        self, resp: requests.Response, method: str, shown: str, stop: float
    ) -> HttpResponse:
        """The final response, its body read; an HttpError for a status of 400 or more."""
        content = self._read_body(resp, shown, stop)
        if resp.status_code >= 400:
            raise HttpError(
                f"{method} {shown} failed: HTTP {resp.status_code}",
                url=shown,
                status=resp.status_code,
                body=content,
                headers=dict(resp.headers),
            )
        return HttpResponse(
            status=resp.status_code, headers=dict(resp.headers), content=content, url=resp.url
        )

    def _read_body(self, resp: requests.Response, shown: str, stop: float) -> bytes:
        """The body, at most `max_body_bytes`, read by `stop` (checked after every read)."""
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in _body_chunks(resp):
                if self._clock() > stop:
                    raise HttpError(
                        f"GET {shown}: the response took longer than "
                        f"{self.request_budget:.0f} s or the time left in this run",
                        url=shown,
                        status=resp.status_code,
                    )
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise HttpError(
                        f"GET {shown}: response larger than {self.max_body_bytes} bytes",
                        url=shown,
                        status=resp.status_code,
                    )
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise HttpError(f"GET {shown} failed while reading: {exc}", url=shown) from exc
        finally:
            resp.close()
        return b"".join(chunks)


def _body_chunks(resp: requests.Response) -> Iterator[bytes]:
    """The body in pieces as they arrive. A live urllib3 response is read with `read1`, which
    returns as soon as some bytes are there (a plain read waits for a whole chunk, so a slow
    drip could never be checked against the clock); decoded, at most a chunk at a time."""
    raw = getattr(resp, "raw", None)
    if isinstance(raw, urllib3.HTTPResponse):
        while chunk := raw.read1(BODY_CHUNK_BYTES, decode_content=True):
            yield chunk
    else:
        yield from resp.iter_content(chunk_size=BODY_CHUNK_BYTES)


# --------------------------------------------------------------------------------------------
# Replay


@dataclass(frozen=True)
class Recording:
    """One entry of `index.json`; see demo/recordings/README.md."""

    url: str
    body: str | None = None
    status: int = 200
    method: str = "GET"
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    note: str = ""

    def matches(self, base: str, query: dict[str, str]) -> bool:
        return self.url == base and all(query.get(k) == v for k, v in self.params.items())


def _split(url: str) -> tuple[str, dict[str, str]]:
    """(scheme://host/path, {param: value}) with the host lower-cased and the query decoded."""
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", "", ""))
    return base, dict(parse_qsl(parts.query, keep_blank_values=True))


class ReplayHttpClient:
    """Serves recorded responses from `recordings_dir/index.json`; never touches the network.

    A request matches an entry when scheme, host and path are equal and every parameter the
    entry lists (in its `params`, or in the query string of its `url`) has the same value;
    parameters the entry does not list are ignored. The entry with the most listed parameters
    wins. An unmatched request, or an entry with status >= 400, raises `HttpError` naming the URL,
    exactly like a live failure, so a missing recording shows up as a failing source.
    """

    # no server behind a recording: sources need not space out their requests (see Pacer)
    paced = False

    def __init__(self, recordings_dir: Path | str) -> None:
        self.recordings_dir = Path(recordings_dir)
        index_path = self.recordings_dir / "index.json"
        if not index_path.exists():
            raise FileNotFoundError(f"no recordings index at {index_path}")
        self.recordings: list[Recording] = []
        # index.json plus any index.<part>.json, so each source family keeps its own file
        for path in [index_path, *sorted(self.recordings_dir.glob("index.*.json"))]:
            self._load_index(path)
        self.calls: list[str] = []  # every URL requested, in order (handy in tests and the demo)

    def _load_index(self, index_path: Path) -> None:
        raw = json.loads(index_path.read_text(encoding="utf-8"))
        entries = raw.get("recordings", []) if isinstance(raw, dict) else raw
        for number, entry in enumerate(entries):
            try:
                base, in_url = _split(entry["url"])
                params = {**in_url, **{k: str(v) for k, v in entry.get("params", {}).items()}}
                self.recordings.append(
                    Recording(
                        url=base,
                        body=entry.get("body"),
                        status=int(entry.get("status", 200)),
                        method=entry.get("method", "GET").upper(),
                        params=params,
                        headers=dict(entry.get("headers", {})),
                        note=entry.get("note", ""),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{index_path}: recording #{number} is invalid: {exc!r}") from exc

    def until(self, deadline: float | None) -> ReplayHttpClient:
        """Recordings answer at once: no deadline to keep (HttpClient.until's twin)."""
        return self

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        return self._serve("GET", full_url(url, params))

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> HttpResponse:
        """Serves a `"method": "POST"` recording; the body and credentials are not matched."""
        return self._serve("POST", url)

    def _serve(self, method: str, wanted: str) -> HttpResponse:
        self.calls.append(wanted if method == "GET" else f"{method} {wanted}")
        base, query = _split(wanted)
        candidates = [r for r in self.recordings if r.method == method and r.matches(base, query)]
        if not candidates:
            raise HttpError(
                f"{method} {redact_url(wanted)} failed: HTTP 404 "
                "(no recording matches this request)",
                url=wanted,
                status=404,
            )
        rec = max(candidates, key=lambda r: len(r.params))
        content = b""
        if rec.body:
            path = (self.recordings_dir / rec.body).resolve()
            if not path.is_relative_to(self.recordings_dir.resolve()):
                raise HttpError(f"recording body {rec.body!r} is outside {self.recordings_dir}")
            content = path.read_bytes()
        if rec.status >= 400:
            raise HttpError(
                f"{method} {redact_url(wanted)} failed: HTTP {rec.status}",
                url=wanted,
                status=rec.status,
                body=content,
                headers=rec.headers,
            )
        return HttpResponse(status=rec.status, headers=rec.headers, content=content, url=wanted)


class AccessRefused(HttpError):
    """The platform refuses this client, not a passing outage: an API app without the
    platform's approval, or keyless access refused from this network (Reddit answers 403 to
    cloud IP ranges). Health shows the source as "refused" (needs approval) from the first run,
    so nobody waits for it to come back by itself."""
