"""What the unsubscribe headers promise is what is sent: `List-Unsubscribe` with the settings
page when `SettingsUrl` is set, and `List-Unsubscribe-Post` (RFC 8058 one-click) never without
an https URI to post to."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from stormwatch.digest import build_digest
from stormwatch.mailer import Mailer, MailerError
from stormwatch.models import RenderedEmail
from stormwatch.render import render_digest
from stormwatch.watchlist import Topic

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
SENDER = "alerts@stormwatch.example"


def digest(settings_url: str) -> RenderedEmail:
    topic = Topic.model_validate({"name": "acme", "terms": ["acme"], "sources": {}})
    view = build_digest(
        topic,
        now=NOW,
        period_start=NOW.replace(day=24),
        mentions=[],
        previous_count=0,
        surges=[],
        sources=[],
        watchlist_name="Brand team",
        settings_url=settings_url,
    )
    return render_digest(view, TEMPLATES)


def unsubscribe_headers(email: RenderedEmail) -> dict[str, str]:
    message = Mailer(None, SENDER).build_message(email, "team@acme.example")
    return {k: str(v) for k, v in message.items() if k.lower().startswith("list-unsubscribe")}


def test_with_a_settings_url_the_settings_page_and_no_one_click():
    # Given SettingsUrl is set (a page, not a one-click endpoint)
    # When a digest is rendered and built into the message that is sent
    headers = unsubscribe_headers(digest("https://example.com/settings"))
    # Then it carries List-Unsubscribe with that page and no List-Unsubscribe-Post
    assert headers == {"List-Unsubscribe": "<https://example.com/settings>"}


def test_without_a_settings_url_no_unsubscribe_header():
    assert unsubscribe_headers(digest("")) == {}


@pytest.mark.parametrize(
    "list_unsubscribe",
    [None, "<mailto:unsubscribe@acme.example>", "<http://example.com/unsubscribe>"],
)
def test_one_click_post_without_an_https_uri_is_refused(list_unsubscribe):
    # Given a rendered e-mail that claims one-click unsubscribe without an https URI to post to
    headers = {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    if list_unsubscribe:
        headers["List-Unsubscribe"] = list_unsubscribe
    email = RenderedEmail(subject="s", html="<p>x</p>", text="x\n", headers=headers)
    # When the message is built, Then the mailer refuses it (RFC 8058 needs an https URI)
    with pytest.raises(MailerError, match="List-Unsubscribe-Post"):
        Mailer(None, SENDER).build_message(email, "team@acme.example")


def test_one_click_post_with_an_https_uri_is_sent():
    headers = {
        "List-Unsubscribe": "<mailto:u@acme.example>, <https://acme.example/u?t=1>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    email = RenderedEmail(subject="s", html="<p>x</p>", text="x\n", headers=headers)
    assert unsubscribe_headers(email) == headers
