"""Shared fixtures: moto in-process AWS, the table as template.yaml defines it, paths."""

from __future__ import annotations

import os
from pathlib import Path

# X-Ray's SDK opens its UDP emitter socket on import; do that once now, before pytest-socket
# blocks sockets, so the handlers' Tracer() can be imported in tests
import aws_xray_sdk.core  # noqa: F401
import pytest
from hypothesis import settings

# CI (a clean clone, CI=true) replays the same examples on every run, so a red build always
# means a change broke something; on a developer's machine the property tests keep exploring
# new examples (and every one they find becomes an @example in its test)
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STORMWATCH_SHARED", REPO.parent / "shared"))
TABLE = "stormwatch-test"


@pytest.fixture(autouse=True)
def no_dns(monkeypatch):
    """Tests never resolve host names: every name is one public address (example.com's)
    unless a test injects its own resolver (stormwatch.netguard)."""
    from stormwatch import netguard

    monkeypatch.setattr(netguard, "resolve_host", lambda host: ["93.184.216.34"])


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def aws(monkeypatch):
    """In-process moto for DynamoDB, Streams and SES; no sockets, no real credentials."""
    from moto import mock_aws
    from stormwatch.local import speed_up_moto_transactions

    speed_up_moto_transactions()
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    with mock_aws():
        yield


@pytest.fixture
def table(aws) -> str:
    from stormwatch.local import ensure_table

    ensure_table(TABLE)
    return TABLE


@pytest.fixture
def dynamodb(table):
    import boto3

    return boto3.client("dynamodb")
