"""template.yaml and the live watchlist: the bucket keeps every version safely, and the IAM
grants are exactly the S3 calls the code makes (recorded against moto, not assumed)."""

from __future__ import annotations

from typing import ClassVar

import boto3
import pytest
from stormwatch.config import cached_watchlist
from stormwatch.watchlist_store import (
    MAX_AGE_SECONDS,
    WATCHLIST_KEY,
    LiveWatchlist,
    WatchlistLocation,
    WatchlistStore,
)

from tests.infrastructure import cfn_template as cfn
from tests.infrastructure.cfn_template import REPO

FUNCTIONS = ("CollectFunction", "ScoreFunction", "ReportFunction")
OBJECT_ARN = {"Fn::Sub": f"${{WatchlistBucket.Arn}}/{WATCHLIST_KEY}"}
LOCATION = WatchlistLocation.parse(f"s3://stormwatch-iam-test/{WATCHLIST_KEY}")


class RecordedCalls:
    """The IAM actions behind the S3 calls a client makes (botocore's before-call event)."""

    # an operation on a named version needs the ...Version action
    ACTIONS: ClassVar[dict[str, tuple[str, str]]] = {
        "GetObject": ("s3:GetObject", "s3:GetObjectVersion"),
        "HeadObject": ("s3:GetObject", "s3:GetObjectVersion"),
        "PutObject": ("s3:PutObject", "s3:PutObject"),
        "ListObjectVersions": ("s3:ListBucketVersions", "s3:ListBucketVersions"),
    }

    def __init__(self, client) -> None:
        self.actions: set[str] = set()
        client.meta.events.register("before-call.s3", self._record)

    def _record(self, model, params, **_kwargs) -> None:
        plain, versioned = self.ACTIONS[model.name]
        self.actions.add(versioned if "versionId" in params["query_string"] else plain)


@pytest.fixture
def recorded(aws, tmp_path):
    """A store on moto with two versions, and a fresh client whose calls are recorded."""
    setup = WatchlistStore(boto3.client("s3"), LOCATION)
    setup.ensure_bucket()
    text = (REPO / "watchlist.yaml").read_text(encoding="utf-8")
    setup.push(text, file="watchlist.yaml")
    setup.push(text.replace("AcmeCloud", "Acme Cloud", 1), file="watchlist.yaml")
    client = boto3.client("s3")
    return WatchlistStore(client, LOCATION), RecordedCalls(client)


def _s3_statements(statements: list[dict]) -> list[dict]:
    return [st for st in statements if any(a.startswith("s3:") for a in cfn.as_list(st["Action"]))]


def test_each_function_may_get_exactly_the_watchlist_object_and_the_code_needs_no_more(
    recorded,
):
    store, calls = recorded
    # Given what a function's LiveWatchlist calls over a cold start and a refresh
    cached_watchlist.cache_clear()
    clock = iter([0.0, MAX_AGE_SECONDS * 2.0])
    live = LiveWatchlist(REPO / "watchlist.yaml", store, clock=lambda: next(clock))
    live.get()
    live.get()
    assert calls.actions == {"s3:GetObject"}
    for logical_id in FUNCTIONS:
        # Then each function is granted exactly those actions, on that one object
        statements = _s3_statements(cfn.policy_statements(logical_id))
        actions = {a for st in statements for a in cfn.as_list(st["Action"])}
        assert actions == calls.actions, logical_id
        assert [r for st in statements for r in cfn.as_list(st["Resource"])] == [OBJECT_ARN]
        # And its WATCHLIST_LOCATION names that object
        location = cfn.function_environment(logical_id)["WATCHLIST_LOCATION"]
        assert location == {"Fn::Sub": f"s3://${{WatchlistBucket}}/{WATCHLIST_KEY}"}


def test_the_editor_policy_grants_exactly_what_the_watchlist_commands_call(recorded):
    store, calls = recorded
    # Given every watchlist command's calls: push, pull (live and by version), history, rollback
    store.push(store.latest().text + "# edited\n", file="w.yaml")
    store.get(store.history()[-1].version_id)
    store.rollback()
    # Then the editor policy grants those on the object, and the listing on the bucket only
    statements = cfn.resources()["WatchlistEditorPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    on_object = {a for st in statements if st["Resource"] == OBJECT_ARN for a in st["Action"]}
    on_bucket = [st for st in statements if st["Resource"] != OBJECT_ARN]
    bucket_actions = {a for st in on_bucket for a in st["Action"]}
    # ListBucket is no call of ours: without it S3 answers a missing object with 403, not 404
    assert on_object | (bucket_actions - {"s3:ListBucket"}) == calls.actions
    assert all(st["Resource"] == {"Fn::GetAtt": ["WatchlistBucket", "Arn"]} for st in on_bucket)
    assert all(
        st["Condition"] == {"StringEquals": {"s3:prefix": WATCHLIST_KEY}} for st in on_bucket
    )


def test_the_watchlist_bucket_is_versioned_encrypted_private_tls_only_and_pruned():
    bucket = cfn.resources()["WatchlistBucket"]
    props = bucket["Properties"]
    # Then every version is kept, encrypted, never public, and the history survives the stack
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert bucket["DeletionPolicy"] == "Retain"
    # And old versions expire, but never the newest earlier ones (rollback needs them)
    (lifecycle,) = props["LifecycleConfiguration"]["Rules"]
    assert lifecycle["NoncurrentVersionExpiration"]["NewerNoncurrentVersions"] >= 10
    # And the bucket policy refuses every request without TLS
    policy = cfn.resources()["WatchlistBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "WatchlistBucket"}
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # And each skipped security check says why
    skips = bucket["Metadata"]["checkov"]["skip"]
    assert skips and all(len(skip["comment"]) > 40 for skip in skips)


def test_the_watchlist_location_and_editor_policy_are_outputs():
    outputs = cfn.template()["Outputs"]
    assert outputs["WatchlistLocation"]["Value"] == {
        "Fn::Sub": f"s3://${{WatchlistBucket}}/{WATCHLIST_KEY}"
    }
    assert outputs["WatchlistEditorPolicyArn"]["Value"] == {"Ref": "WatchlistEditorPolicy"}
