"""The "why" terms a reader sees: words that explain, not the topic's name or function words."""

from __future__ import annotations

from datetime import UTC, datetime

from stormwatch import sentiment
from stormwatch.models import Mention, Sentiment
from stormwatch.scoring import score_mention, topic_words
from stormwatch.watchlist import Topic


def db_topic() -> Topic:
    return Topic.model_validate(
        {
            "name": "deutsche-bahn",
            "phrases": ["deutsche bahn", "db navigator"],
            "terms": ["bahnstreik"],
            "languages": ["de"],
            "sources": {"rss": {"feeds": ["https://example.de/feed"]}},
        }
    )


def mention(text: str, lang: str = "de") -> Mention:
    return Mention(
        topic="deutsche-bahn",
        source="rss",
        native_id="1",
        text=text,
        lang=lang,
        published=datetime(2026, 11, 25, 8, tzinfo=UTC),
    )


def test_the_topics_own_words_are_not_offered_as_a_reason():
    # Given an analyzer that blames the brand name among real reasons
    def analyze(text, lang):
        return Sentiment(
            label="negative",
            score=-0.8,
            lang="de",
            terms=("bahn", "deutsche bahn", "verspätung", "db", "chaos"),
        )

    # When a mention of the topic is scored with the topic's words
    scored = score_mention(
        mention("Deutsche Bahn: Verspätung und Chaos"), analyze, topic_words(db_topic())
    )
    # Then only the words that explain the sentiment remain
    assert scored.sentiment.terms == ("verspätung", "chaos")


def test_function_words_and_single_letters_never_explain_a_label():
    # Given German and English complaints full of function words
    german = sentiment.analyze("Großstörung bei der S-Bahn: schon wieder Ausfall", "de")
    english = sentiment.analyze("This is not good at all, the worst update", "en")
    # Then no reason is a bare function word or a single letter
    for result in (german, english):
        for term in result.terms:
            assert term not in {"der", "bei", "s", "the", "is", "at", "all", "this"}, result.terms
    # And a negation still reads naturally, said once
    assert not any(term.startswith("not not") for term in english.terms)
