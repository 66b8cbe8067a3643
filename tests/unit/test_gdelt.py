"""GDELT DOC 2.0: queries, parsing the documented ArtList shape, the window and its 250-article
cap, plain-text errors, politeness, and the tone timeline kept for the digest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stormwatch.collector import collect_topic
from stormwatch.http import HttpError, HttpResponse
from stormwatch.source_state import MemorySourceState
from stormwatch.sources import get_source
from stormwatch.sources.gdelt import (
    API_URL,
    MAX_RECORDS,
    OVERLAP_SECONDS,
    PACE_SECONDS,
    GdeltSource,
    build_queries,
    parse_article,
    parse_seendate,
    tone_key,
    tone_over,
)
from stormwatch.sources.window import WindowCursor
from stormwatch.watchlist import Topic

from tests.support.fakes import MemoryStore

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "sources" / "gdelt"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
NOW_I = int(NOW.timestamp())


def topic(languages=("en", "de"), **gdelt) -> Topic:
    return Topic(
        name="acme-cloud",
        phrases=["acme cloud"],
        terms=["acmecloud"],
        languages=list(languages),
        sources={"gdelt": gdelt},
    )


def seendate(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y%m%dT%H%M%SZ")


def article(n: int, ts: int) -> dict:
    return {
        "url": f"https://news.example/{n}",
        "title": f"Acme Cloud story {n}",
        "seendate": seendate(ts),
        "domain": "news.example",
        "language": "English",
        "sourcecountry": "United States",
    }


def _epoch(window: str) -> int:
    return int(datetime.strptime(window, "%Y%m%d%H%M%S").replace(tzinfo=UTC).timestamp())


class FakeGdelt:
    """Answers like the DOC API: ArtList over fixed articles within [start, end], newest first,
    at most 250; Timeline* modes from fixture files; or a fixed body for every request."""

    def __init__(self, articles=(), *, body: bytes | None = None, timelines=None):
        self.articles = list(articles)
        self.body = body
        self.timelines = timelines or {}
        self.requests: list[dict] = []

    def get(self, url, params=None, headers=None):
        assert url == API_URL
        params = {k: str(v) for k, v in (params or {}).items()}
        self.requests.append(params)
        if self.body is not None:
            return HttpResponse(200, {"Content-Type": "text/html"}, self.body, url)
        if params["mode"] != "ArtList":
            return self._json(self.timelines.get(params["mode"], {}))
        lo, hi = _epoch(params["startdatetime"]), _epoch(params["enddatetime"])
        hits = [
            a for a in self.articles if lo <= int(parse_seendate(a["seendate"]).timestamp()) <= hi
        ]
        hits.sort(key=lambda a: a["seendate"], reverse=True)
        return self._json({"articles": hits[: int(params["maxrecords"])]} if hits else {})

    @staticmethod
    def _json(data) -> HttpResponse:
        return HttpResponse(200, {"Content-Type": "application/json"}, json.dumps(data).encode())


class FixedAnswer:
    """The same answer for every request (a recorded response, whatever the window)."""

    def __init__(self, body: bytes):
        self.body = body

    def get(self, url, params=None, headers=None):
        return HttpResponse(200, {"Content-Type": "application/json"}, self.body, url)


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def source(state=None, sleeps=None) -> GdeltSource:
    clock = {"t": 0.0}

    def sleep(seconds: float) -> None:
        (sleeps if sleeps is not None else []).append(seconds)
        clock["t"] += seconds

    return GdeltSource(state, clock=lambda: clock["t"], sleep=sleep)


# --- queries ---


def test_terms_become_one_ored_search_with_phrases_quoted():
    """Given a topic with a phrase, a term, a prefix and a two-letter term
    When its GDELT searches are built
    Then the usable terms are ORed in parentheses, the prefix loses its `*`, and the short
    term is left out with a note (GDELT refuses it)."""
    subject = Topic(
        name="t", phrases=["acme cloud"], terms=["acmecloud", "acmeclo*", "ac"], sources={}
    )
    queries, notes = build_queries(subject)
    assert queries == ['("acme cloud" OR acmecloud OR acmeclo) sourcelang:english']
    assert notes == ["gdelt: term 'ac' left out: GDELT refuses terms under 3 characters"]


def test_a_single_term_has_no_parentheses_and_many_languages_no_filter():
    """Given a one-term topic in English and German
    When its searches are built
    Then the term stands alone (GDELT allows parentheses only around ORs) and no sourcelang
    filter narrows it."""
    subject = Topic(name="t", terms=["acmecloud"], languages=["en", "de"], sources={})
    assert build_queries(subject) == (["acmecloud"], [])


# --- parsing the documented shape ---


def test_articles_in_the_documented_shape_become_mentions_and_bad_ones_are_counted():
    """Given an ArtList answer with good articles and malformed ones
    When it is collected
    Then each good article is a mention (title, URL without tracking, the domain as author,
    the language as an ISO code) and each bad one is skipped with its reason."""
    http = FixedAnswer(json.dumps(fixture("artlist_edge_cases.json")).encode())
    result = source().fetch(topic(tone=False), None, http, now=NOW)

    by_title = {m.title: m for m in result.mentions}
    assert len(result.mentions) == 4
    outage = by_title["Acme Cloud outage hits customers across Europe"]
    assert outage.url == ("https://news.example/tech/2026/11/25/acme-cloud-outage-hits-europe")
    assert outage.author == "news.example"
    assert outage.lang == "en"
    assert outage.channel == "news.example · United Kingdom"
    assert outage.published == datetime(2026, 11, 25, 8, 15, tzinfo=UTC)
    assert by_title["Störung bei Acme Cloud: Tausende Kunden betroffen"].lang == "de"
    assert by_title["Acme Cloud launches a new region in Frankfurt"].lang is None  # Klingon
    reasons = " | ".join(result.skipped)
    assert len(result.skipped) == 4
    assert "invalid seendate" in reasons or "does not match format" in reasons
    assert "no http(s) url (None)" in reasons
    assert "expected an object, got str" in reasons
    assert "javascript:alert(1)" in reasons


def test_the_collector_rechecks_titles_and_stores_only_matching_articles():
    """Given the edge-case answer, collected for the topic
    When the collector re-checks each headline against the topic
    Then the article whose headline does not name it is "not matching", the rest are stored."""
    http = FixedAnswer(json.dumps(fixture("artlist_edge_cases.json")).encode())
    store = MemoryStore()
    report = collect_topic(source(), topic(tone=False), store, http, now=NOW)
    assert report.ok and report.fetched == 4
    assert report.not_matching == 1  # "Cloud providers slide …"
    assert report.new == 3
    assert len(report.skipped) == 4


def test_control_characters_inside_strings_do_not_lose_the_answer():
    """Given an answer whose title contains a raw control character (GDELT sends some)
    When it is collected
    Then the article is still read, the control character removed."""
    body = (
        b'{"articles": [{"url": "https://n.example/1", "title": "Acme Cloud\x07 down", '
        b'"seendate": "20261125T080000Z", "domain": "n.example", "language": "English"}]}'
    )
    http = FixedAnswer(body)
    result = source().fetch(topic(tone=False), None, http, now=NOW)
    assert [m.title for m in result.mentions] == ["Acme Cloud down"]


@pytest.mark.parametrize(
    "body",
    [
        b"Please limit requests to one every 5 seconds or contact kalev.leetaru5@gmail.com "
        b"for larger queries.",
        b"The specified phrase is too short.",
    ],
)
def test_a_plain_text_error_fails_the_run_quoting_gdelt(body):
    """Given GDELT answering with its plain-text error instead of JSON
    When the topic is collected
    Then the source fails with GDELT's own words and the checkpoint keeps its cursor."""
    store = MemoryStore()
    report = collect_topic(source(), topic(tone=False), store, FakeGdelt(body=body), now=NOW)
    assert not report.ok
    assert body.decode()[:40] in report.error
    assert store.get_checkpoint("gdelt", "acme-cloud").cursor is None


def test_no_results_is_an_empty_object_and_the_cursor_still_moves():
    """Given GDELT answering {} (no articles in the window)
    When collected
    Then there are no mentions and the next run starts at this run's window start."""
    result = source().fetch(topic(tone=False, initial_lookback_hours=2), None, FakeGdelt(), now=NOW)
    assert result.mentions == [] and not result.truncated
    assert WindowCursor.parse(result.cursor).high == NOW_I - 2 * 3600


# --- window, cap, politeness ---


def test_the_next_run_reads_from_the_newest_article_with_an_overlap():
    """Given a first run that saw an article at 08:00
    When the next run asks
    Then its window starts at 08:00 minus the overlap (GDELT indexes in batches)."""
    at = NOW_I - 3600
    http = FakeGdelt([article(1, at)])
    first = source().fetch(topic(tone=False), None, http, now=NOW)
    assert WindowCursor.parse(first.cursor).high == at
    source().fetch(topic(tone=False), first.cursor, http, now=NOW + timedelta(minutes=30))
    assert _epoch(http.requests[-1]["startdatetime"]) == at - OVERLAP_SECONDS + 1


def test_a_full_answer_narrows_the_window_and_an_exhausted_budget_is_owed():
    """Given 600 articles in the window (GDELT serves at most 250 per request)
    When a run with a budget of 2 requests collects, and then the next run
    Then the first run narrows to older articles, stops owing the rest in its cursor, and the
    second run fills the owed range: all 600 are read, none twice."""
    articles = [article(n, NOW_I - 60 * n) for n in range(1, 601)]
    http = FakeGdelt(articles)
    first = source().fetch(topic(tone=False, max_pages=2), None, http, now=NOW)
    assert len(first.mentions) == 2 * MAX_RECORDS - 1  # the narrowing re-reads one second
    assert first.truncated
    assert _epoch(http.requests[1]["enddatetime"]) < _epoch(http.requests[0]["enddatetime"])
    cursor = WindowCursor.parse(first.cursor)
    assert cursor.gap is not None
    second = source().fetch(topic(tone=False, max_pages=5), first.cursor, http, now=NOW)
    seen = {m.native_id for m in first.mentions} | {m.native_id for m in second.mentions}
    assert len(seen) == 600


def test_requests_are_paced_five_seconds_apart_but_replays_are_not():
    """Given a run that makes three requests (the article list and two tone timelines)
    When it runs against a live-like client and against a replay client
    Then live requests wait at least five seconds each; replays do not wait."""
    sleeps: list[float] = []
    http = FakeGdelt([article(1, NOW_I - 60)])
    source(MemorySourceState(), sleeps).fetch(topic(), None, http, now=NOW)
    assert len(http.requests) == 3
    assert sleeps == [PACE_SECONDS, PACE_SECONDS] and PACE_SECONDS >= 5

    replay_sleeps: list[float] = []
    http.paced = False
    source(MemorySourceState(), replay_sleeps).fetch(topic(), None, http, now=NOW)
    assert replay_sleeps == []


def test_an_old_cursor_asks_no_further_back_than_gdelts_three_months():
    """Given a cursor from 200 days ago (the source was off for months)
    When the next run asks
    Then its window starts inside GDELT's rolling three months."""
    http = FakeGdelt()
    old = WindowCursor(high=NOW_I - 200 * 86400).dump()
    source().fetch(topic(tone=False), old, http, now=NOW)
    start = _epoch(http.requests[0]["startdatetime"])
    assert NOW_I - 90 * 86400 < start < NOW_I - 89 * 86400


def test_pacing_holds_across_topics_of_one_run():
    """Given one collect invocation that runs two topics back to back (tone off)
    When the second topic's first request follows the first topic's
    Then it waits too: GDELT's five seconds are per client, not per topic."""
    sleeps: list[float] = []
    gdelt = source(None, sleeps)
    http = FakeGdelt([article(1, NOW_I - 60)])
    gdelt.fetch(topic(tone=False), None, http, now=NOW)
    gdelt.fetch(topic(tone=False), None, http, now=NOW)
    assert len(http.requests) == 2 and sleeps == [PACE_SECONDS]


# --- tone ---


def tone_client() -> FakeGdelt:
    return FakeGdelt(
        [article(1, NOW_I - 60)],
        timelines={
            "TimelineTone": fixture("timeline_tone.json"),
            "TimelineVolRaw": fixture("timeline_volraw.json"),
        },
    )


def test_the_tone_timeline_is_kept_for_the_digest_weighted_by_articles():
    """Given GDELT's tone and article-count timelines for the topic
    When the run keeps them and the digest asks for the last 24 hours
    Then the tone is the article-weighted mean of the usable points: (1.5·2 − 2·3 − 4·1)/6."""
    state = MemorySourceState()
    http = tone_client()
    result = source(state).fetch(topic(), None, http, now=NOW)
    assert result.skipped == []
    modes = [r["mode"] for r in http.requests]
    assert modes == ["ArtList", "TimelineTone", "TimelineVolRaw"]
    assert http.requests[1]["query"] == http.requests[0]["query"]

    stored = state.get_source_state("gdelt", tone_key("acme-cloud"))
    tone = tone_over(stored, NOW - timedelta(hours=24), NOW)
    assert tone is not None
    assert tone.articles == 6
    assert tone.tone == pytest.approx(-7 / 6, abs=0.01)
    assert tone_over(stored, NOW - timedelta(hours=1), NOW).articles == 1
    assert tone_over(stored, NOW, NOW + timedelta(hours=1)) is None
    assert tone_over(None, NOW - timedelta(hours=24), NOW) is None


def test_a_failed_tone_request_is_a_note_not_a_failed_run():
    """Given GDELT failing the tone timeline after serving the articles
    When the topic is collected
    Then the articles are stored, the run is ok, and a note says the tone was not updated."""
    http = tone_client()
    real_get = http.get

    def get(url, params=None, headers=None):
        if params["mode"] == "TimelineTone":
            raise HttpError("GET api.gdeltproject.org: HTTP 503", status=503)
        return real_get(url, params, headers)

    http.get = get
    store = MemoryStore()
    report = collect_topic(source(MemorySourceState()), topic(), store, http, now=NOW)
    assert report.ok and report.new == 1
    assert any("tone timeline not updated" in note for note in report.skipped)


def test_the_registry_builds_gdelt_with_the_state_store():
    """Given a state store
    When the registry builds the gdelt source
    Then it keeps the tone there, and it needs no secret."""
    state = MemorySourceState()
    built = get_source("gdelt", state=state)
    assert built.state is state and built.secret_names == ()


# --- properties ---


@given(st.datetimes(min_value=datetime(2017, 1, 1), max_value=datetime(2100, 1, 1)))
def test_seendate_reads_back_what_gdelt_writes(moment):
    """Any second GDELT can write as YYYYMMDDTHHMMSSZ reads back as that UTC moment."""
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    assert parse_seendate(moment.strftime("%Y%m%dT%H%M%SZ")) == moment


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@given(
    st.dictionaries(
        st.sampled_from(["url", "title", "seendate", "domain", "language", "sourcecountry"]),
        _JSON | st.just("20261125T080000Z") | st.just("https://x.example/a"),
    )
    | _JSON
)
def test_any_json_article_is_a_mention_or_a_clear_value_error(raw):
    """Whatever an article entry holds, parsing gives a Mention or a ValueError, never a crash."""
    try:
        mention = parse_article(raw, "t")
    except ValueError as exc:
        assert str(exc)
    else:
        assert mention.url and mention.url.startswith("http")
