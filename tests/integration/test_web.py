"""The web function's core against moto: storm page, CSV, feedback, mute, unsubscribe; tokens
that are forged, expired, for another action or replayed change nothing."""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from stormwatch.links import LIFETIME, LinkSigner
from stormwatch.models import Mention, ScoredMention, Sentiment, StreamedMention, Surge
from stormwatch.store import Store
from stormwatch.watchlist import Topic, Watchlist
from stormwatch.web import (
    MAX_BODY_BYTES,
    FixedWatchlist,
    RequestTooLarge,
    WebApp,
    WebRequest,
    request_from_function_url,
)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
DETECTED = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
NOW = DETECTED + timedelta(hours=2)
SURGE_ISO = "2026-11-29T10:00:00Z"
SIGNER = LinkSigner("k" * 48)


def topic() -> Topic:
    return Topic.model_validate(
        {
            "name": "acme",
            "terms": ["acme"],
            "sources": {"hackernews": {}},
            "digest": {"timezone": "Europe/Berlin", "language": "en"},
        }
    )


@pytest.fixture
def store(dynamodb, table) -> Store:
    store = Store(dynamodb, table, clock=lambda: NOW)
    store.put_surge(
        Surge(
            topic="acme",
            detected_at=DETECTED,
            tier="warning",
            observed=40,
            expected=4,
            score=9,
            threshold=5,
            negative_share=0.7,
            usual_negative_share=0.2,
            episode_start=DETECTED - timedelta(hours=1),
        )
    )
    hostile = [
        '=HYPERLINK("http://evil.example","x")',
        "<script>alert(1)</script> acme",
        "+1 acme",
    ]
    for i in range(12):
        mention = Mention(
            topic="acme",
            source="hackernews",
            native_id=str(i),
            published=DETECTED - timedelta(minutes=50) + timedelta(minutes=5 * i),
            title=hostile[i % 3] if i < 3 else f"acme outage report {i}",
            author="@" + f"user{i}" if i == 0 else f"user{i}",
            url="javascript:alert(1)" if i == 1 else f"https://news.example/{i}",
            engagement=i,
        )
        item = ScoredMention(
            mention=mention, sentiment=Sentiment(label="negative", score=-0.6, lang="en")
        )
        store.put_mention(item)
        store.apply_scores("acme", DETECTED, [StreamedMention(scored=item, sequence=i + 1)])
    return store


@pytest.fixture
def app(store) -> WebApp:
    return WebApp(
        signer=SIGNER,
        store=store,
        watchlist=FixedWatchlist(Watchlist(topics=[topic()])),
        templates_dir=TEMPLATES,
        clock=lambda: NOW,
    )


def get(app: WebApp, path: str, token: str):
    return app.handle(WebRequest(method="GET", path=path, query={"t": token}))


def post(app: WebApp, path: str, token: str, body: bytes = b""):
    return app.handle(WebRequest(method="POST", path=path, query={"t": token}, body=body))


def test_the_storm_page_lists_every_mention_of_the_episode_safely(app):
    # Given a storm-page link for the surge
    token = SIGNER.issue("storm", "acme", SURGE_ISO, now=NOW)
    # When it is opened
    response = get(app, "/storm", token)
    # Then every one of the 12 mentions is a row, hostile text is inert, bad links are gone
    assert response.status == 200
    assert response.body.count("<tr><td>") == 12
    assert "<script>alert(1)</script>" not in response.body
    assert "&lt;script&gt;" in response.body
    assert "javascript:" not in response.body
    assert 'href="https://news.example/5"' in response.body
    # and the CSV link carries the same token to the CSV route
    assert f"/storm.csv?t={quote(token, safe='')}" in response.body


def test_every_response_carries_the_security_headers(app):
    for response in (
        get(app, "/storm", SIGNER.issue("storm", "acme", SURGE_ISO, now=NOW)),
        get(app, "/storm", "forged"),
        get(app, "/nothing-here", ""),
        app.handle(WebRequest(method="DELETE", path="/noise")),
    ):
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'sha256-" in csp and "unsafe-eval" not in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_script_is_exactly_the_one_the_csp_allows(app):
    import hashlib
    import re

    body = get(app, "/storm", SIGNER.issue("storm", "acme", SURGE_ISO, now=NOW)).body
    scripts = re.findall(r"<script>(.*?)</script>", body, flags=re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in app.headers["Content-Security-Policy"]


def test_the_csv_has_one_row_per_mention_and_no_formulas(app):
    token = SIGNER.issue("storm", "acme", SURGE_ISO, now=NOW)
    response = get(app, "/storm.csv", token)
    assert response.status == 200 and response.content_type.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.body)))
    assert len(rows) == 1 + 12
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "@")) or cell.startswith("'")
    assert any(cell.startswith("'=HYPERLINK") for row in rows for cell in row)
    assert any(cell == "'@user0" for row in rows for cell in row)
    assert any(cell == "-0.60" for row in rows for cell in row)  # numbers stay numbers


@pytest.mark.parametrize("verdict", ["real", "noise", "handled"])
def test_a_feedback_get_only_confirms_and_the_post_records_once(app, store, verdict):
    # Given a feedback link
    token = SIGNER.issue(verdict, "acme", SURGE_ISO, now=NOW)
    # When it is followed (as a mail scanner would), Then nothing is recorded
    page = get(app, f"/{verdict}", token)
    assert page.status == 200 and 'method="post"' in page.body
    assert store.feedback_between("acme", DETECTED, DETECTED) == []
    # When the confirmation form is posted, Then the verdict is stored
    assert post(app, f"/{verdict}", token).status == 200
    assert [f.verdict for f in store.feedback_between("acme", DETECTED, DETECTED)] == [verdict]
    # When the same token is posted again (a replay), Then it is refused and nothing is added
    replay = post(app, f"/{verdict}", token)
    assert replay.status == 409 and "already been used" in replay.body
    assert len(store.feedback_between("acme", DETECTED, DETECTED)) == 1


def test_mute_silences_the_topic_for_24_hours(app, store):
    token = SIGNER.issue("mute", "acme", SURGE_ISO, now=NOW)
    assert post(app, "/mute", token).status == 200
    assert store.muted_until("acme") == NOW + timedelta(hours=24)


def test_tokens_that_are_forged_expired_or_for_another_action_change_nothing(app, store):
    forged = LinkSigner("x" * 48).issue("noise", "acme", SURGE_ISO, now=NOW)
    expired = SIGNER.issue("noise", "acme", SURGE_ISO, now=NOW - LIFETIME["noise"])
    storm = SIGNER.issue("storm", "acme", SURGE_ISO, now=NOW)
    for token, path in ((forged, "/noise"), (expired, "/noise"), (storm, "/noise")):
        assert post(app, path, token).status == 403
    noise = SIGNER.issue("noise", "acme", SURGE_ISO, now=NOW)
    assert post(app, "/mute", noise).status == 403  # a noise link cannot mute
    assert get(app, "/storm", noise).status == 403  # nor open the page
    assert store.feedback_between("acme", DETECTED, DETECTED) == []
    assert store.muted_until("acme") is None


def test_one_click_unsubscribe_and_the_way_back(app, store):
    # Given an unsubscribe link for a recipient (a keyed hash, no address)
    ref = SIGNER.recipient_ref("ann@example.com")
    token = SIGNER.issue("unsubscribe", "acme", ref, now=NOW)
    # When the mail client posts RFC 8058's one-click body
    done = post(app, "/unsubscribe", token, b"List-Unsubscribe=One-Click")
    # Then the recipient is unsubscribed and the page offers a way back
    assert done.status == 200 and store.unsubscribed("acme") == {ref}
    assert 'action="/resubscribe?t=' in done.body
    back = done.body.split('action="/resubscribe?t=')[1].split('"')[0]
    from urllib.parse import unquote

    # When they use it, Then they are subscribed again
    assert post(app, "/resubscribe", unquote(back)).status == 200
    assert store.unsubscribed("acme") == set()


def test_oversized_requests_are_refused_before_any_work():
    event = {"requestContext": {"http": {"method": "POST"}}, "rawPath": "/unsubscribe"}
    with pytest.raises(RequestTooLarge):
        request_from_function_url({**event, "body": "x" * (MAX_BODY_BYTES + 1)})
    with pytest.raises(RequestTooLarge):
        request_from_function_url({**event, "rawQueryString": "t=" + "a" * 5000})
    encoded = base64.b64encode(b"List-Unsubscribe=One-Click").decode()
    request = request_from_function_url(
        {**event, "rawQueryString": "t=abc", "body": encoded, "isBase64Encoded": True}
    )
    assert request.body == b"List-Unsubscribe=One-Click" and request.token == "abc"


def test_the_lambda_handler_answers_function_url_events(app):
    # Given the web handler wired to the app (as the Lambda would build it from SSM)
    from stormwatch import local

    handler = local.load_handler("web")
    handler.app_factory = lambda: app
    context = local.FakeLambdaContext("stormwatch-web")
    token = SIGNER.issue("storm", "acme", SURGE_ISO, now=NOW)
    event = {
        "requestContext": {"http": {"method": "GET"}},
        "rawPath": "/storm.csv",
        "rawQueryString": f"t={quote(token, safe='')}",
    }
    # When a Function URL event for the CSV arrives, Then the CSV comes back with the headers
    response = handler.lambda_handler(event, context)
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/csv")
    assert response["headers"]["Referrer-Policy"] == "no-referrer"
    # and an oversized request gets a 413 before anything is read
    big = handler.lambda_handler({**event, "body": "x" * 100_000}, context)
    assert big["statusCode"] == 413
