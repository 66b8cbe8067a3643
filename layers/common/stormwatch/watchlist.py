"""The watchlist schema: what to watch, where, who gets told, what to do.

Loaded from `watchlist.yaml` by `stormwatch.config.load_watchlist`, which turns validation errors
into messages naming the file, line, topic and field.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from stormwatch import netguard
from stormwatch.models import SurgeTier

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

# Sizes far beyond a real watchlist, so a pasted list or a typo fails at once with a clear error
# instead of making every collection and every check slow (100,000 terms took 9 s to check).
MAX_TOPICS = 1000  # the scale issue #12 plans for (bench/scale.py)
MAX_TERMS = 200  # each of terms, phrases, exclude
MAX_TERM_CHARS = 200
MAX_QUERY_CHARS = 2000
MAX_RECIPIENTS = 100
MAX_EXAMPLES = 100
MAX_STEPS = 50
MAX_FEEDS = 50


def _public_target(url: str) -> None:
    """Refuse a URL on this machine or a private network (netguard; no DNS at load time, the
    HTTP client checks resolved addresses and redirects at request time)."""
    if not netguard.private_targets_allowed():
        netguard.check_url(url, resolve=None)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HackerNewsOptions(_Strict):
    enabled: StrictBool = True
    # Algolia tags: story, comment (both by default)
    # (pydantic copies a list default for each instance)
    tags: list[Literal["story", "comment", "ask_hn", "show_hn"]] = ["story", "comment"]
    hits_per_page: StrictInt = Field(default=100, ge=1, le=1000)
    max_pages: StrictInt = Field(default=10, ge=1, le=50)
    # On the very first run, how far back to look
    initial_lookback_hours: StrictInt = Field(default=24, ge=1, le=24 * 30)


GOOGLE_NEWS_TERMS = (
    "Google News RSS is for personal, non-commercial use; set accept_terms: true to confirm "
    "your use complies"
)


class GoogleNewsOptions(_Strict):
    # Google News RSS feeds are offered "for personal, non-commercial use": an explicit opt-in
    accept_terms: StrictBool = False
    # interface language, country, edition: "en-US", "US", "US:en" (they go into the feed URL)
    hl: str = Field(default="en-US", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$")
    gl: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    ceid: str = Field(default="US:en", pattern=r"^[A-Z]{2}:[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$")
    # Google News' own time filter, e.g. "1d"; keeps the feed focused on fresh items
    when: str | None = Field(default="2d", pattern=r"^[0-9]{1,4}[hdmy]$")

    @model_validator(mode="after")
    def _terms_accepted(self) -> GoogleNewsOptions:
        if not self.accept_terms:
            raise ValueError(GOOGLE_NEWS_TERMS)
        return self


class RssOptions(_Strict):
    enabled: StrictBool = True
    feeds: list[str] = Field(default_factory=list, max_length=MAX_FEEDS)
    google_news: GoogleNewsOptions | None = None
    google_alerts: list[str] = Field(default_factory=list, max_length=MAX_FEEDS)

    @field_validator("feeds", "google_alerts")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not re.match(r"^https?://", url):
                raise ValueError(f"feed URL must start with http:// or https://: {url!r}")
            _public_target(url)
        return urls

    @model_validator(mode="after")
    def _something_to_read(self) -> RssOptions:
        if self.enabled and not (self.feeds or self.google_news or self.google_alerts):
            raise ValueError("rss needs at least one of feeds, google_news, google_alerts")
        return self

    @field_validator("feeds", "google_alerts")
    @classmethod
    def _well_formed_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            problem = _url_problem(url)
            if problem:
                raise ValueError(f"{problem}: {url!r}")
        return urls


def _url_problem(url: str) -> str:
    """What is wrong with a feed URL, or "" (the scheme is checked by `_http_urls`)."""
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "feed URL contains a space or control character"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "feed URL is malformed"
    if not parts.hostname:
        return "feed URL has no host"
    return ""


class StackExchangeOptions(_Strict):
    enabled: StrictBool = True
    # API site parameters, e.g. stackoverflow, serverfault, superuser, askubuntu
    sites: list[str] = Field(default_factory=lambda: ["stackoverflow"], min_length=1)
    # only questions carrying all of these tags (server-side `tagged`)
    tagged: list[str] = Field(default_factory=list)
    max_pages: StrictInt = Field(default=5, ge=1, le=25)
    initial_lookback_hours: StrictInt = Field(default=24, ge=1, le=24 * 30)

    @field_validator("sites")
    @classmethod
    def _site_names(cls, sites: list[str]) -> list[str]:
        for site in sites:
            if not re.match(r"^[a-z0-9][a-z0-9.-]{0,62}$", site):
                raise ValueError(f"site must be an API site name like 'stackoverflow': {site!r}")
        return sites


class YouTubeOptions(_Strict):
    enabled: StrictBool = True
    # search.list costs 100 quota units per call; the project's default quota is 10,000 a day
    max_search_calls_per_day: StrictInt = Field(default=20, ge=1, le=100)
    # commentThreads.list costs 1 unit per call
    max_comment_calls_per_run: StrictInt = Field(default=5, ge=0, le=50)
    region_code: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    relevance_language: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Za-z]+)?$")
    initial_lookback_hours: StrictInt = Field(default=24, ge=1, le=24 * 30)


class GitHubOptions(_Strict):
    enabled: StrictBool = True
    kinds: list[Literal["issue", "pr"]] = Field(default=["issue", "pr"], min_length=1)
    # optional qualifiers: repo:owner/name and org:name (ORed within each list)
    repos: list[str] = Field(default_factory=list)
    orgs: list[str] = Field(default_factory=list)
    max_pages: StrictInt = Field(default=5, ge=1, le=30)
    initial_lookback_hours: StrictInt = Field(default=24, ge=1, le=24 * 30)

    @field_validator("repos")
    @classmethod
    def _repo_names(cls, repos: list[str]) -> list[str]:
        for repo in repos:
            if not re.match(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", repo):
                raise ValueError(f"repo must be 'owner/name': {repo!r}")
        return repos

    @field_validator("orgs")
    @classmethod
    def _org_names(cls, orgs: list[str]) -> list[str]:
        for org in orgs:
            if not re.match(r"^[A-Za-z0-9-]+$", org):
                raise ValueError(f"org must be a GitHub login: {org!r}")
        return orgs


class RedditOptions(_Strict):
    enabled: StrictBool = True
    # subreddit names without "r/"; empty means search all of Reddit
    subreddits: list[str] = Field(default_factory=list)
    max_pages: StrictInt = Field(default=5, ge=1, le=20)
    initial_lookback_hours: StrictInt = Field(default=24, ge=1, le=24 * 30)

    @field_validator("subreddits")
    @classmethod
    def _subreddit_names(cls, names: list[str]) -> list[str]:
        cleaned = [n.strip().removeprefix("/").removeprefix("r/") for n in names]
        for name in cleaned:
            if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$", name):
                raise ValueError(f"subreddit must be a name like 'aws' (no r/): {name!r}")
        return cleaned


class MastodonOptions(_Strict):
    enabled: StrictBool = True
    # instance base URLs whose public hashtag timelines are read, e.g. https://mastodon.social
    instances: list[str] = Field(default_factory=lambda: ["https://mastodon.social"], min_length=1)
    # hashtags without '#'; empty: derived from the topic's terms and phrases
    hashtags: list[str] = Field(default_factory=list)
    max_pages: StrictInt = Field(default=3, ge=1, le=20)

    @field_validator("instances")
    @classmethod
    def _instance_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not re.match(r"^https://[A-Za-z0-9.-]+(:[0-9]+)?/?$", url):
                raise ValueError(f"instance must be an https base URL like https://host: {url!r}")
            _public_target(url)
        return [url.rstrip("/") for url in urls]

    @field_validator("hashtags")
    @classmethod
    def _hashtag_names(cls, tags: list[str]) -> list[str]:
        cleaned = [t.strip().removeprefix("#") for t in tags]
        for tag in cleaned:
            if not re.match(r"^\w+$", tag):
                raise ValueError(f"hashtag must be letters, digits or '_': {tag!r}")
        return cleaned


class BlueskyOptions(_Strict):
    enabled: StrictBool = True
    max_pages: StrictInt = Field(default=5, ge=1, le=20)
    # server-side language filter (searchPosts' `lang`), e.g. "en"; None: all languages
    lang: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    initial_lookback_hours: StrictInt = Field(default=24, ge=1, le=24 * 30)


class GdeltOptions(_Strict):
    enabled: StrictBool = True
    # ArtList requests per search per run; each serves at most 250 articles
    max_pages: StrictInt = Field(default=3, ge=1, le=20)
    # GDELT keeps a rolling three months: a first run may look back that far
    initial_lookback_hours: StrictInt = Field(default=24, ge=1, le=24 * 90)
    # fetch the tone timeline (two more requests a run) for the digest's "GDELT news tone"
    tone: StrictBool = True


class Sources(_Strict):
    hackernews: HackerNewsOptions | None = None
    rss: RssOptions | None = None
    stackexchange: StackExchangeOptions | None = None
    youtube: YouTubeOptions | None = None
    github: GitHubOptions | None = None
    reddit: RedditOptions | None = None
    mastodon: MastodonOptions | None = None
    bluesky: BlueskyOptions | None = None
    gdelt: GdeltOptions | None = None

    def enabled(self) -> list[str]:
        """The sources this topic uses, in field order: every field is a source's options."""
        return [
            name for name in type(self).model_fields if (opt := getattr(self, name)) and opt.enabled
        ]


Language = Literal["en", "de"]


def _recipient_objects(data: object) -> object:
    """`recipients` entries may be plain addresses or `{address, language}` objects; objects
    become their address, and their language goes to `recipient_languages`."""
    if not isinstance(data, dict) or not isinstance(data.get("recipients"), list):
        return data
    addresses: list[object] = []
    languages = dict(data.get("recipient_languages") or {})
    for entry in data["recipients"]:
        if isinstance(entry, dict) and "address" in entry:
            unknown = set(entry) - {"address", "language"}
            if unknown:
                raise ValueError(f"unknown recipient field(s): {', '.join(sorted(unknown))}")
            addresses.append(entry["address"])
            if entry.get("language") is not None and isinstance(entry["address"], str):
                languages[entry["address"].strip().casefold()] = entry["language"]
        else:
            addresses.append(entry)
    return {**data, "recipients": addresses, "recipient_languages": languages}


class DigestSettings(_Strict):
    # plain addresses, or {address, language} for a recipient who reads another language
    recipients: list[EmailStr] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    hour: StrictInt = Field(default=8, ge=0, le=23)
    timezone: str = "UTC"
    language: Language = "en"
    # filled from recipient objects (address casefolded -> language)
    recipient_languages: dict[str, Language] = Field(default_factory=dict)

    _objects = model_validator(mode="before")(_recipient_objects)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value


Tier = SurgeTier
ALL_TIERS: tuple[Tier, ...] = get_args(SurgeTier)
# SSM parameter names of channel secrets (webhook URLs, signing secrets), relative to the
# stage's prefix; all under channels/ so the report function may read exactly that path
CHANNEL_PARAMETER = re.compile(
    r"^channels/[a-z0-9][a-z0-9_-]{0,62}(/[a-z0-9][a-z0-9_-]{0,62}){0,3}$"
)
# E.164: '+', a country code that does not start with 0, at most 15 digits in all
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _parameter_name(value: str) -> str:
    if not CHANNEL_PARAMETER.match(value):
        raise ValueError(
            "must be the name of an SSM parameter under channels/, e.g. channels/slack/comms "
            f"(the URL itself never goes into the watchlist), got {value!r}"
        )
    return value


ParameterName = Annotated[str, AfterValidator(_parameter_name)]


class _ChannelSettings(_Strict):
    """What every chat/SMS channel of a topic has: which tiers it hears of, and whether
    "source down" notices and a summary of the daily digest go there too."""

    tiers: list[Tier] = Field(default_factory=lambda: list(ALL_TIERS), min_length=1)
    notices: StrictBool = True
    # a one-paragraph summary of the daily digest, when the digest goes out
    digest: StrictBool = False

    def wants(self, kind: str, tier: str | None) -> bool:
        """Whether an alert of `tier` (kind "alert"), a notice or the digest summary goes to
        this channel."""
        if kind == "notice":
            return self.notices
        if kind == "digest":
            return self.digest
        return kind == "alert" and tier in self.tiers

    @property
    def addresses(self) -> list[str]:
        """Where this channel delivers: SSM parameter names of URLs, or phone numbers."""
        raise NotImplementedError

    @property
    def secret_parameter(self) -> str | None:
        return None


class SlackSettings(_ChannelSettings):
    kind: Literal["slack"]
    # SSM parameter holding the incoming-webhook URL
    url_parameter: ParameterName

    @property
    def addresses(self) -> list[str]:
        return [self.url_parameter]


class TeamsSettings(_ChannelSettings):
    kind: Literal["teams"]
    # SSM parameter holding the Workflows "When a Teams webhook request is received" URL
    url_parameter: ParameterName

    @property
    def addresses(self) -> list[str]:
        return [self.url_parameter]


class WebhookSettings(_ChannelSettings):
    kind: Literal["webhook"]
    url_parameter: ParameterName
    # SSM parameter holding the HMAC-SHA256 signing secret (docs/channels.md)
    signing_secret_parameter: ParameterName

    @property
    def addresses(self) -> list[str]:
        return [self.url_parameter]

    @property
    def secret_parameter(self) -> str | None:
        return self.signing_secret_parameter


class SmsSettings(_ChannelSettings):
    kind: Literal["sms"]
    numbers: list[str] = Field(min_length=1, max_length=10)
    # a text message at 3 a.m. is for the worst case only, unless a topic says otherwise
    tiers: list[Tier] = Field(default=["firestorm"], min_length=1)
    notices: StrictBool = False

    @field_validator("numbers")
    @classmethod
    def _e164(cls, numbers: list[str]) -> list[str]:
        cleaned = [n.replace(" ", "").replace("-", "") for n in numbers]
        for number in cleaned:
            if not E164.match(number):
                raise ValueError(f"phone number must be E.164, like +447700900123: {number!r}")
        return cleaned

    @property
    def addresses(self) -> list[str]:
        return self.numbers


# the channel kinds a watchlist may name; stormwatch.channels.registry must implement each
# (tests/unit/test_channel_registry.py holds the two, and template.yaml, against each other)
ChannelSettings = Annotated[
    SlackSettings | TeamsSettings | WebhookSettings | SmsSettings, Field(discriminator="kind")
]


class AlertSettings(_Strict):
    enabled: StrictBool = True
    recipients: list[EmailStr] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    recipient_languages: dict[str, Language] = Field(default_factory=dict)
    sensitivity: Literal["fewer", "balanced", "more"] = "balanced"
    min_count: StrictInt = Field(default=5, ge=1)
    cooldown_hours: StrictInt = Field(default=24, ge=1, le=168)
    # chat, webhook and SMS deliveries besides the e-mail (docs/channels.md)
    channels: list[ChannelSettings] = Field(default_factory=list, max_length=20)

    _objects = model_validator(mode="before")(_recipient_objects)


class TierPlaybook(_Strict):
    """What to do at one tier; anything left out falls back to the playbook's defaults."""

    first_steps: list[str] | None = Field(default=None, max_length=MAX_STEPS)
    holding_statement: str | None = None


class Playbook(_Strict):
    owner: str = ""
    first_steps: list[str] = Field(default_factory=list, max_length=MAX_STEPS)
    holding_statement: str = ""
    tiers: dict[Tier, TierPlaybook] = Field(default_factory=dict)

    def for_tier(self, tier: str) -> tuple[list[str], str]:
        """(first steps, holding statement) for a surge tier: its override, else the default."""
        override = self.tiers.get(tier)  # type: ignore[call-overload]
        steps = self.first_steps
        statement = self.holding_statement
        if override is not None:
            steps = override.first_steps if override.first_steps is not None else steps
            if override.holding_statement is not None:
                statement = override.holding_statement
        return steps, statement


class MatchExamples(_Strict):
    match: list[str] = Field(default_factory=list, max_length=MAX_EXAMPLES)
    no_match: list[str] = Field(default_factory=list, max_length=MAX_EXAMPLES)


class Topic(_Strict):
    name: str
    display_name: str = ""
    terms: list[str] = Field(default_factory=list, max_length=MAX_TERMS)
    phrases: list[str] = Field(default_factory=list, max_length=MAX_TERMS)
    exclude: list[str] = Field(default_factory=list, max_length=MAX_TERMS)
    # optional boolean expression; when given it decides instead of terms/phrases
    query: str | None = Field(default=None, max_length=MAX_QUERY_CHARS)
    languages: list[str] = Field(default_factory=lambda: ["en"])
    sources: Sources
    digest: DigestSettings = Field(default_factory=DigestSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    playbook: Playbook = Field(default_factory=Playbook)
    examples: MatchExamples = Field(default_factory=MatchExamples)
    # other topics of this watchlist to compare with (share of voice in the digest)
    competitors: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("must be a slug: lower-case letters, digits and '-', at most 63")
        return value

    @field_validator("terms", "phrases", "exclude")
    @classmethod
    def _term_lengths(cls, value: list[str]) -> list[str]:
        for term in value:
            if len(term) > MAX_TERM_CHARS:
                raise ValueError(f"a term may have at most {MAX_TERM_CHARS} characters")
        return value

    @field_validator("languages")
    @classmethod
    def _lang_codes(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(
                "is empty, which would drop every item tagged with a language; list the "
                "languages to keep, or leave the field out for [en]"
            )
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

    def language_for(self, address: str, *, alert: bool = False) -> Language:
        """The language a recipient reads: their own setting, else the digest's language."""
        key = address.strip().casefold()
        if alert and key in self.alerts.recipient_languages:
            return self.alerts.recipient_languages[key]
        return self.digest.recipient_languages.get(key, self.digest.language)


class Watchlist(_Strict):
    version: Literal[1] = 1
    name: str = "stormwatch"
    # pseudonymous: author handles are replaced by keyed hashes before storing (docs/privacy.md)
    privacy: Literal["standard", "pseudonymous"] = "standard"
    topics: list[Topic] = Field(min_length=1, max_length=MAX_TOPICS)

    @model_validator(mode="after")
    def _unique_names(self) -> Watchlist:
        seen: set[str] = set()
        for topic in self.topics:
            if topic.name in seen:
                raise ValueError(f"topic name {topic.name!r} is used twice")
            seen.add(topic.name)
        for topic in self.topics:
            for other in topic.competitors:
                if other == topic.name or other not in seen:
                    raise ValueError(
                        f"topic {topic.name!r}: competitor {other!r} is not another topic "
                        "of this watchlist"
                    )
        return self

    def find(self, name: str) -> Topic | None:
        return next((topic for topic in self.topics if topic.name == name), None)

    def topic(self, name: str) -> Topic:
        topic = self.find(name)
        if topic is None:
            raise KeyError(f"no topic named {name!r} in the watchlist")
        return topic

    def topics_for_source(self, source: str) -> list[Topic]:
        return [t for t in self.topics if source in t.sources.enabled()]
