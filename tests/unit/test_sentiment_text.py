"""Tokenizer and language detection: the social-media handling behind the analyzers."""

from __future__ import annotations

import pytest
from stormwatch.sentiment import detect_language, normalize_lang
from stormwatch.sentiment.text import display, tokenize


def test_urls_mentions_and_numbers_become_placeholders():
    tokens = tokenize("@DB_Bahn see https://t.co/xyz and www.example.com at 17:45 now")
    assert tokens == ["<user>", "see", "<url>", "and", "<url>", "at", "<num>", "now"]


def test_hashtags_give_their_words_split_at_capitals():
    assert tokenize("so #EpicFail #sad") == ["so", "#", "epic", "fail", "#", "sad"]


def test_negation_marks_the_following_words_until_punctuation():
    # Given a negated clause followed by a new one
    tokens = tokenize("I don't like this phone, it works")
    # Then the words after the negator (at most three) carry the prefix, not those after the comma
    assert tokens == ["i", "dont", "not_like", "not_this", "not_phone", "it", "works"]
    assert display("not_like") == "not like"


def test_german_negation():
    assert tokenize("Das ist nicht gut", "de") == ["das", "ist", "nicht", "not_gut"]
    assert tokenize("kein Service.", "de") == ["kein", "not_service"]
    assert display("not_gut", "de") == "nicht gut"


def test_elongation_is_shortened_and_flagged_and_caps_flagged():
    # without a lexicon runs shrink to two letters; with one, to the lexicon word
    assert tokenize("I loooove it!!!") == ["i", "<elong>", "loove", "it", "<elong>", "!"]
    assert tokenize("I loooove it", known={"love"}) == ["i", "<elong>", "love", "it"]
    assert tokenize("soooo goooood", known={"good", "god", "so"}) == [
        "<elong>",
        "so",
        "<elong>",
        "good",
    ]
    assert tokenize("this is AWFUL") == ["this", "is", "<caps>", "awful"]


def test_emoji_and_emoticons_are_tokens_and_skin_tones_dropped():
    assert tokenize("great :-) 👍🏽 <3 :(") == ["great", ":)", "👍", "<3", ":("]


def test_html_entities_are_decoded():
    # "&lt;3" is a heart once decoded; the bare "&" is not a token
    assert tokenize("Tom &amp; Jerry &lt;3") == ["tom", "jerry", "<3"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I can't believe how bad this update is", "en"),
        ("worst service ever", "en"),
        ("Ich kann nicht glauben, wie schlecht das Update ist", "de"),
        ("schlechtester Service überhaupt", "de"),
        ("Zug fällt schon wieder aus", "de"),
        ("C'est vraiment nul, je suis très déçu", "fr"),
        ("El servicio es muy malo, no funciona para nada", "es"),
        ("Это просто ужасно", "ru"),
        ("これはひどい", "ja"),
        ("😂😂😂 https://t.co/x", "und"),
    ],
)
def test_detects_language_of_short_texts(text, expected):
    assert detect_language(text) == expected


def test_language_codes_are_normalised():
    assert normalize_lang("en-GB") == "en"
    assert normalize_lang("DE_de") == "de"
    assert normalize_lang("deu") == "de"
    assert normalize_lang(None) == ""
