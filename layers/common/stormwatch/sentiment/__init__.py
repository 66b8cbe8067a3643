"""Sentiment analysis for mentions in seven languages, behind one interface.

``analyze(text, lang)`` routes a text to the analyzer of its language and returns a
:class:`~stormwatch.models.Sentiment`. The language comes from the source when the caller trusts
it, otherwise it is detected (:func:`detect_language`). Languages without an analyzer are never
mis-scored: they come back ``neutral`` with score 0, confidence 0 and the detected code, so the
scorer can count them separately.

Importing this package is cheap: model weights are loaded on the first call for a language.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from stormwatch.models import Sentiment

from .langid import detect_language, normalize_lang

__all__ = [
    "SUPPORTED_LANGUAGES",
    "Analyzer",
    "Sentiment",
    "analyze",
    "analyze_many",
    "detect_language",
    "get_analyzer",
    "normalize_lang",
    "run_cli",
    "unsupported",
]

# a trained model per language ships in models/ (English, German, French, Italian, Spanish,
# Portuguese, Arabic)
SUPPORTED_LANGUAGES: frozenset[str] = frozenset({"en", "de", "fr", "it", "es", "pt", "ar"})

# confidence given to a text in a language we have no analyzer for (contract: <= 0.1)
UNSUPPORTED_CONFIDENCE = 0.0


class Analyzer(Protocol):
    lang: str

    def analyze(self, text: str) -> Sentiment: ...


_analyzers: dict[str, Analyzer] = {}
_lock = threading.Lock()


def get_analyzer(lang: str) -> Analyzer:
    """The analyzer for a supported language, created (and its weights loaded) on first use."""
    code = normalize_lang(lang)
    if code not in SUPPORTED_LANGUAGES:
        raise ValueError(f"no sentiment analyzer for language {lang!r}")
    analyzer = _analyzers.get(code)
    if analyzer is None:
        with _lock:
            analyzer = _analyzers.get(code)
            if analyzer is None:
                from .linear import load_analyzer

                analyzer = load_analyzer(code)
                _analyzers[code] = analyzer
    return analyzer


def unsupported(lang: str) -> Sentiment:
    """The verdict for a text we cannot score: neutral, no confidence, language kept."""
    return Sentiment(
        label="neutral", score=0.0, confidence=UNSUPPORTED_CONFIDENCE, lang=lang or "und"
    )


def analyze(text: str, lang: str | None = None) -> Sentiment:
    """Score one text. ``lang`` is the source's language if trustworthy, else ``None``."""
    code = normalize_lang(lang) if lang else None
    if not code:
        code = detect_language(text)
    if code not in SUPPORTED_LANGUAGES:
        return unsupported(code)
    return get_analyzer(code).analyze(text)


def analyze_many(
    texts: Sequence[str], langs: Sequence[str | None] | None = None
) -> list[Sentiment]:
    """Score many texts; ``langs`` (same length) gives each text's trusted language or None."""
    if langs is not None and len(langs) != len(texts):
        raise ValueError(f"langs has {len(langs)} entries for {len(texts)} texts")
    if langs is None:
        return [analyze(text) for text in texts]
    return [analyze(text, lang) for text, lang in zip(texts, langs, strict=True)]


def run_cli(argv: list[str], stdin, stdout) -> int:
    """``stormwatch sentiment [--lang CODE|auto]``: one text per stdin line -> one JSON line."""
    from .cli import run

    return run(argv, stdin, stdout)
