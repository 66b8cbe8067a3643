"""The shipped models: pure-Python inference equals the training-time model; behaviour."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import pytest
from stormwatch import sentiment
from stormwatch.sentiment.linear import CLASSES, LinearAnalyzer, load_model

MODELS = resources.files("stormwatch.sentiment") / "models"


@pytest.mark.parametrize("lang", sorted(sentiment.SUPPORTED_LANGUAGES))
def test_pure_python_inference_reproduces_the_training_time_model(lang):
    # Given the shipped model and the self-check the training script computed with numpy
    doc = json.loads((MODELS / f"{lang}.json").read_text(encoding="utf-8"))
    analyzer = LinearAnalyzer(load_model(lang))
    assert len(doc["selfcheck"]) >= 4
    for case in doc["selfcheck"]:
        # When the pure-Python analyzer scores the same text
        logits = analyzer.logits(case["text"])
        result = analyzer.analyze(case["text"])
        # Then its logits equal the training-time ones and the label is the float model's
        assert logits == pytest.approx(case["logits"], abs=1e-6), case["text"]
        assert result.label == case["label"] == CLASSES[logits.index(max(logits))]


@pytest.mark.parametrize("lang", sorted(sentiment.SUPPORTED_LANGUAGES))
def test_models_are_small_and_declare_their_training_data(lang):
    meta = load_model(lang).meta
    assert meta["trained_on"] and meta["tuned_on"]
    total = sum(Path(str(p)).stat().st_size for p in MODELS.iterdir() if p.is_file())
    assert total <= 20 * 1024 * 1024


@pytest.mark.parametrize(
    ("lang", "bad", "good"),
    [
        ("fr", "Quelle honte, le train est encore en retard", "J'adore ce film, génial :)"),
        ("it", "Il treno è di nuovo in ritardo, che schifo", "Adoro questo film, bellissimo :)"),
        ("es", "Servicio horrible, qué asco, nunca más 😡", "Me encanta esta película, genial :)"),
        ("pt", "O trem atrasou de novo, que droga", "Adorei esse filme, maravilhoso :)"),
    ],
)
def test_the_romance_language_models_tell_complaints_from_praise(lang, bad, good):
    """Given a complaint and praise in French, Italian, Spanish or Portuguese
    When their language is detected and they are scored
    Then they are routed to that language's model (scored, not left neutral) and the complaint
    scores below the praise."""
    complaint, praise = sentiment.analyze(bad), sentiment.analyze(good)
    assert complaint.lang == praise.lang == lang
    assert complaint.confidence > 0.1 and praise.confidence > 0.1
    assert complaint.score < 0 < praise.score


def test_licences_of_the_training_data_are_noted():
    text = (MODELS / "LICENSES.md").read_text(encoding="utf-8")
    for name in ("SemEval", "PotTS", "SB-10k", "GermEval", "VADER", "Polarity"):
        assert name in text


def test_negation_flips_the_verdict():
    good = sentiment.analyze("the new update is good", "en")
    not_good = sentiment.analyze("the new update is not good", "en")
    assert good.label == "positive"
    assert not_good.label != "positive"
    assert not_good.score < good.score
    assert "not good" in not_good.terms


def test_german_negation_flips_the_verdict():
    good = sentiment.analyze("Das neue Update ist gut", "de")
    not_good = sentiment.analyze("Das neue Update ist nicht gut", "de")
    assert not_good.score < good.score
    assert not_good.label != "positive"


def test_emoji_carry_sentiment():
    angry = sentiment.analyze("my order 😡😡", "en")
    happy = sentiment.analyze("my order 😍😍", "en")
    assert angry.label == "negative"
    assert happy.label == "positive"


def test_elongated_words_are_read_as_the_word():
    # Given a plain and an elongated declaration of love
    plain = sentiment.analyze("I love it", "en")
    long = sentiment.analyze("I looooove it!!!", "en")
    # Then both are positive and the elongated one is explained by the word itself
    assert long.label == plain.label == "positive"
    assert "love" in long.terms
    assert long.score > 0.5


def test_intensifiers_do_not_weaken_a_verdict():
    bad = sentiment.analyze("the service was bad", "en")
    very_bad = sentiment.analyze("the service was really very bad", "en")
    assert bad.label == very_bad.label == "negative"
    assert very_bad.score <= bad.score + 0.05


def test_terms_explain_a_negative_verdict():
    result = sentiment.analyze(
        "@user your app keeps crashing, terrible support and a useless refund process", "en"
    )
    assert result.label == "negative"
    assert 1 <= len(result.terms) <= 5
    assert {"crashing", "terrible", "useless"} & set(result.terms)
    assert not {"<user>", "<url>"} & set(result.terms)


def test_confidence_is_the_probability_of_the_label():
    sure = sentiment.analyze("I absolutely hate this, worst ever, disgusting", "en")
    unsure = sentiment.analyze("the meeting is on tuesday", "en")
    assert sure.confidence > 0.6
    assert sure.confidence > unsure.confidence or unsure.label == "neutral"


@pytest.mark.shared
def test_beats_vader_on_tweeteval_test_sample():
    shared = Path(os.environ.get("STORMWATCH_SHARED", Path(__file__).parents[3] / "shared"))
    base = shared / "data/sentiment/en/tweeteval"
    if not base.is_dir():
        pytest.skip(f"labelled data not found at {base} (set STORMWATCH_SHARED)")
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    # Given the first 1,000 TweetEval test tweets (never trained or tuned on)
    texts = (base / "test_text.txt").read_text(encoding="utf-8").splitlines()[:1000]
    gold = [int(x) for x in (base / "test_labels.txt").read_text().split()[:1000]]
    vader = SentimentIntensityAnalyzer()

    def macro_recall(pred):
        recalls = []
        for k in range(3):
            n = sum(g == k for g in gold)
            recalls.append(sum(p == g == k for p, g in zip(pred, gold, strict=True)) / n)
        return sum(recalls) / 3

    ours = [CLASSES.index(sentiment.analyze(t, "en").label) for t in texts]
    theirs = []
    for t in texts:
        c = vader.polarity_scores(t)["compound"]
        theirs.append(2 if c >= 0.05 else 0 if c <= -0.05 else 1)
    # Then the trained model's macro-recall is clearly above VADER's
    assert macro_recall(ours) >= macro_recall(theirs) + 0.04
