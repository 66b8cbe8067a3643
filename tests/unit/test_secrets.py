"""Source credentials from SSM (and their test/demo twins), and the source state in the Store."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from stormwatch.secrets import (
    NoSecrets,
    SecretsError,
    SsmSecrets,
    StaticSecrets,
)
from stormwatch.source_state import MemorySourceState
from stormwatch.sources import FACTORIES, get_source

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def ssm(aws):
    import boto3

    return boto3.client("ssm")


def test_ssm_secrets_read_decrypted_securestrings_under_the_prefix(ssm):
    """Given a SecureString at /stormwatch/dev/reddit/client_id
    When the secret "reddit/client_id" is asked for
    Then its decrypted value comes back, and a parameter that does not exist is None."""
    ssm.put_parameter(Name="/stormwatch/dev/reddit/client_id", Value="abc123", Type="SecureString")
    secrets = SsmSecrets("/stormwatch/dev/", client=ssm)

    assert secrets.get("reddit/client_id") == "abc123"
    assert secrets.get("reddit/client_secret") is None
    assert secrets.path("bluesky/handle") == "/stormwatch/dev/bluesky/handle"


def test_ssm_secrets_are_cached_between_calls(ssm):
    """Given a cached read of a parameter
    When the parameter changes in SSM within max_age
    Then the cached value is used (a warm Lambda does not call SSM on every run)."""
    ssm.put_parameter(Name="/stormwatch/dev/github/token", Value="one", Type="SecureString")
    secrets = SsmSecrets("/stormwatch/dev", client=ssm, max_age=300)
    assert secrets.get("github/token") == "one"

    ssm.put_parameter(
        Name="/stormwatch/dev/github/token", Value="two", Type="SecureString", Overwrite=True
    )

    assert secrets.get("github/token") == "one"
    assert SsmSecrets("/stormwatch/dev", client=ssm, max_age=0).get("github/token") == "two"


def test_ssm_failure_other_than_not_found_names_the_parameter_but_no_value():
    """Given an SSM provider that is denied access
    When a secret is read
    Then SecretsError names the parameter and the error code, and nothing else."""

    class Denied(Exception):
        def __init__(self, message: str) -> None:
            super().__init__(message)
            self.response = {"Error": {"Code": "AccessDeniedException", "Message": "hunter2"}}

    class Provider:
        def get(self, name, max_age=None, decrypt=None):
            raise Denied("An error occurred (AccessDeniedException): value hunter2")

    with pytest.raises(SecretsError) as info:
        SsmSecrets("/stormwatch/dev", provider=Provider()).get("youtube/api_key")

    message = str(info.value)
    assert "/stormwatch/dev/youtube/api_key" in message
    assert "AccessDeniedException" in message
    assert "hunter2" not in message


def test_no_collaborator_ever_shows_a_value_in_its_repr():
    """Given secrets and state holding values
    When they are printed (as a log line or a traceback would)
    Then only names appear."""
    static = StaticSecrets({"reddit/client_secret": "s3cr3t-value"})
    state = MemorySourceState()
    state.put_source_state("bluesky", "session", {"accessJwt": "jwt-value"})

    shown = " ".join(repr(x) for x in (static, state, SsmSecrets("/stormwatch/dev"), NoSecrets()))

    assert "s3cr3t-value" not in shown and "jwt-value" not in shown
    assert "reddit/client_secret" in shown


def test_secret_names_are_checked_and_blank_values_count_as_missing():
    """Given a static secret that is empty
    When it and a badly formed name are asked for
    Then the empty one is None and the bad name is refused."""
    secrets = StaticSecrets({"reddit/username": "   "})

    assert secrets.get("reddit/username") is None
    assert NoSecrets().get("reddit/client_id") is None
    with pytest.raises(ValueError, match="source/key"):
        secrets.get("../etc/passwd")


def test_a_secrets_file_is_read_and_its_errors_do_not_quote_it(tmp_path):
    """Given a local secrets file and a broken one
    When they are loaded
    Then the good one serves its values and the broken one fails without its content."""
    good = tmp_path / "secrets.json"
    good.write_text(json.dumps({"bluesky/handle": "me.bsky.social"}), encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text('{"bluesky/app_password": "pw-in-file', encoding="utf-8")

    assert StaticSecrets.from_file(good).get("bluesky/handle") == "me.bsky.social"
    with pytest.raises(SecretsError) as info:
        StaticSecrets.from_file(bad)
    assert "pw-in-file" not in str(info.value)


def test_every_source_is_built_with_the_collaborators_it_is_given():
    """Given secrets and a state store
    When every registered source is built through get_source
    Then each is a working Source, and an unknown name lists the known ones."""
    secrets, state = StaticSecrets({}), MemorySourceState()
    for name in FACTORIES:
        source = get_source(name, secrets=secrets, state=state)
        assert source.name == name
    reddit = get_source("reddit", secrets=StaticSecrets({"reddit/username": "me"}))
    assert reddit.secrets.get("reddit/username") == "me"
    assert get_source("bluesky", state=state).state is state
    with pytest.raises(KeyError, match=r"known: .*reddit"):
        get_source("myspace")


def test_the_store_keeps_source_state_until_it_expires(table, dynamodb):
    """Given a session saved in the table with an expiry
    When it is read before and after that expiry
    Then it comes back intact, then as missing (TTL deletes lazily)."""
    from stormwatch.store import Store

    clock = {"now": NOW}
    store = Store(dynamodb, table, clock=lambda: clock["now"])
    value = {"accessJwt": "a.b.c", "n": 1.5, "nested": {"x": [1, 2]}}

    store.put_source_state("bluesky", "session", value, expires_at=int(NOW.timestamp()) + 60)

    assert store.get_source_state("bluesky", "session") == value
    assert store.get_source_state("bluesky", "other") is None
    clock["now"] = datetime(2026, 11, 25, 9, 5, tzinfo=UTC)
    assert store.get_source_state("bluesky", "session") is None
    item = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "SRC#bluesky"}, "sk": {"S": "STATE#session"}}
    )["Item"]
    assert item["expires_at"]["N"] == str(int(NOW.timestamp()) + 60)
