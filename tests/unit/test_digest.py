"""The digest and alert view models: the numbers and verdicts a reader sees, without AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from stormwatch.digest import (
    CHART_HEIGHT,
    CHART_HOURS,
    LIST_CAP,
    TEXT_CHARS,
    build_alert,
    build_digest,
)
from stormwatch.models import (
    Checkpoint,
    HeardAuthors,
    HourBucket,
    Mention,
    ScoredMention,
    Sentiment,
    Surge,
)
from stormwatch.render import render_digest
from stormwatch.sketch import KnownKeys
from stormwatch.watchlist import Topic

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
DAY_START = NOW - timedelta(days=1)


def make_topic(**overrides) -> Topic:
    data = {
        "name": "acme-cloud",
        "terms": ["acme"],
        "sources": {"hackernews": {}, "rss": {"feeds": ["https://example.com/feed.xml"]}},
        "digest": {"timezone": "Europe/Berlin", "language": "en"},
        "alerts": {"min_count": 5, "cooldown_hours": 6},
    }
    data.update(overrides)
    return Topic.model_validate(data)


def scored(
    n: int,
    label: str | None = "neutral",
    *,
    score: float | None = None,
    engagement: int = 0,
    source: str = "hackernews",
    hours_ago: float = 2,
    terms: tuple[str, ...] = (),
    text: str = "",
    url: str | None = None,
) -> ScoredMention:
    mention = Mention(
        topic="acme-cloud",
        source=source,
        native_id=f"{source}-{n}",
        published=NOW - timedelta(hours=hours_ago),
        url=url if url is not None else f"https://news.example.com/item/{n}",
        title=f"Story {n}",
        text=text or f"Acme text {n}",
        author=f"author{n}",
        engagement=engagement,
    )
    if label is None:
        return ScoredMention(mention=mention)
    default = {"negative": -0.6, "neutral": 0.0, "positive": 0.6}[label]
    sentiment = Sentiment(label=label, score=default if score is None else score, terms=terms)
    return ScoredMention(mention=mention, sentiment=sentiment)


def many(count: int, label: str | None, start: int = 0, **kw) -> list[ScoredMention]:
    return [scored(start + i, label, **kw) for i in range(count)]


def surge(hours_ago: float = 1, tier: str = "warning", **kw) -> Surge:
    data = {
        "topic": "acme-cloud",
        "detected_at": NOW - timedelta(hours=hours_ago),
        "tier": tier,
        "observed": 40.0,
        "expected": 8.0,
        "score": 5.5,
        "threshold": 3.0,
        "negative_share": 0.7,
        "usual_negative_share": 0.2,
        "authors": 31,
    }
    data.update(kw)
    return Surge.model_validate(data)


def digest(topic: Topic | None = None, *, mentions=(), previous=0, surges=(), sources=(), **extra):
    return build_digest(
        topic or make_topic(),
        now=NOW,
        period_start=DAY_START,
        mentions=list(mentions),
        previous_count=previous,
        surges=list(surges),
        sources=list(sources),
        watchlist_name="stormwatch",
        settings_url="https://example.com/settings",
        **extra,
    )


def ok_checkpoint(source: str, count: int = 10) -> Checkpoint:
    return Checkpoint(
        source=source, topic="acme-cloud", last_run=NOW, last_success=NOW, last_count=count
    )


# --- counts, delta, sentiment ---------------------------------------------------------------


def test_counts_the_day_against_the_previous_day():
    # Given 30 mentions today and 20 the day before
    mentions = many(12, "negative") + many(9, "neutral", 100) + many(6, "positive", 200)
    mentions += many(3, None, 300)

    # When the digest is built
    view = digest(mentions=mentions, previous=20)

    # Then it shows the count, the change and the sentiment split of the scored mentions
    assert view.count == 30
    assert view.delta == 10
    assert view.delta_share == pytest.approx(0.5)
    split = view.sentiment
    assert (split.negative, split.neutral, split.positive, split.unscored) == (12, 9, 6, 3)
    assert split.negative_share == pytest.approx(12 / 27)
    assert split.net == pytest.approx((6 - 12) / 27)
    assert sum(width for _, width in split.bar) == pytest.approx(100, abs=0.2)


def test_mentions_outside_the_period_are_not_counted():
    # Given one mention in the period, one from before it and one exactly at its end
    inside = scored(1, hours_ago=1)
    before = scored(2, hours_ago=30)
    at_end = scored(3, hours_ago=0)

    # When the digest is built
    view = digest(mentions=[inside, before, at_end])

    # Then only the one inside [period_start, now) counts
    assert view.count == 1


def test_unscored_mentions_are_counted_apart_and_do_not_move_the_shares():
    # Given only mentions the scorer has not seen yet
    view = digest(mentions=many(4, None))

    # Then they are counted, but there is no sentiment to speak of
    assert view.count == 4
    assert view.sentiment.unscored == 4
    assert view.sentiment.scored == 0
    assert view.sentiment.net is None
    assert view.sentiment.bar == []


def test_after_a_day_without_mentions_there_is_no_percentage_change():
    # Given mentions today and none yesterday
    view = digest(mentions=many(8, "neutral"), previous=0)

    # Then the change is the plain difference, not a division by zero
    assert view.delta == 8
    assert view.delta_share is None


# --- verdicts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "previous", "expected"),
    [
        (0, 15, "quiet"),
        (4, 20, "quiet"),  # far below the previous day
        (20, 18, "as_usual"),
        (6, 4, "as_usual"),  # +50 % but only 2 more: noise, not news
        (40, 20, "busier"),
    ],
)
def test_verdict_follows_the_volume(today, previous, expected):
    # Given `today` mentions against `previous` the day before and no surge
    view = digest(mentions=many(today, "neutral"), previous=previous)

    # Then the verdict says how the day compares
    assert view.verdict == expected


def test_an_open_surge_turns_the_verdict_into_a_storm_warning():
    # Given an ordinary day, but a surge detected an hour ago (inside the cooldown)
    view = digest(mentions=many(20, "negative"), previous=20, surges=[surge(hours_ago=1)])

    # Then the digest warns of a storm and lists the surge with its numbers
    assert view.verdict == "storm"
    assert view.surges_total == 1
    item = view.surges[0]
    assert (item.observed, item.expected, item.tier) == (40.0, 8.0, "warning")
    assert item.ratio == pytest.approx(5.0)
    assert item.detected_at.utcoffset() == timedelta(hours=1)  # shown in Europe/Berlin


def test_a_surge_detected_at_the_moment_of_the_digest_is_in_it():
    # Given a surge stored with exactly the digest's time (the scheduler fires on the hour)
    view = digest(mentions=many(5, "negative"), previous=5, surges=[surge(hours_ago=0)])

    # Then the digest already warns of it
    assert view.verdict == "storm"
    assert len(view.surges) == 1


def test_a_surge_that_is_over_makes_the_day_busier_but_no_storm():
    # Given a surge early in the period, long past the alert cooldown
    view = digest(mentions=many(20, "neutral"), previous=20, surges=[surge(hours_ago=20)])

    # Then the day counts as busier, not as an ongoing storm
    assert view.verdict == "busier"


def test_surges_of_other_topics_or_periods_are_left_out():
    # Given surges of another topic and from two days ago
    other = surge(hours_ago=1).model_copy(update={"topic": "someone-else"})
    old = surge(hours_ago=50)

    view = digest(mentions=many(3, "neutral"), previous=3, surges=[other, old])

    # Then the digest shows none of them
    assert view.surges == []
    assert view.verdict == "as_usual"


# --- lists ----------------------------------------------------------------------------------


def test_most_negative_weighs_negativity_by_engagement_and_says_why():
    # Given a mildly negative viral post, a very negative unseen one, and some noise
    viral = scored(1, "negative", score=-0.5, engagement=5000, terms=("outage", "refund"))
    unseen = scored(2, "negative", score=-0.9, engagement=0, terms=("awful",))
    noise = many(3, "positive", 10, engagement=10_000)

    # When the digest is built
    view = digest(mentions=[unseen, viral, *noise])

    # Then the viral one leads, with the terms that made it negative; positives are not in it
    assert [m.title for m in view.most_negative] == ["Story 1", "Story 2"]
    assert view.most_negative[0].why == ["outage", "refund"]
    assert all(m.label == "negative" for m in view.most_negative)


def test_lists_are_capped_texts_truncated_and_not_repeated():
    # Given many negative, engaged mentions with very long texts
    long_text = "Acme " + "x" * 5000
    mentions = [scored(i, "negative", engagement=100 + i, text=long_text) for i in range(12)]
    mentions += many(12, "neutral", 100, engagement=50)

    # When the digest is built
    view = digest(mentions=mentions)

    # Then each list holds at most LIST_CAP, texts are cut for display, no mention shown twice
    assert len(view.most_negative) == LIST_CAP
    assert len(view.most_engaged) == LIST_CAP
    assert all(len(m.text) <= TEXT_CHARS for m in view.most_negative)
    assert view.most_negative[0].text.endswith("…")
    negative_titles = {m.title for m in view.most_negative}
    assert not negative_titles & {m.title for m in view.most_engaged}


def test_most_engaged_leaves_out_mentions_nobody_engaged_with():
    view = digest(mentions=[scored(1, engagement=0), scored(2, engagement=3)])

    assert [m.title for m in view.most_engaged] == ["Story 2"]


def test_unsafe_links_in_mentions_are_dropped():
    # Given a mention whose URL is a javascript: link
    view = digest(mentions=[scored(1, "negative", url="javascript:alert(1)")])

    # Then it is still listed, without a link
    assert view.most_negative[0].url is None


# --- sources and the empty day --------------------------------------------------------------


def test_source_status_shows_failures_with_their_error_and_the_last_success():
    # Given hackernews working and rss failing for three runs since yesterday morning
    failing = Checkpoint(
        source="rss",
        topic="acme-cloud",
        last_run=NOW,
        last_success=NOW - timedelta(hours=20),
        last_error="HTTP 503 from https://example.com/feed.xml",
        last_error_at=NOW - timedelta(minutes=5),
        consecutive_failures=3,
    )
    mentions = many(5, "neutral", source="hackernews")

    # When the digest is built
    view = digest(mentions=mentions, sources=[ok_checkpoint("hackernews", 7), failing])

    # Then the source that is down comes first, with its error and since when it has not worked
    rss, hn = view.sources
    assert (rss.source, rss.status, rss.failures) == ("rss", "down", 3)
    assert rss.last_error == "HTTP 503 from https://example.com/feed.xml"
    assert rss.last_success == NOW - timedelta(hours=20)
    assert (hn.source, hn.status, hn.mentions, hn.last_count) == ("hackernews", "ok", 5, 7)
    assert view.sources_ok == 1


def test_an_enabled_source_without_a_checkpoint_has_never_run():
    view = digest(sources=[ok_checkpoint("hackernews")])

    assert {row.source: row.status for row in view.sources} == {
        "hackernews": "ok",
        "rss": "never-run",
    }


def test_a_day_with_nothing_still_makes_a_digest_with_the_coverage():
    # Given no mentions, no surges, both sources fine
    view = digest(sources=[ok_checkpoint("hackernews", 0), ok_checkpoint("rss", 0)], previous=3)

    # Then the digest is short, quiet, and says which sources were looked at
    assert view.empty
    assert view.verdict == "quiet"
    assert view.most_negative == [] and view.most_engaged == [] and view.surges == []
    assert [row.status for row in view.sources] == ["ok", "ok"]


def test_digest_times_are_in_the_topics_time_zone():
    view = digest(make_topic(digest={"timezone": "America/New_York"}))

    assert view.period_end.utcoffset() == timedelta(hours=-5)
    assert view.period_end == NOW


# --- alert ----------------------------------------------------------------------------------


def test_alert_carries_the_numbers_evidence_samples_and_playbook():
    # Given an escalated firestorm with evidence from the detector and a playbook
    topic = make_topic(
        playbook={
            "owner": "Comms on call",
            "first_steps": ["Check the status page", "Brief support"],
            "holding_statement": "We know and we are on it.",
        }
    )
    event = surge(
        tier="firestorm",
        complete=False,
        escalation=True,
        episode_start=NOW - timedelta(hours=4),
        evidence={
            "previous_tier": "warning",
            "top_terms": ["outage", "refund"],
            "sources": {"rss": 4, "hackernews": 40},
            "reasons": ["volume 5.0x >= 4x"],
            "window_hours": 2,
        },
        sample_mentions=[
            {
                "title": "Acme down",
                "text": "Everything broken",
                "url": "https://x.example/1",
                "author": "bob",
                "source": "hackernews",
                "sentiment": "negative",
                "published": "2026-11-25T07:00:00+00:00",
                "engagement": 12,
            },
            {"title": "Bad link", "url": "data:text/html,boom", "sentiment": "weird"},
        ],
    )

    # When the alert view is built
    view = build_alert(topic, event, watchlist_name="stormwatch")

    # Then a reader gets the numbers, what drives it, examples and what to do
    assert view.surge.tier == "firestorm"
    assert view.surge.escalation and view.escalated_from == "warning"
    assert (view.surge.score, view.surge.threshold) == (5.5, 3.0)
    assert (view.surge.negative_share, view.surge.usual_negative_share) == (0.7, 0.2)
    assert view.surge.authors == 31 and view.surge.complete is False
    assert view.surge.window_hours == 2
    assert view.top_terms == ["outage", "refund"]
    assert view.drivers == ["hackernews (40)", "rss (4)"]
    assert view.reasons == ["volume 5.0x >= 4x"]
    first, second = view.samples
    assert (first.title, first.label, first.engagement) == ("Acme down", "negative", 12)
    assert first.published is not None and first.published.utcoffset() == timedelta(hours=1)
    assert second.url is None and second.label is None
    assert view.playbook.owner == "Comms on call"
    assert view.playbook.first_steps == ["Check the status page", "Brief support"]
    assert view.settings_url is None


def test_evidence_read_back_from_dynamodb_with_decimal_counts_is_shown():
    # Given evidence as DynamoDB returns it: numbers as Decimal
    event = surge(
        evidence={"sources": {"rss": Decimal("4"), "hackernews": Decimal("40")}},
        sample_mentions=[{"title": "t", "engagement": Decimal("12")}],
    )

    view = build_alert(make_topic(), event, watchlist_name="stormwatch")

    assert view.drivers == ["hackernews (40)", "rss (4)"]
    assert view.samples[0].engagement == 12


def test_alert_without_evidence_or_playbook_still_builds():
    view = build_alert(make_topic(), surge(), watchlist_name="stormwatch")

    assert view.playbook.empty
    assert view.drivers == [] and view.top_terms == [] and view.samples == []
    assert view.surge.escalation is False and view.escalated_from is None


def test_settings_link_must_be_http():
    view = build_alert(
        make_topic(), surge(), watchlist_name="w", settings_url="javascript:alert(1)"
    )

    assert view.settings_url is None


# --- the week: hourly chart, 7-day average ---------------------------------------------------


def bucket(hours_ago: int, count: int, negative: int = 0) -> HourBucket:
    """The bucket of the hour that started `hours_ago` hours before NOW."""
    return HourBucket(
        topic="acme-cloud",
        hour=NOW - timedelta(hours=hours_ago),
        count=count,
        negative=negative,
        neutral=count - negative,
    )


def test_the_chart_has_one_bar_per_hour_of_the_week_scaled_to_the_busiest():
    # Given a quiet week with a busy, mostly negative hour just before the digest
    buckets = [bucket(h, 2) for h in range(1, CHART_HOURS + 24)]
    buckets[0] = bucket(1, 20, negative=15)

    # When the digest is built with the buckets
    view = digest(mentions=many(3, "neutral"), buckets=buckets)

    # Then there are 168 bars, the last one is the busiest at full height, 3/4 of it red
    chart = view.chart
    assert chart is not None and len(chart.bars) == CHART_HOURS
    last = chart.bars[-1]
    assert (last.count, last.height, last.negative_height) == (20, CHART_HEIGHT, 60)
    assert chart.bars[0].height == round(2 / 20 * CHART_HEIGHT)
    assert chart.max_count == 20 and chart.total == 20 + 2 * (CHART_HOURS - 1)
    # and the hours are shown in the digest's zone, the last 24 marked as the period
    assert last.hour.utcoffset() == timedelta(hours=1)
    assert sum(b.in_period for b in chart.bars) == 24 and last.in_period
    # and the days under the chart add up to the week, only wide days labelled
    assert sum(d.hours for d in chart.days) == CHART_HOURS
    assert sum(d.count for d in chart.days) == chart.total
    assert all(d.labelled == (d.hours >= 12) for d in chart.days)


def test_hours_without_a_bucket_are_empty_bars_and_a_silent_week_has_no_peak():
    view = digest(buckets=[])

    assert view.chart is not None and view.chart.total == 0
    assert {b.height for b in view.chart.bars} == {0}
    assert view.chart.busiest is None
    assert view.week_average is None  # no history: no average to compare with


def test_without_buckets_there_is_no_chart_and_no_average():
    view = digest(mentions=many(3, "neutral"))

    assert view.chart is None and view.week_average is None


def test_the_7_day_average_counts_the_week_before_the_period():
    # Given 70 mentions spread over the 7 days before the period and 100 inside it
    week = [bucket(24 + h, 1) for h in range(1, 71)]
    today = [bucket(h, 10) for h in range(1, 11)]

    view = digest(mentions=many(30, "neutral"), previous=10, buckets=week + today)

    # Then the average is 10 a day and the day's 30 mentions are +200 % against it
    assert view.week_average == pytest.approx(10.0)
    assert view.week_delta_share == pytest.approx(2.0)


def test_busier_than_usual_is_measured_against_the_week_not_one_odd_day():
    # Given a day with 30 mentions after a day with 30, but a week averaging 10 a day
    week = [bucket(24 + h, 1) for h in range(1, 71)]

    view = digest(mentions=many(30, "neutral"), previous=30, buckets=week)

    # Then the verdict says busier than usual (against the previous day alone it was "as usual")
    assert view.verdict == "busier"
    assert digest(mentions=many(30, "neutral"), previous=30).verdict == "as_usual"


# --- lists: most positive, new voices ---------------------------------------------------------


def test_most_positive_weighs_positivity_by_engagement_and_is_not_repeated_below():
    # Given a warmly received launch post, a mildly positive one, and engaged neutral noise
    launch = scored(1, "positive", score=0.5, engagement=900)
    mild = scored(2, "positive", score=0.9, engagement=0)
    noise = many(3, "neutral", 10, engagement=50)

    view = digest(mentions=[mild, launch, *noise])

    # Then the launch leads the positive list, and the engaged list only has the rest
    assert [m.title for m in view.most_positive] == ["Story 1", "Story 2"]
    assert {m.title for m in view.most_engaged} == {"Story 10", "Story 11", "Story 12"}


def test_new_voices_are_authors_not_heard_in_the_30_days_before():
    # Given three authors today, one of whom was heard last week, one posting twice
    regular = scored(1, "neutral", engagement=5)
    newcomer = scored(2, "negative", engagement=300)
    loud = [scored(3, "neutral", engagement=10), scored(3, "neutral", engagement=40, hours_ago=1)]
    loud[1] = loud[1].model_copy(
        update={"mention": loud[1].mention.model_copy(update={"native_id": "hn-3b"})}
    )
    known = {regular.mention.short_author_key}

    view = digest(mentions=[regular, newcomer, *loud], known_authors=known)

    # Then two of three authors are new, each listed once (by their most engaged mention)
    assert (view.new_voices_total, view.authors_total) == (2, 3)
    assert [(m.author, m.engagement) for m in view.new_voices] == [
        ("author2", 300),
        ("author3", 40),
    ]


def test_new_voices_from_a_months_bloom_filters_miss_at_most_the_stated_share():
    # Given 3,000 authors heard in the 30 days before, kept as 30 daily Bloom filters, and a
    # day with 1,000 of them back and 1,000 newcomers
    heard = [f"author{n}" for n in range(3000)]
    days = [heard[i::30] for i in range(30)]
    filters = tuple(
        KnownKeys.of(
            scored(0).mention.model_copy(update={"author": a}).short_author_key for a in day
        )
        for day in days
    )
    known = HeardAuthors(filters=filters)
    today = many(1000, "neutral", start=2000) + many(1000, "neutral", start=5000)

    view = digest(mentions=today, known_authors=known)

    # Then no author heard before is called new, and of the 1,000 newcomers at most
    # 30 filters x BLOOM_FALSE_POSITIVE (0.3 %) are taken for known: here at most 10
    assert {m.author for m in view.new_voices} <= {f"author{n}" for n in range(5000, 6000)}
    assert 990 <= view.new_voices_total <= 1000


def test_new_voices_are_left_out_when_the_history_is_not_known():
    assert digest(mentions=many(3, "neutral")).new_voices is None


# --- share of voice ---------------------------------------------------------------------------


def test_share_of_voice_compares_the_topic_with_its_competitors_counted_alike():
    # Given 30 mentions of the topic in its buckets and two competitors with 60 and 10
    buckets = [bucket(h, 3) for h in range(1, 11)]

    view = digest(
        mentions=many(30, "neutral"),
        buckets=buckets,
        competitors=[("globex", "Globex Cloud", 60), ("initech", "Initech", 10)],
    )

    # Then the rows are ordered by volume, with shares of the three together
    rows = [(r.title, r.count, round(r.share, 3), r.own) for r in view.share_of_voice]
    assert rows == [
        ("Globex Cloud", 60, 0.6, False),
        ("acme-cloud", 30, 0.3, True),
        ("Initech", 10, 0.1, False),
    ]


def test_no_competitors_no_share_of_voice():
    assert digest(mentions=many(3, "neutral")).share_of_voice == []


# --- coverage: ok / degraded / down -----------------------------------------------------------


@pytest.mark.parametrize(
    ("checkpoint", "status"),
    [
        ({"consecutive_failures": 0}, "ok"),
        ({"consecutive_failures": 1, "last_error": "timeout"}, "degraded"),
        ({"consecutive_failures": 2, "last_error": "timeout"}, "degraded"),
        ({"consecutive_failures": 3, "last_error": "timeout"}, "down"),
        ({"last_truncated": True, "last_notes": ["daily quota budget reached"]}, "degraded"),
        ({"last_run": NOW - timedelta(days=2)}, "down"),  # did not run at all in the period
        ({"last_run": None}, "never-run"),
        # the platform refuses this client (Reddit without approval): not an outage to wait out
        (
            {"consecutive_failures": 1, "last_error": "HTTP 403", "last_error_kind": "refused"},
            "refused",
        ),
        (
            {"consecutive_failures": 5, "last_error": "HTTP 403", "last_error_kind": "refused"},
            "refused",
        ),
        ({"consecutive_failures": 0, "last_error_kind": "refused"}, "ok"),  # it works again
    ],
)
def test_each_sources_state_for_the_period(checkpoint, status):
    data = {"source": "hackernews", "topic": "acme-cloud", "last_run": NOW, "last_success": NOW}
    data.update(checkpoint)

    view = digest(sources=[Checkpoint.model_validate(data), ok_checkpoint("rss")])

    row = next(r for r in view.sources if r.source == "hackernews")
    assert row.status == status
    assert view.coverage == {"ok": 2} if status == "ok" else view.coverage[status] == 1


def test_a_refused_source_is_named_at_the_top_as_needing_approval_not_as_down():
    """Given Reddit refusing the keyless feed from a cloud IP range (HTTP 403)
    When the digest is rendered in English and German
    Then the top of the digest names Reddit as "needs approval / refused", and the coverage
    counts it apart from sources that are down."""
    refused = Checkpoint(
        source="reddit",
        topic="acme-cloud",
        last_run=NOW,
        last_error="Reddit refused keyless access (HTTP 403)",
        last_error_at=NOW,
        consecutive_failures=4,
        last_error_kind="refused",
    )
    view = digest(sources=[refused, ok_checkpoint("hackernews")])
    assert [r.source for r in view.source_problems] == ["reddit"]
    assert view.coverage["refused"] == 1 and "down" not in view.coverage
    english = render_digest(view, TEMPLATES, lang="en")
    german = render_digest(view, TEMPLATES, lang="de")
    assert "reddit: needs approval / refused" in english.text
    assert "needs approval / refused" in english.html
    assert "reddit: Freigabe nötig / abgewiesen" in german.text


def test_a_sources_own_notes_are_shown_bounded():
    # Given a source whose last run hit its quota and left a very long note
    noisy = ok_checkpoint("hackernews").model_copy(
        update={
            "last_truncated": True,
            "last_notes": ["daily quota budget of 20 search calls reached", "x" * 5000, "3", "4"],
        }
    )

    row = next(r for r in digest(sources=[noisy]).sources if r.source == "hackernews")

    assert row.status == "degraded" and row.truncated
    assert row.notes[0] == "daily quota budget of 20 search calls reached"
    assert len(row.notes) == 3 and all(len(n) <= 200 for n in row.notes)


def test_open_storms_come_before_surges_that_are_over():
    # Given an open surge an hour ago and an earlier one whose cooldown (6 h) has passed
    over = surge(hours_ago=8, tier="watch")
    open_ = surge(hours_ago=1, tier="warning")

    view = digest(mentions=many(5, "negative"), surges=[over, open_])

    assert [(s.tier, s.open) for s in view.surges] == [("warning", True), ("watch", False)]


# --- the alert's playbook per tier, the recipient's language ----------------------------------


def test_the_alert_shows_the_playbook_for_its_tier_falling_back_to_the_defaults():
    topic = make_topic(
        playbook={
            "owner": "Comms",
            "first_steps": ["Default step"],
            "holding_statement": "Default statement",
            "tiers": {"firestorm": {"first_steps": ["Call the CEO"]}},
        }
    )

    firestorm = build_alert(topic, surge(tier="firestorm"), watchlist_name="w")
    watch = build_alert(topic, surge(tier="watch"), watchlist_name="w")

    assert firestorm.playbook.first_steps == ["Call the CEO"]
    assert firestorm.playbook.holding_statement == "Default statement"
    assert firestorm.playbook.tier == "firestorm"
    assert watch.playbook.first_steps == ["Default step"] and watch.playbook.tier is None


def test_the_view_carries_the_recipients_language_not_only_the_topics():
    view = digest(mentions=many(1, "neutral"), language="de")

    assert view.language == "de"


# --- sentiment per language -----------------------------------------------------------------


def in_language(n: int, label: str, lang: str) -> ScoredMention:
    m = scored(n, label)
    return m.model_copy(update={"sentiment": m.sentiment.model_copy(update={"lang": lang})})


def test_a_topic_heard_in_two_languages_gets_the_split_per_language():
    """Given French mentions that turned negative and English ones that did not
    When the digest is built
    Then the split per language shows it, the bigger language first."""
    french = [in_language(i, "negative", "fr") for i in range(4)]
    french.append(in_language(4, "neutral", "fr"))
    english = [in_language(10 + i, "positive", "en") for i in range(3)]

    view = digest(mentions=french + english)

    rows = [
        (r.lang, r.sentiment.negative, r.sentiment.positive) for r in view.sentiment_by_language
    ]
    assert rows == [("fr", 4, 0), ("en", 0, 3)]
    assert view.sentiment_by_language[0].sentiment.negative_share == pytest.approx(0.8)


def test_one_language_or_unscorable_languages_add_no_split():
    """Given mentions in English plus some whose language has no analyzer
    When the digest is built
    Then there is no per-language split: one scored language says it all."""
    mentions = [in_language(i, "negative", "en") for i in range(3)]
    mentions += [in_language(5, "neutral", "und"), in_language(6, "neutral", "ru")]

    assert digest(mentions=mentions).sentiment_by_language == []


@pytest.mark.parametrize(
    ("lang", "heading", "french"),
    [("en", "By language", "French"), ("de", "Nach Sprache", "Französisch")],
)
def test_the_split_per_language_is_rendered_in_both_e_mail_languages(lang, heading, french):
    """Given a digest with French and German mentions
    When it is rendered in English and in German
    Then both the HTML and the text name the languages and their negative share."""
    from pathlib import Path

    from stormwatch.render import render_digest

    mentions = [in_language(i, "negative", "fr") for i in range(2)]
    mentions.append(in_language(9, "positive", "de"))
    templates = Path(__file__).resolve().parents[2] / "templates"

    email = render_digest(digest(mentions=mentions), templates, lang=lang)

    for body in (email.html, email.text):
        assert heading in body
        assert french in body
        assert "100" in body.split(french, 1)[1][:40]  # its negative share


def test_a_new_topic_averages_the_days_its_sources_covered_and_says_they_were_backfilled():
    """Given a topic whose feed first ran 3 days before the period and whose Hacker News
    collector backfilled 3 days back too, with 10 mentions a day in them
    When the digest is built
    Then the 7-day average is 10 a day (3 covered days, not 30 over 7), and the digest says
    where the baseline came from."""
    from stormwatch.models import BackfillProgress

    start = DAY_START - timedelta(days=3)
    backfilled = Checkpoint(
        source="hackernews",
        topic="acme-cloud",
        last_run=NOW,
        first_success=DAY_START,
        backfill=BackfillProgress(since=start, until=DAY_START, owed=None, done_at=DAY_START),
    )
    feed = ok_checkpoint("rss").model_copy(update={"first_success": DAY_START})
    week = [bucket(24 + h, 10) for h in range(1, 3 * 24, 24)]
    assert len(week) == 3

    view = digest(mentions=many(5, "neutral"), buckets=week, sources=[backfilled, feed])

    assert view.week_average == pytest.approx(10.0)
    assert view.baseline is not None
    assert (view.baseline.days, view.baseline.backfilled) == (4, ["hackernews"])
    assert view.baseline.no_history == ["rss"]
