"""Dictionary forms: what lets a German topic match "der Deutschen Bahn"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stormwatch.inflection import INFLECTED_LANGUAGES, dictionary_form, dictionary_words

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("word", "form"),
    [
        ("Deutschen", "deutsch"),
        ("deutsche", "deutsch"),
        ("Bahnen", "bahn"),
        ("bahn", "bahn"),  # lower-case in a query: the noun, not the verb "bahnen"
        ("Lufthansas", "lufthansa"),  # genitive of a name no dictionary knows
        ("Bahnhof", "bahnhof"),  # a compound stays whole
        ("Bus", "bus"),  # a word ending in "us" keeps its "s"
        ("Züge", "zug"),
    ],
)
def test_german_words_reduce_to_one_folded_dictionary_form(word, form):
    """Given German words as written in posts and in queries
    When they are reduced
    Then each gives one folded dictionary form, whatever its case."""
    assert dictionary_form(word, "de") == form


def test_a_text_keeps_its_word_order():
    """Given a German sentence
    When its dictionary forms are taken
    Then they come in the sentence's order, one per word."""
    assert dictionary_words("Ärger mit der Deutschen Bahn", "de")[-2:] == ["deutsch", "bahn"]


@settings(deadline=None)  # the first example loads the dictionary
@given(st.text(max_size=60), st.sampled_from(("de", "fr")))
@example("\ufe70", "de")  # Arabic presentation form: NFKD gives a space and a mark
def test_any_text_reduces_without_error_to_space_free_forms(text, lang):
    """Given any text (mention text is hostile input)
    When it is reduced in any supported language
    Then there is one form per word and no form contains a space."""
    forms = dictionary_words(text, lang)
    assert len(forms) == len(re.findall(r"\w+", text))
    assert all(" " not in f for f in forms)


def test_the_layer_ships_the_dictionaries_of_exactly_these_languages():
    """Given the layer build, which deletes simplemma's other dictionaries
    Then the languages it keeps are the ones topics inflect."""
    makefile = (REPO / "layers/common/Makefile").read_text(encoding="utf-8")
    kept = re.search(r"^SIMPLEMMA_LANGUAGES := (.+)$", makefile, re.M)
    assert kept is not None
    assert sorted(kept.group(1).split()) == sorted(INFLECTED_LANGUAGES)
