"""Features of the linear sentiment models, shared by training and inference.

A text becomes tokens (:mod:`.text`), each token becomes feature strings, and each feature string
is hashed with CRC-32 into one of ``2**bits`` buckets (no vocabulary to ship):

* ``w|token``: the word (negated words carry their ``not_`` prefix, so they are other features);
* ``c|ngram`` / ``n|ngram``: character n-grams of a word padded with ``<`` and ``>`` (``n|`` when
  the word is negated), which catches spelling variants, inflection and compounds (per model:
  ``char_min``/``char_max``, 0 for none; the German model does better without them);
* ``b|left right``: word bigrams over the token sequence ("not bad", "can't wait", "so happy").

Besides the hashed features there are two lexicon features: the summed positive and the summed
negative valence of the tokens found in the language's sentiment lexicon (VADER's for English,
the German Polarity Lexicon for German), negated words counting with the opposite sign.

Hashed features have the value ``1/sqrt(n)`` for a text with ``n`` hashed features (repeats add
up), so long and short texts sit on one scale. The training script builds its sparse matrix from
:func:`extract` and the pure-Python analyzer evaluates the same sums token by token, which is why
both give the same numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from zlib import crc32

from .text import NEG_PREFIX

LEXICON_SCALE = 0.25  # valences are summed and scaled so that a typical text lands near [-1, 1]


@dataclass(frozen=True)
class FeatureSpec:
    bits: int = 18
    char_min: int = 3
    char_max: int = 5
    bigrams: bool = True

    @property
    def size(self) -> int:
        return 1 << self.bits


def hash_index(feature: str, bits: int) -> int:
    return crc32(feature.encode("utf-8")) & ((1 << bits) - 1)


def token_feature_strings(token: str, spec: FeatureSpec) -> list[str]:
    """The hashed features one token contributes on its own (word and character n-grams)."""
    feats = ["w|" + token]
    negated = token.startswith(NEG_PREFIX)
    word = token[len(NEG_PREFIX) :] if negated else token
    if spec.char_max >= spec.char_min > 0 and len(word) >= 3 and word.isalpha():
        padded = f"<{word}>"
        tag = "n|" if negated else "c|"
        length = len(padded)
        for n in range(spec.char_min, spec.char_max + 1):
            for i in range(length - n + 1):
                feats.append(tag + padded[i : i + n])
    return feats


def bigram_feature_strings(tokens: list[str]) -> list[str]:
    return ["b|" + a + " " + b for a, b in itertools.pairwise(tokens)]


def lexicon_valence(token: str, lexicon: Mapping[str, float]) -> float:
    if token.startswith(NEG_PREFIX):
        return -lexicon.get(token[len(NEG_PREFIX) :], 0.0)
    return lexicon.get(token, 0.0)


def extract(
    tokens: list[str], spec: FeatureSpec, lexicon: Mapping[str, float]
) -> tuple[list[int], float, float]:
    """Hashed feature indices (with repeats) and the two lexicon sums of one token list."""
    bits = spec.bits
    indices = [hash_index(f, bits) for token in tokens for f in token_feature_strings(token, spec)]
    if spec.bigrams:
        indices.extend(hash_index(f, bits) for f in bigram_feature_strings(tokens))
    lex_pos = lex_neg = 0.0
    for token in tokens:
        valence = lexicon_valence(token, lexicon)
        if valence > 0:
            lex_pos += valence
        elif valence < 0:
            lex_neg += valence
    return indices, lex_pos * LEXICON_SCALE, lex_neg * LEXICON_SCALE
