"""The collectors: one module per source, all behind the `Source` protocol (see base.py).

A source that needs collaborators beyond the per-call HTTP client gets them when it is built:
`get_source(name, secrets=..., state=...)` calls the source's factory with

- `secrets`: a view of a `stormwatch.secrets.Secrets` (SSM in Lambda; `NoSecrets()` when not
  given) that serves only the names the source declares in its `secret_names`, and
- `state`: a `stormwatch.source_state.SourceState` (the Store in Lambda; None when not given) for
  values kept between runs that are not a per-topic cursor, e.g. a login session.

The adapters are imported when a source is first built or its class is asked for, not with
this package: the score and report paths need only each source's `history`, which is why the
registry repeats it beside the class (a test keeps the two equal).

To add a source: its class (with `name`, `secret_names` and `history`), one `Registered` line
below, its options as a field of `stormwatch.watchlist.Sources`, a collect schedule in
template.yaml and `events/collect_<name>.json`; tests/infrastructure/test_source_registry.py
checks they agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from importlib import import_module
from typing import TYPE_CHECKING

from stormwatch.secrets import DeclaredSecrets, NoSecrets, Secrets
from stormwatch.source_state import SourceState

if TYPE_CHECKING:
    from stormwatch.sources.base import Source

SourceFactory = Callable[[Secrets, SourceState | None], "Source"]
# how a registered class is built from its collaborators
Builder = Callable[[type, Secrets, SourceState | None], "Source"]


def no_collaborators(cls: type, secrets: Secrets, state: SourceState | None) -> Source:
    return cls()


def with_secrets(cls: type, secrets: Secrets, state: SourceState | None) -> Source:
    return cls(secrets)


def with_secrets_and_state(cls: type, secrets: Secrets, state: SourceState | None) -> Source:
    return cls(secrets, state)


def with_state(cls: type, secrets: Secrets, state: SourceState | None) -> Source:
    return cls(state)


@dataclass(frozen=True)
class Registered:
    """A source: where its class lives, how far back it can search (equal to the class's
    `history`, kept here so that reading it imports no adapter) and how to build it."""

    name: str
    path: str  # "module:Class" inside stormwatch.sources
    history: timedelta
    builder: Builder

    @cached_property
    def cls(self) -> type[Source]:
        module, _, class_name = self.path.partition(":")
        return getattr(import_module(f"stormwatch.sources.{module}"), class_name)

    @property
    def secret_names(self) -> tuple[str, ...]:
        return self.cls.secret_names

    def build(self, secrets: Secrets, state: SourceState | None) -> Source:
        return self.builder(self.cls, secrets, state)


_YEARS = timedelta(days=3650)

REGISTRY: dict[str, Registered] = {
    entry.name: entry
    for entry in (
        Registered("hackernews", "hackernews:HackerNewsSource", _YEARS, no_collaborators),
        Registered("rss", "rss:RssSource", timedelta(0), no_collaborators),
        Registered("reddit", "reddit:RedditSource", timedelta(0), with_secrets_and_state),
        Registered("mastodon", "mastodon:MastodonSource", timedelta(days=30), no_collaborators),
        Registered("bluesky", "bluesky:BlueskySource", timedelta(days=730), with_secrets_and_state),
        Registered("stackexchange", "stackexchange:StackExchangeSource", _YEARS, with_secrets),
        Registered("youtube", "youtube:YouTubeSource", _YEARS, with_secrets_and_state),
        Registered("github", "github:GitHubSource", _YEARS, with_secrets),
        Registered("gdelt", "gdelt:GdeltSource", timedelta(days=89), with_state),
    )
}
# name -> factory, for callers that only build
FACTORIES: dict[str, SourceFactory] = {name: entry.build for name, entry in REGISTRY.items()}


def history_of() -> dict[str, timedelta]:
    """How far back each source can search (stormwatch.backfill), without importing adapters."""
    return {name: entry.history for name, entry in REGISTRY.items()}


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
    "Registered",
    "SourceFactory",
    "declared_secrets",
    "get_source",
    "history_of",
]
