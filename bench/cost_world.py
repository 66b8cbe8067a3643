"""The cost benchmark's offline world: a generated watchlist of N topics and fake sources that
return a fixed number of mentions per topic and day, deterministically, spread over the
collection runs. The fakes take the place of every registered source (same names, same
declared secrets) behind `stormwatch.sources.get_source`, so the collect handler runs
unchanged; they never touch the network.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import yaml
from stormwatch import sources as source_registry
from stormwatch.models import FetchResult, Mention

SENTENCES = (
    "I love how {term} handles our deployments, setup took five minutes",
    "{term} is down again and support is not answering, this is terrible",
    "Has anyone compared {term} with the other providers on price?",
    "The new {term} dashboard is fast and the docs are clear",
    "Our team moved to {term} last month and billing has been confusing",
    "{term} fixed the outage quickly, thanks to their engineers",
    "Why does {term} keep changing the API without any notice",
    "Great talk about {term} at the meetup yesterday",
    "{term} support closed my ticket without reading it, awful experience",
    "Trying {term} for a side project this weekend",
)
AUTHORS = 20_000  # distinct authors the fakes draw from
FIRST_WINDOW = timedelta(minutes=15)  # what a source returns on its very first run
ROUNDING = 1e-6  # of k / rate * rate: a float a hair below k must still count as k


def term_for(index: int) -> str:
    return f"brand{index:04d}x"


@dataclass
class Traffic:
    """Mentions per topic and day, split evenly over each topic's sources (mutable: the
    history days run at another rate than the measured day)."""

    mentions_per_topic_per_day: float
    sources_per_topic: int

    def per_second(self) -> float:
        return self.mentions_per_topic_per_day / self.sources_per_topic / 86_400


class FakeSource:
    """Returns the mentions published since its cursor (a UNIX time) at the traffic's rate:
    mention k of a (source, topic) is published at k / rate seconds, so every run gets the
    ones that fell into its window, and none twice. The cursor is the newest mention read, as
    the real sources keep theirs (Hacker News, Bluesky, Reddit, the windowed searches): a run
    that finds nothing leaves it as it was."""

    name: ClassVar[str] = "fake"
    secret_names: ClassVar[tuple[str, ...]] = ()
    history: ClassVar[timedelta] = timedelta(0)  # no backfill: history comes from the runs

    def __init__(self, traffic: Traffic):
        self.traffic = traffic

    def fetch(
        self, topic: Any, cursor: str | None, http: Any, *, now: datetime, deadline: Any = None
    ) -> FetchResult:
        rate = self.traffic.per_second()
        until = now.timestamp()
        since = float(cursor) if cursor else until - FIRST_WINDOW.total_seconds()
        # the cursor is k / rate of the newest one read: that k, not one before it
        first, last = math.floor(since * rate + ROUNDING) + 1, math.floor(until * rate)
        mentions = [self._mention(topic, k, rate) for k in range(first, last + 1)]
        newest = last / rate if mentions else since
        return FetchResult(mentions=mentions, cursor=repr(newest), pages=1)

    def _mention(self, topic: Any, k: int, rate: float) -> Mention:
        sentence = SENTENCES[(k * 7 + len(topic.name)) % len(SENTENCES)]
        term = topic.terms[0]
        return Mention(
            topic=topic.name,
            source=self.name,
            native_id=f"{self.name}-{topic.name}-{k}-{rate:.9g}",
            published=datetime.fromtimestamp(k / rate, UTC),
            url=f"https://example.com/{self.name}/{topic.name}/{k}",
            title=sentence.format(term=term)[:60] if k % 3 == 0 else "",
            text=sentence.format(term=term),
            author=f"user{(k * 7919) % AUTHORS}",
            engagement=k % 50,
        )


@contextmanager
def fake_sources(traffic: Traffic) -> Iterator[list[str]]:
    """Every registered source replaced by a fake of the same name for the duration."""
    saved = dict(source_registry.REGISTRY)
    for name, entry in saved.items():
        fake = type(
            f"Fake{entry.cls.__name__}",
            (FakeSource,),
            {"name": name, "secret_names": entry.cls.secret_names},
        )
        stand_in = dataclasses.replace(
            entry, builder=lambda _cls, secrets, state, fake=fake: fake(traffic)
        )
        stand_in.__dict__["cls"] = fake  # Registered.cls is a cached_property: no import
        source_registry.REGISTRY[name] = stand_in
    try:
        yield sorted(saved)
    finally:
        source_registry.REGISTRY.clear()
        source_registry.REGISTRY.update(saved)


def write_watchlist(path: Path, topics: int, example: Path, only: list[str] | None) -> int:
    """A watchlist of `topics` topics, each with the sources of the example watchlist's first
    topic (or `only` those), e-mail digests at staggered hours and e-mail alerts. Returns the
    number of sources per topic."""
    example_sources = yaml.safe_load(example.read_text(encoding="utf-8"))["topics"][0]["sources"]
    chosen = {k: v for k, v in example_sources.items() if only is None or k in only}
    if not chosen:
        raise ValueError(f"none of {only} is a source of {example}'s first topic")
    doc = {
        "version": 1,
        "name": "Cost benchmark",
        "topics": [
            {
                "name": f"topic-{i:04d}",
                "terms": [term_for(i)],
                "languages": ["en"],
                "sources": chosen,
                "digest": {
                    "recipients": [f"team{i}@example.com"],
                    "hour": i % 24,
                    "timezone": "UTC",
                    "language": "en",
                },
                "alerts": {"recipients": [f"oncall{i}@example.com"], "sensitivity": "balanced"},
            }
            for i in range(topics)
        ],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return len(chosen)
