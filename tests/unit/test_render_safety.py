"""Mention texts, author names, URLs and source errors are hostile input: the e-mail must stay
inert (no scripts, no event handlers, no foreign CSS, only http(s) links), honest (no bidi tricks,
no hidden characters) and small enough not to be clipped by Gmail (~102 KB)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from stormwatch.digest import build_alert, build_digest
from stormwatch.models import Checkpoint, HourBucket, Mention, ScoredMention, Sentiment, Surge
from stormwatch.render import render_alert, render_digest
from stormwatch.watchlist import Topic

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

SCRIPT = "<script>alert('pwned')</script>"
ONERROR = '"><img src=x onerror="alert(1)">'
CSS_BREAKOUT = "</style><style>body{display:none}</style>"
BIDI = "invoice\u202egpj.exe"  # RIGHT-TO-LEFT OVERRIDE: reads "invoiceexe.jpg"
ZERO_WIDTH = "ac\u200dme\u200b"
HOSTILE = f"{SCRIPT} {ONERROR} {CSS_BREAKOUT} {BIDI} {ZERO_WIDTH}"
BAD_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/relative",
    'https://ok.example/"onmouseover="alert(1)',
]
HUGE = "A" * 100_000
OUR_TAGS = {
    "html", "head", "meta", "title", "style", "body", "div", "span", "table", "tbody", "tr", "td",
    "th", "p", "h1", "h2", "a", "br", "strong", "ul", "ol", "li",
}  # fmt: skip


def topic() -> Topic:
    return Topic.model_validate(
        {
            "name": "acme-cloud",
            "terms": ["acme"],
            "sources": {"hackernews": {}},
            "digest": {"timezone": "Europe/Berlin"},
            "playbook": {"owner": SCRIPT, "first_steps": [ONERROR], "holding_statement": BIDI},
        }
    )


def unvalidated(
    n: int, *, url: str, text: str = HOSTILE, engagement: int = 100, label: str = "negative"
) -> ScoredMention:
    """A mention as it might come back from storage, bypassing the ingest-time cleaning."""
    mention = Mention.model_construct(
        topic="acme-cloud",
        source="hackernews",
        native_id=str(n),
        published=NOW - timedelta(hours=2),
        url=url,
        # hostile, and a different story each (copies of one story are shown once)
        title=f"{HOSTILE} " + " ".join(f"story{n}word{k}" for k in range(12)),
        text=text,
        author=f"{HOSTILE} {n} {HUGE}",
        lang="en",
        engagement=engagement,
        channel="",
    )
    score = {"negative": -0.9, "neutral": 0.0, "positive": 0.9}[label]
    sentiment = Sentiment(label=label, score=score, terms=(SCRIPT, BIDI, HUGE, *[HOSTILE] * 9))
    return ScoredMention.model_construct(mention=mention, sentiment=sentiment)


def hostile_digest(text: str = HOSTILE):
    # the bad links are the most engaged, so they are certainly on show
    mentions = [
        unvalidated(i, url=url, text=text, engagement=5000 + i) for i, url in enumerate(BAD_URLS)
    ]
    mentions += [unvalidated(10 + i, url="https://ok.example/post", text=text) for i in range(10)]
    # every other list full too: positives, engaged neutrals, new voices (all authors differ)
    for label, first in (("positive", 100), ("neutral", 200)):
        mentions += [
            unvalidated(first + i, url=BAD_URLS[i % len(BAD_URLS)], text=text, label=label)
            for i in range(10)
        ]
    broken = Checkpoint(
        source="hackernews",
        topic="acme-cloud",
        last_run=NOW,
        last_error=HOSTILE + HUGE,
        last_error_at=NOW,
        consecutive_failures=2,
    )
    # the largest coverage table: many sources, each with the longest notes
    noisy = [
        Checkpoint(
            source=f"{SCRIPT}{i}",
            topic="acme-cloud",
            last_run=NOW,
            last_success=NOW,
            last_truncated=True,
            last_notes=[HOSTILE + HUGE] * 10,
        )
        for i in range(40)
    ]
    week = [
        HourBucket(topic="acme-cloud", hour=NOW - timedelta(hours=h), count=10**6, negative=h)
        for h in range(1, 24 * 40)
    ]
    surges = [
        Surge(
            topic="acme-cloud",
            detected_at=NOW - timedelta(hours=h),
            tier="firestorm",
            observed=50,
            expected=5,
            score=9,
            threshold=3,
            negative_share=0.8,
            usual_negative_share=0.1,
            authors=10,
            evidence={"top_terms": [HOSTILE + HUGE] * 20, "sources": {HOSTILE: 3, SCRIPT: 2}},
        )
        for h in range(1, 20)
    ]
    return build_digest(
        topic(),
        now=NOW,
        period_start=NOW - timedelta(days=1),
        mentions=mentions,
        previous_count=3,
        surges=surges,
        sources=[broken, *noisy],
        watchlist_name=f"stormwatch {SCRIPT}\nBcc: x@evil.example",
        settings_url="https://example.com/settings",
        buckets=week,
        known_authors=set(),
        competitors=[(f"c{i}", HOSTILE + HUGE, 10**6) for i in range(30)],
    )


def hostile_alert():
    samples = [
        {"title": HOSTILE, "text": HOSTILE + HUGE, "url": url, "author": HOSTILE, "source": SCRIPT}
        for url in BAD_URLS
    ]
    evidence = {"top_terms": [SCRIPT, BIDI], "reasons": [CSS_BREAKOUT], "sources": {SCRIPT: 3}}
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
        evidence=evidence,
        sample_mentions=samples,
    )
    return build_alert(topic(), surge, watchlist_name="stormwatch", settings_url="javascript:x")


class Inspector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str | None]] = []
        self.anchors: list[dict[str, str | None]] = []
        self.styles = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.styles += tag == "style"
        self.attributes += [(tag, name, value) for name, value in attrs]
        if tag == "a":
            self.anchors.append(dict(attrs))


def rendered():
    cases = []
    for lang in ("en", "de"):
        cases.append(("digest", lang, render_digest(hostile_digest(), TEMPLATES, lang=lang)))
        cases.append(("alert", lang, render_alert(hostile_alert(), TEMPLATES, lang=lang)))
    return cases


CASES = rendered()
IDS = [f"{kind}-{lang}" for kind, lang, _ in CASES]


@pytest.mark.parametrize("email", [c[2] for c in CASES], ids=IDS)
def test_no_script_no_event_handlers_no_foreign_tags(email):
    # Given mentions full of script tags, onerror attributes and a CSS break-out
    doc = Inspector()
    doc.feed(email.html)

    # Then the HTML contains only our own tags, no script, and no on...= attribute
    assert "<script" not in email.html.lower()
    assert set(doc.tags) <= OUR_TAGS, set(doc.tags) - OUR_TAGS
    assert not [a for a in doc.attributes if a[1].lower().startswith("on")]
    # the attacker's text is shown as text
    assert "&lt;script&gt;" in email.html


@pytest.mark.parametrize("email", [c[2] for c in CASES], ids=IDS)
def test_css_injection_does_not_open_a_second_style_block(email):
    doc = Inspector()
    doc.feed(email.html)

    assert doc.styles == 1
    style = re.search(r"<style[^>]*>(.*?)</style>", email.html, flags=re.S).group(1)
    assert "display:none" not in style
    assert "&lt;/style&gt;&lt;style&gt;" in email.html


@pytest.mark.parametrize("email", [c[2] for c in CASES], ids=IDS)
def test_links_are_http_only_and_do_not_leak_the_referrer(email):
    doc = Inspector()
    doc.feed(email.html)

    hrefs = [(tag, value) for tag, name, value in doc.attributes if name == "href"]
    assert all(tag == "a" for tag, _ in hrefs)
    for _, value in hrefs:
        assert re.match(r"^https?://[^\s\"<>]+$", value or ""), value
    assert all(a.get("rel") == "noopener noreferrer" for a in doc.anchors)
    # none of the bad schemes made it into an attribute
    for _, name, value in doc.attributes:
        assert not re.match(r"^\s*(javascript|data|vbscript):", value or "", re.I), (name, value)


@pytest.mark.parametrize("email", [c[2] for c in CASES], ids=IDS)
def test_bidi_overrides_and_zero_width_characters_are_removed(email):
    invisible = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")

    for part in (email.subject, email.html, email.text):
        assert not invisible.search(part)
    assert "invoicegpj.exe" in email.text  # the text is kept, only the trick is gone
    assert "acme" in email.text


@pytest.mark.parametrize("email", [c[2] for c in CASES], ids=IDS)
def test_huge_texts_are_bounded_and_the_mail_stays_under_gmails_clipping_size(email):
    assert len(email.html.encode()) < 100_000
    assert len(email.text.encode()) < 40_000
    assert "A" * 1000 not in email.html and "A" * 1000 not in email.text


def test_a_100_kb_mention_text_is_cut_for_display():
    view = hostile_digest(text=HUGE)
    email = render_digest(view, TEMPLATES)

    assert max(len(m.text) for m in view.most_negative) <= 280
    assert len(email.html.encode()) < 100_000


def test_subject_and_headers_cannot_be_split_by_newlines():
    email = render_digest(hostile_digest(), TEMPLATES)

    assert "\n" not in email.subject and "\r" not in email.subject
    assert all("\n" not in v and "\r" not in v for v in email.headers.values())


def test_a_javascript_settings_link_gives_no_unsubscribe_header_and_no_link():
    email = render_alert(hostile_alert(), TEMPLATES)

    assert "List-Unsubscribe" not in email.headers
    assert "javascript:" not in email.html.lower()


def test_a_digest_too_big_for_gmail_is_shortened_and_says_so():
    # Given the largest digest hostile content can make (every list and table full)
    view = hostile_digest()

    email = render_digest(view, TEMPLATES)

    # Then it is cut down below the clipping size, and the reader is told lists were shortened
    assert len(email.html.encode()) < 100_000
    assert "Some lists were shortened" in email.text
    assert "Some lists were shortened" in email.html
    # the verdict and the numbers survive the cut
    assert "storm warning" in email.subject
