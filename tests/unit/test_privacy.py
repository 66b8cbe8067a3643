"""`privacy: pseudonymous`: author handles are never stored or e-mailed; a keyed hash (HMAC-SHA256,
the key in SSM) stands in for them, stable within one deployment and unlinkable outside it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from stormwatch.collector import collect_source
from stormwatch.digest import build_digest
from stormwatch.models import FetchResult, Mention, ScoredMention, Sentiment
from stormwatch.privacy import PSEUDONYM_KEY, PrivacyError, pseudonymiser_for
from stormwatch.secrets import StaticSecrets
from stormwatch.watchlist import Watchlist

from tests.support.fakes import MemoryStore, ScriptedSource

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
KEY = "k" * 32


def watchlist(privacy: str) -> Watchlist:
    topic = {"name": "acme", "terms": ["acme"], "sources": {"hackernews": {}}}
    return Watchlist.model_validate({"name": "Brand team", "privacy": privacy, "topics": [topic]})


def mention(native_id: str, author: str) -> Mention:
    return Mention(
        topic="acme",
        source="hackernews",
        native_id=native_id,
        published=NOW - timedelta(hours=1),
        text="acme is down",
        author=author,
    )


def collect(privacy: str, key: str = KEY, authors=("alice", "ALICE", "bob")) -> MemoryStore:
    lists = watchlist(privacy)
    store = MemoryStore()
    source = ScriptedSource(
        results=[FetchResult(mentions=[mention(str(i), a) for i, a in enumerate(authors)])]
    )
    pseudonymise = pseudonymiser_for(lists, StaticSecrets({PSEUDONYM_KEY: key}))
    collect_source(source, lists.topics, store, None, now=NOW, pseudonymise=pseudonymise)
    return store


def test_pseudonymous_watchlist_stores_no_handle():
    # Given a watchlist with privacy: pseudonymous and a key in the secret store
    # When mentions by alice (twice, differently cased) and bob are collected
    stored = sorted(collect("pseudonymous").mentions.values(), key=lambda m: m.native_id)
    # Then no handle is stored; each author has one stable pseudonym
    authors = [m.author for m in stored]
    assert not {"alice", "ALICE", "bob"} & set(authors)
    assert authors[0] == authors[1] != authors[2]
    assert all(a.startswith("anon-") for a in authors)
    # and the author key is not the unsalted hash anyone could compute from the handle
    unsalted = hashlib.sha256(b"hackernews:alice").hexdigest()[:16]
    assert stored[0].author_key != unsalted


def test_pseudonyms_differ_between_keys():
    # one deployment's pseudonyms cannot be linked with another's
    first = next(iter(collect("pseudonymous", authors=("alice",)).mentions.values()))
    other = next(iter(collect("pseudonymous", "x" * 32, authors=("alice",)).mentions.values()))
    assert first.author != other.author


def test_standard_privacy_keeps_handles():
    stored = collect("standard", authors=("alice",))
    assert [m.author for m in stored.mentions.values()] == ["alice"]


@pytest.mark.parametrize("key", ["", "short"])
def test_pseudonymous_without_a_usable_key_refuses_to_collect(key):
    # Given pseudonymous privacy but no key (or a weak one) in SSM
    # When collection is prepared, Then it stops with a clear error naming the parameter
    with pytest.raises(PrivacyError, match=PSEUDONYM_KEY):
        pseudonymiser_for(watchlist("pseudonymous"), StaticSecrets({PSEUDONYM_KEY: key}))


def test_the_digest_shows_the_pseudonym():
    # Given mentions collected under pseudonymous privacy
    [stored] = collect("pseudonymous", authors=("alice",)).mentions.values()
    scored = ScoredMention(mention=stored, sentiment=Sentiment(label="negative", score=-0.9))
    # When the digest is built
    view = build_digest(
        watchlist("pseudonymous").topics[0],
        now=NOW,
        period_start=NOW - timedelta(days=1),
        mentions=[scored],
        previous_count=0,
        surges=[],
        sources=[],
        watchlist_name="Brand team",
    )
    # Then the author shown is the pseudonym
    shown = {m.author for m in view.most_negative or []}
    assert shown == {stored.author}
    assert "alice" not in view.model_dump_json()


def test_pseudonymous_privacy_stores_no_stack_exchange_profile():
    """Given a Stack Exchange question whose channel carries the author's profile URL (it names
    the author as much as the handle: user id and name), When it is pseudonymised, Then
    neither the handle nor the profile is kept, while the site and the licence are."""
    question = Mention(
        topic="acme",
        source="stackexchange",
        native_id="stackoverflow:1",
        published=NOW - timedelta(hours=1),
        text="acme is down",
        author="Zoë O'Brien",
        channel="stackoverflow · CC BY-SA 4.0 · https://stackoverflow.com/users/501/zoe-obrien",
    )
    pseudonymise = pseudonymiser_for(watchlist("pseudonymous"), StaticSecrets({PSEUDONYM_KEY: KEY}))
    assert pseudonymise is not None
    stored = pseudonymise(question)
    assert "zoe" not in stored.model_dump_json().casefold()
    assert stored.channel == "stackoverflow · CC BY-SA 4.0"
