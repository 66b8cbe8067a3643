"""The sentiment contract the scorer, the CLI and the digest rely on."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from stormwatch import sentiment
from stormwatch.models import Sentiment


def test_clear_english_negative_is_negative_with_reasons():
    # Given an unmistakably negative English complaint
    text = "This is the worst customer service ever, I hate it. Never again!"
    # When it is analyzed with a trusted language
    result = sentiment.analyze(text, "en")
    # Then it is negative, scored below zero, and names words that made it negative
    assert isinstance(result, Sentiment)
    assert result.label == "negative"
    assert result.score < 0
    assert result.lang == "en"
    assert 0 < len(result.terms) <= 5
    assert {"worst", "hate"} & set(result.terms)


def test_clear_english_positive_is_positive():
    # Given a happy English post
    # When it is analyzed without a language
    result = sentiment.analyze("I love my new phone, it's absolutely amazing :)")
    # Then the language is detected and the label is positive
    assert result.lang == "en"
    assert result.label == "positive"
    assert result.score > 0


def test_clear_german_negative_and_positive():
    # Given a German complaint and a German compliment
    bad = sentiment.analyze(
        "Die Bahn ist schon wieder zu spät, totales Chaos, einfach nur schlecht"
    )
    good = sentiment.analyze("Super Konzert gestern, vielen Dank, war wunderschön :)")
    # Then both are routed to German and scored in the right direction
    assert (bad.lang, good.lang) == ("de", "de")
    assert bad.label == "negative"
    assert good.label == "positive"
    assert bad.score < 0 < good.score


def test_unsupported_language_is_neutral_with_low_confidence_and_its_code():
    # Given a Dutch text and a Russian text (no analyzer for either)
    dutch = sentiment.analyze("Dit is echt verschrikkelijk, ik haat dit product en het werkt niet")
    russian = sentiment.analyze("Это просто ужасно, я ненавижу этот продукт")
    # Then neither is scored by another language's model: neutral, score 0, confidence <= 0.1
    for result, code in ((dutch, "nl"), (russian, "ru")):
        assert result.label == "neutral"
        assert result.score == 0
        assert result.confidence <= 0.1
        assert result.lang == code


def test_source_language_is_trusted_and_normalised():
    # Given a text whose source says it is German in a regional spelling
    result = sentiment.analyze("ok", "de-AT")
    # Then the German analyzer is used
    assert result.lang == "de"
    # And an unsupported source language is not overridden by detection
    assert sentiment.analyze("I hate this", "nl").label == "neutral"


def test_text_without_letters_is_undetermined_and_neutral():
    result = sentiment.analyze("https://t.co/abc 123")
    assert result.lang == "und"
    assert result.label == "neutral"
    assert result.confidence <= 0.1


def test_analyze_many_keeps_order_and_checks_lengths():
    # Given three texts, one with a trusted language
    texts = ["I love it", "Ich hasse das", "terrible, awful, broken"]
    # When they are analyzed together
    results = sentiment.analyze_many(texts, [None, "de", None])
    # Then each result matches the single-text call
    langs = [None, "de", None]
    assert results == [sentiment.analyze(t, lang) for t, lang in zip(texts, langs, strict=True)]
    with pytest.raises(ValueError, match="langs has 1 entries for 3 texts"):
        sentiment.analyze_many(texts, ["en"])


def test_get_analyzer_is_cached_and_rejects_unsupported():
    assert sentiment.get_analyzer("en") is sentiment.get_analyzer("EN")
    assert sentiment.get_analyzer("de").lang == "de"
    assert {"en", "de", "fr", "it", "es", "pt"} <= sentiment.SUPPORTED_LANGUAGES
    with pytest.raises(ValueError, match="no sentiment analyzer"):
        sentiment.get_analyzer("nl")


def test_scores_are_bounded_for_hostile_input():
    # Given empty, huge and odd texts
    for text in ["", " ", "!!!!!!", "a" * 5000, "😡" * 300, "\x00\u202e weird", "<3 " * 500]:
        result = sentiment.analyze(text, "en")
        # Then every result is a valid Sentiment
        assert -1 <= result.score <= 1
        assert 0 <= result.confidence <= 1
        assert result.label in ("negative", "neutral", "positive")


def test_cli_writes_one_json_object_per_input_line():
    # Given three lines on stdin, one of them empty
    stdin = io.StringIO("I hate waiting for this awful train\n\nDas ist großartig, danke!\n")
    stdout = io.StringIO()
    # When the command runs with language detection
    code = sentiment.run_cli([], stdin, stdout)
    # Then it exits 0 and writes exactly one JSON object per line in order
    assert code == 0
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert len(lines) == 3
    assert [x["label"] for x in lines] == ["negative", "neutral", "positive"]
    assert lines[2]["lang"] == "de"
    for line in lines:
        assert {"label", "score", "lang"} <= set(line)
        assert -1 <= line["score"] <= 1


def test_cli_uses_the_given_language_and_rejects_others(capsys):
    stdout = io.StringIO()
    assert (
        sentiment.run_cli(["--lang", "de"], io.StringIO("the service is terrible\n"), stdout) == 0
    )
    assert json.loads(stdout.getvalue())["lang"] == "de"
    assert sentiment.run_cli(["--lang", "nl"], io.StringIO(""), io.StringIO()) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_cli_matches_analyze():
    text = "Worst. Update. Ever. My battery dies in an hour"
    stdout = io.StringIO()
    sentiment.run_cli(["--lang", "en"], io.StringIO(text + "\n"), stdout)
    expected = sentiment.analyze(text, "en")
    got = json.loads(stdout.getvalue())
    assert (got["label"], got["score"], got["lang"]) == (
        expected.label,
        expected.score,
        expected.lang,
    )


def test_import_is_cheap_and_loads_no_weights():
    # Given a fresh interpreter
    code = (
        "import sys; import stormwatch.sentiment as s; "
        "print('stormwatch.sentiment.linear' in sys.modules, len(s._analyzers))"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import stormwatch.models\n" + code],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # Then importing the package (beyond the models it shares) loads no model (its import
    # time is a benchmark number, not a test)
    assert out == ["False", "0"]


def test_cli_auto_scores_the_new_languages():
    """Given a French and a Spanish complaint on stdin
    When `stormwatch sentiment --lang auto` runs
    Then each is scored by its own language's model (not left neutral as before)."""
    stdin = io.StringIO(
        "Quelle honte, le train est encore en retard\nServicio horrible, qué asco, nunca más 😡\n"
    )
    stdout = io.StringIO()

    assert sentiment.run_cli(["--lang", "auto"], stdin, stdout) == 0

    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert [(x["lang"], x["label"]) for x in lines] == [("fr", "negative"), ("es", "negative")]
    assert all(x["confidence"] > 0.1 for x in lines)
