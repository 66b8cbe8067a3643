"""The display-text and link sanitisers: nothing invisible, no fake lines, no deceptive links —
in the HTML and the text part, whichever way a mention reaches the e-mail."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stormwatch.digest import build_alert, build_digest
from stormwatch.models import Mention, ScoredMention, Sentiment, Surge
from stormwatch.render import render_alert, render_digest
from stormwatch.sanitize import MAX_URL_CHARS, clean_text, safe_link
from stormwatch.watchlist import Topic

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

INVISIBLE = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u061c"  # noqa: E501
REVERSED_EXE = "https://files.example/invoice\u202efdp.exe"  # shows as ".../invoiceexe.pdf"
DECEPTIVE_URLS = [
    REVERSED_EXE,
    "https://files.example/in\u200bvoice",
    "https://files.example/\u2066report\u2069",
    "https://acme.com@evil.example/login",
    "https://acme.com:pw@evil.example/login",
    "https://xn--pple-43d.com/",  # punycode for a Cyrillic look-alike of apple.com
    "https://\u0430pple.com/",  # Cyrillic а
    "https://аррӏе.com/",  # all Cyrillic
]
FAKE_LINES = "mallory\n== Urgent ==\nWire the money to IBAN DE00 0000\r\n"


def topic() -> Topic:
    return Topic.model_validate(
        {"name": "acme-cloud", "terms": ["acme"], "sources": {"hackernews": {}}}
    )


def stored(n: int, url: str, *, validated: bool) -> ScoredMention:
    """A mention as collected (validated at ingest) or as it might come back from storage."""
    fields = {
        "topic": "acme-cloud",
        "source": "hackernews",
        "native_id": str(n),
        "published": NOW - timedelta(hours=2),
        "url": url,
        "title": f"Acme story {n} ab\u202eexe.pdf",
        "text": f"Acme is down{INVISIBLE} again {n}",
        "author": FAKE_LINES + str(n),
        "lang": "en",
        "engagement": 1000 - n,
    }
    mention = Mention.model_validate(fields) if validated else Mention.model_construct(**fields)
    sentiment = Sentiment(label="negative", score=-0.9)
    return ScoredMention.model_construct(mention=mention, sentiment=sentiment)


def emails(*, validated: bool):
    mentions = [stored(i, url, validated=validated) for i, url in enumerate(DECEPTIVE_URLS)]
    digest = build_digest(
        topic(),
        now=NOW,
        period_start=NOW - timedelta(days=1),
        mentions=mentions,
        previous_count=0,
        surges=[],
        sources=[],
        watchlist_name="Brand team",
        known_authors=set(),
    )
    samples = [
        {"title": "t", "text": "x", "url": url, "author": FAKE_LINES, "source": "hackernews"}
        for url in DECEPTIVE_URLS
    ]
    surge = Surge(
        topic="acme-cloud",
        detected_at=NOW,
        tier="firestorm",
        observed=50,
        expected=5,
        score=9,
        threshold=3,
        negative_share=0.8,
        usual_negative_share=0.1,
        sample_mentions=samples,
    )
    alert = build_alert(topic(), surge, watchlist_name="Brand team")
    return [render_digest(digest, TEMPLATES), render_alert(alert, TEMPLATES)]


@pytest.mark.parametrize("validated", [True, False], ids=["collected", "from-storage"])
def test_no_invisible_characters_or_deceptive_links_reach_the_email(validated):
    # Given mentions whose links hide a reversed ".exe", zero-width and isolate characters,
    # carry user info or a look-alike host, and whose authors' names contain line breaks
    for email in emails(validated=validated):
        for part in (email.html, email.text):
            # Then no bidi or zero-width character is anywhere in the e-mail
            assert not set(INVISIBLE) & set(part)
            # and none of the deceptive links is offered
            assert "evil.example" not in part
            assert "xn--" not in part and "\u0430pple" not in part and "аррӏе" not in part
            assert "fdp.exe" not in part
        # and no author name makes a line of its own in the text part
        lines = [line.strip() for line in email.text.splitlines()]
        assert "== Urgent ==" not in lines
        assert not any(line.startswith("Wire the money") for line in lines)


# --------------------------------------------------------------------------------------------
# properties

ANY_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"])
    | st.sampled_from([*INVISIBLE, "\n", "\r", "\t", "\x85", "\u2028", " ", "\u0301", "é"]),
    max_size=300,
)
LIMITS = st.integers(min_value=1, max_value=200)


def unshowable(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "C" and ch != "\n"


@given(ANY_TEXT, LIMITS, st.booleans())
def test_clean_text_leaves_nothing_invisible_and_stays_bounded(value, limit, lines):
    cleaned = clean_text(value, limit, lines=lines)
    assert not any(unshowable(ch) for ch in cleaned)
    assert not set(INVISIBLE) & set(cleaned)
    assert len(cleaned) <= limit
    assert lines or "\n" not in cleaned
    assert cleaned == cleaned.strip()


@given(ANY_TEXT, LIMITS, st.booleans())
def test_clean_text_is_idempotent(value, limit, lines):
    once = clean_text(value, limit, lines=lines)
    assert clean_text(once, limit, lines=lines) == once


URLISH = st.one_of(
    ANY_TEXT,
    st.builds(
        lambda scheme, user, host, path: f"{scheme}://{user}{host}/{path}",
        st.sampled_from(["http", "https", "HTTPS", "javascript", "data", "ftp", ""]),
        st.sampled_from(["", "acme.com@", "u:p@", "@"]),
        st.sampled_from(
            ["acme.example", "ACME.example:8443", "xn--pple-43d.com", "\u0430pple.com", "1.2.3.4"]
        ),
        ANY_TEXT,
    ),
)


@given(URLISH)
def test_safe_link_gives_only_plain_http_links(value):
    link = safe_link(value)
    if link is None:
        return
    parts = urlsplit(link)
    assert parts.scheme.lower() in ("http", "https")
    assert "@" not in parts.netloc
    assert (parts.hostname or "").isascii() and "xn--" not in (parts.hostname or "")
    assert not any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in link)
    assert not re.search(r"[\"<>`\\]", link)
    assert len(link) <= MAX_URL_CHARS * 3


@given(URLISH)
def test_safe_link_is_idempotent(value):
    link = safe_link(value)
    assert link is None or safe_link(link) == link


def test_safe_link_keeps_ordinary_links():
    for url in [
        "https://news.ycombinator.com/item?id=1",
        "http://example.com:8080/a/b?c=d#e",
        "https://de.wikipedia.org/wiki/Stra%C3%9Fe",
        "https://de.wikipedia.org/wiki/Straße",
    ]:
        assert safe_link(url) == url
