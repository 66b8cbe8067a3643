"""GDELT DOC 2.0: worldwide online news in 65+ languages, no key, a rolling three-month window.

Requests
    ``GET https://api.gdeltproject.org/api/v2/doc/doc`` with ``mode=ArtList&format=json``,
    ``maxrecords=250`` (the most GDELT serves), ``sort=DateDesc`` and the window as
    ``startdatetime``/``enddatetime`` (``YYYYMMDDHHMMSS``, UTC). ``query`` is the topic's search
    terms ORed in parentheses (GDELT allows parentheses only around ORs), phrases quoted, ``*``
    dropped (GDELT has no wildcards; the local re-check still applies the prefix), terms under
    three characters left out (GDELT refuses them), at most TERMS_PER_QUERY terms a search. A
    topic with exactly one language adds ``sourcelang:<name>``.

Paging
    ArtList has no pages: a full answer (250 articles) narrows the window to what is older than
    the oldest article seen and asks again (as GitHub's 1,000-result cap is handled), within
    ``max_pages`` requests per search and run; see `stormwatch.sources.window`.

Items
    An article is its title, URL, ``domain``, ``language`` (an English name, "German") and
    ``sourcecountry``; ArtList gives no body text. ``seendate`` (``YYYYMMDDTHHMMSSZ``, when GDELT
    first saw the article) is the time. ``native_id`` is a hash of the URL without tracking
    parameters (URLs may be longer than an id may be). The author is the domain. GDELT searches
    the full text, stormwatch re-checks the title: articles whose headline does not name the
    topic count as "not matching".

Tone
    With ``tone: true`` each run also asks ``mode=TimelineTone`` and ``mode=TimelineVolRaw`` for
    the last TONE_HOURS and keeps the points (time, average tone, articles) in the source state
    (``SRC#gdelt`` / ``STATE#tone#<topic>``); the digest shows their article-weighted mean as
    "GDELT news tone" beside stormwatch's own sentiment. A failed tone request is a note, not a
    failed run.

Politeness and errors
    GDELT asks for at most one request every five seconds; requests are paced PACE_SECONDS apart.
    Errors arrive as plain text ("Please limit requests to one every 5 seconds…", "The specified
    phrase is too short.") rather than JSON: the run fails with that text. A search without
    results answers ``{}``. Control characters inside JSON strings are tolerated.

Cursor: see `stormwatch.sources.window` (the newest ``seendate`` and any owed range).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import ValidationError

from stormwatch.http import HttpError
from stormwatch.models import FetchResult, Mention, NewsTone, utc
from stormwatch.query import search_terms
from stormwatch.source_state import SourceState
from stormwatch.sources.base import HttpGetter, stable_id, strip_tracking
from stormwatch.sources.window import (
    Pacer,
    PacerPerClient,
    Page,
    WindowCursor,
    WindowScan,
    plan_next,
)
from stormwatch.watchlist import GdeltOptions, Topic

API_URL = "https://api.gdeltproject.org/api/v2/doc/doc"
MAX_RECORDS = 250
PACE_SECONDS = 5.5  # GDELT: one request every five seconds, with a margin
OVERLAP_SECONDS = 1800  # GDELT indexes in 15-minute batches; re-read two of them
TERMS_PER_QUERY = 10
MIN_TERM_CHARS = 3
WINDOW_DAYS = 90  # GDELT searches a rolling three months; nothing older can be asked for
TONE_HOURS = 48
TONE_STATE_DAYS = 3
SEENDATE = "%Y%m%dT%H%M%SZ"
WINDOW = "%Y%m%d%H%M%S"

# ISO 639-1 code <-> the language name GDELT uses in `language` and `sourcelang:`
LANGUAGES = {
    "ar": "Arabic",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "ja": "Japanese",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "zh": "Chinese",
}
_CODES = {name.casefold(): code for code, name in LANGUAGES.items()}


def tone_key(topic: str) -> str:
    """The source-state key of a topic's tone points."""
    return f"tone#{topic}"


def gdelt_term(term: str) -> str | None:
    """A search term as GDELT query text: `*` dropped, quoted when it is more than one word;
    None when GDELT would refuse it as too short."""
    text = term.strip().rstrip("*").replace('"', " ").strip()
    if len(text) < MIN_TERM_CHARS:
        return None
    return f'"{text}"' if any(not (ch.isalnum() or ch == "_") for ch in text) else text


def build_queries(topic: Topic) -> tuple[list[str], list[str]]:
    """(queries, notes): the topic's terms as GDELT searches, and the terms left out."""
    terms: list[str] = []
    notes: list[str] = []
    for raw in search_terms(topic):
        term = gdelt_term(raw)
        if term is None:
            notes.append(f"gdelt: term {raw!r} left out: GDELT refuses terms under 3 characters")
        elif term.casefold() not in {t.casefold() for t in terms}:
            terms.append(term)
    lang = LANGUAGES.get(topic.languages[0]) if len(topic.languages) == 1 else None
    suffix = f" sourcelang:{lang.lower()}" if lang else ""
    queries = []
    for i in range(0, len(terms), TERMS_PER_QUERY):
        chunk = terms[i : i + TERMS_PER_QUERY]
        ored = chunk[0] if len(chunk) == 1 else "(" + " OR ".join(chunk) + ")"
        queries.append(ored + suffix)
    return queries, notes


def parse_seendate(value: Any) -> datetime:
    """``YYYYMMDDTHHMMSSZ`` as aware UTC; ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"invalid seendate {value!r}")
    return datetime.strptime(value.strip(), SEENDATE).replace(tzinfo=UTC)


def parse_article(article: Any, topic: str, source: str = "gdelt") -> Mention:
    """One ArtList article as a Mention; ValueError naming the problem when it is unusable."""
    if not isinstance(article, dict):
        raise ValueError(f"malformed article: expected an object, got {type(article).__name__}")
    url = article.get("url")
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"malformed article: no http(s) url ({url!r:.80})")
    url = strip_tracking(url) or url
    try:
        seen = parse_seendate(article.get("seendate"))
    except ValueError as exc:
        raise ValueError(f"malformed article {url:.120}: {exc}") from None
    domain = article.get("domain") if isinstance(article.get("domain"), str) else ""
    country = article.get("sourcecountry")
    language = article.get("language")
    try:
        return Mention(
            topic=topic,
            source=source,
            native_id=stable_id(url),
            published=seen,
            title=str(article.get("title") or ""),
            url=url,
            author=domain,
            channel=" · ".join(p for p in (domain, country) if isinstance(p, str) and p),
            lang=_CODES.get(language.casefold()) if isinstance(language, str) else None,
        )
    except ValidationError as exc:
        raise ValueError(f"malformed article {url:.120}: {str(exc).splitlines()[0]}") from None


def load_body(resp: Any, what: str) -> dict[str, Any]:
    """A GDELT JSON answer; GDELT's plain-text errors become an HttpError quoting them."""
    text = resp.content.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text, strict=False) if text else {}
    except ValueError:
        first = text.splitlines()[0][:200] if text else "an empty body"
        raise HttpError(f"gdelt: {what}: {first}", url=getattr(resp, "url", "")) from None
    if not isinstance(data, dict):
        raise HttpError(f"gdelt: {what}: the answer is not a JSON object")
    return data


def parse_timeline(data: dict[str, Any]) -> dict[int, float]:
    """The first series of a Timeline* answer as {epoch seconds: value}; bad points left out."""
    series = data.get("timeline")
    if not isinstance(series, list) or not series or not isinstance(series[0], dict):
        return {}
    points: dict[int, float] = {}
    for point in series[0].get("data") or []:
        if not isinstance(point, dict):
            continue
        value = point.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        try:
            points[int(parse_seendate(point.get("date")).timestamp())] = float(value)
        except ValueError:
            continue
    return points


def tone_over(state: dict[str, Any] | None, start: datetime, end: datetime) -> NewsTone | None:
    """The article-weighted mean tone of the stored points in [start, end); None without any."""
    points = (state or {}).get("points")
    if not isinstance(points, list):
        return None
    lo, hi = start.timestamp(), end.timestamp()
    weighted = articles = 0.0
    for point in points:
        if not (isinstance(point, list) and len(point) == 3):
            continue
        at, tone, count = point
        if all(isinstance(v, int | float) for v in point) and lo <= at < hi and count > 0:
            weighted += tone * count
            articles += count
    if not articles:
        return None
    return NewsTone(tone=round(weighted / articles, 2), articles=int(articles))


class GdeltSource:
    """`gdelt`: news articles from the GDELT DOC 2.0 API (see the module docstring)."""

    name = "gdelt"
    secret_names: ClassVar[tuple[str, ...]] = ()
    # GDELT's rolling three months, a day of margin
    history: ClassVar[timedelta] = timedelta(days=WINDOW_DAYS - 1)

    def __init__(
        self,
        state: SourceState | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.state = state
        self.clock = clock
        self.sleep = sleep
        # one pacer for the life of the source (one invocation, every topic): GDELT's five
        # seconds are per client, so the next topic's first request waits too
        self._pacers = PacerPerClient()

    def _pacer_for(self, http: HttpGetter) -> Pacer:
        return self._pacers.for_client(http, PACE_SECONDS, sleep=self.sleep, clock=self.clock)

    def fetch(
        self,
        topic: Topic,
        cursor: str | None,
        http: HttpGetter,
        *,
        now: datetime,
        deadline: float | None = None,
    ) -> FetchResult:
        opts = topic.sources.gdelt or GdeltOptions()
        now_i = int(now.timestamp())
        queries, skipped = build_queries(topic)
        old = WindowCursor.read(cursor, skipped)
        pacer = self._pacer_for(http)
        oldest = now_i - WINDOW_DAYS * 86400 + 3600

        def fetcher(query: str) -> Callable[[int, int | None, int], Page]:
            def fetch_page(lo: int, hi: int | None, _page: int) -> Page:
                if not pacer.wait(deadline):
                    return Page(more=True, stop="time budget used up", requested=False)
                lo = max(lo, oldest)  # an old cursor cannot reach behind GDELT's window
                return self._page(http, query, topic.name, lo, hi if hi is not None else now_i)

            return fetch_page

        start = old.high if old.high is not None else now_i - opts.initial_lookback_hours * 3600
        run = WindowScan(
            budget=opts.max_pages,
            per_page=MAX_RECORDS,
            max_results=MAX_RECORDS,
            out_of_time=lambda: deadline is not None and self.clock() >= deadline,
        )
        owed = run.scan_all([(q, fetcher(q)) for q in queries], start - OVERLAP_SECONDS, old.gap)
        nxt = plan_next(old, start=start, newest=run.newest, owed=owed, now=now_i)
        if opts.tone and self.state is not None:
            notes = self._keep_tone(
                self.state, http, queries, topic.name, utc(now), pacer, deadline
            )
            skipped.extend(notes)
        return run.result(self.name, nxt, owed=bool(owed), skipped=skipped)

    def _page(self, http: HttpGetter, query: str, topic: str, lo: int, hi: int) -> Page:
        params = {
            "query": query,
            "mode": "ArtList",
            "format": "json",
            "maxrecords": MAX_RECORDS,
            "sort": "DateDesc",
            "startdatetime": _window(lo + 1),
            "enddatetime": _window(hi),
        }
        data = load_body(http.get(API_URL, params=params), f"ArtList {query!r}")
        articles = data.get("articles", [])
        if not isinstance(articles, list):
            raise HttpError(f"gdelt: ArtList {query!r}: 'articles' is not a list")
        page = Page(more=len(articles) >= MAX_RECORDS)
        for article in articles:
            try:
                page.mentions.append(parse_article(article, topic, self.name))
            except ValueError as exc:
                page.skipped.append(f"gdelt: {exc}")
        return page

    def _keep_tone(
        self,
        state: SourceState,
        http: HttpGetter,
        queries: list[str],
        topic: str,
        now: datetime,
        pacer: Pacer,
        deadline: float | None,
    ) -> list[str]:
        """Fetch and store the tone points of the first search; notes on what went wrong."""
        if not queries:
            return []
        window = {
            "query": queries[0],
            "format": "json",
            "startdatetime": (now - timedelta(hours=TONE_HOURS)).strftime(WINDOW),
            "enddatetime": now.strftime(WINDOW),
        }
        series: dict[str, dict[int, float]] = {}
        for mode in ("TimelineTone", "TimelineVolRaw"):
            if not pacer.wait(deadline):
                return ["gdelt: tone timeline skipped: time budget used up"]
            try:
                series[mode] = parse_timeline(
                    load_body(http.get(API_URL, params={**window, "mode": mode}), mode)
                )
            except HttpError as exc:
                return [f"gdelt: tone timeline not updated: {exc}"]
        counts = series["TimelineVolRaw"]
        points = [
            [at, round(tone, 4), int(counts[at])]
            for at, tone in sorted(series["TimelineTone"].items())
            if counts.get(at, 0) > 0
        ]
        expires = int(now.timestamp()) + TONE_STATE_DAYS * 86400
        state.put_source_state(self.name, tone_key(topic), {"points": points}, expires_at=expires)
        return []


def _window(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime(WINDOW)
