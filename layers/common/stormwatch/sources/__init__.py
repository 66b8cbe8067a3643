"""The collectors: one module per source, all behind the `Source` protocol (see base.py).

A source that needs collaborators beyond the per-call HTTP client gets them when it is built:
`get_source(name, secrets=..., state=...)` calls the source's factory with

- `secrets`: a view of a `stormwatch.secrets.Secrets` (SSM in Lambda; `NoSecrets()` when not
  given) that serves only the names the source declares in its `secret_names`, and
- `state`: a `stormwatch.secrets.SourceState` (the Store in Lambda; None when not given) for
  values kept between runs that are not a per-topic cursor, e.g. a login session.

To add a source: its class (with `name`, `secret_names` and `history`), one `Registered` line
below, its options as a field of `stormwatch.watchlist.Sources`, a collect schedule in
template.yaml and `events/collect_<name>.json`; tests/infrastructure/test_source_registry.py
checks they agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from stormwatch.secrets import DeclaredSecrets, NoSecrets, Secrets, SourceState
from stormwatch.sources.base import Source
from stormwatch.sources.bluesky import BlueskySource
from stormwatch.sources.gdelt import GdeltSource
from stormwatch.sources.github import GitHubSource
from stormwatch.sources.hackernews import HackerNewsSource
from stormwatch.sources.mastodon import MastodonSource
from stormwatch.sources.reddit import RedditSource
from stormwatch.sources.rss import RssSource
from stormwatch.sources.stackexchange import StackExchangeSource
from stormwatch.sources.youtube import YouTubeSource

SourceFactory = Callable[[Secrets, SourceState | None], Source]


@dataclass(frozen=True)
class Registered:
    """A source class and how to build it from its collaborators."""

    cls: type[Source]
    build: SourceFactory

    @property
    def name(self) -> str:
        return self.cls.name

    @property
    def secret_names(self) -> tuple[str, ...]:
        return self.cls.secret_names


REGISTRY: dict[str, Registered] = {
    entry.name: entry
    for entry in (
        Registered(HackerNewsSource, lambda secrets, state: HackerNewsSource()),
        Registered(RssSource, lambda secrets, state: RssSource()),
        Registered(RedditSource, lambda secrets, state: RedditSource(secrets, state)),
        Registered(MastodonSource, lambda secrets, state: MastodonSource(secrets, state)),
        Registered(BlueskySource, lambda secrets, state: BlueskySource(secrets, state)),
        Registered(StackExchangeSource, lambda secrets, state: StackExchangeSource(secrets)),
        Registered(YouTubeSource, lambda secrets, state: YouTubeSource(secrets, state)),
        Registered(GitHubSource, lambda secrets, state: GitHubSource(secrets)),
        Registered(GdeltSource, lambda secrets, state: GdeltSource(state)),
    )
}
# name -> factory, for callers that only build
FACTORIES: dict[str, SourceFactory] = {name: entry.build for name, entry in REGISTRY.items()}


def history_of() -> dict[str, timedelta]:
    """How far back each source can search (its class declares it; stormwatch.backfill)."""
    return {name: entry.cls.history for name, entry in REGISTRY.items()}


def declared_secrets() -> list[str]:
    """Every secret any source declares: what the collect function may read from SSM."""
    return sorted({name for entry in REGISTRY.values() for name in entry.secret_names})


def get_source(
    name: str, *, secrets: Secrets | None = None, state: SourceState | None = None
) -> Source:
    """A new source `name` with its collaborators; KeyError naming the known ones otherwise."""
    try:
        entry = REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown source {name!r} (known: {known})") from None
    view = DeclaredSecrets(
        secrets if secrets is not None else NoSecrets(), entry.secret_names, source=name
    )
    return entry.build(view, state)


__all__ = [
    "FACTORIES",
    "REGISTRY",
    "BlueskySource",
    "GdeltSource",
    "HackerNewsSource",
    "MastodonSource",
    "RedditSource",
    "Registered",
    "RssSource",
    "Source",
    "SourceFactory",
    "declared_secrets",
    "get_source",
    "history_of",
]
