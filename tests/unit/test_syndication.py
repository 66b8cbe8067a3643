"""Syndication: copies of one story (outlets, sources, tracking links) count once; different
stories stay apart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from stormwatch.models import Mention
from stormwatch.syndication import (
    canonical_url,
    group_stories,
    near_duplicate,
    story_key,
    story_keys,
    strip_outlet,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def mention(n: int, title: str = "", text: str = "", **extra) -> Mention:
    data = {"source": "rss", "channel": "", "author": f"outlet {n}", "url": None}
    data.update(extra)
    return Mention(
        topic="acme-cloud",
        native_id=str(n),
        published=NOW,
        title=title,
        text=text,
        **data,
    )


def grouped_titles(mentions: list[Mention]) -> list[list[str]]:
    return [[mentions[i].title or mentions[i].text for i in g] for g in group_stories(mentions)]


def test_canonical_url_drops_tracking_scheme_www_fragment_and_trailing_slash():
    # Given the same article linked from a newsletter, a share button and a plain link
    links = [
        "https://www.reuters.com/tech/acmecloud-outage/?utm_source=newsletter&utm_medium=email",
        "http://reuters.com/tech/acmecloud-outage#comments",
        "https://WWW.Reuters.com/tech/acmecloud-outage?fbclid=IwAR0abc",
    ]
    # When they are made canonical
    canonical = {canonical_url(link) for link in links}
    # Then they are one URL, and meaningful query parameters are kept (sorted)
    assert canonical == {"reuters.com/tech/acmecloud-outage"}
    assert canonical_url("https://news.example/item?b=2&id=7&utm_campaign=x") == (
        "news.example/item?b=2&id=7"
    )
    assert canonical_url("javascript:alert(1)") is None
    assert canonical_url(None) is None


def test_outlet_suffixes_are_stripped_but_short_headlines_keep_theirs():
    assert strip_outlet("AcmeCloud outage hits thousands - Reuters") == (
        "AcmeCloud outage hits thousands"
    )
    assert strip_outlet("AcmeCloud outage hits thousands | Yahoo News") == (
        "AcmeCloud outage hits thousands"
    )
    # "what we know" is not an outlet when stripping would leave no headline
    assert strip_outlet("AcmeCloud outage - what we know") == "AcmeCloud outage - what we know"


def test_the_same_headline_from_several_outlets_and_sources_is_one_story():
    # Given a wire story on Google News (outlet stripped by the parser), the same headline with
    # an outlet suffix in a plain feed and on Reddit, and a copy with utm parameters
    copies = [
        mention(1, "AcmeCloud outage hits thousands", author="Reuters", channel="Google News"),
        mention(2, "AcmeCloud outage hits thousands | Yahoo News", text="Thousands of firms..."),
        mention(
            3,
            "AcmeCloud outage hits thousands - Reuters",
            source="reddit",
            channel="r/sysadmin",
            url="https://www.reddit.com/r/sysadmin/comments/abc/acmecloud_outage/",
        ),
        mention(4, "AcmeCloud outage hits thousands of customers", text="Updated at 9:00"),
    ]
    # And the same article reached through tracking links under a different headline
    linked = [
        mention(5, "Acme's cloud is down", url="https://news.example/acme?utm_source=x"),
        mention(6, "Big outage at Acme today", url="https://www.news.example/acme/"),
    ]
    # When grouped by story
    groups = group_stories([*copies, *linked])
    # Then the syndicated headlines are one story and the same canonical URL another
    assert groups == [[0, 1, 2, 3], [4, 5]]
    # And every copy gets the same key, whatever the order
    keys = story_keys(copies)
    assert len(set(keys)) == 1
    assert story_keys(list(reversed(copies))) == list(reversed(keys))
    # And exact copies agree even when computed one by one (as separate scoring batches do)
    assert story_key(copies[0]) == story_key(copies[1]) == story_key(copies[2])


def test_clearly_different_stories_stay_apart():
    # Given headlines about the same company but different news
    stories = [
        mention(1, "AcmeCloud outage hits thousands - Reuters"),
        mention(2, "AcmeCloud CEO apologises for the outage"),
        mention(3, "AcmeCloud raises prices for object storage"),
        mention(4, "AcmeCloud cuts prices for object storage"),
        mention(5, "AcmeCloud opens a data centre in Frankfurt"),
    ]
    # When grouped
    groups = group_stories(stories)
    # Then each is its own story
    assert groups == [[0], [1], [2], [3], [4]]
    assert not near_duplicate(stories[2].title, stories[3].title)


def test_comments_are_voices_not_copies_even_under_one_story_link():
    # Given Hacker News comments that carry their story's title and the article's URL
    url = "https://news.example/acme-outage?utm_source=hn"
    comments = [
        mention(
            n,
            "AcmeCloud outage hits thousands",
            text=text,
            source="hackernews",
            channel="comment",
            url=url,
        )
        for n, text in enumerate(
            ["Our whole CI is down since 6am.", "Status page still says green.", "+1"], start=1
        )
    ]
    # When grouped with the story itself
    story = mention(0, "AcmeCloud outage hits thousands", source="hackernews", url=url)
    groups = group_stories([story, *comments])
    # Then each comment is its own story (its own words), not a copy of the link
    assert groups == [[0], [1], [2], [3]]


def test_identical_posts_by_different_accounts_are_one_story():
    # Given the same text posted by several accounts (copypasta), and a short unrelated post
    text = "Boycott AcmeCloud until they refund every customer hit by the outage"
    posts = [mention(n, text=text, source="mastodon", author=f"user{n}") for n in range(5)]
    posts.append(mention(9, text="AcmeCloud down?", source="mastodon"))
    # When grouped
    groups = group_stories(posts)
    # Then the copies are one story and the other post its own
    assert groups == [[0, 1, 2, 3, 4], [5]]


@pytest.mark.parametrize("count", [200])
def test_grouping_a_busy_day_stays_cheap(count):
    # Given a day of distinct mentions plus 40 copies of one press release
    distinct = [
        mention(n, f"Customer {n} reports problem number {n * 7} with region {n % 13}")
        for n in range(count)
    ]
    release = [
        mention(1000 + n, "AcmeCloud announces record quarter - PR Newswire") for n in range(40)
    ]
    # When grouped
    groups = group_stories([*distinct, *release])
    # Then the press release is one story, and nothing else was merged into it
    assert len(groups[-1]) == 40
    assert len(groups) == count + 1
