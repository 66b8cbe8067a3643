"""A lean cold start: each handler imports only what its path uses (#12).

Each handler module is imported in a fresh interpreter, as Lambda does at a cold start, and the
modules it loaded are checked. How long the imports take is measured by bench/coldstart.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache

import pytest
from stormwatch.sources import REGISTRY

from tests.infrastructure.cfn_template import REPO

RENDERING = ("jinja2", "css_inline", "stormwatch.render")
ADAPTERS = tuple(f"stormwatch.sources.{e.path.partition(':')[0]}" for e in REGISTRY.values())
XRAY = ("aws_xray_sdk",)
BATCH = ("aws_lambda_powertools.utilities.batch",)
# the adapters' common base (html parsing, HTTP pacing): neither the store nor scoring needs it
NOT_SCORING = ("requests", "feedparser", "simplemma", "stormwatch.http", "stormwatch.sources.base")

CHILD = """
import json, sys
sys.path.insert(0, "functions/" + sys.argv[1])
import app
print(json.dumps(sorted(sys.modules)))
"""


@cache
def loaded_by(handler: str, *, tracing: bool) -> frozenset[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "LAMBDA_"))}
    env["POWERTOOLS_TRACE_DISABLED"] = "false" if tracing else "true"
    env["LAMBDA_TASK_ROOT"] = str(REPO / "functions" / handler)  # as in Lambda
    done = subprocess.run(
        [sys.executable, "-c", CHILD, handler],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return frozenset(json.loads(done.stdout))


def among(modules: frozenset[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(f"{n}.") for n in names))


@pytest.mark.parametrize("handler", ["collect", "score"])
def test_collect_and_score_load_no_rendering_stack_and_no_xray(handler):
    # Given tracing switched off (the template's default)
    # When the handler module is imported at a cold start
    modules = loaded_by(handler, tracing=False)
    # Then neither the e-mail rendering stack nor the X-Ray SDK is loaded
    assert among(modules, RENDERING) == []
    assert among(modules, XRAY) == []


def test_score_loads_no_source_adapter_and_nothing_only_collecting_needs():
    # Given the score handler, which reads mentions from the stream and makes no requests
    modules = loaded_by("score", tracing=False)
    # Then no source adapter, HTTP client, feed parser or lemmatiser dictionary comes with it
    assert among(modules, ADAPTERS) == []
    assert among(modules, NOT_SCORING) == []


def test_collect_loads_no_source_adapter_before_it_knows_which_source_runs():
    # Given the collect handler (one source per invocation)
    # Then importing it loads no adapter: the registry imports the invoked one when built
    assert among(loaded_by("collect", tracing=False), ADAPTERS) == []


def test_report_and_web_load_no_other_source_adapter_and_no_xray():
    # Given the report and web handlers with tracing off
    report, web = loaded_by("report", tracing=False), loaded_by("web", tracing=False)
    # Then report loads only GDELT's adapter (the digest shows its news tone), web none, and
    # neither the X-Ray SDK
    assert among(report, ADAPTERS) == ["stormwatch.sources.gdelt"]
    assert among(web, ADAPTERS) == []
    assert among(report, XRAY) == among(web, XRAY) == []


def test_report_loads_the_batch_utility_only_for_stream_records():
    # Given the report handler, whose hourly digests (most of its cold starts) take no batch
    # Then importing it leaves Powertools' batch utility to the stream's alert path
    assert among(loaded_by("report", tracing=False), BATCH) == []


@pytest.mark.parametrize("handler", ["collect", "score", "report", "web", "dispatch"])
def test_settings_load_no_settings_framework_and_asyncio_only_with_the_batch(handler):
    # Given a handler, which reads a few environment variables into its settings
    modules = loaded_by(handler, tracing=False)
    # Then pydantic-settings and what it imports (python-dotenv, argparse) stay unloaded, and
    # asyncio comes only with Powertools' batch utility (collect and score take batches)
    assert among(modules, ("pydantic_settings", "dotenv", "argparse")) == []
    assert bool(among(modules, ("asyncio",))) == (handler in ("collect", "score"))


# a cold start that switches to the live watchlist (moto stands in for S3), then lists modules
LIVE_WATCHLIST_CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, "functions/" + sys.argv[1])
import app
import boto3
from moto import mock_aws
from stormwatch.watchlist_store import live_watchlist
with mock_aws():
    boto3.client("s3").create_bucket(
        Bucket="live", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    text = Path("watchlist.yaml").read_text(encoding="utf-8")
    boto3.client("s3").put_object(Bucket="live", Key="watchlist.yaml", Body=text.encode())
    live = live_watchlist(Path("/nonexistent/packaged.yaml"), "s3://live/watchlist.yaml")
    assert live.version != "packaged" and live.get().topics
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("handler", ["collect", "score", "report", "web"])
def test_a_cold_start_on_a_live_watchlist_decodes_no_german_dictionary(handler):
    # Given the shipped watchlist (a German topic with match examples) live in the bucket
    # When a cold handler switches to it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_"))}
    env |= {"AWS_DEFAULT_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "testing"}
    env |= {"AWS_SECRET_ACCESS_KEY": "testing", "POWERTOOLS_TRACE_DISABLED": "true"}
    done = subprocess.run(
        [sys.executable, "-c", LIVE_WATCHLIST_CHILD, handler],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    # Then its match examples were not run (`watchlist push` did): simplemma's dictionary,
    # ~1.8 s of CPU to decode, stays unloaded until a German text is matched
    assert among(frozenset(json.loads(done.stdout)), ("simplemma",)) == []


def test_with_tracing_on_the_handlers_load_xray():
    # Given tracing switched on (TracingMode: Active) in Lambda
    # Then the X-Ray SDK is loaded, so the handler's invocations are traced
    assert among(loaded_by("score", tracing=True), XRAY) != []
