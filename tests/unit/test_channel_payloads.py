"""What Slack, Teams, the webhook and SMS receive: hostile mention text stays text (no markup,
no links, no pings), every limit of the target service holds, the content is complete."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stormwatch.channels.message import SMS_CHARS, sms_line
from stormwatch.channels.slack import (
    BUTTON_CHARS,
    FIELD_CHARS,
    HEADER_CHARS,
    MAX_BLOCKS,
    SECTION_CHARS,
    slack_payload,
)
from stormwatch.channels.teams import CARD_CONTENT_TYPE, teams_payload
from stormwatch.channels.text import slack_text, teams_text
from stormwatch.channels.webhook import webhook_payload

from tests.support.channels import (
    HOSTILE_TEXT,
    hostile_notice,
    hostile_surge,
    make_topic,
    notification_for,
)

SCHEMA = json.loads(
    (
        __import__("pathlib").Path(__file__).resolve().parents[2]
        / "docs"
        / "webhook-v1.schema.json"
    ).read_text(encoding="utf-8")
)
BIDI = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
# Slack's active syntax: <!channel>, <!here>, <!everyone>, <@U…>, <#C…>, <!subteam^…>, <url|label>
SLACK_ACTIVE = re.compile(r"<[!@#]|<https?:|<mailto:")


def strings(value) -> list[str]:
    """Every string in a JSON-like value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def mrkdwn_texts(payload) -> list[str]:
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(payload)
    return found


@pytest.fixture(scope="module")
def alert():
    return notification_for(hostile_surge())


@pytest.fixture(scope="module")
def notice():
    return notification_for(hostile_notice())


# --- Slack ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["alert", "notice"])
def test_slack_shows_hostile_text_as_text_with_no_pings_links_or_bidi(kind, alert, notice):
    # Given an alert and a notice whose mentions, playbook and error carry Slack's active syntax
    payload = slack_payload(alert if kind == "alert" else notice)
    # Then no mrkdwn text holds a special mention, a user/channel mention or a foreign link
    for text in mrkdwn_texts(payload):
        # our own links (<https://news.example...|…>) are the only '<' left, from checked URLs
        foreign = SLACK_ACTIVE.findall(re.sub(r"<https://news\.example/[^|>]*\|", "", text))
        assert foreign == [], text
        assert "<script" not in text and "<img" not in text
    # And broadcasts are quieted, bidi controls gone, everywhere (plain_text too)
    for text in strings(payload):
        assert not re.search(r"@(channel|here|everyone)\b", text), text
        assert not BIDI.search(text), text
    # And nothing asks Slack to resolve names or unfurl links
    assert payload["link_names"] is False and payload["unfurl_links"] is False


def test_slack_links_only_checked_urls_and_escapes_the_label(alert):
    # Given sample mentions with an http(s) URL holding <, >, |, & and a javascript: URL
    text = next(t for t in mrkdwn_texts(slack_payload(alert)) if "news.example" in t)
    # Then the https link is there with nothing that could end the link early, and the
    # javascript: one is not a link at all
    assert "<https://news.example/a?b=%3Cc%3E&amp;d=%7Ce|&lt;!channel&gt; everyone look #0>" in text
    assert "javascript:" not in text


def test_slack_message_has_the_whole_alert_in_order(alert):
    payload = slack_payload(alert)
    blocks = payload["blocks"]
    # header: tier and topic; then intro, the numbers, mentions, steps, statement, buttons
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"].startswith("FIRESTORM")
    facts = " ".join(f["text"] for f in blocks[2]["fields"])
    assert "40 per hour" in facts and "expected 5" in facts and "80 %" in facts
    text = json.dumps(blocks)
    assert "Top mentions" in text and "First steps" in text and "Holding statement" in text
    assert blocks[-2]["type"] == "actions"  # link buttons
    assert blocks[-1]["type"] == "context"


def test_slack_limits_hold_for_the_longest_alert():
    # Given an alert with everything at its longest (long steps, statement, many samples)
    topic = make_topic(
        playbook={
            "first_steps": ["x" * 5000] * 30,
            "holding_statement": "&<>" * 3000,
            "owner": "o" * 500,
        },
        display_name="T" * 400,
    )
    payload = slack_payload(
        notification_for(
            hostile_surge(samples=50), topic, settings_url="https://s.example/" + "a" * 2900
        )
    )
    blocks = payload["blocks"]
    # Then every documented limit holds
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= HEADER_CHARS
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= SECTION_CHARS
        for field in block.get("fields", []):
            assert len(field["text"]) <= FIELD_CHARS
        assert len(block.get("fields", [])) <= 10
        for element in block.get("elements", []):
            if element["type"] == "button":
                assert len(element["text"]["text"]) <= BUTTON_CHARS
                assert len(element["url"]) <= 3000
    # And no escape sequence was cut in half
    for text in mrkdwn_texts(payload):
        assert not re.search(r"&(a|am|l|g|lt|gt)?…", text), text


@given(st.text())
def test_slack_text_never_leaves_an_active_character(text):
    escaped = slack_text(text, 3000)
    assert "<" not in escaped and ">" not in escaped
    assert re.sub(r"&(amp|lt|gt);", "", escaped).count("&") == 0
    assert not re.search(r"@(channel|here|everyone)\b", escaped, re.IGNORECASE)
    assert len(escaped) <= 3000


# --- Teams ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["alert", "notice"])
def test_teams_card_carries_hostile_text_only_in_plain_text_runs(kind, alert, notice):
    payload = teams_payload(alert if kind == "alert" else notice)
    (attachment,) = payload["attachments"]
    assert payload["type"] == "message" and attachment["contentType"] == CARD_CONTENT_TYPE
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    # Then the body is RichTextBlocks of TextRuns only (Teams shows TextRun text as text:
    # no Markdown, no HTML), with no angle brackets, pings or bidi characters left
    for block in card["body"]:
        assert block["type"] == "RichTextBlock"
        for run in block["inlines"]:
            assert run["type"] == "TextRun"
            assert "<" not in run["text"] and ">" not in run["text"]
            assert not BIDI.search(run["text"])
            assert not re.search(r"@(channel|here|everyone)\b", run["text"])
    # And every link is an http(s) OpenUrl
    for node in strings(card):
        assert not node.startswith("javascript:")
    for action in card["actions"]:
        assert action["type"] == "Action.OpenUrl" and action["url"].startswith("https://")


def test_teams_card_says_what_slack_says(alert):
    card = json.dumps(teams_payload(alert))
    for words in ("FIRESTORM", "40 per hour", "80 %", "Top mentions", "First steps", "Holding"):
        assert words in card


@given(st.text())
def test_teams_text_never_leaves_a_tag(text):
    out = teams_text(text, 500)
    assert "<" not in out and ">" not in out and len(out) <= 500


# --- webhook ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["alert", "notice"])
def test_webhook_payload_follows_the_published_schema_v1(kind, alert, notice):
    payload = webhook_payload(
        alert if kind == "alert" else notice, "0f0e0d0c-0000-5000-8000-000000000000"
    )
    jsonschema.validate(payload, SCHEMA)
    assert payload["version"] == "1"
    # hostile text is data: bidi controls removed, links http(s) or null
    for text in strings(payload):
        assert not BIDI.search(text)
    if kind == "alert":
        urls = [m["url"] for m in payload["alert"]["mentions"]]
        assert all(u is None or u.startswith("https://") for u in urls)
        assert payload["alert"]["tier"] == "firestorm"


# --- SMS --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["alert", "notice"])
def test_sms_is_one_short_line_without_mention_text(kind, alert, notice):
    line = sms_line(alert if kind == "alert" else notice)
    assert "\n" not in line and len(line) <= SMS_CHARS
    assert "AcmeCloud" in line
    assert line.startswith("[stormwatch] FIRESTORM" if kind == "alert" else "[stormwatch] Source")
    # nothing from the mentions or the error reaches a phone, and no third-party link
    for fragment in ("<", "channel", "script", "news.example"):
        assert fragment not in line


def test_sms_carries_our_own_link_when_there_is_one():
    n = notification_for(hostile_surge(), settings_url="https://stormwatch.example/settings")
    assert sms_line(n).endswith(" https://stormwatch.example/settings")


def test_hostile_text_reaches_the_email_escaped_too(alert):
    # the e-mail suite covers this; here only that the chat notification carries the e-mail
    assert "<script>" not in alert.email_for("en").html
    assert HOSTILE_TEXT  # the fixtures are in use


# --- the e-mail suite's hostile inputs, in every chat channel ---------------------------------

BAD_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/relative",
    'https://ok.example/"onmouseover="alert(1)',
]
HUGE = "A" * 100_000
CSS_ZW = "</style><style>body{display:none}</style> ac\u200dme\u200b"


@pytest.fixture(scope="module")
def worst():
    """Every bad URL, 100 kB texts and names, CSS break-outs and zero-width characters."""
    samples = [
        {"title": f"{HUGE} {CSS_ZW}", "text": HUGE, "url": url, "author": HUGE, "source": HUGE}
        for url in BAD_URLS
    ]
    surge = hostile_surge(
        sample_mentions=samples, evidence={"top_terms": [HUGE] * 20, "reasons": [HUGE]}
    )
    return notification_for(surge)


def urls(value) -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, v in value.items():
            if key == "url" and isinstance(v, str):
                found.append(v)
            found += urls(v)
    elif isinstance(value, list):
        for v in value:
            found += urls(v)
    return found


def test_bad_urls_never_become_links_in_any_channel(worst):
    payloads = [slack_payload(worst), teams_payload(worst), webhook_payload(worst, "x")]
    for payload in payloads:
        for url in urls(payload):
            assert re.match(r"^https?://[^\s\"<>]+$", url), url
    # (Slack's mrkdwn links too: only <https://…|…>; text like "javascript:" stays text)
    for text in mrkdwn_texts(payloads[0]):
        assert not re.search(r"<(?!https?://)[^&]", text)


def test_huge_texts_keep_every_message_small(worst):
    # Slack and Teams refuse (or cut) big messages; a text message is one segment
    assert len(json.dumps(slack_payload(worst))) < 40_000
    assert len(json.dumps(teams_payload(worst))) < 28_000
    assert len(json.dumps(webhook_payload(worst, "x"))) < 64_000
    assert len(sms_line(worst)) <= SMS_CHARS
    for text in strings(slack_payload(worst)) + strings(teams_payload(worst)):
        assert "\u200b" not in text and "\u200d" not in text


# --- the digest's one-paragraph summary -------------------------------------------------------


def digest_notification(lang: str = "en"):
    """The digest notification send_digest builds, with hostile mentions needing a reply."""
    from datetime import timedelta

    from stormwatch.models import Mention, ScoredMention, Sentiment
    from stormwatch.reporting import send_digest

    from tests.support.channels import NOW, TEMPLATES
    from tests.support.fakes import OnceOnly

    mentions = [
        ScoredMention(
            mention=Mention(
                topic="acme-cloud",
                source="hackernews",
                native_id=str(i),
                published=NOW - timedelta(hours=3, minutes=i),
                title=f"{HOSTILE_TEXT} story {i}",
                url=f"https://news.example/{i}",
            ),
            sentiment=Sentiment(label="negative", score=-0.8),
        )
        for i in range(4)
    ]

    class Store:
        def mentions_between(self, *a):
            return mentions

        def surges_between(self, *a):
            return []

        def checkpoints(self, topic, sources):
            return []

        def buckets_between(self, *a):
            return []

        def known_authors(self, *a, **kw):
            return set()

        def remember_authors(self, *a):
            return False

        def count_between(self, *a):
            return 0

        def channel_health(self, topic):
            return []

    deliver = OnceOnly()
    channels = [{"kind": "slack", "url_parameter": "channels/slack/x", "digest": True}]
    topic = make_topic(channels)
    topic = topic.model_copy(update={"digest": topic.digest.model_copy(update={"language": lang})})
    send_digest(
        topic,
        store=Store(),
        deliver=deliver,
        templates_dir=TEMPLATES,
        now=NOW,
        watchlist_name="w",
    )
    assert sorted(t.channel for t in deliver.targets.values()) == ["email", "slack"]
    return next(iter(deliver.notifications.values()))


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "4 mentions in the 24 hours to 25 Nov 2026, 09:00 (Europe/Berlin)"),
        ("de", "4 Erwähnungen in den 24 Stunden bis 25.11.2026 09:00 (Europe/Berlin)"),
    ],
)
def test_the_digest_summary_says_the_day_in_one_paragraph_in_the_topics_language(lang, words):
    n = digest_notification(lang)
    payload = slack_payload(n)
    intro = payload["blocks"][1]["text"]["text"]
    assert words in intro and "\n" not in intro
    assert "100 %" in intro  # negative share of the scored ones
    # the mentions that need a reply follow, as safe links with escaped titles
    text = json.dumps(payload)
    assert "<https://news.example/0|" in text and "&lt;!channel&gt;" in text
    for t in mrkdwn_texts(payload):
        assert not SLACK_ACTIVE.findall(re.sub(r"<https://news\.example/[^|>]*\|", "", t))


def test_the_digest_summary_in_teams_webhook_and_sms():
    n = digest_notification()
    card = json.dumps(teams_payload(n))
    assert "Daily digest: AcmeCloud" in card
    for block in teams_payload(n)["attachments"][0]["content"]["body"]:
        for run in block["inlines"]:
            assert "<" not in run["text"]
    payload = webhook_payload(n, "0f0e0d0c-0000-5000-8000-000000000000")
    jsonschema.validate(payload, SCHEMA)
    assert payload["type"] == "digest.summary" and payload["digest"]["mentions"] == 4
    # copies of one story are one entry (syndication), as in the e-mail
    assert len(payload["digest"]["needs_a_reply"]) == 1
    line = sms_line(n)
    assert line.startswith("[stormwatch] Daily digest: AcmeCloud, 4 mentions") and len(line) <= 160


def test_chat_shows_the_tiers_own_playbook_steps_and_says_so():
    # Given a playbook with its own steps for a firestorm
    topic = make_topic(
        playbook={
            "first_steps": ["Default step"],
            "tiers": {"firestorm": {"first_steps": ["Call the CEO's office now"]}},
        }
    )
    n = notification_for(hostile_surge("firestorm"), topic)
    # Then Slack and Teams list the firestorm steps, titled as the tier's own
    for payload in (slack_payload(n), teams_payload(n)):
        text = json.dumps(payload, ensure_ascii=False)
        assert "First steps (firestorm: steps for this tier)" in text
        assert "Call the CEO" in text and "Default step" not in text
