"""Watchlist as code: validation errors name file, line, topic and field; examples run."""

from __future__ import annotations

import textwrap

import pytest
from stormwatch.config import WatchlistError, load_watchlist, parse_watchlist, run_examples

VALID_TOPIC = """
  - name: acme
    terms: [acme]
    sources:
      hackernews: {}
"""


def watchlist(topics: str) -> str:
    return "version: 1\ntopics:\n" + textwrap.dedent(topics).strip("\n").replace("\n", "\n") + "\n"


def test_shipped_example_watchlist_is_valid_and_its_examples_pass(repo):
    # Given the example watchlist in the repository
    # When it is loaded and its match examples are run
    loaded = load_watchlist(repo / "watchlist.yaml")
    results = run_examples(loaded.topics)
    # Then it has an English and a German topic and every example behaves as declared
    languages = {lang for topic in loaded.topics for lang in topic.languages}
    assert {"en", "de"} <= languages
    assert results and all(r.ok for r in results), [r for r in results if not r.ok]


def test_bad_digest_hour_names_file_line_topic_and_field():
    # Given a topic whose digest hour is out of range, on line 8 of the file
    text = (
        "version: 1\n"
        "topics:\n"
        "  - name: acme\n"
        "    terms: [acme]\n"
        "    sources:\n"
        "      hackernews: {}\n"
        "    digest:\n"
        "      hour: 25\n"
    )
    # When it is parsed
    with pytest.raises(WatchlistError) as caught:
        parse_watchlist(text, "teams/brand.yaml")
    # Then the error names the file, line 8, the topic and the field path
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.topic, problem.field) == (
        "teams/brand.yaml",
        8,
        "acme",
        "digest.hour",
    )
    assert "teams/brand.yaml:8" in str(caught.value)


def test_unknown_field_and_unknown_time_zone_are_both_reported():
    # Given a typo in a field name and an invalid time zone in two topics
    text = watchlist("""
  - name: one
    terms: [one]
    sources: {hackernews: {}}
    recipents: [a@example.com]
  - name: two
    terms: [two]
    sources: {hackernews: {}}
    digest: {timezone: Mars/Olympus}
""")
    # When it is parsed
    with pytest.raises(WatchlistError) as caught:
        parse_watchlist(text)
    # Then both problems are listed, each with its topic
    found = {(p.topic, p.field) for p in caught.value.problems}
    assert ("one", "recipents") in found
    assert ("two", "digest.timezone") in found
    assert any("IANA" in p.message for p in caught.value.problems)


def test_topic_without_anything_to_match_is_rejected():
    # Given a topic with sources but no terms, phrases or query
    text = watchlist("""
  - name: empty
    sources: {hackernews: {}}
""")
    # When parsed, Then it is rejected for that topic
    with pytest.raises(WatchlistError, match="needs terms, phrases or a query"):
        parse_watchlist(text)


def test_broken_query_is_rejected_at_load_time_with_its_line():
    # Given a query with an unbalanced parenthesis on line 4
    text = watchlist("""
  - name: acme
    query: '(acme OR "acme cloud"'
    sources: {hackernews: {}}
""")
    # When parsed
    with pytest.raises(WatchlistError) as caught:
        parse_watchlist(text)
    # Then the problem is the query field of that topic, with a line number
    problem = caught.value.problems[0]
    assert (problem.topic, problem.field, problem.line) == ("acme", "query", 4)


def test_invalid_yaml_reports_the_line():
    # Given a file with a YAML syntax error on line 3
    text = "version: 1\ntopics:\n  - name: [unclosed\n"
    # When parsed, Then the YAML problem and its line are reported
    with pytest.raises(WatchlistError) as caught:
        parse_watchlist(text, "w.yaml")
    assert caught.value.problems[0].field == "(yaml)"
    assert caught.value.problems[0].line is not None


def test_duplicate_topic_names_are_rejected():
    text = watchlist(VALID_TOPIC + VALID_TOPIC)
    with pytest.raises(WatchlistError, match="used twice"):
        parse_watchlist(text)


def test_failing_example_is_reported_by_run_examples():
    # Given a topic whose must-not-match example actually matches
    text = watchlist("""
  - name: apple
    terms: [apple]
    sources: {hackernews: {}}
    examples:
      match: ["Apple's new phone"]
      no_match: ["I ate an apple", "this was applauded"]
""")
    # When its examples run
    results = run_examples(parse_watchlist(text).topics)
    # Then exactly the apple-the-fruit example fails, and "applauded" does not match
    failing = [r.text for r in results if not r.ok]
    assert failing == ["I ate an apple"]


def test_google_news_without_accepted_terms_is_rejected_quoting_the_terms():
    # Given a topic that reads Google News without confirming its terms of use
    text = (
        "version: 1\n"
        "topics:\n"
        "  - name: acme\n"
        "    terms: [acme]\n"
        "    sources:\n"
        "      rss:\n"
        "        google_news: {hl: en-US, gl: US, ceid: 'US:en'}\n"
    )
    # When it is parsed
    with pytest.raises(WatchlistError) as caught:
        parse_watchlist(text, "watchlist.yaml")
    # Then the error quotes the terms and says how to opt in, on the google_news line
    message = str(caught.value)
    assert "Google News RSS is for personal, non-commercial use" in message
    assert "accept_terms: true" in message
    assert caught.value.problems[0].field.startswith("sources.rss.google_news")
    # And with the opt-in the same topic is accepted
    accepted = text.replace("{hl:", "{accept_terms: true, hl:")
    topic = parse_watchlist(accepted, "watchlist.yaml").topics[0]
    assert topic.sources.rss.google_news.accept_terms is True


def test_a_watchlist_may_hold_a_thousand_topics_and_no_more():
    """Given watchlists of 1,000 and 1,001 small topics (the scale fan-out collection plans for)
    When they are validated
    Then the first is accepted and the second refused with the limit named."""
    from pydantic import ValidationError
    from stormwatch.watchlist import Watchlist

    def topics(n: int) -> list[dict]:
        return [
            {"name": f"topic-{i}", "terms": [f"term{i}"], "sources": {"hackernews": {}}}
            for i in range(n)
        ]

    assert len(Watchlist.model_validate({"topics": topics(1000)}).topics) == 1000
    with pytest.raises(ValidationError, match="1000"):
        Watchlist.model_validate({"topics": topics(1001)})
