"""Lexicon analyzers: the baselines the trained models are measured against.

``VaderAnalyzer`` wraps vaderSentiment (English) with its usual ±0.05 thresholds on the compound
score. ``TinyGermanLexicon`` is a deliberately small hand-written German word list; it exists so
that the package works (and the tests run) even without the trained German weights, and as a
floor in the benchmark. Neither is used by the scorer while the trained models are present.
"""

from __future__ import annotations

from stormwatch.models import Sentiment

from .text import NEG_PREFIX, display, tokenize


class VaderAnalyzer:
    lang = "en"

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()

    def analyze(self, text: str) -> Sentiment:
        scores = self._vader.polarity_scores(text)
        compound = max(-1.0, min(1.0, scores["compound"]))
        label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
        lexicon = self._vader.lexicon
        terms = []
        for token in tokenize(text, "en"):
            word = token.removeprefix(NEG_PREFIX)
            valence = lexicon.get(word, 0.0) * (-1 if token.startswith(NEG_PREFIX) else 1)
            if (label == "negative" and valence < 0) or (label == "positive" and valence > 0):
                terms.append((abs(valence), display(token, "en")))
        terms.sort(key=lambda t: -t[0])
        return Sentiment(
            label=label,
            score=compound,
            confidence=min(1.0, abs(compound)) if label != "neutral" else 1 - abs(compound),
            lang="en",
            terms=tuple(dict.fromkeys(t for _, t in terms))[:5],
        )


_DE_POSITIVE = [
    "gut",
    "super",
    "toll",
    "klasse",
    "prima",
    "schön",
    "danke",
    "liebe",
    "lieben",
    "freue",
    "freude",
    "glücklich",
    "perfekt",
    "genial",
    "spitze",
    "geil",
    "cool",
    "lecker",
    "lustig",
    "beste",
    "besten",
    "bester",
    "hammer",
    "yeah",
    "endlich",
    "gerne",
    "gern",
    "hurra",
    "wunderbar",
    "wunderschön",
    "herrlich",
    "fantastisch",
    "angenehm",
    "zufrieden",
    "empfehlen",
    "stolz",
    "glückwunsch",
    "erfolg",
    "gewonnen",
    "sieg",
    "spaß",
    "witzig",
    "nett",
    "freundlich",
    "pünktlich",
]
_DE_NEGATIVE = [
    "schlecht",
    "schlimm",
    "scheiße",
    "scheisse",
    "mist",
    "doof",
    "blöd",
    "dumm",
    "hass",
    "hasse",
    "hassen",
    "ärger",
    "ärgerlich",
    "nervig",
    "nervt",
    "nerven",
    "kotzen",
    "peinlich",
    "traurig",
    "schade",
    "leider",
    "angst",
    "katastrophe",
    "chaos",
    "verspätung",
    "verspätet",
    "ausfall",
    "ausgefallen",
    "kaputt",
    "enttäuscht",
    "enttäuschung",
    "frech",
    "unfreundlich",
    "dreck",
    "dreckig",
    "unmöglich",
    "furchtbar",
    "schrecklich",
    "grauenhaft",
    "problem",
    "probleme",
    "streik",
    "stress",
    "wütend",
    "sauer",
    "verloren",
    "tot",
    "tod",
    "krank",
    "fehler",
]
_DE_LEXICON = {w: 1.0 for w in _DE_POSITIVE} | {w: -1.0 for w in _DE_NEGATIVE}
_DE_LEXICON.update({":)": 1.0, ":D": 1.0, ";)": 0.5, "<3": 1.0, ":(": -1.0, ":/": -0.5})


class TinyGermanLexicon:
    lang = "de"

    def analyze(self, text: str) -> Sentiment:
        total = 0.0
        hits: list[tuple[float, str]] = []
        for token in tokenize(text, "de"):
            word = token.removeprefix(NEG_PREFIX)
            valence = _DE_LEXICON.get(word, 0.0)
            if token.startswith(NEG_PREFIX):
                valence = -valence
            if valence:
                total += valence
                hits.append((valence, display(token, "de")))
        score = max(-1.0, min(1.0, total / 2))
        label = "positive" if score > 0 else "negative" if score < 0 else "neutral"
        sign = 1 if label == "positive" else -1
        terms = [t for v, t in sorted(hits, key=lambda h: -h[0] * sign) if v * sign > 0]
        return Sentiment(
            label=label,
            score=score,
            confidence=0.3 + 0.3 * abs(score),
            lang="de",
            terms=tuple(dict.fromkeys(terms))[:5],
        )
