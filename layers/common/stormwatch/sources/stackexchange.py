"""Stack Exchange (Stack Overflow, Server Fault, …) through API 2.3 `/search/advanced`.

Requests
    One search per configured site and search term of the topic: ``site=<site>``, ``q=<term>``
    (free text matched against title and body; multi-word terms quoted), ``fromdate``/``todate``
    (epoch seconds, both inclusive) for the window, ``sort=creation&order=desc``,
    ``pagesize=100``, ``page=1,2,…`` while ``has_more``, ``filter=withbody`` (the default fields
    plus the question body as HTML), ``tagged=a;b`` when configured, and ``key`` when the SSM
    parameter ``stackexchange/key`` exists (a key raises the daily quota from 300 to 10,000
    requests per IP; it is not a secret in Stack Exchange's sense but is kept in SSM anyway).

Throttling, as the API documents it
    * every response may carry ``backoff`` (seconds): no request to the same method before it
      has passed. Up to `MAX_INLINE_BACKOFF` seconds are slept (within the run's deadline);
      a longer one stops the run and is kept in the cursor as ``not_before``, so the next
      scheduled run does not call the API early;
    * ``quota_remaining`` 0 stops the run (the daily quota is used up);
    * errors arrive as HTTP 400 with ``error_id``/``error_name``/``error_message`` (502
      ``throttle_violation``: "too many requests from this IP, more requests available in N
      seconds"), which become the source's health message.

Items
    Titles and owner names arrive HTML-escaped (``&amp;``, ``&#39;``) and are unescaped; the
    body is HTML and becomes text. Content is licensed CC BY-SA (``content_license``, e.g.
    "CC BY-SA 4.0"): `Mention.channel` is ``"<site> · <licence> · <author profile URL>"`` and
    `Mention.author` the display name, which with `Mention.url` (the question) is what the
    attribution needs; `stormwatch.attribution.credit_of` reads it back for the digest, the
    alert and the storm page.

Cursor: see `stormwatch.sources.window` (creation dates, epoch seconds).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import ValidationError

from stormwatch.attribution import stackexchange_channel
from stormwatch.http import HttpError
from stormwatch.models import FetchResult, Mention
from stormwatch.query import search_terms
from stormwatch.sources.base import HttpGetter, KeyedSource, html_to_text, strip_tracking
from stormwatch.sources.window import (
    Pacer,
    Page,
    WindowCursor,
    WindowScan,
    json_error,
    load_json,
    plan_next,
)
from stormwatch.watchlist import StackExchangeOptions, Topic

API_URL = "https://api.stackexchange.com/2.3/search/advanced"
OVERLAP_SECONDS = 600
MAX_INLINE_BACKOFF = 10.0  # seconds we sleep inside a run for a `backoff`; longer stops it
PACE_SECONDS = 0.5  # Stack Exchange throttles above 30 requests/s per IP; we stay far below
# sites whose content is in one language (the rest are English or mixed: no tag)
SITE_LANGUAGES = {"es.stackoverflow": "es", "pt.stackoverflow": "pt", "ru.stackoverflow": "ru"}
SITE_LANGUAGES["ja.stackoverflow"] = "ja"


def se_query(term: str) -> str:
    """A search term as `q`: `*` dropped, quoted when it is more than one word."""
    text = term.strip().rstrip("*").strip()
    if any(not (ch.isalnum() or ch == "_") for ch in text):
        text = '"' + text.replace('"', " ").strip() + '"'
    return text


def _unescape(value: Any) -> str:
    return html.unescape(value) if isinstance(value, str) else ""


def parse_question(item: Any, topic: str, site: str, source: str = "stackexchange") -> Mention:
    """One `/search/advanced` item as a Mention; raises ValueError when it is unusable."""
    if not isinstance(item, dict):
        raise ValueError(f"malformed item: expected an object, got {type(item).__name__}")
    qid = item.get("question_id")
    if isinstance(qid, bool) or not isinstance(qid, int | str) or str(qid).strip() == "":
        raise ValueError("malformed item: missing question_id")
    created = item.get("creation_date")
    if isinstance(created, bool) or not isinstance(created, int | float):
        problem = "missing" if created is None else f"invalid ({created!r})"
        raise ValueError(f"malformed item question_id={qid}: {problem} creation_date")
    owner = o if isinstance(o := item.get("owner"), dict) else {}
    author = _unescape(owner.get("display_name"))
    license_ = lic if isinstance(lic := item.get("content_license"), str) else ""
    profile = p if isinstance(p := owner.get("link"), str) else ""
    channel = stackexchange_channel(site, license_.strip(), profile)
    score = s if isinstance(s := item.get("score"), int) else 0
    answers = a if isinstance(a := item.get("answer_count"), int) else 0
    try:
        return Mention(
            topic=topic,
            source=source,
            native_id=f"{site}:{qid}",
            published=datetime.fromtimestamp(int(created), tz=UTC),
            title=_unescape(item.get("title")),
            text=html_to_text(item.get("body") if isinstance(item.get("body"), str) else ""),
            url=strip_tracking(item["link"]) if isinstance(item.get("link"), str) else None,
            author=author,
            engagement=max(0, score) + max(0, answers),
            channel=channel,
            lang=SITE_LANGUAGES.get(site),
        )
    except (ValidationError, OverflowError, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0]
        raise ValueError(f"malformed item question_id={qid}: {reason}") from exc


_MORE_IN = re.compile(r"available in (\d+) seconds")


class StackExchangeSource(KeyedSource):
    """`stackexchange`: questions from `/2.3/search/advanced` (see the module docstring)."""

    name = "stackexchange"
    secret_names: ClassVar[tuple[str, ...]] = ("stackexchange/key",)
    # the search filters by creation date, any age
    history: ClassVar[timedelta] = timedelta(days=3650)

    def fetch(
        self,
        topic: Topic,
        cursor: str | None,
        http: HttpGetter,
        *,
        now: datetime,
        deadline: float | None = None,
    ) -> FetchResult:
        opts = topic.sources.stackexchange or StackExchangeOptions()
        now_i = int(now.timestamp())
        skipped: list[str] = []
        old = WindowCursor.read(cursor, skipped)
        if (when := old.waiting_until(now_i)) is not None:
            return FetchResult(
                cursor=cursor,
                skipped=[f"stackexchange: backing off until {when} as the API asked; not called"],
                truncated=True,
            )
        key = self.secrets.get("stackexchange/key")
        pacer = Pacer.for_client(http, PACE_SECONDS, sleep=self.sleep, clock=self.clock)
        state: dict[str, Any] = {"backoff_until": None, "not_before": None}

        def out_of_time() -> bool:
            return deadline is not None and self.clock() >= deadline

        def fetcher(site: str, query: str) -> Callable[[int, int | None, int], Page]:
            def fetch_page(lo: int, hi: int | None, page: int) -> Page:
                # obey a `backoff` from the previous response before the next request
                until = state["backoff_until"]
                if until is not None and self.clock() < until:
                    wait = until - self.clock()
                    if deadline is not None and self.clock() + wait >= deadline:
                        return Page(more=True, stop="time budget used up", requested=False)
                    self.sleep(wait)
                if not pacer.wait(deadline):
                    return Page(more=True, stop="time budget used up", requested=False)
                params: dict[str, Any] = {
                    "site": site,
                    "q": query,
                    "fromdate": lo + 1,
                    "sort": "creation",
                    "order": "desc",
                    "pagesize": 100,
                    "page": page,
                    "filter": "withbody",
                }
                if hi is not None:
                    params["todate"] = hi
                if opts.tagged:
                    params["tagged"] = ";".join(opts.tagged)
                if key:
                    params["key"] = key
                try:
                    data = load_json(http.get(API_URL, params=params))
                except HttpError as exc:
                    raise _explain(exc, site) from exc
                return self._page(data, topic.name, site, query, state, now_i)

            return fetch_page

        start = old.start(now_i, opts.initial_lookback_hours * 3600)
        pairs = [(site, se_query(t)) for site in opts.sites for t in search_terms(topic)]
        searches = [(f"{site} {query!r}", fetcher(site, query)) for site, query in pairs]
        run = WindowScan(budget=opts.max_pages, out_of_time=out_of_time)
        owed = run.scan_all(searches, start - OVERLAP_SECONDS, old.gap)
        nxt = plan_next(old, start=start, newest=run.newest, owed=owed, now=now_i)
        nxt.not_before = state["not_before"]
        return run.result("stackexchange", nxt, owed=bool(owed), skipped=skipped)

    def _page(
        self, data: Any, topic: str, site: str, query: str, state: dict[str, Any], now_i: int
    ) -> Page:
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise HttpError(f"GET {API_URL} (site={site}, q={query!r}): response has no items list")
        page = Page(more=data.get("has_more") is True)
        for item in data["items"]:
            try:
                page.mentions.append(parse_question(item, topic, site, self.name))
            except ValueError as exc:
                page.skipped.append(f"{site}: {exc}")
        backoff = data.get("backoff")
        if isinstance(backoff, int | float) and not isinstance(backoff, bool) and backoff > 0:
            state["backoff_until"] = self.clock() + float(backoff)
            if backoff > MAX_INLINE_BACKOFF and page.more:
                state["not_before"] = now_i + int(backoff) + 1
                page.stop = f"the API asked to back off {int(backoff)}s (kept in the cursor)"
        remaining = data.get("quota_remaining")
        if isinstance(remaining, int) and remaining <= 0 and page.more:
            page.stop = (
                f"daily request quota of {data.get('quota_max', '?')} used up "
                "(quota_remaining 0); configure stackexchange/key for 10,000 a day"
            )
        return page


def _explain(exc: HttpError, site: str) -> HttpError:
    """An HttpError whose message carries the API's own error name and message."""
    body = json_error(exc)
    name, message = body.get("error_name"), body.get("error_message")
    if not name:
        return exc
    text = f"stackexchange {site}: {name} ({body.get('error_id', '?')}): {message}"
    if name == "throttle_violation" and (m := _MORE_IN.search(str(message or ""))):
        text += f" — the API accepts requests again in {m.group(1)} s"
    return HttpError(text, url=exc.url, status=exc.status, body=exc.body, headers=exc.headers)
