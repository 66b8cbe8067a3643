"""Stack Exchange content is CC BY-SA: wherever a question is shown (digest, alert, storm page)
the reader sees the site, the author linked to their profile page, the licence linked to its
text, and the link to the question itself. Other sources ask for no such credit."""

from __future__ import annotations

import html as html_lib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
from hypothesis import given
from hypothesis import strategies as st
from stormwatch.attribution import credit_of, stackexchange_channel
from stormwatch.channels.slack import slack_payload
from stormwatch.channels.teams import teams_payload
from stormwatch.channels.webhook import webhook_payload
from stormwatch.digest import build_alert, build_digest
from stormwatch.models import Mention, ScoredMention, Sentiment, Surge
from stormwatch.render import render_alert, render_digest
from stormwatch.scoring import _sample
from stormwatch.stormpage import build_storm_page, render_storm_page, storm_csv
from stormwatch.watchlist import Topic

from tests.support.channels import notification_for

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
QUESTION = "https://stackoverflow.com/questions/123/acme-sdk-crashes"
PROFILE = "https://stackoverflow.com/users/501/zoe-obrien"
LICENCE = "https://creativecommons.org/licenses/by-sa/4.0/"
SCHEMA = json.loads((TEMPLATES.parent / "docs/webhook-v1.schema.json").read_text(encoding="utf-8"))


def topic() -> Topic:
    return Topic.model_validate(
        {"name": "acme", "terms": ["acme"], "sources": {"stackexchange": {}}}
    )


def question(*, channel: str | None = None, source: str = "stackexchange") -> ScoredMention:
    mention = Mention(
        topic="acme",
        source=source,
        native_id="stackoverflow:123",
        published=NOW - timedelta(hours=2),
        url=QUESTION,
        title="Acme SDK crashes on start",
        text="Since the update the Acme SDK crashes.",
        author="Zoë O'Brien",
        engagement=7,
        channel=stackexchange_channel("stackoverflow", "CC BY-SA 4.0", PROFILE)
        if channel is None
        else channel,
    )
    return ScoredMention(mention=mention, sentiment=Sentiment(label="negative", score=-0.8))


def warning(topic: str, samples: list[dict] | None = None) -> Surge:
    """A warning-tier surge of `topic` with `samples` as the scorer stores them."""
    return Surge(
        topic=topic,
        detected_at=NOW,
        tier="warning",
        observed=40,
        expected=8,
        score=5.5,
        threshold=3.0,
        negative_share=0.7,
        usual_negative_share=0.2,
        authors=31,
        sample_mentions=samples or [],
    )


def digest_email(mention: ScoredMention):
    view = build_digest(
        topic(),
        now=NOW,
        period_start=NOW - timedelta(days=1),
        mentions=[mention],
        previous_count=0,
        surges=[],
        sources=[],
        watchlist_name="Brand team",
    )
    return render_digest(view, TEMPLATES)


def links(html: str) -> dict[str, str]:
    """href -> the link's text, for every <a> in the HTML."""
    found = re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', html, flags=re.S)
    return {html_lib.unescape(href): html_lib.unescape(text).strip() for href, text in found}


def test_the_digest_credits_a_stack_exchange_question_as_its_licence_asks():
    # Given a negative Stack Exchange question by Zoë O'Brien under CC BY-SA 4.0
    # When the digest e-mail is rendered
    email = digest_email(question())
    # Then the HTML links the question, the author's name to her profile and the licence
    shown = links(email.html)
    assert shown[QUESTION] == "Acme SDK crashes on start"
    assert shown[PROFILE] == "Zoë O'Brien"
    assert shown[LICENCE] == "CC BY-SA 4.0"
    assert "stackoverflow" in email.html
    # and the text part names site, licence and author with both addresses
    assert f"stackoverflow, CC BY-SA 4.0 ({LICENCE})" in email.text
    assert f"Zoë O'Brien ({PROFILE})" in email.text
    assert QUESTION in email.text


def test_the_alert_credits_its_stack_exchange_samples():
    # Given a surge whose sample is a Stack Exchange question, as the scorer stores samples
    surge = warning("acme", [_sample(question())])
    # When the alert e-mail is rendered
    email = render_alert(build_alert(topic(), surge, watchlist_name="Brand team"), TEMPLATES)
    # Then author and licence are linked as in the digest
    shown = links(email.html)
    assert shown[PROFILE] == "Zoë O'Brien" and shown[LICENCE] == "CC BY-SA 4.0"
    assert f"Zoë O'Brien ({PROFILE})" in email.text


def test_the_storm_page_and_its_csv_credit_stack_exchange_questions():
    # Given a storm with a Stack Exchange question in it
    surge = warning("acme")
    page = build_storm_page(topic(), surge, [question()], now=NOW, language="en")
    # When the page and the CSV are made
    html = render_storm_page(page, TEMPLATES, csv_url="/csv", script="")
    csv = storm_csv(page)
    # Then the page links the author's profile and the licence, and the CSV names both
    shown = links(html)
    assert shown[PROFILE] == "Zoë O'Brien" and shown[LICENCE] == "CC BY-SA 4.0"
    assert f"stackoverflow · CC BY-SA 4.0 · {PROFILE}" in csv


def test_a_hostile_profile_link_is_shown_as_plain_text_never_linked():
    # Given a channel whose profile part is a javascript: URL
    hostile = stackexchange_channel("stackoverflow", "CC BY-SA 4.0", "javascript:alert(1)")
    # When the digest is rendered
    email = digest_email(question(channel=hostile))
    # Then the author's name is not a link and the script is nowhere
    assert "javascript:" not in email.html and "javascript:" not in email.text
    assert "Zoë O'Brien" in html_lib.unescape(email.html)


def test_other_sources_ask_for_no_credit():
    # Given a Hacker News mention whose channel happens to look like a Stack Exchange one
    email = digest_email(question(source="hackernews"))
    # Then no licence and no profile link is added
    assert LICENCE not in email.html and PROFILE not in email.html
    assert credit_of("hackernews", "story") is None


def test_an_old_question_without_a_versioned_licence_is_still_credited():
    # Given a stored question without licence version or profile (older items, deleted users)
    credit = credit_of("stackexchange", "serverfault")
    # Then the credit still names the site and CC BY-SA, without links it cannot know
    assert credit is not None
    assert (credit.site, credit.licence) == ("serverfault", "CC BY-SA")
    assert credit.licence_url is None and credit.profile_url is None


@given(st.text(max_size=300))
def test_any_stored_channel_gives_a_bounded_credit_with_safe_links(channel):
    # Given whatever text a stored channel holds, When it is read as a credit
    credit = credit_of("stackexchange", channel)
    # Then it never fails, its names are bounded and its links are http(s) or absent
    assert credit is not None and credit.site and credit.licence
    assert len(credit.site) <= 80 and len(credit.licence) <= 40
    for url in (credit.profile_url, credit.licence_url):
        assert url is None or (url.startswith(("http://", "https://")) and len(url) <= 200)


def stack_exchange_alert():
    """The alert notification (as reporting.notify builds it) of a surge whose sample is a
    Stack Exchange question."""
    surge = warning("acme-cloud", [_sample(question())])
    return notification_for(surge)


def test_slack_and_teams_credit_a_stack_exchange_question():
    # Given an alert whose sample is Stack Exchange content
    notification = stack_exchange_alert()
    # When it is posted to Slack, Then the line links the licence and the author's profile
    slack = json.dumps(slack_payload(notification), ensure_ascii=False)
    assert f"<{LICENCE}|CC BY-SA 4.0>" in slack
    assert f"<{PROFILE}|by Zoë O'Brien>" in slack and "stackoverflow" in slack
    # and Teams gets the same as text runs that open the licence and the profile
    runs = [
        inline
        for block in teams_payload(notification)["attachments"][0]["content"]["body"]
        for inline in block.get("inlines", [])
    ]
    opens = {r["text"].strip(" ·"): r.get("selectAction", {}).get("url") for r in runs}
    assert opens["CC BY-SA 4.0"] == LICENCE and opens["by Zoë O'Brien"] == PROFILE


def test_the_webhook_carries_the_attribution_of_a_stack_exchange_question():
    # Given the same alert, When it goes to the generic webhook
    payload = webhook_payload(stack_exchange_alert(), "delivery-1")
    # Then the mention carries site, licence and profile for the receiver to show
    [mention] = payload["alert"]["mentions"]
    assert mention["attribution"] == {
        "site": "stackoverflow",
        "licence": "CC BY-SA 4.0",
        "licence_url": LICENCE,
        "profile_url": PROFILE,
    }
    jsonschema.validate(payload, SCHEMA)


def test_credits_keep_chat_messages_within_the_services_limits():
    # Given five Stack Exchange samples with the longest title, author, site, licence and
    # links a stored item can hold
    long_url = "https://stackoverflow.com/questions/1/" + "a" * 1900
    profile = "https://stackoverflow.com/users/1/" + "z" * 160
    huge = "W" * 100_000
    channel = stackexchange_channel(huge, huge, profile)
    samples = [
        {"title": huge, "url": long_url, "author": huge, "source": "stackexchange", "channel": c}
        for c in [channel] * 5
    ]
    surge = warning("acme-cloud", samples)
    notification = notification_for(surge)
    # When it goes to Slack, Teams and the webhook, Then every message stays small enough
    assert len(json.dumps(slack_payload(notification))) < 40_000
    assert len(json.dumps(teams_payload(notification))) < 28_000
    assert len(json.dumps(webhook_payload(notification, "x"))) < 64_000
    assert profile in json.dumps(teams_payload(notification))
