"""What the e-mails say about syndicated stories and source health: each story shown once with
"and N more", sources down or unusually quiet named at the top, incomplete surge data explained,
and the one-off "source down" e-mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

from stormwatch.digest import build_alert, build_digest, build_notice
from stormwatch.models import (
    Checkpoint,
    HourBucket,
    Mention,
    ScoredMention,
    Sentiment,
    SourceNotice,
    Surge,
)
from stormwatch.render import render_alert, render_digest, render_notice
from stormwatch.reporting import notify
from stormwatch.watchlist import Topic

from tests.support.fakes import OnceOnly

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
DAY_START = NOW - timedelta(days=1)


def make_topic(lang: str = "en", **overrides) -> Topic:
    data = {
        "name": "acme-cloud",
        "display_name": "AcmeCloud",
        "terms": ["acme", "acmecloud"],
        "sources": {"hackernews": {}, "reddit": {}, "rss": {"feeds": ["https://ex.com/f.xml"]}},
        "digest": {"timezone": "Europe/Berlin", "language": lang, "recipients": ["a@ex.com"]},
    }
    data.update(overrides)
    return Topic.model_validate(data)


def scored(
    n: int, title: str, *, source: str = "rss", label: str = "negative", **kw
) -> ScoredMention:
    mention = Mention(
        topic="acme-cloud",
        source=source,
        native_id=f"{source}-{n}",
        published=NOW - timedelta(hours=2, minutes=n),
        title=title,
        author=f"outlet {n}",
        url=kw.pop("url", f"https://news{n}.example/acme"),
        **kw,
    )
    score = {"negative": -0.7, "neutral": 0.0, "positive": 0.7}[label]
    return ScoredMention(mention=mention, sentiment=Sentiment(label=label, score=score))


def ok(source: str) -> Checkpoint:
    return Checkpoint(source=source, topic="acme-cloud", last_run=NOW, last_success=NOW)


def syndicated_day() -> list[ScoredMention]:
    return [
        scored(1, "AcmeCloud outage hits thousands - Reuters", engagement=50),
        scored(2, "AcmeCloud outage hits thousands | Yahoo News"),
        scored(3, "AcmeCloud outage hits thousands", source="reddit", channel="r/aws"),
        scored(4, "AcmeCloud outage hits thousands - The Register"),
        scored(5, "AcmeCloud CEO apologises for the outage", engagement=5),
    ]


def digest(lang: str = "en", mentions=None, sources=None, buckets=None):
    return build_digest(
        make_topic(lang),
        now=NOW,
        period_start=DAY_START,
        mentions=syndicated_day() if mentions is None else mentions,
        previous_count=0,
        surges=[],
        sources=sources or [ok("hackernews"), ok("reddit"), ok("rss")],
        watchlist_name="stormwatch",
        buckets=buckets,
        language=lang,
    )


def test_needs_a_reply_shows_each_story_once_with_how_many_copies_it_has():
    # Given four outlets and Reddit carrying the same headline, and one different story
    view = digest()
    # When the digest is built
    titles = [m.title for m in view.most_negative]
    # Then the syndicated story is shown once (its best-ranked copy) with "3 more", and the other
    # story on its own
    assert titles == [
        "AcmeCloud outage hits thousands - Reuters",
        "AcmeCloud CEO apologises for the outage",
    ]
    assert [m.more for m in view.most_negative] == [3, 0]
    # And the counts still say how many mentions there were
    assert view.count == 5


def test_and_n_more_is_in_the_html_and_text_in_english_and_german():
    for lang, words in (("en", "and 3 more"), ("de", "und 3 weitere")):
        # Given the syndicated day rendered in each language
        email = render_digest(digest(lang), TEMPLATES, lang=lang)
        # Then both parts say how many more copies the story has, once
        assert email.text.count(words) == 1, lang
        assert unescape(email.html).count(words) == 1, lang


def bucket(hours_ago: int, **by_source: int) -> HourBucket:
    return HourBucket(
        topic="acme-cloud",
        hour=NOW - timedelta(hours=hours_ago),
        count=sum(by_source.values()),
        by_source=by_source,
    )


def test_a_source_far_below_its_usual_volume_is_unusually_quiet_and_said_at_the_top():
    # Given reddit brought ~45 items a day for a week but only 3 in the digest's 24 hours, while
    # hackernews stayed at its usual level, and rss never brings more than a few
    buckets = [bucket(h, reddit=15, hackernews=10, rss=1) for h in range(25, 24 * 8, 8)]
    buckets += [bucket(h, reddit=1, hackernews=10) for h in (2, 10, 18)]
    view = digest(buckets=buckets)
    rows = {r.source: r for r in view.sources}
    # Then reddit is degraded as unusually quiet, with its numbers; the others are not
    assert rows["reddit"].quiet and rows["reddit"].status == "degraded"
    assert (rows["reddit"].period_items, rows["reddit"].usual_per_day) == (3, 45.0)
    assert not rows["hackernews"].quiet and rows["hackernews"].status == "ok"
    assert not rows["rss"].quiet  # a median of 3 a day says nothing
    assert [r.source for r in view.source_problems] == ["reddit"]
    # And the e-mail says so at the top, before the numbers, in both parts
    email = render_digest(view, TEMPLATES, lang="en")
    assert "unusually quiet (3 vs usual 45 a day)" in email.text
    assert email.text.index("Check the sources") < email.text.index("Mentions:")
    assert 'id="source-problems"' in email.html
    german = render_digest(digest("de", buckets=buckets), TEMPLATES, lang="de")
    assert "ungewöhnlich ruhig (3 statt üblicherweise 45 am Tag)" in german.text


def test_a_source_down_is_named_at_the_top_and_a_healthy_day_has_no_notice():
    # Given reddit failed three runs in a row
    down = Checkpoint(
        source="reddit",
        topic="acme-cloud",
        last_run=NOW,
        last_success=NOW - timedelta(hours=5),
        last_error="HTTP 503",
        consecutive_failures=3,
    )
    view = digest(sources=[ok("hackernews"), down, ok("rss")])
    # Then the digest names it at the top
    assert [r.source for r in view.source_problems] == ["reddit"]
    email = render_digest(view, TEMPLATES, lang="en")
    assert email.text.index("Check the sources") < email.text.index("Mentions:")
    # And with every source healthy there is no such notice
    healthy = render_digest(digest(), TEMPLATES, lang="en")
    assert "Check the sources" not in healthy.text
    assert 'id="source-problems"' not in healthy.html


def test_an_alert_on_incomplete_data_says_which_source_is_failing_since_when():
    # Given a surge checked while reddit had been failing since 06:00 UTC (07:00 in Berlin)
    surge = Surge(
        topic="acme-cloud",
        detected_at=NOW,
        tier="watch",
        observed=20,
        expected=2,
        score=6,
        threshold=4,
        negative_share=0.5,
        usual_negative_share=0.2,
        complete=False,
        evidence={
            "failing_sources": ["reddit"],
            "failing_since": {"reddit": "2026-11-25T06:00:00Z", "bluesky": None},
            "stories": 4,
        },
    )
    for lang, words in (
        ("en", ["data incomplete: reddit failing since", "07:00", "bluesky failing, no success"]),
        ("de", ["Daten unvollständig: reddit gestört seit", "07:00", "bluesky gestört"]),
    ):
        view = build_alert(make_topic(lang), surge, watchlist_name="stormwatch", language=lang)
        email = render_alert(view, TEMPLATES, lang=lang)
        # Then both parts say the data is incomplete, which source, and since when
        for word in words:
            assert word in email.text, (lang, word)
            assert word in unescape(email.html), (lang, word)
    # And the distinct stories of the window are shown next to the authors
    assert view.stories == 4
    assert (
        "Distinct stories: 4"
        in render_alert(
            build_alert(make_topic(), surge, watchlist_name="stormwatch"), TEMPLATES
        ).text
    )


def test_a_source_down_notice_is_mailed_once_per_recipient_in_their_language():
    # Given a notice for reddit and two recipients, one reading German
    topic = make_topic(
        alerts={"recipients": ["ops@ex.com", {"address": "pr@ex.com", "language": "de"}]}
    )
    notice = SourceNotice(
        topic="acme-cloud",
        source="reddit",
        detected_at=NOW,
        failures=3,
        since=NOW - timedelta(hours=2),
        last_error="HTTP 503: <b>Service Unavailable</b>",
    )
    deliver = OnceOnly()
    # When the report function handles it twice (a stream retry)
    first = notify(topic, notice, deliver=deliver, templates_dir=TEMPLATES, watchlist_name="w")
    again = notify(topic, notice, deliver=deliver, templates_dir=TEMPLATES, watchlist_name="w")
    # Then each recipient got exactly one e-mail, keyed by the notice
    assert first.sent == 2 and again.sent == 0 and again.repeats == 2
    assert all(
        key.startswith("notice#acme-cloud#N#2026-11-25T08:00:00Z#reddit#") for key in deliver.sent
    )
    by_recipient = {recipient: email for email, recipient in deliver.sent.values()}
    english, german = by_recipient["ops@ex.com"], by_recipient["pr@ex.com"]
    assert english.subject == "[w] AcmeCloud: source down: reddit"
    assert "reddit failed 3 runs in a row" in english.text
    assert "Quelle ausgefallen: reddit" in german.subject
    # And the source's error is shown as text, never as markup
    assert "<b>" not in english.html and "&lt;b&gt;" in english.html


def test_notice_view_is_in_the_topics_time_zone():
    notice = SourceNotice(topic="acme-cloud", source="rss", detected_at=NOW, failures=3)
    view = build_notice(make_topic(), notice, watchlist_name="w")
    assert view.detected_at.utcoffset() == timedelta(hours=1)
    assert view.since is None
    assert "no successful run yet" in render_notice(view, TEMPLATES).text
