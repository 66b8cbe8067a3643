"""The table's side of signed links against moto: a POST token works once, feedback, mute and
unsubscribe are stored where the report function reads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stormwatch.links import LinkSigner
from stormwatch.store import Store

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SURGE = "2026-11-29T10:00:00Z"
SIGNER = LinkSigner("k" * 48)


def test_a_replayed_feedback_token_is_refused_and_changes_nothing(dynamodb, table):
    # Given a "noise" token used once
    store = Store(dynamodb, table, clock=lambda: NOW)
    claims = SIGNER.verify(SIGNER.issue("noise", "acme", SURGE, now=NOW), "noise", now=NOW)
    assert store.record_feedback(claims, at=NOW, mute_until=None) is True
    # When the same token is posted again (a replay)
    replay = store.record_feedback(claims, at=NOW + timedelta(minutes=1), mute_until=None)
    # Then it is refused and only the first vote is stored
    assert replay is False
    stored = store.feedback_between("acme", NOW - timedelta(days=1), NOW)
    assert [(f.surge, f.verdict, f.label) for f in stored] == [(SURGE, "noise", False)]


def test_mute_is_stored_with_its_end(dynamodb, table):
    store = Store(dynamodb, table, clock=lambda: NOW)
    assert store.muted_until("acme") is None
    claims = SIGNER.verify(SIGNER.issue("mute", "acme", SURGE, now=NOW), "mute", now=NOW)
    store.record_feedback(claims, at=NOW, mute_until=NOW + timedelta(hours=24))
    assert store.muted_until("acme") == NOW + timedelta(hours=24)
    assert store.muted_until("globex") is None


def test_unsubscribe_and_the_way_back_each_work_once(dynamodb, table):
    # Given a recipient of topic acme
    store = Store(dynamodb, table, clock=lambda: NOW)
    ref = SIGNER.recipient_ref("ann@example.com")
    leave = SIGNER.verify(SIGNER.issue("unsubscribe", "acme", ref, now=NOW), "unsubscribe", now=NOW)
    back = SIGNER.verify(SIGNER.issue("resubscribe", "acme", ref, now=NOW), "resubscribe", now=NOW)
    # When they unsubscribe, Then only their keyed hash is stored (for this topic only)
    assert store.set_subscription(leave, at=NOW, subscribed=False) is True
    assert store.unsubscribed("acme") == {ref} and store.unsubscribed("globex") == set()
    # When they come back, Then they are subscribed again; a replayed unsubscribe does nothing
    assert store.set_subscription(back, at=NOW, subscribed=True) is True
    assert store.set_subscription(leave, at=NOW, subscribed=False) is False
    assert store.unsubscribed("acme") == set()
