"""Checked by mypy (make typecheck), never run: both HTTP clients give the sources what the
collector promises them (`SourceHttp`), and every source accepts it (`Source`), so a source
that declares a narrower client, or a client that loses a method, fails the type check."""

from stormwatch.http import HttpClient, ReplayHttpClient
from stormwatch.sources.base import Source, SourceHttp
from stormwatch.sources.bluesky import BlueskySource
from stormwatch.sources.gdelt import GdeltSource
from stormwatch.sources.github import GitHubSource
from stormwatch.sources.hackernews import HackerNewsSource
from stormwatch.sources.mastodon import MastodonSource
from stormwatch.sources.reddit import RedditSource
from stormwatch.sources.rss import RssSource
from stormwatch.sources.stackexchange import StackExchangeSource
from stormwatch.sources.youtube import YouTubeSource


def clients_fit_the_sources(live: HttpClient, replay: ReplayHttpClient) -> list[SourceHttp]:
    return [live, replay]


def sources_take_the_client() -> list[Source]:
    return [
        BlueskySource(),
        GdeltSource(),
        GitHubSource(),
        HackerNewsSource(),
        MastodonSource(),
        RedditSource(),
        RssSource(),
        StackExchangeSource(),
        YouTubeSource(),
    ]
