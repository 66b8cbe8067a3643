"""One full cycle on this machine: collect → (stream) → score → (stream) → alerts → digests.

Used by `stormwatch run` (live HTTP), `stormwatch demo` (recorded responses, fixed clock) and the
end-to-end tests. The real handlers run unchanged; only their collaborators (clock, HTTP) are
chosen here, the composition root of the local world.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stormwatch import local
from stormwatch.config import cached_watchlist, load_watchlist
from stormwatch.dispatch import BATCH_SIZE, PACES
from stormwatch.events import deserialize_image
from stormwatch.models import now_utc
from stormwatch.serve import demo_links, write_storm_page
from stormwatch.store import surge_from_item
from stormwatch.watchlist_store import (
    LOCAL_LOCATION,
    LiveWatchlist,
    WatchlistLocation,
    WatchlistStore,
)
from stormwatch.web import WebApp

ERROR_CHARS = 160  # of a failing source's error in the per-step summary
DEMO_NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
DEMO_SENDER = "stormwatch@example.com"
DEMO_CONTACT = "https://github.com/stormwatch/stormwatch"


@dataclass
class CycleConfig:
    watchlist_path: Path
    templates_dir: Path
    out_dir: Path
    table_name: str = "stormwatch-local"
    sender: str = DEMO_SENDER
    contact: str = DEMO_CONTACT
    endpoint: str | None = None  # None: embedded moto server
    replay_dir: Path | None = None  # recorded responses instead of live HTTP
    clock: Callable[[], datetime] = now_utc
    sources: list[str] | None = None  # default: every source the watchlist uses
    # the live watchlist on the endpoint; the file above is its first version and fallback
    watchlist_location: str = LOCAL_LOCATION
    topic: str | None = None  # collect for this topic only
    # ask every source for this many past days (new topics get a backfill anyway)
    backfill_days: int | None = None
    # where the messages' storm-page, feedback and unsubscribe links point (`stormwatch serve`)
    web_url: str = "http://127.0.0.1:8765"

    @classmethod
    def recorded_demo(cls, out_dir: Path) -> CycleConfig:
        """The shipped watchlist and templates against the recorded responses at DEMO_NOW: the
        demo cycle the tests and benchmarks replay."""
        return cls(
            watchlist_path=local.repo_path("watchlist.yaml"),
            templates_dir=local.repo_path("templates"),
            out_dir=out_dir,
            replay_dir=local.repo_path("demo", "recordings"),
            clock=lambda: DEMO_NOW,
        )


@dataclass
class CycleResult:
    endpoint: str = ""
    collected: list[dict[str, Any]] = field(default_factory=list)
    scored: int = 0
    score_batches: int = 0
    surges: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    ses_accepted: int = 0
    # what the local Slack/Teams/webhook receiver and the embedded SNS got, by channel
    channels_received: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def _handler_env(config: CycleConfig) -> dict[str, str]:
    return {
        "TABLE_NAME": config.table_name,
        "WATCHLIST_PATH": str(config.watchlist_path),
        "WATCHLIST_LOCATION": config.watchlist_location,
        "TEMPLATES_DIR": str(config.templates_dir),
        "RETENTION_DAYS": "90",
        "CONTACT": config.contact,
        # the local runner keeps collect tasks in memory (stormwatch.taskqueue.InlineTaskQueues)
        "COLLECT_QUEUES": json.dumps({name: f"inline:{name}" for name in sorted(PACES)}),
        "SSM_PREFIX": "/stormwatch/local",
        "SENDER_ADDRESS": config.sender,
        "SES_CONFIGURATION_SET": "",
        "SETTINGS_URL": "",
        "POWERTOOLS_SERVICE_NAME": "stormwatch",
        "POWERTOOLS_METRICS_NAMESPACE": "Stormwatch",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": os.environ.get("STORMWATCH_LOG_LEVEL", "ERROR"),
    }


# Obviously fake credentials for replays: they make the OAuth/login code paths run against the
# recordings (which never check them). Never valid anywhere.
DEMO_SECRETS = {
    "reddit/client_id": "demo-client-id",
    "reddit/client_secret": "demo-client-secret-not-real",
    "reddit/username": "stormwatch-demo",
    "bluesky/handle": "stormwatch-demo.bsky.social",
    "bluesky/app_password": "demo-demo-demo-demo",
    "youtube/api_key": "demo-youtube-key-not-real",
}


def local_secrets(*, replay: bool) -> Any:
    """Secrets for a local run: fake ones for a replay; for live HTTP none, unless the env var
    STORMWATCH_SECRETS_FILE names a JSON file {"reddit/client_id": "...", ...}."""
    from stormwatch.secrets import NoSecrets, StaticSecrets

    if replay:
        return StaticSecrets(DEMO_SECRETS)
    path = os.environ.get("STORMWATCH_SECRETS_FILE")
    return StaticSecrets.from_file(path) if path else NoSecrets()


# the local webhook receiver checks signatures with this; never valid anywhere
DEMO_SIGNING_SECRET = "demo-signing-secret-not-real"  # noqa: S105


class LocalChannelSecrets:
    """A local run's secrets, plus the chat channels' parameters: each channels/<kind>/... URL
    not set otherwise points at the local receiver, each signing secret is the demo's."""

    def __init__(self, base: Any, receiver_url: str) -> None:
        self._base = base
        self._receiver_url = receiver_url

    def get(self, name: str) -> str | None:
        value = self._base.get(name)
        if value or not name.startswith("channels/"):
            return value
        if name.endswith("secret"):
            return DEMO_SIGNING_SECRET
        return f"{self._receiver_url}/{name.split('/')[1]}"

    def __repr__(self) -> str:
        return f"LocalChannelSecrets({self._base!r})"


def wire_handlers(
    config: CycleConfig, receiver_url: str = "http://127.0.0.1:9", poster: Any = None
) -> dict[str, Any]:
    """Import the three handlers and give them local collaborators; chat channels post to
    `receiver_url` (the demo's local receiver) through `poster` (tests pass a recording one)."""
    from stormwatch.channels.base import JsonPoster
    from stormwatch.http import HttpClient, ReplayHttpClient, default_user_agent
    from stormwatch.mailer import Mailer
    from stormwatch.runtime import aws_client
    from stormwatch.settings import CollectSettings, DispatchSettings, ReportSettings, Settings
    from stormwatch.store import Store
    from stormwatch.taskqueue import InlineTaskQueues

    os.environ.update(_handler_env(config))
    cached_watchlist.cache_clear()
    # modules loaded by path: their Deps and deps_factory are not known to the type checker
    handlers: dict[str, Any] = {
        name: local.load_handler(name) for name in ("dispatch", "collect", "score", "report")
    }
    dynamodb = aws_client("dynamodb")
    store = Store(dynamodb, config.table_name, clock=config.clock)
    live = LiveWatchlist(config.watchlist_path, watchlist_store(config.watchlist_location))

    collect_settings = CollectSettings.from_environment()
    if config.replay_dir is not None:
        http: Any = ReplayHttpClient(config.replay_dir)
    else:
        from stormwatch import netguard

        http = HttpClient(
            default_user_agent(collect_settings.contact),
            # feeds on this machine only with the explicit override (never in Lambda)
            allow_private_targets=netguard.private_targets_allowed(),
        )
    secrets = local_secrets(replay=config.replay_dir is not None)
    collect = handlers["collect"].Deps(
        settings=collect_settings,
        store=store,
        http=http,
        clock=config.clock,
        secrets=secrets,
        watchlist=live,
    )
    score = handlers["score"].Deps(
        settings=Settings.from_environment(), store=store, clock=config.clock, watchlist=live
    )
    report_settings = ReportSettings.from_environment()
    rendered: list = []
    report = handlers["report"].Deps(
        settings=report_settings,
        store=store,
        dynamodb=dynamodb,
        mailer=Mailer(aws_client("sesv2"), config.sender),
        clock=config.clock,
        keep_rendered=rendered,
        secrets=LocalChannelSecrets(secrets, receiver_url),
        sns=aws_client("sns"),
        poster=poster or JsonPoster(allow_loopback=True),
        watchlist=live,
        links=demo_links(config.web_url),
    )
    queues = InlineTaskQueues()
    dispatch = handlers["dispatch"].Deps(
        settings=DispatchSettings.from_environment(),
        queues=queues,
        clock=config.clock,
        watchlist=live,
    )
    handlers["dispatch"].deps_factory = lambda: dispatch
    handlers["collect"].deps_factory = lambda: collect
    handlers["score"].deps_factory = lambda: score
    handlers["report"].deps_factory = lambda: report
    web = WebApp(
        signer=report.links.signer,
        store=store,
        watchlist=live,
        templates_dir=config.templates_dir,
        clock=config.clock,
    )
    return {
        "handlers": handlers,
        "collect": lambda event: collect_inline(handlers, queues, event),
        "store": store,
        "rendered": rendered,
        "watchlist": live,
        "web": web,
    }


def collect_inline(
    handlers: dict[str, Any], queues: Any, event: dict[str, Any]
) -> list[dict[str, Any]]:
    """What a source's schedule sets off, on this machine: the dispatch handler queues the
    period's tasks in memory, and the collect handler works them off in the batches its queue
    mapping would deliver. The per-topic reports of every batch."""
    handlers["dispatch"].lambda_handler(event, local.FakeLambdaContext("stormwatch-dispatch"))
    reports: list[dict[str, Any]] = []
    for batch in queues.sqs_events(BATCH_SIZE):
        context = local.FakeLambdaContext("stormwatch-collect")
        response = handlers["collect"].lambda_handler(batch, context)
        reports += response["topics"]
        for failure in response["batchItemFailures"]:
            reports.append({"failed_task": failure["itemIdentifier"]})
    return reports


def watchlist_store(location: str) -> WatchlistStore:
    from stormwatch.runtime import aws_client

    return WatchlistStore(aws_client("s3"), WatchlistLocation.parse(location))


def seed_watchlist(config: CycleConfig) -> str:
    """Give the endpoint a versioned watchlist bucket; an empty one gets the watchlist file as
    its first version. Returns what the run says about it."""
    from stormwatch.config import WatchlistError

    store = watchlist_store(config.watchlist_location)
    store.ensure_bucket()
    live = store.latest()
    if live is not None:
        return f"live version {live.version_id} from {store.location} (not {config.watchlist_path})"
    try:
        pushed = store.push(
            config.watchlist_path.read_text(encoding="utf-8"),
            file=str(config.watchlist_path),
            note=f"first version, from {config.watchlist_path.name}",
        )
    except WatchlistError as exc:
        return f"{config.watchlist_path} refused as a version, running it as the fallback: {exc}"
    return f"{config.watchlist_path.name} pushed to {store.location} as version {pushed.version_id}"


def run_cycle(config: CycleConfig, *, echo: Callable[[str], None] = print) -> CycleResult:
    started = time.monotonic()
    result = CycleResult()
    watchlist = load_watchlist(config.watchlist_path)
    with local.aws_endpoint(config.endpoint) as endpoint, local.ChannelReceiver() as receiver:
        result.endpoint = endpoint
        echo(
            f"• endpoint {endpoint} "
            f"({'embedded moto server' if config.endpoint is None else 'given'})"
        )
        stream_arn = local.ensure_table(config.table_name)
        local.ensure_sender(config.sender)
        wired = wire_handlers(config, receiver.url)
        handlers = wired["handlers"]
        echo(f"• watchlist {seed_watchlist(config)}")
        watchlist = wired["watchlist"].get()
        stream = local.StreamReader(stream_arn)

        # 1. collect, per source, as the schedules would: dispatch, then the queued tasks
        topics = [t for t in watchlist.topics if config.topic in (None, t.name)]
        sources = config.sources or sorted({s for t in topics for s in t.sources.enabled()})
        for source in sources:
            event = {"source": source, "topic": config.topic, "backfill_days": config.backfill_days}
            for topic in wired["collect"](event):
                if "failed_task" in topic:
                    result.failures.append(f"collect {source}: task {topic['failed_task']} failed")
                    continue
                result.collected.append(topic)
                echo(_collect_line(source, topic))

        # 2. score: the stream's new mention inserts, in Lambda-sized batches
        records = stream.read()
        mention_records = [r for r in records if local.matches_filter(r, "M#")]
        # "source down" notices the collector wrote go to report, like surges (template.yaml)
        notice_records = [r for r in records if local.matches_filter(r, "N#")]
        for batch in local.batches(mention_records):
            response = handlers["score"].lambda_handler(
                batch, local.FakeLambdaContext("stormwatch-score")
            )
            result.score_batches += 1
            if response["batchItemFailures"]:
                result.failures.append(
                    f"score: {len(response['batchItemFailures'])} records failed"
                )
        result.scored = len(mention_records)
        echo(
            f"• score    {len(mention_records)} new mentions from the stream in "
            f"{result.score_batches} batch(es)"
        )

        # 3. alerts: surge items inserted by the scorer arrive on the stream
        surge_records = [r for r in stream.read() if local.matches_filter(r, "S#")]
        for record in surge_records:
            image = record["dynamodb"]["NewImage"]
            result.surges.append({"topic": image["topic"]["S"], "tier": image["tier"]["S"]})
            echo(
                f"• surge    {image['topic']['S']}: {image['tier']['S']} "
                f"(observed {image['observed']['N']} vs expected {image['expected']['N']})"
            )
        if not surge_records:
            echo("• surge    none")
        for record in notice_records:
            image = record["dynamodb"]["NewImage"]
            echo(f"• notice   {image['topic']['S']}: source {image['source']['S']} is down")
        storm_pages = []
        for record in surge_records:
            surge = surge_from_item(deserialize_image(record["dynamodb"]["NewImage"]))
            storm_pages += write_storm_page(
                wired["web"], demo_links(config.web_url), surge, config.out_dir
            )
        for batch in local.batches(notice_records + surge_records):
            response = handlers["report"].lambda_handler(
                batch, local.FakeLambdaContext("stormwatch-report")
            )
            result.deliveries.extend(response["deliveries"])
            if response.get("batchItemFailures"):
                result.failures.append(f"alerts: {len(response['batchItemFailures'])} failed")

        # 4. digests for every topic, as at each topic's digest hour
        response = handlers["report"].lambda_handler(
            {"kind": "digest", "force": True}, local.FakeLambdaContext("stormwatch-report")
        )
        result.deliveries.extend(response["deliveries"])
        for delivery in result.deliveries:
            channel = delivery.get("channel", "email")
            where = "SES" if channel == "email" else channel
            echo(
                f"• {channel:<8} {delivery['kind']:<6} {delivery['topic']:<16} → target "
                f"{delivery['recipient']} accepted by {where} as {delivery['message_id']}"
                f"{' (repeat, not sent again)' if delivery['repeat'] else ''}"
            )
        result.ses_accepted = local.ses_accepted(config.sender) if config.endpoint is None else -1
        result.files = local.write_emails(wired["rendered"], config.out_dir)
        sms = local.sms_accepted() if config.endpoint is None else []
        channel_files, result.channels_received = write_channels(
            receiver.requests, sms, config.out_dir / "channels"
        )
        result.files += channel_files
        result.files += storm_pages
        for name, count in result.channels_received.items():
            echo(f"• channel  {name:<8} received {count} message(s)")
    result.seconds = time.monotonic() - started
    for path in result.files:
        if path.suffix == ".html" or path.parent.name == "channels" or "storm-" in path.name:
            echo(f"• wrote    {path}")
    return result


def _collect_line(source: str, topic: dict[str, Any]) -> str:
    """One line per source, topic and kind of run (the whole error is in the digest's
    coverage section)."""
    error = topic["error"] or ""
    short = error if len(error) <= ERROR_CHARS else error[: ERROR_CHARS - 1] + "…"
    status = "ok" if topic["ok"] else f"FAILED ({short})"
    if topic.get("backfill"):
        status += ", backfill done" if topic.get("backfill_done") else ", backfill continues"
    kind = "backfill" if topic.get("backfill") else "collect"
    return (
        f"• {kind} {source:<13} {topic['topic']:<16} fetched {topic['fetched']:>3}, "
        f"new {topic['new']:>3}, not matching {topic['not_matching']:>2}, "
        f"skipped {topic['skipped']:>2} — {status}"
    )


def write_channels(
    requests: list[Any], sms: list[tuple[str, str]], out_dir: Path
) -> tuple[list[Path], dict[str, int]]:
    """out/channels/: slack.json and teams.json (the message bodies), webhook.json (headers,
    body and whether its signature verifies), sms.txt (number and text, one per line)."""
    from stormwatch.channels.webhook import SIGNATURE_HEADER, SignatureError, verify_signature

    by_channel: dict[str, list[Any]] = {}
    for request in requests:
        name = request.path.strip("/")
        body = json.loads(request.body.decode("utf-8"))
        if name == "webhook":
            try:
                verify_signature(
                    DEMO_SIGNING_SECRET, request.headers.get(SIGNATURE_HEADER), request.body
                )
                valid = True
            except SignatureError:
                valid = False
            body = {"headers": request.headers, "signature_valid": valid, "body": body}
        by_channel.setdefault(name, []).append(body)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for name, bodies in sorted(by_channel.items()):
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(bodies, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        files.append(path)
    if sms:
        path = out_dir / "sms.txt"
        path.write_text("".join(f"{number}: {text}\n" for number, text in sms), encoding="utf-8")
        files.append(path)
    counts = {name: len(bodies) for name, bodies in sorted(by_channel.items())}
    if sms:
        counts["sms"] = len(sms)
    return files, counts
