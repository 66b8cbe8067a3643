"""The parsers against real recorded responses from ../shared/payloads (skipped when absent).

Set STORMWATCH_SHARED to point elsewhere; the folder is not part of the repository.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from stormwatch.http import HttpResponse
from stormwatch.query import compile_topic
from stormwatch.sources.hackernews import HackerNewsSource, HnCursor, parse_hit
from stormwatch.sources.rss import FeedSpec, parse_feed
from stormwatch.watchlist import Topic

pytestmark = pytest.mark.shared

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("STORMWATCH_SHARED", REPO.parent / "shared"))
PAYLOADS = SHARED / "payloads"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def payload(name: str) -> Path:
    path = PAYLOADS / name
    if not path.is_file():
        pytest.skip(f"real payload {path} not found (set STORMWATCH_SHARED to the shared folder)")
    return path


def algolia_bodies(name: str) -> list[dict]:
    """The Algolia response bodies in a payload file: a bare body, {"body": …} or [{"reply": …}]."""
    data = json.loads(payload(name).read_text(encoding="utf-8"))
    if isinstance(data, list):
        return [entry["reply"] for entry in data]
    return [data.get("body", data)]


def apple() -> Topic:
    return Topic(name="apple", terms=["apple"], sources={"hackernews": {}})


def test_hn_2014_schema_parses_and_the_fuzzy_applauded_hit_is_rejected_locally():
    """Given the 2014 search_by_date replies for "apple" (Algolia matched "applauded")
    When parsed and re-checked against the topic
    Then both hits parse, the comment is rejected and the Apple story kept."""
    hits = [
        hit
        for body in algolia_bodies("hn_algolia_search_by_date_2014.json")
        for hit in body["hits"]
    ]
    mentions = [parse_hit(hit, "apple") for hit in hits]
    matcher = compile_topic(apple())

    comment, story = mentions
    assert comment.channel == "comment"
    assert "shouldn't be applauded." in comment.text
    assert "&#x27;" not in comment.text and "<p>" not in comment.text
    assert comment.title == "Starbucks admits it's not contributing to scholarship fund"
    assert not matcher.matches(comment.full_text)
    assert story.channel == "story"
    assert (
        story.url
        == "http://in.reuters.com/article/2014/06/19/apple-google-settlement-idINL2N0P01ZI20140619"
    )
    assert matcher.matches(story.full_text)


def test_hn_2026_schema_parses_including_a_story_without_url():
    """Given the current Algolia schema with a text-only Show HN (no `url` key)
    When parsed
    Then both stories map, the text-only one links to its HN item with HTML stripped."""
    (body,) = algolia_bodies("hn_algolia_search_2026.json")
    first, show_hn = (parse_hit(hit, "mcp") for hit in body["hits"])

    assert first.url == "https://www.anthropic.com/news/model-context-protocol"
    assert first.engagement == 872 + 258
    assert first.published == datetime(2024, 11, 25, 16, 14, 22, tzinfo=UTC)
    assert show_hn.url == "https://news.ycombinator.com/item?id=46220577"
    assert show_hn.text.startswith(
        "https://github.com/mcp-shark/mcp-shark\nSite: https://mcpshark.sh/"
    )
    assert "\nI built MCPShark" in show_hn.text
    assert "<a" not in show_hn.text and "&#x2F;" not in show_hn.text


def test_hn_real_reply_with_a_huge_result_set_is_truncated_without_losing_the_older_part():
    """Given the real 2014 reply (nbPages 1000 at 1 hit per page) served for every request
    When collected with a budget of one page per term
    Then the run is truncated and the cursor keeps the unseen older range."""
    body = algolia_bodies("hn_algolia_search_by_date_2014.json")[1]

    class Replay:
        def get(self, url, params=None, headers=None):
            return HttpResponse(200, {}, json.dumps(body).encode(), url)

    topic = Topic(name="apple", terms=["apple"], sources={"hackernews": {"max_pages": 1}})
    now = datetime(2014, 6, 20, 4, 0, tzinfo=UTC)

    result = HackerNewsSource().fetch(topic, None, Replay(), now=now)

    assert result.truncated
    assert [m.native_id for m in result.mentions] == ["7919424"]
    cursor = HnCursor.parse(result.cursor)
    assert cursor.high == 1403235346
    assert cursor.gap == (int(now.timestamp()) - 24 * 3600, 1403235346)


def test_google_news_search_rss_parses_with_outlets_as_authors():
    """Given a real Google News search feed When parsed Then headline, outlet, date, lang map."""
    content = payload("google_news_rss_search.xml").read_bytes()
    spec = FeedSpec("https://news.google.com/rss/search?q=ecb", "google_news")

    mentions, skipped, newest = parse_feed(content, spec, "ecb", now=NOW)

    assert skipped == []
    assert [(m.title, m.author) for m in mentions] == [
        ("Why the ECB Is Unlikely to Keep Rates Higher Than 3%", "Goldman Sachs"),
        ("ECB Hikes Rates and Raises Both Inflation and Growth Forecasts", "Morningstar"),
    ]
    assert mentions[0].native_id.startswith("CBMiqgFBVV95cUxP")
    assert mentions[0].url and mentions[0].url.startswith("https://news.google.com/rss/articles/")
    assert {m.lang for m in mentions} == {"en"}
    assert newest == datetime(2026, 9, 25, 7, 0, tzinfo=UTC)


def test_google_alerts_atom_link_is_unwrapped_to_the_article():
    """Given a real Google Alerts feed When parsed Then the google.com/url redirect is decoded."""
    content = payload("google_alerts_atom_excerpt.xml").read_bytes()
    spec = FeedSpec("https://www.google.com/alerts/feeds/1/2", "google_alerts")

    (mention,), skipped, _ = parse_feed(content, spec, "dick", now=NOW)

    assert mention.url == (
        "https://www.theconcordinsider.com/2021/06/04/this-week-in-concord-history-502/"
    )
    assert mention.title == "This week in Concord history"
    assert "Philip Dick" in mention.text and "<b>" not in mention.text
    assert mention.native_id == "tag:google.com,2013:googlealerts/feed:12501224780620368192"
    assert skipped == []


def test_reddit_search_atom_parses_as_a_plain_feed():
    """Given a real keyless Reddit search Atom feed When parsed Then posts map with authors."""
    content = payload("reddit_search_rss.xml").read_bytes()
    spec = FeedSpec("https://www.reddit.com/search.rss?q=portable+charger", "feed")

    mentions, skipped, _ = parse_feed(content, spec, "chargers", now=NOW)

    assert [m.native_id for m in mentions] == ["t3_1rp0bma", "t3_1uvyoxb"]
    assert [m.author for m in mentions] == ["/u/spiritofmyrtle", "/u/DarkAce5"]
    assert "SC_OFF" not in mentions[0].text and "<p>" not in mentions[0].text
    assert "doesn't have multiple ports" in mentions[1].text
    assert skipped == []
