"""Rendering the digest and the alert: what a recipient reads, in English and German."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from stormwatch import i18n
from stormwatch.digest import build_alert, build_digest
from stormwatch.models import Checkpoint, Mention, ScoredMention, Sentiment, Surge
from stormwatch.render import render_alert, render_digest
from stormwatch.watchlist import Topic

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 09:00 in Berlin


def make_topic(lang: str = "en", **overrides) -> Topic:
    data = {
        "name": "acme-cloud",
        "terms": ["acme"],
        "sources": {"hackernews": {}, "rss": {"feeds": ["https://example.com/feed.xml"]}},
        "digest": {"timezone": "Europe/Berlin", "language": lang},
        "playbook": {
            "owner": "Comms on call",
            "first_steps": ["Check the status page"],
            "holding_statement": "We know and we are on it.",
        },
    }
    data.update(overrides)
    return Topic.model_validate(data)


def scored(n: int, label: str, *, engagement: int = 0, terms=()) -> ScoredMention:
    score = {"negative": -0.7, "neutral": 0.0, "positive": 0.6}[label]
    return ScoredMention(
        mention=Mention(
            topic="acme-cloud",
            source="hackernews",
            native_id=str(n),
            published=NOW - timedelta(hours=3),
            url=f"https://news.example.com/item/{n}",
            title=f"Story {n}",
            text=f"Acme text number {n}",
            author=f"author{n}",
            engagement=engagement,
        ),
        sentiment=Sentiment(label=label, score=score, terms=terms),
    )


def busy_day(lang: str = "en", settings_url: str = "https://example.com/settings"):
    # 132 mentions against 40 the day before (+230 %), 66 negative, an open firestorm
    mentions = [scored(i, "negative", engagement=i, terms=("outage",)) for i in range(66)]
    mentions += [scored(100 + i, "neutral") for i in range(40)]
    mentions += [scored(200 + i, "positive", engagement=1) for i in range(26)]
    firestorm = Surge(
        topic="acme-cloud",
        detected_at=NOW - timedelta(hours=1),
        tier="firestorm",
        observed=60.0,
        expected=12.5,
        score=7.25,
        threshold=3.0,
        negative_share=0.75,
        usual_negative_share=0.2,
        authors=48,
    )
    failing = Checkpoint(
        source="rss",
        topic="acme-cloud",
        last_run=NOW,
        last_success=NOW - timedelta(hours=20),
        last_error="HTTP 503 Service Unavailable",
        last_error_at=NOW,
        consecutive_failures=4,
    )
    ok = Checkpoint(
        source="hackernews", topic="acme-cloud", last_run=NOW, last_success=NOW, last_count=17
    )
    return build_digest(
        make_topic(lang),
        now=NOW,
        period_start=NOW - timedelta(days=1),
        mentions=mentions,
        previous_count=40,
        surges=[firestorm],
        sources=[ok, failing],
        watchlist_name="stormwatch",
        settings_url=settings_url,
    )


def the_surge(**kw) -> Surge:
    data = {
        "topic": "acme-cloud",
        "detected_at": NOW - timedelta(minutes=30),
        "tier": "warning",
        "observed": 42.0,
        "expected": 10.0,
        "score": 4.5,
        "threshold": 3.0,
        "negative_share": 0.625,
        "usual_negative_share": 0.15,
        "authors": 29,
        "evidence": {"top_terms": ["outage", "refund"]},
        "sample_mentions": [
            {
                "title": "Acme is down again",
                "text": "Third time this week",
                "url": "https://x.example/1",
                "author": "bob",
                "source": "hackernews",
                "sentiment": "negative",
            }
        ],
    }
    data.update(kw)
    return Surge.model_validate(data)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.anchors: list[dict[str, str | None]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "a":
            self.anchors.append(dict(attrs))


def parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def visible_text(html: str) -> str:
    """The HTML's text without tags, entities decoded, whitespace collapsed."""
    from html import unescape

    body = html.split("<body", 1)[1]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))


# --- digest ---------------------------------------------------------------------------------


def test_english_digest_subject_says_the_verdict_and_the_numbers():
    email = render_digest(busy_day(), TEMPLATES, lang="en")

    assert email.subject == "[stormwatch] acme-cloud: storm warning — 132 mentions (+230 %)"


def test_english_digest_shows_the_same_facts_in_html_and_text():
    # Given a busy day with an open firestorm and a failing source
    email = render_digest(busy_day(), TEMPLATES, lang="en")
    html = visible_text(email.html)

    # Then both parts carry the count, change, split, surge, lists, sources and the zone
    for facts in (html, email.text):
        assert "storm warning" in facts.lower()
        assert "132" in facts and "+230 %" in facts
        assert "negative 66 (50 %)" in facts
        assert "neutral 40 (30.3 %)" in facts
        assert "positive 26 (19.7 %)" in facts
        assert "Net sentiment: -30.3 %" in facts
        assert "firestorm" in facts.lower()
        assert "observed 60 per hour" in facts and "expected 12.5" in facts
        assert "Needs a reply" in facts and "why: outage" in facts
        assert "Story 65" in facts  # the most engaged negative mention leads
        assert "HTTP 503 Service Unavailable" in facts
        assert "4 failed runs in a row" in facts
        assert "24 Nov 2026, 09:00 – 25 Nov 2026, 09:00 (Europe/Berlin)" in facts
        assert "Change settings or unsubscribe" in facts


def test_german_digest_is_written_in_german_with_german_numbers_and_dates():
    email = render_digest(busy_day("de"), TEMPLATES, lang="de")
    html = visible_text(email.html)

    assert email.subject == "[stormwatch] acme-cloud: Sturmwarnung — 132 Erwähnungen (+230 %)"
    for facts in (html, email.text):
        assert "Erwähnungen" in facts and "Stimmung" in facts
        assert "neutral 40 (30,3 %)" in facts and "positiv 26 (19,7 %)" in facts
        assert "Stimmungssaldo: -30,3 %" in facts
        assert "24.11.2026 09:00 – 25.11.2026 09:00 (Europe/Berlin)" in facts
        assert "beobachtet 60 pro Stunde" in facts and "erwartet 12,5" in facts
        assert "ausgefallen" in facts and "4 Fehlläufe in Folge" in facts
        assert "Einstellungen ändern oder abbestellen" in facts
    assert 'lang="de"' in email.html
    # no English left over in the running text
    for english in ("mentions", "Sentiment", "previous day", "down", "storm warning"):
        assert english not in email.text


def test_html_is_a_self_contained_table_layout_with_inlined_css():
    email = render_digest(busy_day(), TEMPLATES, lang="en")
    doc = parse(email.html)

    assert "table" in doc.tags
    assert "max-width: 640px" in email.html
    # styles are inlined; only the dark-mode media rules stay in a <style> block
    assert 'style="' in email.html
    style_blocks = re.findall(r"<style[^>]*>(.*?)</style>", email.html, flags=re.S)
    assert len(style_blocks) == 1 and "prefers-color-scheme: dark" in style_blocks[0]
    assert ".kpi {" not in email.html
    # nothing is loaded from elsewhere: no images, scripts, stylesheets or frames
    assert not {"img", "script", "link", "iframe", "object"} & set(doc.tags)
    assert "src=" not in email.html and "url(" not in email.html
    # every link is http(s) and opens without handing over the referrer
    assert doc.anchors
    for anchor in doc.anchors:
        assert re.match(r"^https?://", anchor["href"] or "")
        assert anchor["rel"] == "noopener noreferrer"


def test_the_sentiment_bar_has_one_segment_per_label_sized_by_share():
    email = render_digest(busy_day(), TEMPLATES, lang="en")

    widths = re.findall(r'class="seg seg-(\w+)"[^>]*width="([\d.]+)%"', email.html)
    assert widths == [("negative", "50.0"), ("neutral", "30.3"), ("positive", "19.7")]


def test_list_unsubscribe_header_only_with_a_settings_url():
    with_url = render_digest(busy_day(), TEMPLATES)
    without = render_digest(busy_day(settings_url=""), TEMPLATES)

    assert with_url.headers["List-Unsubscribe"] == "<https://example.com/settings>"
    assert "List-Unsubscribe" not in without.headers
    assert "unsubscribe" not in without.text.lower()
    assert without.headers["Auto-Submitted"] == "auto-generated"


def test_an_empty_day_says_so_and_shows_the_coverage():
    # Given nothing at all in the period and sources that never ran
    view = build_digest(
        make_topic("en"),
        now=NOW,
        period_start=NOW - timedelta(days=1),
        mentions=[],
        previous_count=0,
        surges=[],
        sources=[],
        watchlist_name="stormwatch",
    )

    email = render_digest(view, TEMPLATES, lang="en")

    assert email.subject == "[stormwatch] acme-cloud: quiet — 0 mentions"
    for facts in (visible_text(email.html), email.text):
        assert "No mentions in this period." in facts
        assert "No source ran successfully" in facts
        assert "hackernews" in facts and "rss" in facts and "never run" in facts
    assert len(email.text.splitlines()) < 25


def test_subject_after_a_zero_day_shows_the_plain_difference():
    view = build_digest(
        make_topic("en"),
        now=NOW,
        period_start=NOW - timedelta(days=1),
        mentions=[scored(1, "neutral")],
        previous_count=0,
        surges=[],
        sources=[],
        watchlist_name="stormwatch",
    )

    assert (
        render_digest(view, TEMPLATES).subject
        == "[stormwatch] acme-cloud: as usual — 1 mention (+1)"
    )


# --- alert ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "de"])
def test_alert_shows_numbers_samples_and_playbook_in_both_parts(lang):
    view = build_alert(make_topic(lang), the_surge(), watchlist_name="stormwatch")

    email = render_alert(view, TEMPLATES, lang=lang)

    words = {
        "en": [
            "Surge alert",
            "42 per hour",
            "expected 10",
            "4.2 × usual",
            "62.5 %",
            "usual 15 %",
            "Unique authors",
            "Playbook",
            "First steps",
            "Holding statement",
        ],
        "de": [
            "Frühwarnung",
            "42 pro Stunde",
            "erwartet 10",
            "4,2 × üblich",
            "62,5 %",
            "üblich 15 %",
            "Verschiedene Autoren",
            "Notfallplan",
            "Erste Schritte",
            "Erste Stellungnahme",
        ],
    }[lang]
    for facts in (visible_text(email.html), email.text):
        for word in words:
            assert word in facts, word
        assert "4,5 / 3" in facts if lang == "de" else "4.5 / 3" in facts
        assert "Acme is down again" in facts
        assert "outage" in facts and "refund" in facts
        assert "Comms on call" in facts and "We know and we are on it." in facts
        assert "Check the status page" in facts


def test_alert_subjects_name_the_tier_and_an_escalation():
    plain = build_alert(make_topic(), the_surge(), watchlist_name="stormwatch")
    escalated = build_alert(
        make_topic("de"),
        the_surge(tier="firestorm", escalation=True, evidence={"previous_tier": "warning"}),
        watchlist_name="stormwatch",
    )

    assert (
        render_alert(plain, TEMPLATES).subject
        == "[stormwatch] acme-cloud: surge (warning) — 42 mentions per hour vs. 10 expected"
    )
    german = render_alert(escalated, TEMPLATES, lang="de")
    assert german.subject == (
        "[stormwatch] acme-cloud: Anstieg eskaliert zu Shitstorm — "
        "42 Erwähnungen pro Stunde ggü. 10 erwartet"
    )
    assert "eskaliert von Warnung" in german.text


def test_alert_without_a_playbook_asks_for_one():
    topic = make_topic(playbook={})
    email = render_alert(build_alert(topic, the_surge(), watchlist_name="w"), TEMPLATES)

    assert "No playbook for this topic yet" in email.text


def test_incomplete_data_is_flagged():
    view = build_alert(make_topic(), the_surge(complete=False), watchlist_name="w")

    assert "incomplete: a source failed" in render_alert(view, TEMPLATES).text


# --- i18n -----------------------------------------------------------------------------------


def test_every_string_exists_in_both_languages():
    assert set(i18n.STRINGS["en"]) == set(i18n.STRINGS["de"])


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (0.125, "en", "12.5 %"),
        (0.125, "de", "12,5 %"),
        (2.4, "en", "240 %"),
        (0.4, "de", "40 %"),
        (None, "en", "–"),
    ],
)
def test_percentages(value, lang, expected):
    assert i18n.fmt_percent(value, lang) == expected


def test_numbers_and_dates_follow_the_language():
    moment = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    assert i18n.fmt_number(1234567, "en") == "1,234,567"
    assert i18n.fmt_number(1234567, "de") == "1.234.567"
    assert i18n.fmt_percent(-0.05, "de", signed=True) == "-5 %"
    assert i18n.fmt_percent(0.0, "en", signed=True) == "0 %"
    assert i18n.fmt_datetime(moment, "de", "Europe/Berlin") == "25.11.2026 09:00 (Europe/Berlin)"
    assert i18n.fmt_datetime(moment, "en", "Europe/Berlin") == "25 Nov 2026, 09:00 (Europe/Berlin)"
    assert i18n.count_noun(1, "de") == "1 Erwähnung"
    assert i18n.count_noun(1204, "de") == "1.204 Erwähnungen"


# --- the week, new voices, share of voice, coverage ------------------------------------------


def full_day(lang: str = "en", **extra):
    """busy_day plus a week of hourly buckets, the author history and a competitor."""
    from stormwatch.models import HourBucket

    buckets = [
        HourBucket(topic="acme-cloud", hour=NOW - timedelta(hours=h), count=3, negative=1)
        for h in range(1, 8 * 24 + 1)
    ]
    base = busy_day(lang)
    view = build_digest(
        make_topic(lang),
        now=NOW,
        period_start=NOW - timedelta(days=1),
        mentions=[scored(i, "negative", engagement=i) for i in range(3)]
        + [scored(200 + i, "positive", engagement=5) for i in range(2)],
        previous_count=40,
        surges=[],
        sources=[
            Checkpoint(source="hackernews", topic="acme-cloud", last_run=NOW, last_success=NOW),
            Checkpoint(
                source="rss",
                topic="acme-cloud",
                last_run=NOW,
                last_success=NOW,
                last_truncated=True,
                last_notes=["daily quota budget reached"],
            ),
        ],
        watchlist_name=base.watchlist_name,
        buckets=buckets,
        known_authors=set(),
        competitors=[("globex", "Globex Cloud", 140)],
        **extra,
    )
    return view


def test_the_week_chart_is_drawn_with_html_bars_and_labelled_days():
    email = render_digest(full_day(), TEMPLATES, lang="en")

    # Then the chart is a table of 168 hourly cells with pixel-high bars, no image anywhere
    chart = re.search(r'id="chart".*?</table>', email.html, flags=re.S).group(0)
    assert chart.count("<td") == 168
    assert re.search(r"height: \d+px; background: #c8453a", chart)  # the negative part
    assert "<img" not in email.html
    # and the days below it are named in the reader's language
    assert "Wed 18" in email.html or "Thu 19" in email.html
    german = render_digest(full_day("de"), TEMPLATES, lang="de")
    assert "Do 19." in german.html
    # and the text part says the same per day
    assert "== Last 7 days, by hour ==" in email.text
    assert re.search(r"Thu 19: 72 \(33\.3 % negative\)", email.text)


def test_the_headline_compares_with_the_previous_day_and_the_week():
    view = full_day()
    email = render_digest(view, TEMPLATES)

    for facts in (visible_text(email.html), email.text):
        assert "5 mentions" in facts or "Mentions: 5" in facts
        assert "vs. previous day" in facts
        assert "-93.1 % vs. 7-day average (72 per day)" in facts


def test_positive_new_voices_share_of_voice_and_coverage_are_in_both_parts():
    email = render_digest(full_day(), TEMPLATES)

    for facts in (visible_text(email.html), email.text):
        assert "Most positive" in facts and "Story 200" in facts
        assert "New voices" in facts and "5 of 5" in facts
        assert "Share of voice" in facts and "Globex Cloud" in facts
        assert "2 sources: 1 ok · 1 degraded" in facts
        assert "the last run stopped early" in facts
        assert "daily quota budget reached" in facts


def test_the_footer_names_the_watchlist_the_period_and_how_to_change_settings():
    with_url = render_digest(busy_day(), TEMPLATES)
    without = render_digest(busy_day(settings_url=""), TEMPLATES)

    period = "24 Nov 2026, 09:00 – 25 Nov 2026, 09:00 (Europe/Berlin)"
    for email in (with_url, without):
        footer = email.text.split("\n--\n", 1)[1]
        assert "stormwatch" in footer and period in footer
    assert "Change settings or unsubscribe: https://example.com/settings" in with_url.text
    assert "ask the owner of this watchlist" in without.text
    assert "ask the owner of this watchlist" in visible_text(without.html)


def test_the_alert_shows_the_steps_for_its_tier():
    topic = make_topic(
        playbook={
            "owner": "Comms on call",
            "first_steps": ["Check the status page"],
            "tiers": {"firestorm": {"first_steps": ["Call the incident commander"]}},
        }
    )
    view = build_alert(topic, the_surge(tier="firestorm"), watchlist_name="stormwatch")

    email = render_alert(view, TEMPLATES)

    for facts in (visible_text(email.html), email.text):
        assert "Call the incident commander" in facts
        assert "Check the status page" not in facts
        assert "firestorm: steps for this tier" in facts


def test_an_escalation_subject_says_what_it_escalated_to():
    view = build_alert(
        make_topic(),
        the_surge(tier="firestorm", escalation=True, evidence={"previous_tier": "warning"}),
        watchlist_name="stormwatch",
    )

    assert "surge escalated to firestorm" in render_alert(view, TEMPLATES).subject
