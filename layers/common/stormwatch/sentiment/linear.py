"""The trained analyzers: a hashed linear model per language, evaluated in pure Python.

A model is two files in ``models/``: ``<lang>.json`` (feature settings, class order, intercepts,
decision biases, the lexicon, a self-check) and ``<lang>.weights.gz`` (the weight matrix,
``2**bits`` rows by 3 classes, as gzip-compressed little-endian int16 with one scale per class).

Scoring a text: tokens -> per-token weight sums (cached, tweets reuse words) + bigram weights,
divided by ``sqrt(n)`` -> plus lexicon features and intercept -> plus the decision bias tuned on a
development split -> softmax. The label is the most probable class, ``score`` is
``p(positive) - p(negative)``, ``confidence`` the probability of the label. The terms are the
tokens and bigrams that pushed most toward the label.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import sys
from array import array
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from stormwatch.models import Sentiment

from .features import (
    LEXICON_SCALE,
    FeatureSpec,
    hash_index,
    lexicon_valence,
    token_feature_strings,
)
from .langid import STOPWORDS
from .text import NEG_PREFIX, display, tokenize

CLASSES = ("negative", "neutral", "positive")
_CACHE_LIMIT = 200_000
# a term is shown only if it pushed at least this share of the strongest term's push
_TERM_SHARE = 0.1
_NOT_A_TERM = frozenset({"<user>", "<url>", "<num>", "<elong>", "<caps>", "#", "!", "?"})


@dataclass
class LinearModel:
    lang: str
    spec: FeatureSpec
    weights: array  # int16, row-major: weights[index * 3 + class]
    scale: tuple[float, float, float]
    intercept: tuple[float, float, float]
    bias: tuple[float, float, float]
    lex_weights: tuple[tuple[float, float, float], tuple[float, float, float]]  # pos, neg rows
    lexicon: dict[str, float]
    meta: dict[str, Any]


def load_model(lang: str, directory: Path | None = None) -> LinearModel:
    """Load ``<lang>.json`` and ``<lang>.weights.gz`` from ``directory`` (default: shipped)."""
    base = directory if directory is not None else resources.files(__package__) / "models"
    with (base / f"{lang}.json").open("r", encoding="utf-8") as fh:
        doc = json.load(fh)
    with (base / f"{lang}.weights.gz").open("rb") as raw, gzip.open(raw, "rb") as fh:
        data = fh.read()
    weights = array("h")
    weights.frombytes(data)
    if sys.byteorder != "little":
        weights.byteswap()
    spec = FeatureSpec(**doc["spec"])
    if len(weights) != spec.size * 3:
        raise ValueError(f"{lang} weights: {len(weights)} values for {spec.size} x 3")
    return LinearModel(
        lang=lang,
        spec=spec,
        weights=weights,
        scale=tuple(doc["scale"]),
        intercept=tuple(doc["intercept"]),
        bias=tuple(doc["bias"]),
        lex_weights=(tuple(doc["lex_weights"][0]), tuple(doc["lex_weights"][1])),
        lexicon=doc["lexicon"],
        meta=doc.get("meta", {}),
    )


class LinearAnalyzer:
    """Scores texts of one language with a :class:`LinearModel`."""

    def __init__(self, model: LinearModel) -> None:
        self.model = model
        self.lang = model.lang
        # token -> (scaled weight sums for the 3 classes, feature count, lexicon valence,
        # may it be shown as a term)
        self._cache: dict[str, tuple[float, float, float, int, float, bool]] = {}
        self._scale = model.scale
        self._lex = tuple(
            tuple(v * LEXICON_SCALE for v in row) for row in model.lex_weights
        )  # (pos row, neg row) per unit of raw valence
        self._offset = tuple(i + b for i, b in zip(model.intercept, model.bias, strict=True))

    def _token(self, token: str) -> tuple[float, float, float, int, float, bool]:
        hit = self._cache.get(token)
        if hit is not None:
            return hit
        m = self.model
        w = m.weights
        bits = m.spec.bits
        a = b = c = 0
        feats = token_feature_strings(token, m.spec)
        for f in feats:
            i = hash_index(f, bits) * 3
            a += w[i]
            b += w[i + 1]
            c += w[i + 2]
        s0, s1, s2 = self._scale
        entry = (
            a * s0,
            b * s1,
            c * s2,
            len(feats),
            lexicon_valence(token, m.lexicon),
            token not in _NOT_A_TERM,
        )
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[token] = entry
        return entry

    def _parts(self, text: str):
        """Tokens, their cache entries, bigram entries, and the text's feature count."""
        tokens = tokenize(text, self.lang, self.model.lexicon)
        entries = [self._token(t) for t in tokens]
        n = 0
        for e in entries:
            n += e[3]
        bigrams = []
        if self.model.spec.bigrams and len(tokens) > 1:
            w = self.model.weights
            bits = self.model.spec.bits
            s0, s1, s2 = self._scale
            for left, right in itertools.pairwise(tokens):
                term = left + " " + right
                i = hash_index("b|" + term, bits) * 3
                bigrams.append((term, w[i] * s0, w[i + 1] * s1, w[i + 2] * s2))
            n += len(bigrams)
        return tokens, entries, bigrams, n

    def logits(self, text: str) -> list[float]:
        """The three biased logits (negative, neutral, positive) of one text."""
        return self._logits(*self._parts(text))

    def _logits(self, tokens, entries, bigrams, n) -> list[float]:
        sa = sb = sc = 0.0
        lex_pos = lex_neg = 0.0
        for a, b, c, _, valence, _ in entries:
            sa += a
            sb += b
            sc += c
            if valence > 0:
                lex_pos += valence
            elif valence < 0:
                lex_neg += valence
        for _, a, b, c in bigrams:
            sa += a
            sb += b
            sc += c
        norm = 1.0 / math.sqrt(n) if n else 0.0
        (pa, pb, pc), (na, nb, nc) = self._lex
        o0, o1, o2 = self._offset
        return [
            sa * norm + lex_pos * pa + lex_neg * na + o0,
            sb * norm + lex_pos * pb + lex_neg * nb + o1,
            sc * norm + lex_pos * pc + lex_neg * nc + o2,
        ]

    def analyze(self, text: str) -> Sentiment:
        tokens, entries, bigrams, n = self._parts(text)
        logits = self._logits(tokens, entries, bigrams, n)
        top = max(logits)
        exps = [math.exp(x - top) for x in logits]
        total = exps[0] + exps[1] + exps[2]
        k = logits.index(top)
        score = (exps[2] - exps[0]) / total
        return Sentiment(
            label=CLASSES[k],
            score=round(max(-1.0, min(1.0, score)), 4),
            confidence=round(exps[k] / total, 4),
            lang=self.lang,
            terms=self._terms(tokens, entries, bigrams, n, k),
        )

    def _terms(self, tokens, entries, bigrams, n, k: int) -> tuple[str, ...]:
        """Up to five tokens or bigrams that pushed most toward class ``k``."""
        norm = 1.0 / math.sqrt(n) if n else 0.0
        lex_pos, lex_neg = self._lex
        o1, o2 = (k + 1) % 3, (k + 2) % 3
        pushes: list[tuple[float, str]] = []
        for token, (a, b, c, _, valence, shown) in zip(tokens, entries, strict=True):
            if not shown:
                continue
            v = (a * norm, b * norm, c * norm)
            if valence:
                row = lex_pos if valence > 0 else lex_neg
                v = (v[0] + valence * row[0], v[1] + valence * row[1], v[2] + valence * row[2])
            push = v[k] - (v[o1] if v[o1] > v[o2] else v[o2])
            if push > 0:
                pushes.append((push, token))
        for term, a, b, c in bigrams:
            v = (a, b, c)
            push = (v[k] - (v[o1] if v[o1] > v[o2] else v[o2])) * norm
            if push > 0:
                pushes.append((push, term))
        if not pushes:
            return ()
        pushes.sort(reverse=True)
        out: list[str] = []
        lang = self.lang
        floor = pushes[0][0] * _TERM_SHARE
        for push, term in pushes:
            if push < floor:
                break
            if " " in term:
                left, right = term.split(" ", 1)
                if left in _NOT_A_TERM or right in _NOT_A_TERM:
                    continue
                if _uninformative(left, lang) and _uninformative(right, lang):
                    continue
                # "not_at not_all" reads "not at all": the negation is said once
                if right.startswith(NEG_PREFIX) and (
                    left.startswith(NEG_PREFIX) or _uninformative(left, lang)
                ):
                    right = right[len(NEG_PREFIX) :]
                shown = display(left, lang) + " " + right
            else:
                if _uninformative(term, lang):
                    continue
                shown = display(term, lang)
            if shown not in out:
                out.append(shown)
                if len(out) == 5:
                    break
        return tuple(out)


def _uninformative(token: str, lang: str) -> bool:
    """Function words and single letters weigh in the model but explain nothing to a reader
    ("why: der, s, bei"); negated words ("not_good") and emoji/emoticons always explain."""
    if token.startswith(NEG_PREFIX) or not token.isalpha():
        return False
    return len(token) < 2 or token in STOPWORDS.get(lang, frozenset())


def load_analyzer(lang: str):
    """The trained analyzer for ``lang``; for English and German the lexicon baseline if the
    weights are missing (the other languages have no baseline: their files must ship)."""
    try:
        return LinearAnalyzer(load_model(lang))
    except FileNotFoundError:
        if lang not in ("en", "de"):
            raise
        from .baseline import TinyGermanLexicon, VaderAnalyzer

        return VaderAnalyzer() if lang == "en" else TinyGermanLexicon()
