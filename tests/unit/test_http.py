"""The HTTP client (timeouts, retries, Retry-After, errors) and the replaying client."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests
from requests.adapters import BaseAdapter
from stormwatch.http import HttpClient, HttpError, ReplayHttpClient, default_user_agent
from stormwatch.query import compile_topic
from stormwatch.sources import get_source
from stormwatch.watchlist import Topic

REPO = Path(__file__).resolve().parents[2]
UA = "stormwatch/0.1.0 (+https://example.org/contact)"


class FakeAdapter(BaseAdapter):
    """A requests transport that answers from a script instead of the network."""

    def __init__(self, script: list) -> None:
        super().__init__()
        self.script = list(script)
        self.sent: list[tuple[requests.PreparedRequest, dict]] = []

    def send(self, request, **kwargs):
        self.sent.append((request, kwargs))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        status, headers, body = step
        resp = requests.Response()
        resp.status_code = status
        resp.headers.update(headers)
        resp.raw = io.BytesIO(body)
        resp.url = request.url
        resp.request = request
        return resp

    def close(self):
        pass


def client(script: list, **kwargs) -> tuple[HttpClient, FakeAdapter, list[float]]:
    adapter = FakeAdapter(script)
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    sleeps: list[float] = []
    http = HttpClient(UA, session=session, sleep=sleeps.append, rng=random.Random(1), **kwargs)
    return http, adapter, sleeps


def test_a_get_identifies_itself_uses_timeouts_and_returns_the_response():
    """Given a server answering 200 with JSON
    When fetched with parameters
    Then the request carries our User-Agent and (5, 20) timeouts, and the body is readable."""
    http, adapter, sleeps = client([(200, {"Content-Type": "application/json"}, b'{"hits": []}')])

    resp = http.get("https://hn.algolia.com/api/v1/search", params={"query": '"a b"', "page": 0})

    request, kwargs = adapter.sent[0]
    assert request.headers["User-Agent"] == UA
    assert kwargs["timeout"] == (5, 20)
    assert request.url == "https://hn.algolia.com/api/v1/search?query=%22a+b%22&page=0"
    assert resp.status == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == {"hits": []}
    assert sleeps == []


def test_default_user_agent_names_version_and_contact():
    """Given a contact When building the default UA Then it reads stormwatch/<v> (+contact)."""
    assert default_user_agent("mailto:ops@example.org").startswith("stormwatch/")
    assert default_user_agent("mailto:ops@example.org").endswith(" (+mailto:ops@example.org)")


def test_server_errors_are_retried_with_growing_jittered_backoff():
    """Given a server failing twice with 503 before answering
    When fetched
    Then it is retried after exponentially growing waits and the answer returned."""
    http, adapter, sleeps = client(
        [(503, {}, b""), (502, {}, b""), (200, {}, b"ok")], backoff_base=1.0
    )

    resp = http.get("https://example.org/feed")

    assert resp.content == b"ok"
    assert len(adapter.sent) == 3
    assert 1.0 <= sleeps[0] < 2.0
    assert 2.0 <= sleeps[1] < 3.0


def test_retry_after_is_honoured_in_seconds_and_as_a_date():
    """Given 429 answers with Retry-After as seconds and as an HTTP date
    When fetched
    Then the client waits what the server asked."""
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    http, _, sleeps = client(
        [(429, {"Retry-After": "7"}, b""), (429, {"Retry-After": soon}, b""), (200, {}, b"ok")]
    )

    http.get("https://example.org/api")

    assert sleeps[0] == 7
    assert 25 <= sleeps[1] <= 30


def test_a_retry_after_beyond_the_cap_fails_at_once():
    """Given a server asking to come back in an hour
    When fetched
    Then the client does not sleep through the Lambda's budget but fails, saying why."""
    http, adapter, sleeps = client([(429, {"Retry-After": "3600"}, b"")], max_retry_after=60)

    with pytest.raises(HttpError, match="retry after 3600s") as info:
        http.get("https://example.org/api")

    assert info.value.status == 429
    assert sleeps == []
    assert len(adapter.sent) == 1


def test_connection_errors_exhaust_the_retries_and_raise_naming_the_url():
    """Given a host that never connects
    When fetched with 3 retries
    Then 4 attempts are made and HttpError names the URL."""
    errors = [requests.ConnectionError("refused") for _ in range(4)]
    http, adapter, sleeps = client(errors, max_retries=3)

    with pytest.raises(HttpError, match=r"GET https://example\.org/feed failed after 4 attempts"):
        http.get("https://example.org/feed")

    assert len(adapter.sent) == 4
    assert len(sleeps) == 3
    assert sleeps == sorted(sleeps)


def test_a_client_error_is_not_retried_and_secrets_are_not_shown():
    """Given a 404 for a URL with an API key
    When fetched
    Then there is no retry, and the error names the URL and status but not the key."""
    http, adapter, sleeps = client([(404, {}, b"nope")])

    with pytest.raises(HttpError) as info:
        http.get("https://api.example.org/search", params={"q": "acme", "api_key": "s3cr3t"})

    message = str(info.value)
    assert "https://api.example.org/search?q=acme&api_key=***" in message
    assert "404" in message
    assert "s3cr3t" not in message
    assert len(adapter.sent) == 1
    assert sleeps == []


def test_an_oversized_body_is_refused():
    """Given a response larger than the limit When fetched Then HttpError says so."""
    http, _, _ = client([(200, {}, b"x" * 2048)], max_body_bytes=1024)

    with pytest.raises(HttpError, match="larger than 1024 bytes"):
        http.get("https://example.org/huge")


def test_a_non_json_body_raises_http_error_on_json():
    """Given an HTML error page with status 200 When read as JSON Then HttpError names the URL."""
    http, _, _ = client([(200, {}, b"<html>")])

    with pytest.raises(HttpError, match=r"example\.org/api: response is not valid JSON"):
        http.get("https://example.org/api").json()


# --------------------------------------------------------------------------------------------
# Replay


def write_index(folder: Path, recordings: list[dict], bodies: dict[str, bytes]) -> None:
    for name, body in bodies.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(body)
    (folder / "index.json").write_text(json.dumps({"recordings": recordings}))


def test_replay_serves_the_most_specific_matching_recording(tmp_path):
    """Given recordings for a URL with and without a page parameter
    When requests are replayed
    Then listed parameters must match, unlisted ones are ignored, and the most specific wins."""
    write_index(
        tmp_path,
        [
            {"url": "https://api.example/search", "params": {"q": "a"}, "body": "any.json"},
            {"url": "https://api.example/search?q=a&page=1", "body": "p1.json"},
        ],
        {"any.json": b'{"page": 0}', "p1.json": b'{"page": 1}'},
    )
    replay = ReplayHttpClient(tmp_path)

    assert replay.get("https://api.example/search", params={"q": "a", "page": 0}).json() == {
        "page": 0
    }
    assert replay.get("https://API.example/search", params={"page": "1", "q": "a"}).json() == {
        "page": 1
    }
    assert replay.calls[0] == "https://api.example/search?q=a&page=0"


def test_replay_fails_like_the_network_for_missing_or_failing_recordings(tmp_path):
    """Given an index with a 500 recording
    When an unknown URL or the failing one is requested
    Then HttpError names the URL and the status."""
    write_index(tmp_path, [{"url": "https://feeds.example/bad", "status": 500}], {})
    replay = ReplayHttpClient(tmp_path)

    with pytest.raises(HttpError, match=r"https://feeds\.example/other.*404.*no recording") as info:
        replay.get("https://feeds.example/other")
    assert info.value.status == 404
    with pytest.raises(HttpError, match="HTTP 500"):
        replay.get("https://feeds.example/bad")


def test_replay_refuses_bodies_outside_its_folder(tmp_path):
    """Given an index pointing outside the recordings folder When replayed Then it refuses."""
    folder = tmp_path / "rec"
    folder.mkdir()
    (tmp_path / "secret.txt").write_text("no")
    write_index(folder, [{"url": "https://x.example/", "body": "../secret.txt"}], {})

    with pytest.raises(HttpError, match="outside"):
        ReplayHttpClient(folder).get("https://x.example/")


# --------------------------------------------------------------------------------------------
# The demo recordings serve the example watchlist's requests

DEMO_NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ACME = Topic(
    name="acme-cloud",
    phrases=["acme cloud"],
    terms=["acmecloud"],
    exclude=["acme anvil"],
    sources={
        "hackernews": {"tags": ["story", "comment"]},
        "rss": {"google_news": {"accept_terms": True, "hl": "en-US", "gl": "US", "ceid": "US:en"}},
    },
)
BAHN = Topic(
    name="deutsche-bahn",
    phrases=["deutsche bahn", "db navigator"],
    terms=["bahnstreik"],
    exclude=["bahnhofskino"],
    languages=["de"],
    sources={
        "rss": {
            "google_news": {"accept_terms": True, "hl": "de", "gl": "DE", "ceid": "DE:de"},
            "feeds": ["https://www.tagesschau.de/xml/rss2/"],
        }
    },
)


def collect(topic: Topic) -> tuple[list, list[str]]:
    replay = ReplayHttpClient(REPO / "demo" / "recordings")
    mentions, skipped = [], []
    for name in topic.sources.enabled():
        result = get_source(name).fetch(topic, None, replay, now=DEMO_NOW)
        assert not result.truncated
        mentions += result.mentions
        skipped += result.skipped
    return mentions, skipped


def test_demo_recordings_cover_the_acme_cloud_topic_with_an_outage_burst():
    """Given the demo recordings and the demo clock
    When the acme-cloud topic is collected from Hacker News and Google News
    Then every request is served, a malformed hit is skipped, near misses are rejected locally,
    and the last two hours hold a burst of outage complaints."""
    mentions, skipped = collect(ACME)
    matcher = compile_topic(ACME)
    matched = [m for m in mentions if matcher.matches(m.full_text)]
    recent = [m for m in matched if m.published >= DEMO_NOW - timedelta(hours=2)]

    assert 30 <= len(mentions) <= 60
    assert skipped == ["malformed hit objectID=46915174: missing created_at_i"]
    assert len(mentions) - len(matched) >= 4  # acme anvil, ACME clouds, acmecloudsync, wine
    assert len(recent) >= 20
    assert sum("outage" in m.full_text.lower() or "down" in m.full_text for m in recent) >= 15
    assert any("<script>" in m.full_text for m in mentions)
    assert all(m.url is None or m.url.startswith("http") for m in mentions)
    assert min(m.published for m in mentions) >= DEMO_NOW - timedelta(hours=30)


def test_demo_recordings_cover_the_deutsche_bahn_topic_in_german():
    """Given the demo recordings
    When the deutsche-bahn topic is collected from Google News and tagesschau.de
    Then German mentions come back with lang "de" and unrelated news is rejected locally."""
    mentions, skipped = collect(BAHN)
    matcher = compile_topic(BAHN)
    matched = [m for m in mentions if matcher.matches(m.full_text)]

    assert 30 <= len(mentions) <= 60
    assert skipped == []
    assert {m.lang for m in mentions} == {"de"}
    assert 20 <= len(matched) < len(mentions)
    text = " ".join(m.full_text for m in matched)
    for word in ("Verspätung", "Bahnstreik", "pünktlich", "Danke"):
        assert word in text


def test_recorded_responses_are_not_paced_but_live_requests_are():
    """Given a pacer for a replay client and one for a live client
    When three requests are made through each
    Then only the live one waits between requests (politeness is for real servers)."""
    from stormwatch.http import HttpClient, ReplayHttpClient
    from stormwatch.sources.window import Pacer

    waits: list[float] = []
    now = [100.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    replay = ReplayHttpClient.__new__(ReplayHttpClient)
    live = HttpClient("stormwatch/test (+https://example.com)")
    for client in (replay, live):
        pacer = Pacer.for_client(client, 6.5, sleep=sleep, clock=lambda: now[0])
        for _ in range(3):
            assert pacer.wait(deadline=None)
    assert waits == [6.5, 6.5]
