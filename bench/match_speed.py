"""Topic matching speed with and without inflected forms, written to docs/benchmarks.md.

    python bench/match_speed.py [--no-write]

Every topic of the shipped ``watchlist.yaml`` is compiled twice: with exact word forms (as
before inflection matching; ``languages`` ignored) and with inflected forms in the topic's
languages. Both check the same real German texts (PotTS dev and GermEval-2017 dev, read from
``../shared``); the CPU time per check is reported cold (first pass: empty caches, simplemma's
dictionary loaded on the way) and warm (second pass). CPU time, not wall time, because the
machine is shared. Skips when ``../shared`` is absent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sentiment_data as data
from measuring import cpu_seconds, write_region
from sentiment_accuracy import machine
from stormwatch.config import load_watchlist
from stormwatch.query import TopicMatcher, compile_topic

DOC = data.REPO / "docs/benchmarks.md"
START, END = "<!-- matching:start -->", "<!-- matching:end -->"


def exact(matcher: TopicMatcher) -> TopicMatcher:
    return TopicMatcher(matcher.include, matcher.exclude, langs=())


def per_check_us(matchers: list[TopicMatcher], texts: list[str]) -> tuple[float, int]:
    hits, seconds = cpu_seconds(lambda: sum(m.matches(t) for t in texts for m in matchers))
    return seconds / (len(texts) * len(matchers)) * 1e6, hits


def measure() -> list[tuple[str, float, float, int]]:
    topics = load_watchlist(data.REPO / "watchlist.yaml").topics
    texts = data.potts("dev").texts + data.germeval_dev().texts
    inflected = [compile_topic(t) for t in topics]
    rows = []
    variants = (("exact forms", [exact(m) for m in inflected]), ("inflected", inflected))
    for name, matchers in variants:
        cold, hits = per_check_us(matchers, texts)
        warm, _ = per_check_us(matchers, texts)
        rows.append((name, cold, warm, hits))
    return rows, len(texts), len(topics)


def render(rows, n_texts: int, n_topics: int) -> str:
    lines = [
        "## Topic matching speed",
        "",
        f"Measured on {dt.date.today().isoformat()} ({machine()}) by `bench/match_speed.py`: "
        f"the {n_topics} topics of `watchlist.yaml` against {n_texts:,} German texts (PotTS dev, "
        "GermEval-2017 dev), CPU time per topic check (the machine is shared; wall time varies).",
        "",
        "| matching | cold µs/check | warm µs/check | matches |",
        "|---|---|---|---|",
    ]
    lines += [f"| {name} | {cold:.1f} | {warm:.1f} | {hits:,} |" for name, cold, warm, hits in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if data.shared_root() is None:
        print("SKIP: ../shared/data/sentiment not found (set STORMWATCH_SHARED); nothing measured")
        return 0
    body = render(*measure())
    print(body)
    if not args.no_write:
        write_region(DOC, START, END, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
