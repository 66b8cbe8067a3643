"""``stormwatch sentiment [--lang CODE|auto]``: one text per stdin line, one JSON line out.

Uses :func:`stormwatch.sentiment.analyze`, the same path the scoring function takes. ``auto``
(the default) detects the language of every line; a supported code (``en``, ``de``, ``fr`` ...)
trusts the given language.
Each output line is ``{"label", "score", "lang"}`` plus ``confidence`` and ``terms``.
Empty lines give a neutral result so that output line N always belongs to input line N.
"""

from __future__ import annotations

import argparse
import json

from . import SUPPORTED_LANGUAGES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stormwatch sentiment",
        description="Score sentiment of one text per stdin line; writes one JSON object per line.",
    )
    parser.add_argument(
        "--lang",
        choices=(*sorted(SUPPORTED_LANGUAGES), "auto"),
        default="auto",
        help="language of every line; 'auto' (default) detects it per line",
    )
    return parser


def run(argv: list[str], stdin, stdout) -> int:
    from . import analyze

    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed the reason
        return int(exc.code or 0)
    lang = None if args.lang == "auto" else args.lang
    for line in stdin:
        text = line.rstrip("\r\n")
        result = analyze(text, lang)
        record = {
            "label": result.label,
            "score": result.score,
            "lang": result.lang,
            "confidence": result.confidence,
            "terms": list(result.terms),
        }
        stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    stdout.flush()
    return 0
