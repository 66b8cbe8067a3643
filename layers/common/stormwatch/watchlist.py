"""The watchlist schema: what to watch, where, who gets told, what to do.

Loaded from `watchlist.yaml` by `stormwatch.config.load_watchlist`, which turns validation errors
into messages naming the file, line, topic and field.
"""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HackerNewsOptions(_Strict):
    enabled: bool = True
    # Algolia tags: story, comment (both by default)
    tags: list[Literal["story", "comment", "ask_hn", "show_hn"]] = Field(
        default_factory=lambda: ["story", "comment"]
    )
    hits_per_page: int = Field(default=100, ge=1, le=1000)
    max_pages: int = Field(default=10, ge=1, le=50)
    # On the very first run, how far back to look
    initial_lookback_hours: int = Field(default=24, ge=1, le=24 * 30)


class GoogleNewsOptions(_Strict):
    hl: str = "en-US"
    gl: str = "US"
    ceid: str = "US:en"
    # Google News' own time filter, e.g. "1d"; keeps the feed focused on fresh items
    when: str | None = "2d"


class RssOptions(_Strict):
    enabled: bool = True
    feeds: list[str] = Field(default_factory=list)
    google_news: GoogleNewsOptions | None = None
    google_alerts: list[str] = Field(default_factory=list)

    @field_validator("feeds", "google_alerts")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not re.match(r"^https?://", url):
                raise ValueError(f"feed URL must start with http:// or https://: {url!r}")
        return urls

    @model_validator(mode="after")
    def _something_to_read(self) -> RssOptions:
        if self.enabled and not (self.feeds or self.google_news or self.google_alerts):
            raise ValueError("rss needs at least one of feeds, google_news, google_alerts")
        return self


class Sources(_Strict):
    hackernews: HackerNewsOptions | None = None
    rss: RssOptions | None = None

    def enabled(self) -> list[str]:
        return [
            name for name in ("hackernews", "rss") if (opt := getattr(self, name)) and opt.enabled
        ]


class DigestSettings(_Strict):
    recipients: list[EmailStr] = Field(default_factory=list)
    hour: int = Field(default=8, ge=0, le=23)
    timezone: str = "UTC"
    language: Literal["en", "de"] = "en"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value


class AlertSettings(_Strict):
    enabled: bool = True
    recipients: list[EmailStr] = Field(default_factory=list)
    sensitivity: Literal["fewer", "balanced", "more"] = "balanced"
    min_count: int = Field(default=5, ge=1)
    cooldown_hours: int = Field(default=6, ge=1, le=168)


class Playbook(_Strict):
    owner: str = ""
    first_steps: list[str] = Field(default_factory=list)
    holding_statement: str = ""


class MatchExamples(_Strict):
    match: list[str] = Field(default_factory=list)
    no_match: list[str] = Field(default_factory=list)


class Topic(_Strict):
    name: str
    display_name: str = ""
    terms: list[str] = Field(default_factory=list)
    phrases: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    # optional boolean expression; when given it decides instead of terms/phrases
    query: str | None = None
    languages: list[str] = Field(default_factory=lambda: ["en"])
    sources: Sources
    digest: DigestSettings = Field(default_factory=DigestSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    playbook: Playbook = Field(default_factory=Playbook)
    examples: MatchExamples = Field(default_factory=MatchExamples)

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("must be a slug: lower-case letters, digits and '-', at most 63")
        return value

    @field_validator("languages")
    @classmethod
    def _lang_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not re.match(r"^[a-z]{2}$", code):
                raise ValueError(f"language must be a two-letter ISO code, got {code!r}")
        return value

    @model_validator(mode="after")
    def _has_query(self) -> Topic:
        if not (self.terms or self.phrases or self.query):
            raise ValueError("a topic needs terms, phrases or a query")
        return self

    @property
    def title(self) -> str:
        return self.display_name or self.name

    @property
    def search_terms(self) -> list[str]:
        """Terms and phrases in the order a source search should try them."""
        return [*self.phrases, *self.terms]


class Watchlist(_Strict):
    version: Literal[1] = 1
    name: str = "stormwatch"
    topics: list[Topic] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> Watchlist:
        seen: set[str] = set()
        for topic in self.topics:
            if topic.name in seen:
                raise ValueError(f"topic name {topic.name!r} is used twice")
            seen.add(topic.name)
        return self

    def topic(self, name: str) -> Topic:
        for topic in self.topics:
            if topic.name == name:
                return topic
        raise KeyError(f"no topic named {name!r} in the watchlist")

    def topics_for_source(self, source: str) -> list[Topic]:
        return [t for t in self.topics if source in t.sources.enabled()]
