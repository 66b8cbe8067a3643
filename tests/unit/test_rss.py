"""RSS/Atom collection: feeds, Google News search, Google Alerts; cursor and failure handling."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from stormwatch.http import HttpError, HttpResponse
from stormwatch.sources import get_source
from stormwatch.sources.base import strip_tracking
from stormwatch.sources.rss import RssSource, unwrap_google_redirect
from stormwatch.watchlist import Topic

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sources"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
FEED = "https://regional.example/feed.rss"
OTHER = "https://other.example/atom.xml"
ALERTS = "https://www.google.com/alerts/feeds/00000000000000000000/11111111111111111111"


def topic(**rss) -> Topic:
    return Topic(
        name="acme-cloud",
        phrases=["acme cloud"],
        terms=["acmecloud", "bahn*"],
        sources={"rss": rss},
    )


class FakeHttp:
    """Serves bytes (or raises) per URL; records what was asked."""

    def __init__(self, responses: dict[str, bytes | Exception]) -> None:
        self.responses = responses
        self.urls: list[str] = []

    def get(self, url, params=None, headers=None):
        self.urls.append(url)
        for prefix, answer in self.responses.items():
            if url.startswith(prefix):
                if isinstance(answer, Exception):
                    raise answer
                return HttpResponse(200, {"Content-Type": "application/xml"}, answer, url)
        raise HttpError(f"GET {url} failed: HTTP 404", url=url, status=404)


def rss(*items: str, language: str = "en") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Test feed</title>'
        f"<link>https://regional.example/</link><language>{language}</language>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def item(
    guid: str, title: str, when: datetime | None, description: str = "", link: str = ""
) -> str:
    date = f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>" if when else ""
    link = link or f"https://regional.example/{guid}"
    return (
        f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>{date}"
        f"<description>{description}</description></item>"
    )


def test_google_news_search_url_is_built_from_the_topic():
    """Given a topic with Google News options
    When collected
    Then the search ORs the quoted phrase and the terms, adds when:, hl, gl and ceid."""
    http = FakeHttp({"https://news.google.com/rss/search": rss()})
    options = {
        "google_news": {"accept_terms": True, "hl": "de", "gl": "DE", "ceid": "DE:de", "when": "1d"}
    }

    get_source("rss").fetch(topic(**options), None, http, now=NOW)

    (url,) = http.urls
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://news.google.com/rss/search?")
    assert query == {
        "q": ['"acme cloud" OR acmecloud OR bahn when:1d'],
        "hl": ["de"],
        "gl": ["DE"],
        "ceid": ["DE:de"],
    }


def test_google_news_titles_lose_the_outlet_which_becomes_the_author():
    """Given a Google News item "<headline> - <Outlet>" whose description repeats both
    When collected
    Then the title is the headline, the author the outlet, and no duplicate text is kept."""
    gn_item = (
        "<item><title>AcmeCloud outage disrupts shops - CloudWire</title>"
        "<link>https://news.google.com/rss/articles/CBMiAAA?oc=5</link>"
        '<guid isPermaLink="false">CBMiAAA</guid>'
        "<pubDate>Wed, 25 Nov 2026 08:10:00 GMT</pubDate>"
        "<description>&lt;a href=&quot;https://news.google.com/rss/articles/CBMiAAA?oc=5&quot;&gt;"
        "AcmeCloud outage disrupts shops&lt;/a&gt;&amp;nbsp;&amp;nbsp;"
        "&lt;font color=&quot;#6f6f6f&quot;&gt;CloudWire&lt;/font&gt;</description>"
        '<source url="https://cloudwire.example">CloudWire</source></item>'
    )
    http = FakeHttp({"https://news.google.com/": rss(gn_item, language="en-US")})

    result = RssSource().fetch(topic(google_news={"accept_terms": True}), None, http, now=NOW)

    (mention,) = result.mentions
    assert mention.title == "AcmeCloud outage disrupts shops"
    assert mention.author == "CloudWire"
    assert mention.text == ""
    assert mention.native_id == "CBMiAAA"
    assert mention.lang == "en"
    assert mention.channel == "Google News"
    assert mention.published == datetime(2026, 11, 25, 8, 10, tzinfo=UTC)


def test_google_alerts_links_are_unwrapped_and_stripped_of_tracking():
    """Given a Google Alerts Atom feed
    When collected
    Then links point at the real article without utm_/fbclid/gclid, titles lose their <b>,
    and an entry with neither id nor link is skipped with a reason."""
    http = FakeHttp({ALERTS: (FIXTURES / "google_alerts.atom").read_bytes()})

    result = RssSource().fetch(topic(google_alerts=[ALERTS]), None, http, now=NOW)

    first, second = result.mentions
    assert first.url == "https://retailnews.example/2026/11/25/acme-cloud-outage?id=7"
    assert first.title == "Acme Cloud outage hits online retailers"
    assert first.text == "Shops running on Acme Cloud reported checkout failures & lost orders ..."
    assert first.channel == "Google Alerts"
    assert second.url == "https://blog.example/left-acmecloud?ref=home"
    assert second.title == "Why we left AcmeCloud 😤"
    assert len(result.skipped) == 1
    assert "malformed entry #2: no id/guid and no link" in result.skipped[0]


def test_tracking_parameters_are_removed_and_other_parameters_kept():
    """Given links with tracking and real parameters When cleaned Then only tracking goes."""
    assert (
        strip_tracking("https://x.example/a?id=3&utm_source=rss&UTM_Medium=x&fbclid=1&ocid=2&p=4")
        == "https://x.example/a?id=3&p=4"
    )
    assert strip_tracking("https://x.example/a?id=3") == "https://x.example/a?id=3"
    assert (
        unwrap_google_redirect("https://www.google.com/url?q=https://real.example/x&sa=U")
        == "https://real.example/x"
    )
    assert unwrap_google_redirect("https://evil.example/url?url=https://x") == (
        "https://evil.example/url?url=https://x"
    )


def test_non_utf8_feed_with_umlauts_and_an_undated_entry():
    """Given an ISO-8859-1 feed (language de-DE) with one undated entry
    When collected
    Then umlauts survive, the language is "de", the undated entry gets a stable stand-in date
    (the start of the day, as the feed has no date either) and is noted; a later run the same
    day gives it the same date, so its storage key does not change."""
    http = FakeHttp({FEED: (FIXTURES / "regional_latin1.rss").read_bytes()})

    result = RssSource().fetch(topic(feeds=[FEED]), None, http, now=NOW)

    dated, undated = result.mentions
    assert dated.title == "Deutsche Bahn: Verspätungen in München und Zürich"
    assert dated.text == "Große Verspätungen im Fernverkehr.\nDie Straßenbahn fährt."
    assert dated.url == "https://regional.example/verkehr/db-verspaetung?seite=2"
    assert dated.published == datetime(2026, 11, 24, 17, 15, tzinfo=UTC)
    assert dated.lang == "de"
    assert dated.channel == "Regionalzeitung - Verkehr"
    start_of_day = NOW.replace(hour=0, minute=0)
    assert undated.published == start_of_day
    assert undated.native_id  # a hash of the link
    assert any("has no date; using 2026-11-25T00:00" in s for s in result.skipped)
    later = RssSource().fetch(topic(feeds=[FEED]), None, http, now=NOW.replace(hour=15))
    assert later.mentions[1].sort_key == undated.sort_key


def test_a_failing_feed_is_reported_and_the_others_still_count():
    """Given three feeds of which one returns 500 and one is not a feed
    When collected
    Then the good feed's items are returned and both failures are described."""
    good = rss(item("a1", "Acme Cloud news", NOW - timedelta(hours=1)))
    http = FakeHttp(
        {
            FEED: good,
            OTHER: HttpError(f"GET {OTHER} failed: HTTP 500", url=OTHER, status=500),
            "https://broken.example/": b"<html><body>Not a feed</body></html>",
        }
    )
    feeds = [OTHER, FEED, "https://broken.example/feed"]

    result = RssSource().fetch(topic(feeds=feeds), None, http, now=NOW)

    assert [m.native_id for m in result.mentions] == ["a1"]
    assert f"feed {OTHER}: GET {OTHER} failed: HTTP 500" in result.skipped
    assert any(
        s.startswith("feed https://broken.example/feed: unreadable feed") for s in result.skipped
    )
    assert json.loads(result.cursor or "{}") == {FEED: "2026-11-25T08:00:00Z"}


def test_when_every_feed_fails_the_source_fails():
    """Given only failing feeds When collected Then HttpError names each of them."""
    http = FakeHttp({})

    with pytest.raises(HttpError, match=r"all 2 feeds failed: feed https://regional\.example"):
        RssSource().fetch(topic(feeds=[FEED, OTHER]), None, http, now=NOW)


def test_the_cursor_drops_old_items_with_one_hour_of_overlap_and_never_runs_ahead_of_now():
    """Given a cursor at 07:00 for a feed
    When the feed has items at 05:30, 06:30, 08:00 and one dated next year
    Then 05:30 is dropped, the others kept, and the cursor moves only up to now."""
    feed = rss(
        item("old", "acme cloud old", NOW - timedelta(hours=3, minutes=30)),
        item("overlap", "acme cloud overlap", NOW - timedelta(hours=2, minutes=30)),
        item("new", "acme cloud new", NOW - timedelta(hours=1)),
        item("future", "acme cloud future", NOW + timedelta(days=365)),
    )
    http = FakeHttp({FEED: feed})
    cursor = json.dumps({FEED: "2026-11-25T07:00:00Z"})

    result = RssSource().fetch(topic(feeds=[FEED]), cursor, http, now=NOW)

    assert sorted(m.native_id for m in result.mentions) == ["future", "new", "overlap"]
    assert json.loads(result.cursor or "{}") == {FEED: "2026-11-25T09:00:00Z"}


def test_very_long_text_is_bounded_and_emoji_survive():
    """Given an entry with a 50,000-character description and emoji
    When collected
    Then the text is cut to the model's bound and the emoji are intact."""
    long = "Acme Cloud 🔥 " + "x" * 50_000
    http = FakeHttp({FEED: rss(item("long", "🔥 Acme Cloud 🚀", NOW, description=long))})

    (mention,) = RssSource().fetch(topic(feeds=[FEED]), None, http, now=NOW).mentions

    assert len(mention.text) <= 4000
    assert mention.text.startswith("Acme Cloud 🔥 xxx")
    assert mention.title == "🔥 Acme Cloud 🚀"


def test_hostile_markup_is_text_and_javascript_links_are_dropped():
    """Given an entry with a script element, escaped markup and a javascript: link
    When collected
    Then no script runs through: the element is gone, escaped markup stays literal text,
    and the link is dropped."""
    description = (
        "&lt;script&gt;steal()&lt;/script&gt;Hello &amp;lt;b&amp;gt;acme cloud&amp;lt;/b&amp;gt;"
    )
    entry = item("evil", "acme cloud", NOW, description=description, link="javascript:alert(1)")
    http = FakeHttp({FEED: rss(entry)})

    (mention,) = RssSource().fetch(topic(feeds=[FEED]), None, http, now=NOW).mentions

    assert "steal()" not in mention.text
    assert mention.text == "Hello <b>acme cloud</b>"
    assert mention.url is None


def test_a_deadline_stops_before_the_next_feed_and_keeps_its_cursor():
    """Given two feeds and a deadline that passes after the first
    When collected
    Then only the first is read, the result is truncated, the second keeps its cursor."""
    ticks = iter([0.0, 10.0])
    http = FakeHttp({FEED: rss(item("a", "acme cloud", NOW)), OTHER: rss()})
    cursor = json.dumps({OTHER: "2026-11-20T00:00:00Z"})

    result = RssSource(clock=lambda: next(ticks)).fetch(
        topic(feeds=[FEED, OTHER]), cursor, http, now=NOW, deadline=5.0
    )

    assert http.urls == [FEED]
    assert result.truncated
    assert json.loads(result.cursor or "{}") == {
        FEED: "2026-11-25T09:00:00Z",
        OTHER: "2026-11-20T00:00:00Z",
    }
