"""The topic matcher decides which collected items are really about a topic."""

from __future__ import annotations

import pytest
from stormwatch.query import QueryError, compile_topic, parse_query, search_terms
from stormwatch.watchlist import Topic


def topic(**fields) -> Topic:
    fields.setdefault("name", "t")
    fields.setdefault("sources", {})
    return Topic(**fields)


def test_a_word_matches_only_whole_words_not_fuzzy_neighbours():
    """Given a topic for "apple" (Algolia returned "applauded" for it)
    When texts with near misses and real mentions are checked
    Then only the real mentions match."""
    matcher = compile_topic(topic(terms=["apple"]))

    assert not matcher.matches("I don't see why what they've done shouldn't be applauded.")
    assert not matcher.matches("pineapple pizza is fine")
    assert not matcher.matches("Applesauce")
    assert matcher.matches("Apple's new laptop")
    assert matcher.matches("loving my #apple watch")
    assert matcher.matches("APPLE STOCK DOWN")
    assert matcher.matches("(apple)")


def test_matching_ignores_case_and_accents_and_folds_sharp_s():
    """Given terms written with and without accents
    When texts use the other spelling
    Then they still match."""
    matcher = compile_topic(topic(terms=["zurich", "Straße", "café"]))

    assert matcher.matches("Flughafen ZÜRICH gesperrt")
    assert matcher.matches("Zürich")
    assert matcher.matches("Baustelle in der STRASSE")
    assert matcher.matches("die strasse")
    assert matcher.matches("Cafe opening")
    assert not matcher.matches("Zurichsee")  # still whole words


def test_phrases_match_consecutive_words_across_punctuation_and_spacing():
    """Given a phrase topic
    When the words appear in a row (any case, spacing, punctuation) or apart
    Then only the consecutive occurrences match."""
    matcher = compile_topic(topic(phrases=["acme cloud"]))

    assert matcher.matches("Is anyone else seeing errors on Acme   Cloud?")
    assert matcher.matches("ACME-Cloud outage")
    assert matcher.matches("acme\ncloud")
    assert not matcher.matches("Acme Corp announced a new cloud service")
    assert not matcher.matches("acme cloudy bay wine")


def test_exclusions_veto_a_match_and_each_term_or_phrase_matches_alone():
    """Given a topic with an exclusion
    When a text contains a term and the exclusion
    Then it does not match; otherwise any one term or phrase is enough."""
    matcher = compile_topic(
        topic(
            phrases=["deutsche bahn", "db navigator"],
            terms=["bahnstreik"],
            exclude=["bahnhofskino"],
        )
    )

    assert not matcher.matches("Heute Abend im Bahnhofskino: Deutsche Bahn Doku")
    assert matcher.matches("#Bahnstreik: Deutsche Bahn und DB Navigator down")
    assert matcher.matches("Neue Version des DB Navigator")
    assert not matcher.matches("Die Bahn kommt")


def test_prefix_terms_match_word_starts():
    """Given `bahn*`
    When texts contain words starting with it (or only containing it)
    Then word starts match and inner occurrences do not."""
    matcher = compile_topic(topic(terms=["bahn*"]))

    assert matcher.matches("Chaos am Bahnhof")
    assert matcher.matches("Bahn")
    assert not matcher.matches("Autobahn gesperrt")


def test_a_query_decides_instead_of_terms_with_and_or_not_and_parentheses():
    """Given a boolean query
    When texts satisfy or violate each part
    Then the query's logic decides."""
    matcher = compile_topic(
        topic(
            terms=["ignored"],
            query='("acme cloud" OR acmecloud) (outage OR down) NOT test -staging',
            exclude=["acme anvil"],
        )
    )

    assert matcher.matches("AcmeCloud is down again")
    assert matcher.matches("Acme Cloud outage in us-east")
    assert not matcher.matches("Acme Cloud launches new region")  # needs outage/down
    assert not matcher.matches("ignored")  # terms do not count when a query is given
    assert not matcher.matches("acmecloud outage test")
    assert not matcher.matches("acmecloud down on staging")
    assert not matcher.matches("acme anvil down, acme cloud outage")  # exclude still vetoes


def test_and_binds_tighter_than_or_and_lower_case_operators_are_words():
    """Given queries relying on precedence and lower-case 'or'
    When evaluated
    Then AND groups before OR, and 'or' is just a word."""
    precedence = compile_topic(topic(query="a AND b OR c"))
    assert precedence.matches("c")
    assert precedence.matches("a b")
    assert not precedence.matches("a")

    lower = compile_topic(topic(query="rock or roll"))
    assert lower.matches("rock or roll")
    assert not lower.matches("rock")


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("", "empty"),
        ("acme AND", "'AND' at position 5 needs a word"),
        ("(acme OR cloud", "missing ')' for the '(' at position 0"),
        ("acme) cloud", "unexpected ')' at position 4"),
        ('"acme cloud', "unterminated quote"),
        ("OR acme", "found 'OR' at position 0"),
        ('acme ""', "empty phrase at position 5"),
        ("acme !!!", "'!!!' has no letters or digits"),
        ("NOT", "'NOT' at position 0 needs a word"),
    ],
)
def test_bad_query_syntax_is_reported_with_position(expr, message):
    """Given a malformed query When parsed Then QueryError names the problem and where."""
    with pytest.raises(QueryError) as info:
        parse_query(expr)
    assert message in str(info.value)


def test_a_topic_with_a_bad_query_or_only_negations_is_rejected_with_its_name():
    """Given topics whose query cannot work
    When compiled
    Then the error names the topic."""
    with pytest.raises(QueryError, match=r"topic 'brand': query: missing '\)'"):
        compile_topic(topic(name="brand", query="(acme"))
    with pytest.raises(QueryError, match="not negated"):
        compile_topic(topic(name="brand", query="NOT acme"))
    with pytest.raises(QueryError, match="no letters or digits"):
        compile_topic(topic(name="brand", terms=["🔥"]))


def test_search_terms_are_the_positive_words_and_phrases():
    """Given a topic with a query
    When a source asks what to search for
    Then it gets the words and phrases that are not negated, once each."""
    assert search_terms(topic(phrases=["deutsche bahn"], terms=["bahnstreik"])) == [
        "deutsche bahn",
        "bahnstreik",
    ]
    assert search_terms(topic(query='"acme cloud" OR (acmecloud NOT test) OR acmecloud')) == [
        "acme cloud",
        "acmecloud",
    ]


# ------------------------------------------------------------------------- inflected forms


def german(**fields) -> Topic:
    return topic(languages=["de"], **fields)


def test_a_german_phrase_matches_its_inflected_forms():
    """Given the phrase "deutsche bahn" in a German topic
    When a text declines it ("der Deutschen Bahn")
    Then it matches."""
    matcher = compile_topic(german(phrases=["deutsche bahn"]))

    assert matcher.matches("Ärger mit der Deutschen Bahn")
    assert matcher.matches("DEUTSCHE BAHN")
    assert not matcher.matches("Die deutsche Post und die Bahn")  # not in a row


def test_german_terms_match_plurals_and_genitives_but_not_compounds():
    """Given the terms "bahn" and "lufthansa" in a German topic
    When texts use a plural, a genitive, or a compound
    Then plural and genitive match; the compound "Bahnhof" does not."""
    matcher = compile_topic(german(terms=["bahn", "lufthansa"]))

    assert matcher.matches("Die Bahnen fallen aus")
    assert matcher.matches("Lufthansas Piloten streiken")
    assert not matcher.matches("Treffpunkt am Bahnhof")
    assert not matcher.matches("Der Bahnhofs-Kiosk")


def test_a_prefix_query_is_what_matches_compounds():
    """Given `bahn*` in a German topic
    When a compound is checked
    Then it matches: the query asked for any word starting with "bahn"."""
    assert compile_topic(german(query="bahn*")).matches("Treffpunkt am Bahnhof")


@pytest.mark.parametrize(
    ("lang", "term", "text"),
    [
        ("fr", "grève", "Les grèves continuent à la SNCF"),
        ("es", "huelga", "Nuevas huelgas de Renfe"),
        ("it", "sciopero", "Scioperi dei treni domani"),
        ("pt", "greve", "As greves no metrô"),
    ],
)
def test_romance_language_topics_match_plurals(lang, term, text):
    """Given a topic in French, Spanish, Italian or Portuguese
    When a text uses the plural of its term
    Then it matches."""
    assert compile_topic(topic(terms=[term], languages=[lang])).matches(text)


def test_an_english_topic_keeps_exact_word_forms():
    """Given a topic with the default language (English)
    When a German inflected form is checked
    Then it does not match: inflection applies to the topic's own languages only."""
    assert not compile_topic(topic(terms=["bahn"])).matches("Die Bahnen fallen aus")


def test_exclusions_also_veto_inflected_forms():
    """Given a German topic that excludes "streik"
    When the plural "Streiks" occurs
    Then the exclusion vetoes the match."""
    matcher = compile_topic(german(terms=["bahn"], exclude=["streik"]))

    assert matcher.matches("Die Bahn fährt")
    assert not matcher.matches("Die Bahn und die Streiks")
