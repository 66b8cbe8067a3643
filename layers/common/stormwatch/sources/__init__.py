"""The collectors: one module per source, all behind the `Source` protocol (see base.py).

A source that needs collaborators beyond the per-call HTTP client gets them when it is built:
`get_source(name, secrets=..., state=...)` calls the source's factory with

- `secrets`: a `stormwatch.secrets.Secrets` (SSM in Lambda; `NoSecrets()` when not given), and
- `state`: a `stormwatch.secrets.SourceState` (the Store in Lambda; None when not given) for
  values kept between runs that are not a per-topic cursor, e.g. a login session.

To register a source add one line to `FACTORIES`: `"name": lambda secrets, state: MySource(...)`.
"""

from __future__ import annotations

from collections.abc import Callable

from stormwatch.secrets import NoSecrets, Secrets, SourceState
from stormwatch.sources.base import Source
from stormwatch.sources.bluesky import BlueskySource
from stormwatch.sources.github import GitHubSource
from stormwatch.sources.hackernews import HackerNewsSource
from stormwatch.sources.mastodon import MastodonSource
from stormwatch.sources.reddit import RedditSource
from stormwatch.sources.rss import RssSource
from stormwatch.sources.stackexchange import StackExchangeSource
from stormwatch.sources.youtube import YouTubeSource

SourceFactory = Callable[[Secrets, SourceState | None], Source]

# every registered source needs a collect schedule in template.yaml (a test checks)
FACTORIES: dict[str, SourceFactory] = {
    "hackernews": lambda secrets, state: HackerNewsSource(),
    "rss": lambda secrets, state: RssSource(),
    "reddit": lambda secrets, state: RedditSource(secrets, state),
    "mastodon": lambda secrets, state: MastodonSource(secrets, state),
    "bluesky": lambda secrets, state: BlueskySource(secrets, state),
    "stackexchange": lambda secrets, state: StackExchangeSource(secrets),
    "youtube": lambda secrets, state: YouTubeSource(secrets),
    "github": lambda secrets, state: GitHubSource(secrets),
}


def get_source(
    name: str, *, secrets: Secrets | None = None, state: SourceState | None = None
) -> Source:
    """A new source `name` with its collaborators; KeyError naming the known ones otherwise."""
    try:
        factory = FACTORIES[name]
    except KeyError:
        known = ", ".join(sorted(FACTORIES))
        raise KeyError(f"unknown source {name!r} (known: {known})") from None
    return factory(secrets if secrets is not None else NoSecrets(), state)


__all__ = [
    "FACTORIES",
    "BlueskySource",
    "HackerNewsSource",
    "MastodonSource",
    "RedditSource",
    "RssSource",
    "Source",
    "SourceFactory",
    "get_source",
]
