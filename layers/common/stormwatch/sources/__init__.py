"""The collectors: one module per source, all behind the `Source` protocol (see base.py)."""

from __future__ import annotations

from stormwatch.sources.base import Source
from stormwatch.sources.hackernews import HackerNewsSource
from stormwatch.sources.rss import RssSource

SOURCES: dict[str, Source] = {
    "hackernews": HackerNewsSource(),
    "rss": RssSource(),
}


def get_source(name: str) -> Source:
    """The source registered under `name`; KeyError naming the known ones otherwise."""
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise KeyError(f"unknown source {name!r} (known: {known})") from None


__all__ = ["SOURCES", "HackerNewsSource", "RssSource", "Source", "get_source"]
