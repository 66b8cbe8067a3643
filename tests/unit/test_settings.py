"""The functions' settings come from their environment variables (template.yaml sets them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from stormwatch.settings import CollectSettings, DispatchSettings, Settings


@pytest.fixture
def environment(monkeypatch):
    for name in ("TABLE_NAME", "RETENTION_DAYS", "WATCHLIST_PATH", "CONTACT", "COLLECT_QUEUES"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_each_field_comes_from_its_variable_and_the_rest_keep_their_defaults(environment):
    # Given the variables a function gets, one of them spelled in lower case
    environment.setenv("TABLE_NAME", "stormwatch")
    environment.setenv("retention_days", "30")
    environment.setenv("CONTACT", "ops@example.com")
    environment.setenv("UNRELATED", "ignored")
    # When the settings are read
    settings = CollectSettings.from_environment()
    # Then each field holds its variable's value, typed, and the others their defaults
    assert settings.table_name == "stormwatch" and settings.retention_days == 30
    assert settings.contact == "ops@example.com"
    assert settings.watchlist_path == Path("/opt/watchlist.yaml")


def test_the_collect_queues_are_a_json_object(environment):
    # Given the dispatch function's queue URLs as template.yaml writes them
    environment.setenv("TABLE_NAME", "stormwatch")
    environment.setenv("COLLECT_QUEUES", '{"rss": "https://sqs.example/rss.fifo"}')
    # Then they are read as a mapping from source to URL
    assert DispatchSettings.from_environment().collect_queues == {
        "rss": "https://sqs.example/rss.fifo"
    }


@pytest.mark.parametrize(
    ("name", "value"), [("TABLE_NAME", None), ("RETENTION_DAYS", "0"), ("RETENTION_DAYS", "x")]
)
def test_a_missing_or_bad_variable_is_a_clear_error_naming_it(environment, name, value):
    # Given a function whose environment lacks a variable or holds a bad value
    environment.setenv("TABLE_NAME", "stormwatch")
    if value is None:
        environment.delenv(name)
    else:
        environment.setenv(name, value)
    # Then reading the settings fails and says which variable
    with pytest.raises(ValidationError, match=name):
        Settings.from_environment()
