"""`stormwatch check` questions what it used to accept: booleans as numbers, duplicate keys,
malformed URLs and parameters, empty language lists, unbounded sizes; and warns about topics
that would collect or tell nothing."""

from __future__ import annotations

import pytest
from stormwatch import cli
from stormwatch.config import WatchlistError, parse_watchlist, watchlist_warnings

SOURCES = "    sources:\n      hackernews: {}\n"


def topic(extra: str = "", sources: str = SOURCES, terms: str = "[acme]") -> str:
    return (
        "version: 1\ntopics:\n  - name: acme\n"
        f"    terms: {terms}\n{sources}"
        "    digest:\n      recipients: [comms@example.com]\n" + extra
    )


def problem(text: str):
    with pytest.raises(WatchlistError) as caught:
        parse_watchlist(text, "brand.yaml")
    return caught.value.problems[0]


def test_a_boolean_digest_hour_is_refused():
    # Given `hour: true` (YAML's boolean, which pydantic took for 1 → 01:00)
    text = topic("      hour: true\n")
    # Then it is refused with its line, topic and field
    found = problem(text)
    assert (found.line, found.topic, found.field) == (9, "acme", "digest.hour")


def test_a_number_for_enabled_is_refused():
    found = problem(topic(sources="    sources:\n      hackernews: {enabled: 1}\n"))
    assert found.field == "sources.hackernews.enabled"


def test_a_duplicate_key_is_refused_with_its_line():
    # Given a topic that sets `terms` twice (YAML silently keeps the last one)
    text = topic() + "    terms: [other]\n"
    # Then the second one is named, with its line
    found = problem(text)
    assert (found.line, found.field) == (9, "terms")
    assert "twice" in found.message and "line 4" in found.message


@pytest.mark.parametrize(
    "url",
    [
        "http:// bad url",
        "https://",
        "https://exa mple.com/feed",
        "https:///feed",
        "https://feed.example:notaport/rss",
    ],
)
def test_malformed_feed_urls_are_refused(url):
    sources = f"    sources:\n      rss:\n        feeds: ['{url}']\n"
    found = problem(topic(sources=sources))
    assert found.field == "sources.rss.feeds"


@pytest.mark.parametrize("field", ["hl", "gl", "ceid", "when"])
def test_google_news_parameters_with_line_breaks_are_refused(field):
    # Given a CR/LF smuggled into a Google News parameter
    value = {"hl": "en-US", "gl": "US", "ceid": "US:en", "when": "2d"}
    value[field] = value[field] + "\\r\\nX-Evil: 1"
    options = ", ".join(f'{k}: "{v}"' for k, v in value.items())
    sources = f"    sources:\n      rss:\n        google_news: {{accept_terms: true, {options}}}\n"
    # Then the parameter is refused
    found = problem(topic(sources=sources))
    assert found.field == f"sources.rss.google_news.{field}"


def test_an_empty_language_list_is_refused_saying_why():
    found = problem(topic("    languages: []\n"))
    assert found.field == "languages"
    assert "drop" in found.message


def test_100000_terms_are_refused_with_a_clear_error():
    # Given a topic with 100,000 terms
    terms = "[" + ", ".join(f"t{i}" for i in range(100_000)) + "]"
    # Then the size is refused, naming the field and the bound (not checked term by term)
    found = problem(topic(terms=terms))
    assert found.field == "terms" and "at most" in found.message


def test_an_overlong_query_is_refused():
    found = problem(topic("    query: '" + "acme OR " * 2000 + "acme'\n"))
    assert found.field == "query"


def test_a_topic_without_sources_or_recipients_is_warned_about():
    # Given one topic without sources and one without recipients
    text = (
        "version: 1\ntopics:\n"
        "  - name: quiet\n    terms: [q]\n    sources: {}\n"
        "    digest: {recipients: [comms@example.com]}\n"
        "  - name: lonely\n    terms: [l]\n" + SOURCES
    )
    warnings = watchlist_warnings(parse_watchlist(text, "brand.yaml"))
    # Then each gets a warning naming the topic and what is missing
    assert any("quiet" in w and "no sources" in w for w in warnings)
    assert any("lonely" in w and "no recipients" in w for w in warnings)
    assert len(warnings) == 2


def test_check_prints_warnings_but_passes(tmp_path, capsys):
    path = tmp_path / "brand.yaml"
    path.write_text(topic(sources="    sources: {}\n"), encoding="utf-8")
    code = cli.main(["check", str(path)])
    err = capsys.readouterr().err
    assert code == 0
    assert f"{path}: topic 'acme': warning: no sources" in err
