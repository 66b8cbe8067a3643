"""Mastodon: hashtag timelines per instance, min_id paging, dedupe on uri, refusing instances."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from stormwatch.backfill import MAX_DAYS
from stormwatch.collector import collect_source, collect_topic
from stormwatch.http import HttpError, HttpResponse
from stormwatch.sources import get_source
from stormwatch.sources.mastodon import hashtags_for, link_min_id, parse_status
from stormwatch.watchlist import MastodonOptions, Topic

from tests.support.fakes import MemoryStore

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("STORMWATCH_SHARED", REPO.parent / "shared")) / "payloads"
FIXTURES = REPO / "tests" / "fixtures" / "sources" / "mastodon"
A, B = "https://a.example", "https://b.example"


def topic(**opts) -> Topic:
    opts.setdefault("instances", [A])
    return Topic(
        name="acme-cloud",
        phrases=["acme cloud"],
        terms=["acmecloud"],
        sources={"mastodon": opts},
    )


def shared(name: str) -> dict:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"shared payload {path} not found (set STORMWATCH_SHARED to ../shared)")
    return json.loads(path.read_text(encoding="utf-8"))


def status(n: int, *, home: str = A, minutes_ago: int = 0) -> dict:
    """Toot n as its home instance publishes it (other instances give it their own `id`)."""
    return {
        "id": str(1000 + n),
        "created_at": (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "uri": f"{home}/users/u{n}/statuses/{n}",
        "url": f"{home}/@u{n}/{n}",
        "content": f"<p>Acme Cloud toot {n}</p>",
        "account": {"acct": f"u{n}", "url": f"{home}/@u{n}"},
        "reblogs_count": 1,
        "favourites_count": 1,
        "replies_count": 1,
        "reblog": None,
        "language": "en",
    }


class FakeInstances:
    """Public tag timelines: newest first; `min_id` gives the page just above it, with Link."""

    def __init__(self, timelines: dict[str, list[dict]], page_size: int = 40) -> None:
        self.timelines = timelines  # instance -> statuses (any order)
        self.page_size = page_size
        self.errors: dict[str, HttpError] = {}
        self.requests: list[tuple[str, dict]] = []

    def get(self, url, params=None, headers=None):
        params = dict(params or {})
        self.requests.append((url, params))
        instance = url.split("/api/")[0]
        if instance in self.errors:
            raise self.errors[instance]
        ordered = sorted(self.timelines.get(instance, []), key=lambda s: int(s["id"]))
        limit = min(int(params.get("limit", 20)), self.page_size)
        if "min_id" in params:
            page = [s for s in ordered if int(s["id"]) > int(params["min_id"])][:limit]
        elif "max_id" in params:
            page = [s for s in ordered if int(s["id"]) < int(params["max_id"])][-limit:]
        else:
            page = ordered[-limit:]
        page = page[::-1]  # newest first, as Mastodon returns them
        headers = {}
        if page:
            headers["Link"] = (
                f'<{url}?max_id={page[-1]["id"]}>; rel="next", '
                f'<{url}?min_id={page[0]["id"]}>; rel="prev"'
            )
        return HttpResponse(200, headers, json.dumps(page).encode(), url)


def fetch(http, cursor=None, **opts):
    return get_source("mastodon").fetch(topic(**opts), cursor, http, now=NOW)


def test_hashtags_default_to_the_topic_terms_squeezed():
    """Given a topic with a phrase and a term and no hashtags configured
    When the hashtags are derived
    Then spaces and punctuation are removed and repeats dropped; configured ones win."""
    t = topic()
    assert hashtags_for(t, MastodonOptions(instances=[A])) == ["acmecloud"]
    assert hashtags_for(t, MastodonOptions(instances=[A], hashtags=["#Acme", "AcmeDown"])) == [
        "Acme",
        "AcmeDown",
    ]


def test_real_tag_timeline_payload_parses():
    """Given the recorded /api/v1/timelines/tag/hoot response (Mastodon 4.6.4)
    When its statuses are parsed
    Then the uri is the id, HTML is reduced to text, the author gets its host, lang is unused,
    and the Link header's prev min_id is read."""
    recorded = shared("mastodon_timelines_tag.json")
    instance = "http://localhost:3000"

    mention = parse_status(recorded["body"][0], "t", instance)

    assert mention.native_id == (
        "http://localhost:3000/ap/users/117020566092212359/statuses/117020593741189701"
    )
    assert mention.text == "#hoot (hashtag toot)"
    assert mention.author == "mastodonpy_test_2@localhost:3000"
    assert mention.lang is None  # "ja" on an English toot: the field is not trusted
    link = recorded["response_headers"]["link"][0]
    assert link_min_id(link) == "117020593741189701"


def test_real_anonymous_public_timeline_statuses_parse():
    """Given the recorded unauthenticated public timeline
    When each status is parsed
    Then all are usable."""
    recorded = shared("mastodon_public_timeline_anonymous.json")
    mentions = [parse_status(s, "t", "http://localhost:3000") for s in recorded["body"]]
    assert len(mentions) == len(recorded["body"]) and all(m.published for m in mentions)


def test_edge_cases_markup_reblogs_timestamps_and_junk():
    """Given statuses with markup, a script, entities, a reblog wrapper, missing fields,
    several timestamp forms and a very long text
    When parsed
    Then usable ones are clean text (escaped script text stays literal, the real one dropped),
    the reblog becomes its original, and the broken ones are refused with a reason."""
    raw = json.loads((FIXTURES / "tag_timeline_edge_cases.json").read_text(encoding="utf-8"))
    ok, bad = [], []
    for item in raw:
        try:
            ok.append(parse_status(item, "t", A))
        except ValueError as exc:
            bad.append(str(exc))

    first, reblog, long = ok
    assert first.text == "Ärger mit #AcmeCloud & <script>alert(1)</script>\nzweite Zeile 🚆"
    assert first.title == "CW: outage & rant" and first.engagement == 6
    assert reblog.native_id == "https://b.example/users/v/statuses/9"
    assert reblog.author == "v@b.example"
    assert reblog.published == datetime(2026, 11, 25, 7, 0, 0, 123456, tzinfo=UTC)
    assert long.published == datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # +01:00 → UTC
    assert len(long.text) == 4000 and long.author == ""
    assert len(bad) == 3


def test_first_run_reads_the_newest_page_and_later_runs_walk_up_from_the_cursor():
    """Given an instance with 5 toots
    When collected, then again after 3 new toots, with pages of 2
    Then the first run takes the newest page; the second walks up with min_id from there,
    and returns exactly the new toots."""
    toots = [status(n, minutes_ago=100 - n) for n in range(1, 6)]
    http = FakeInstances({A: toots}, page_size=2)

    first = fetch(http)
    toots += [status(n, minutes_ago=100 - n) for n in range(6, 9)]
    second = fetch(http, first.cursor)

    assert [m.native_id.rsplit("/", 1)[1] for m in first.mentions] == ["4", "5"]
    assert json.loads(first.cursor) == {f"{A}#acmecloud": "1005"}
    assert [m.native_id.rsplit("/", 1)[1] for m in second.mentions] == ["6", "7", "8"]
    assert [p.get("min_id") for _, p in http.requests[1:]] == ["1005", "1007", "1008"]
    assert json.loads(second.cursor) == {f"{A}#acmecloud": "1008"}


def test_a_page_cap_stops_without_skipping_anything():
    """Given 7 new toots above the cursor, pages of 2 and a cap of 2 pages
    When collected twice
    Then the first run is truncated with its cursor at the top of what it read, and the
    second continues from there: every toot once, none lost."""
    toots = [status(n) for n in range(1, 8)]
    http = FakeInstances({A: toots}, page_size=2)
    cursor = json.dumps({f"{A}#acmecloud": "1000"})

    first = fetch(http, cursor, max_pages=2)
    second = fetch(http, first.cursor, max_pages=20)

    ids = [m.native_id for m in first.mentions + second.mentions]
    assert first.truncated and not second.truncated
    assert sorted(ids) == sorted(status(n)["uri"] for n in range(1, 8))
    assert len(ids) == len(set(ids))


def test_the_same_toot_via_two_instances_is_one_mention():
    """Given one toot that two instances show under different local ids
    When both instances are read
    Then it is returned once (native id = uri), with the same published time."""
    shared_toot = status(1, home=B)
    copy = {**shared_toot, "id": "9001", "account": {"acct": "u1@b.example", "url": f"{B}/@u1"}}
    http = FakeInstances({A: [copy, status(2)], B: [shared_toot]})

    result = fetch(http, instances=[A, B])

    assert sorted(m.native_id for m in result.mentions) == sorted(
        [shared_toot["uri"], status(2)["uri"]]
    )
    store = MemoryStore()
    for m in result.mentions + fetch(http, instances=[B]).mentions:
        store.put_mention(m)
    assert len(store.mentions) == 2


@pytest.mark.parametrize("code", [401, 403, 422])
def test_an_instance_that_requires_sign_in_is_skipped_and_named(code):
    """Given one instance that refuses anonymous timelines and one that works
    When collected
    Then the working one is read, the other named in skipped, and its cursor not invented."""
    http = FakeInstances({B: [status(1, home=B)]})
    http.errors[A] = HttpError(f"GET {A}: HTTP {code}", status=code)

    result = fetch(http, instances=[A, B])

    assert len(result.mentions) == 1
    assert any(A in s and f"HTTP {code}" in s for s in result.skipped)
    assert list(json.loads(result.cursor)) == [f"{B}#acmecloud"]


def test_when_every_instance_fails_the_run_fails_and_health_shows_it():
    """Given the only instance answering 503 (after HttpClient's retries)
    When the collector runs
    Then the run fails, the checkpoint is kept and the failure counted."""
    http = FakeInstances({})
    http.errors[A] = HttpError("GET a failed after 4 attempts: HTTP 503", status=503)
    store = MemoryStore()
    store.record_success("mastodon", "acme-cloud", cursor='{"x":"1"}', count=0, at=NOW)

    report = collect_topic(get_source("mastodon"), topic(), store, http, now=NOW)

    checkpoint = store.get_checkpoint("mastodon", "acme-cloud")
    assert not report.ok and "every Mastodon request failed" in report.error
    assert checkpoint.cursor == '{"x":"1"}' and checkpoint.consecutive_failures == 1


def test_an_empty_or_disabled_feed_and_a_looping_cursor_end_the_walk():
    """Given an instance whose feed is empty, and one whose Link never moves
    When collected
    Then the empty one simply yields nothing, and the looping one stops after one page."""

    class Stuck(FakeInstances):
        def get(self, url, params=None, headers=None):
            self.requests.append((url, dict(params or {})))
            link = f'<{url}?min_id=1001>; rel="prev"'
            return HttpResponse(200, {"Link": link}, json.dumps([status(1)]).encode(), url)

    empty = fetch(FakeInstances({A: []}), json.dumps({f"{A}#acmecloud": "5"}))
    stuck_http = Stuck({})
    stuck = fetch(stuck_http, json.dumps({f"{A}#acmecloud": "1001"}))

    assert empty.mentions == [] and json.loads(empty.cursor) == {f"{A}#acmecloud": "5"}
    assert len(stuck_http.requests) == 1
    assert any("did not move" in s for s in stuck.skipped)


def test_malformed_json_on_one_instance_does_not_lose_the_other():
    """Given one instance answering with a body that is not JSON
    When two instances are read
    Then the other's toots are returned and the broken one is named."""

    class Broken(FakeInstances):
        def get(self, url, params=None, headers=None):
            if url.startswith(A):
                return HttpResponse(200, {}, b"<html>\xff maintenance", url)
            return super().get(url, params, headers)

    result = fetch(Broken({B: [status(1, home=B)]}), instances=[A, B])

    assert len(result.mentions) == 1
    assert any("not valid JSON" in s for s in result.skipped)


def test_the_deadline_stops_before_the_next_request():
    """Given a deadline already passed
    When collected
    Then no request is made, the run says it was cut short, and the cursor is unchanged."""
    http = FakeInstances({A: [status(1)]})
    src = get_source("mastodon")
    src.clock = lambda: 100.0

    result = src.fetch(topic(), '{"x":"1"}', http, now=NOW, deadline=50.0)

    assert http.requests == [] and result.truncated and json.loads(result.cursor) == {"x": "1"}


def dated_status(n: int, at: datetime) -> dict:
    """Toot n with a Mastodon snowflake id: milliseconds since the epoch << 16, plus n."""
    toot = status(n)
    toot["created_at"] = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    toot["id"] = str((int(at.timestamp()) * 1000 << 16) + n)
    return toot


def test_a_new_topic_pages_back_through_28_days_in_steps_and_stops_at_the_range():
    """Given an instance with 120 toots over the past 28 days and 10 older ones, pages of 40
    When the collector runs a new topic three times an hour apart, two pages per step
    Then the backfill pages back with max_id from "now", continues where it stopped, and is
    done with every toot of the 28 days stored, none from before them."""
    span = (MAX_DAYS - 4) * 86400
    toots = [dated_status(n, NOW - timedelta(days=3, seconds=span * n // 120)) for n in range(120)]
    old = [dated_status(200 + n, NOW - timedelta(days=MAX_DAYS + 2 + n)) for n in range(10)]
    http, store = FakeInstances({A: toots + old}), MemoryStore()
    source = get_source("mastodon")
    runs = [
        collect_source(source, [topic(max_pages=2)], store, http, now=NOW + timedelta(hours=h))
        for h in range(3)
    ]
    steps = [run[1] for run in runs if len(run) > 1]
    assert steps[0].backfill and not steps[0].backfill_done
    assert steps[-1].backfill_done
    assert len(store.mentions) == 120
    assert any("max_id" in params for _, params in http.requests)


def test_a_backfill_step_owes_the_range_of_an_instance_that_fails_for_now():
    """Given one instance answering 503 and another refusing anonymous access (401)
    When a backfill step runs
    Then the failing one leaves the whole range owed for the next step, the refusing one is
    named and not waited for."""
    http = FakeInstances({A: [dated_status(1, NOW - timedelta(days=2))], B: []})
    http.errors[B] = HttpError("GET b: HTTP 503", status=503)
    lo, hi = int((NOW - timedelta(days=28)).timestamp()), int(NOW.timestamp())
    step = json.dumps({"high": hi, "gap": [lo, hi]})
    result = fetch(http, step, instances=[A, B])
    assert len(result.mentions) == 1 and result.truncated
    assert json.loads(result.cursor)["gap"] == [lo, hi + 1]
    http.errors[B] = HttpError("GET b: HTTP 401", status=401)
    refused = fetch(http, step, instances=[A, B])
    assert not refused.truncated and any("refuses" in note for note in refused.skipped)
