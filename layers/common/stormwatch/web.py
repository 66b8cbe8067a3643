"""The web function's core: the storm page, feedback and unsubscribe behind signed links.

Pure apart from the store it is given: `WebApp.handle(WebRequest) -> WebResponse`. The Lambda
handler (functions/web/app.py) and `stormwatch serve` only translate HTTP to and from these
models. Every response carries the same security headers; a GET never changes anything (mail
scanners follow links), only the POST from a confirmation page or an RFC 8058 one-click POST
does, and each POST token only once (stormwatch.store, conditional put per token).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, quote

from pydantic import BaseModel, ConfigDict, Field

from stormwatch import i18n
from stormwatch.links import FEEDBACK_ACTIONS, POST_ACTIONS, LinkClaims, LinkSigner, TokenRefused
from stormwatch.models import ScoredMention, Surge, now_utc
from stormwatch.render import make_environment
from stormwatch.stormpage import build_storm_page, episode_window, render_storm_page, storm_csv
from stormwatch.timeutil import parse_timestamp
from stormwatch.watchlist import Topic, Watchlist

if TYPE_CHECKING:
    import jinja2

# a real request is a path, a ~250-character token and at most "List-Unsubscribe=One-Click"
MAX_BODY_BYTES = 1024
MAX_QUERY_CHARS = 2048
MAX_PATH_CHARS = 64
# a storm page beyond this many mentions shows the newest ones (and says so)
MAX_STORM_MENTIONS = 10_000
MUTE_FOR = timedelta(hours=24)
# the sorting/filtering script of the storm page; the CSP allows exactly this script by hash
_SCRIPT_NAME = "web/storm.js"


class WebRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    method: str
    path: str
    query: dict[str, str] = Field(default_factory=dict)
    body: bytes = b""

    @property
    def token(self) -> str:
        return self.query.get("t", "")


class WebResponse(BaseModel):
    status: int
    body: str
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = Field(default_factory=dict)


class RequestTooLarge(ValueError):
    """The request is larger than anything this function serves."""


def request_from_function_url(event: dict[str, Any]) -> WebRequest:
    """A Lambda Function URL event (payload 2.0) -> WebRequest, or RequestTooLarge."""
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "GET")).upper()
    path = str(event.get("rawPath") or "/")
    raw_query = str(event.get("rawQueryString") or "")
    body = event.get("body") or ""
    if len(path) > MAX_PATH_CHARS or len(raw_query) > MAX_QUERY_CHARS:
        raise RequestTooLarge("URL too long")
    if len(body) > MAX_BODY_BYTES * 2:  # base64 grows by a third; checked again below
        raise RequestTooLarge("body too large")
    data = base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode()
    if len(data) > MAX_BODY_BYTES:
        raise RequestTooLarge("body too large")
    query = {k: v[0] for k, v in parse_qs(raw_query, max_num_fields=10).items()}
    return WebRequest(method=method, path=path, query=query, body=data)


def response_to_function_url(response: WebResponse) -> dict[str, Any]:
    return {
        "statusCode": response.status,
        "headers": {"Content-Type": response.content_type, **response.headers},
        "body": response.body,
        "isBase64Encoded": False,
    }


class WebStore(Protocol):
    """What the web function reads and writes (stormwatch.store.Store)."""

    def surges_between(self, topic: str, start: datetime, end: datetime) -> list[Surge]: ...

    def mentions_between(
        self, topic: str, start: datetime, end: datetime
    ) -> list[ScoredMention]: ...

    def record_feedback(
        self, claims: LinkClaims, *, at: datetime, mute_until: datetime | None
    ) -> bool: ...

    def set_subscription(self, claims: LinkClaims, *, at: datetime, subscribed: bool) -> bool: ...


class WatchlistSource(Protocol):
    """The watchlist as it is now (stormwatch.watchlist_store.LiveWatchlist, FixedWatchlist)."""

    def get(self) -> Watchlist: ...


@dataclass(frozen=True)
class FixedWatchlist:
    """One watchlist that does not change (tests, the local demo's storm pages)."""

    watchlist: Watchlist

    def get(self) -> Watchlist:
        return self.watchlist


def script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def security_headers(script_sha: str) -> dict[str, str]:
    """On every response: nothing loads from anywhere, only our own script runs, forms post
    only to us, no page may frame us, no URL (with its token) leaks as a referrer."""
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src '{script_sha}'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    )
    return {
        "Content-Security-Policy": csp,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
        "Strict-Transport-Security": "max-age=31536000",
        "X-Robots-Tag": "noindex, nofollow",
    }


@dataclass
class WebApp:
    signer: LinkSigner
    store: WebStore
    # looked up per request: a topic pushed to the live watchlist gets its pages at once
    watchlist: WatchlistSource
    templates_dir: Path
    clock: Callable[[], datetime] = now_utc

    @cached_property
    def _env(self) -> jinja2.Environment:
        return make_environment(Path(self.templates_dir).resolve())

    @cached_property
    def _script(self) -> str:
        return (Path(self.templates_dir) / _SCRIPT_NAME).read_text(encoding="utf-8").strip()

    @cached_property
    def headers(self) -> dict[str, str]:
        return security_headers(script_hash(self._script))

    def handle(self, request: WebRequest) -> WebResponse:
        response = self._route(request)
        response.headers = {**response.headers, **self.headers}
        return response

    def too_large(self) -> WebResponse:
        return self.handle_error(413, "Request too large")

    def handle_error(self, status: int, heading: str) -> WebResponse:
        response = self._page(status, "en", "", heading, "")
        response.headers = {**response.headers, **self.headers}
        return response

    def _route(self, request: WebRequest) -> WebResponse:
        action = request.path.strip("/")
        if action not in ("storm", "storm.csv", *POST_ACTIONS):
            return self._page(404, "en", "", i18n.strings("en")["web_not_found"], "")
        if request.method not in ("GET", "POST"):
            return WebResponse(status=405, body="", headers={"Allow": "GET, POST"})
        if action in ("storm", "storm.csv"):
            if request.method != "GET":
                return WebResponse(status=405, body="", headers={"Allow": "GET"})
            return self._storm(request.token, csv=action == "storm.csv")
        return self._action(action, request)

    def _claims(self, token: str, action: str) -> tuple[LinkClaims, Topic]:
        claims = self.signer.verify(token, action, now=self.clock())
        topic = self.watchlist.get().find(claims.topic)
        if topic is None:  # the topic left the watchlist after the link was sent
            raise TokenRefused("this topic is no longer watched")
        return claims, topic

    def _refused(self, exc: TokenRefused) -> WebResponse:
        s = i18n.strings("en")
        return self._page(403, "en", "", s["web_refused"], str(exc).capitalize() + ".")

    # ---- the storm page and its CSV ---------------------------------------------------------

    def _storm(self, token: str, *, csv: bool) -> WebResponse:
        try:
            claims, topic = self._claims(token, "storm")
            surge = self._surge(claims)
        except TokenRefused as exc:
            return self._refused(exc)
        now = self.clock()
        start, end = episode_window(surge, now)
        mentions = self.store.mentions_between(topic.name, start, end)
        page = build_storm_page(
            topic, surge, mentions[-MAX_STORM_MENTIONS:], now=now, language=topic.digest.language
        )
        if csv:
            name = f"storm-{topic.name}-{surge.detected_at:%Y%m%dT%H%M}.csv"
            return WebResponse(
                status=200,
                body=storm_csv(page),
                content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        html = render_storm_page(
            page,
            self.templates_dir,
            csv_url=f"/storm.csv?t={quote(token, safe='')}",
            script=self._script,
        )
        return WebResponse(status=200, body=html)

    def _surge(self, claims: LinkClaims) -> Surge:
        try:
            at = parse_timestamp(claims.subject, "subject", naive_is_utc=True)
        except ValueError:
            raise TokenRefused("this link is not valid") from None
        found = self.store.surges_between(claims.topic, at, at)
        if not found:
            raise TokenRefused("this storm is no longer stored")
        return found[0]

    # ---- feedback, mute, unsubscribe: GET confirms, POST does --------------------------------

    def _action(self, action: str, request: WebRequest) -> WebResponse:
        try:
            claims, topic = self._claims(request.token, action)
        except TokenRefused as exc:
            return self._refused(exc)
        lang = topic.digest.language
        s = i18n.strings(lang)
        if request.method == "GET":
            when = i18n.fmt_datetime(_parse_iso(claims.subject), lang, topic.digest.timezone)
            message = s[f"web_confirm_{action}"].replace("{when}", when)
            return self._page(
                200,
                lang,
                topic.title,
                s["web_confirm"],
                message,
                form_action=f"/{action}?t={quote(request.token, safe='')}",
                button=s["web_confirm"],
            )
        return self._do(action, claims, topic)

    def _do(self, action: str, claims: LinkClaims, topic: Topic) -> WebResponse:
        now = self.clock()
        lang = topic.digest.language
        s = i18n.strings(lang)
        back: dict[str, str] = {}
        if action in FEEDBACK_ACTIONS:
            until = now + MUTE_FOR if action == "mute" else None
            done = self.store.record_feedback(claims, at=now, mute_until=until)
            message = s["web_done_feedback"]
            if until is not None:
                when = i18n.fmt_datetime(until, lang, topic.digest.timezone)
                message = s["web_done_mute"].replace("{until}", when)
        else:
            subscribed = action == "resubscribe"
            done = self.store.set_subscription(claims, at=now, subscribed=subscribed)
            message = s[f"web_done_{action}"]
            if not subscribed:
                token = self.signer.issue("resubscribe", claims.topic, claims.subject, now=now)
                back = {
                    "back_action": f"/resubscribe?t={quote(token, safe='')}",
                    "back_hint": s["web_resubscribe_hint"],
                    "back_button": s["web_resubscribe"],
                }
        if not done:
            return self._page(409, lang, topic.title, s["web_refused"], s["web_used"])
        return self._page(200, lang, topic.title, s["web_done"], message, **back)

    def _page(
        self, status: int, lang: str, topic_title: str, heading: str, message: str, **extra: str
    ) -> WebResponse:
        context = {
            "lang": i18n.lang_or_default(lang),
            "tz": "UTC",
            "subject": heading,
            "topic_title": topic_title,
            "heading": heading,
            "message": message,
            "form_action": "",
            "button": "",
            "back_action": "",
            "back_hint": "",
            "back_button": "",
            **extra,
        }
        html = self._env.get_template("web/confirm.html.j2").render(context)
        return WebResponse(status=status, body=html)


def _parse_iso(value: str) -> datetime | None:
    try:
        return parse_timestamp(value, "subject", naive_is_utc=True)
    except ValueError:
        return None  # an unsubscribe subject is a recipient ref, not a time
