"""Language ID routes each text to the model of its language, or says it cannot place it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stormwatch.sentiment import detect_language
from stormwatch.sentiment.langid import MODELLED, UNKNOWN


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The train is late again, worst service ever", "en"),
        ("Der Zug hat schon wieder Verspätung, so ein Mist", "de"),
        ("Le train est encore en retard, service nul", "fr"),
        ("Il treno è di nuovo in ritardo, servizio pessimo", "it"),
        ("El tren llega tarde otra vez, servicio horrible", "es"),
        ("O trem atrasou de novo, atendimento péssimo", "pt"),
        ("القطار متأخر مرة أخرى", "ar"),
        ("Это просто ужасно", "ru"),
        ("De trein is weer te laat en het is niet de eerste keer", "nl"),
    ],
)
def test_each_language_is_routed_to_its_own_code(text, lang):
    """Given a complaint in one of the languages we score (or another we must not mis-score)
    When its language is detected
    Then it gets that language's code."""
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["", "😡😡😡", "https://t.co/abc 123", "@user #tag"])
def test_a_text_without_words_is_unknown(text):
    """Given a text with no words to judge
    Then its language is unknown, not a guess."""
    assert detect_language(text) == UNKNOWN


def test_a_text_the_model_cannot_place_is_unknown_not_german():
    """Given letters that are no word of any modelled language
    Then the text is unknown rather than sent to the German (or any other) model."""
    assert detect_language("xq zzkv") == UNKNOWN


@given(st.text(max_size=80))
def test_any_text_gets_a_code_without_error(text):
    """Given any text (hostile input)
    Then detection returns a two-letter code or 'und'."""
    code = detect_language(text)
    assert code == UNKNOWN or (len(code) == 2 and code.isalpha())


def test_the_model_knows_the_languages_with_a_sentiment_model_in_latin_script():
    """Given the sentiment models
    Then every Latin-script one can be reached by detection."""
    from stormwatch.sentiment import SUPPORTED_LANGUAGES

    assert SUPPORTED_LANGUAGES - {"ar"} == set(MODELLED)
