"""The digest and alert view models: the numbers and verdicts a reader sees, without AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from stormwatch.digest import LIST_CAP, TEXT_CHARS, build_alert, build_digest
from stormwatch.models import Checkpoint, Mention, ScoredMention, Sentiment, Surge
from stormwatch.watchlist import Topic

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


def digest(topic: Topic | None = None, *, mentions=(), previous=0, surges=(), sources=()):
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

    # Then the failing source comes first, with its error and since when it has not worked
    rss, hn = view.sources
    assert (rss.source, rss.status, rss.failures) == ("rss", "failing", 3)
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
