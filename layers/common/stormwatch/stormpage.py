"""The storm page: every mention of one surge episode, as an HTML page and as CSV.

Pure: the web function (stormwatch.web) reads the surge and its mentions and hands them here.
Every text goes through `clean_text` and every link through `safe_link` (stormwatch.sanitize),
as in the e-mails;
the page is autoescaped, and the CSV neutralises cells a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from stormwatch import i18n
from stormwatch.attribution import Credit, credit_of
from stormwatch.models import ScoredMention, SentimentLabel, Surge, utc
from stormwatch.render import make_environment
from stormwatch.sanitize import clean_text, safe_link
from stormwatch.watchlist import Topic

# the page shows the episode from its start until this long after its detection (or now)
HOURS_AFTER_DETECTION = 24
# without a recorded episode start: the detector's window, at least this long
DEFAULT_WINDOW_HOURS = 6
# a row's text on the page: enough to recognise the mention (5,000 rows must stay under
# 2 MB); the CSV carries up to TEXT_CHARS
SNIPPET_CHARS = 100
TEXT_CHARS = 1000
AUTHOR_CHARS = 60
SOURCE_CHARS = 30
# a spreadsheet runs a cell starting with one of these as a formula (OWASP: CSV injection)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


class StormRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    published: datetime  # aware, UTC
    source: str
    author: str
    label: SentimentLabel | None
    score: float | None
    engagement: int
    snippet: str
    text: str
    url: str | None
    credit: Credit | None = None  # what the content's licence asks to show (Stack Exchange)


class StormPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    topic_name: str
    topic_title: str
    timezone: str
    language: str
    surge: Surge
    start: datetime
    end: datetime
    rows: list[StormRow]


def episode_window(surge: Surge, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the mentions that belong to the storm."""
    detected = utc(surge.detected_at)
    hours = max(surge.evidence.window_hours, DEFAULT_WINDOW_HOURS)
    fallback = detected - timedelta(hours=hours)
    start = utc(surge.episode_start) if surge.episode_start else fallback
    end = min(utc(now), detected + timedelta(hours=HOURS_AFTER_DETECTION))
    return min(start, fallback), max(end, detected + timedelta(seconds=1))


def storm_row(scored: ScoredMention) -> StormRow:
    mention, sentiment = scored.mention, scored.sentiment
    text = (mention.title or mention.text).replace("\n", " ")
    return StormRow(
        published=utc(mention.published),
        source=clean_text(mention.source, SOURCE_CHARS),
        author=clean_text(mention.author, AUTHOR_CHARS),
        label=sentiment.label if sentiment else None,
        score=round(sentiment.score, 2) if sentiment else None,
        engagement=mention.engagement,
        snippet=clean_text(text, SNIPPET_CHARS),
        # a Mention's text is cleaned by its own validators (models.clean_text); the CSV keeps
        # it whole up to TEXT_CHARS without paying for a second pass over 1,000 characters
        text=text[:TEXT_CHARS],
        url=safe_link(mention.url),
        credit=credit_of(mention.source, mention.channel),
    )


def build_storm_page(
    topic: Topic, surge: Surge, mentions: list[ScoredMention], *, now: datetime, language: str
) -> StormPage:
    """The page's content: every mention of the episode, newest first."""
    start, end = episode_window(surge, now)
    rows = sorted((storm_row(m) for m in mentions), key=lambda r: r.published, reverse=True)
    return StormPage(
        topic_name=topic.name,
        topic_title=clean_text(topic.title, 120),
        timezone=topic.digest.timezone,
        language=i18n.lang_or_default(language),
        surge=surge,
        start=start,
        end=end,
        rows=rows,
    )


def render_storm_page(page: StormPage, templates_dir: Path, *, csv_url: str, script: str) -> str:
    """The page as HTML; `script` is the inline sorting/filtering script (its hash is in the
    CSP). Times are shown in the topic's zone, compactly (the zone is named once)."""
    env = make_environment(Path(templates_dir).resolve())
    zone = ZoneInfo(page.timezone)
    times = [f"{row.published.astimezone(zone):%Y-%m-%d %H:%M}" for row in page.rows]
    return env.get_template("web/storm.html.j2").render(
        page=page,
        rows=zip(page.rows, times, strict=True),
        s=i18n.strings(page.language),
        lang=page.language,
        tz=page.timezone,
        rows_count=len(page.rows),
        sources=sorted({row.source for row in page.rows}),
        csv_url=csv_url,
        script=script,
        subject=f"{page.topic_title}: {i18n.count_noun(len(page.rows), page.language)}",
    )


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets a quote."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


CSV_COLUMNS = ("published_utc", "source", "author", "sentiment", "score", "engagement", "text")
# after "url": site, licence and author profile where the licence asks for them (CC BY-SA)


def storm_csv(page: StormPage) -> str:
    """One row per mention of the episode (UTC times, ISO 8601)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow((*CSV_COLUMNS, "url", "attribution"))
    for row in page.rows:
        cells = (
            f"{row.published:%Y-%m-%dT%H:%M:%SZ}",
            row.source,
            row.author,
            row.label or "",
            "" if row.score is None else f"{row.score:.2f}",
            row.engagement,
            row.text,
            row.url or "",
            row.credit.text() if row.credit else "",
        )
        writer.writerow([csv_cell(cell) for cell in cells])
    return out.getvalue()
