"""`stormwatch preview digest|alert [--topic NAME] [--lang de|en]`: render, never send.

Without `--endpoint` it first runs the offline demo cycle quietly against an embedded moto server
(the demo data, clock fixed at DEMO_NOW); with `--endpoint` it reads that endpoint's table as it is,
at the current time. The e-mails are built by the same `reporting` functions the report handler
uses, with the recipients taken out (so nothing is delivered) and the language chosen here.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from stormwatch import local
from stormwatch.models import RenderedEmail, Surge, now_utc
from stormwatch.watchlist import Topic, Watchlist

if TYPE_CHECKING:
    from stormwatch.channels.base import Target
    from stormwatch.cycle import CycleConfig
    from stormwatch.notification import Notification
    from stormwatch.reporting import DigestStore, ReportOutcome

    class PreviewStore(DigestStore, Protocol):
        """A digest's reads and the newest surge (stormwatch.store.Store)."""

        def latest_surge(self, topic: str, since: datetime) -> Surge | None: ...


ALERT_LOOKBACK = timedelta(days=7)


class PreviewError(Exception):
    """Nothing to preview (no such topic, no surge stored); the message says what is missing.
    `usage`: the caller asked for something that does not exist (a topic name)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass
class Preview:
    files: list[Path] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _no_send(key: str, notification: Notification, target: Target) -> tuple[str, bool]:
    raise AssertionError("preview never delivers")  # there are no recipients to deliver to


def _quiet(topic: Topic, lang: str | None) -> Topic:
    """The topic without recipients or channels, in the chosen language (the topic's own by
    default)."""
    language = lang or topic.digest.language
    digest = topic.digest.model_copy(
        update={"recipients": [], "recipient_languages": {}, "language": language}
    )
    alerts = topic.alerts.model_copy(
        update={"recipients": [], "recipient_languages": {}, "enabled": True, "channels": []}
    )
    return topic.model_copy(update={"digest": digest, "alerts": alerts})


def run_preview(
    kind: str,
    *,
    watchlist_path: Path,
    templates_dir: Path,
    out_dir: Path,
    topic: str | None = None,
    lang: str | None = None,
    endpoint: str | None = None,
    table: str | None = None,
    settings_url: str = "",
) -> Preview:
    """One kind of e-mail for one topic (or all) in one language (or each topic's own)."""
    return run_previews(
        [(kind, topic, lang)],
        watchlist_path=watchlist_path,
        templates_dir=templates_dir,
        out_dir=out_dir,
        endpoint=endpoint,
        table=table,
        settings_url=settings_url,
    )


def _fill_store(config: CycleConfig, url: str, *, demo: bool) -> datetime:
    """The demo's data (one offline cycle on the embedded server), or the endpoint's table as
    it is; returns the time to preview at."""
    from stormwatch.cycle import DEMO_NOW, run_cycle

    if not demo:
        local.ensure_table(config.table_name)
        return now_utc()
    _reset_embedded(url)  # the embedded server's state lives in this process
    config.replay_dir = local.repo_path("demo", "recordings")
    config.clock = lambda: DEMO_NOW
    with tempfile.TemporaryDirectory() as scratch:
        config.out_dir = Path(scratch)
        run_cycle(config, echo=lambda _line: None)
    return DEMO_NOW


def run_previews(
    requests: list[tuple[str, str | None, str | None]],
    *,
    watchlist_path: Path,
    templates_dir: Path,
    out_dir: Path,
    endpoint: str | None = None,
    table: str | None = None,
    settings_url: str = "",
) -> Preview:
    """Several (kind, topic or None, lang or None) previews from one store (one demo cycle)."""
    from stormwatch.config import load_watchlist
    from stormwatch.cycle import CycleConfig
    from stormwatch.reporting import ReportOutcome
    from stormwatch.runtime import aws_client
    from stormwatch.store import Store

    watchlist = load_watchlist(watchlist_path)
    for _kind, topic, _lang in requests:
        if topic and topic not in {t.name for t in watchlist.topics}:
            raise PreviewError(f"no topic named {topic!r} in {watchlist_path}", usage=True)
    preview = Preview()
    named: list[tuple[str, RenderedEmail]] = []
    with local.aws_endpoint(endpoint) as url:
        config = CycleConfig(
            watchlist_path=watchlist_path,
            templates_dir=templates_dir,
            out_dir=out_dir,
            endpoint=url,
        )
        if table:
            config.table_name = table
        now = _fill_store(config, url, demo=endpoint is None)
        store = Store(aws_client("dynamodb"), config.table_name, clock=lambda: now)
        for kind, topic, lang in requests:
            outcome = ReportOutcome()
            for item in [watchlist.topic(topic)] if topic else watchlist.topics:
                _render_one(
                    kind,
                    item,
                    lang,
                    store=store,
                    now=now,
                    watchlist=watchlist,
                    templates_dir=templates_dir,
                    settings_url=settings_url,
                    outcome=outcome,
                    preview=preview,
                )
            suffix = f"-{lang}" if lang else ""
            named += [(f"preview-{name}{suffix}", email) for name, email in outcome.rendered]
        if endpoint is None:
            _reset_embedded(url)  # leave no demo data behind for whatever runs next
    if not named:
        raise PreviewError("; ".join(preview.notes) or "nothing to preview")
    preview.files = local.write_emails(named, out_dir)
    preview.subjects = [email.subject for _, email in named]
    return preview


def _reset_embedded(url: str) -> None:
    """Forget all state of the embedded moto server (moto keeps it per process, so a second
    demo cycle in the same process would otherwise start from the first one's checkpoints)."""
    import requests

    requests.post(f"{url}/moto-api/reset", timeout=10).raise_for_status()


def _render_one(
    kind: str,
    topic: Topic,
    lang: str | None,
    *,
    store: PreviewStore,
    now: datetime,
    watchlist: Watchlist,
    templates_dir: Path,
    settings_url: str,
    outcome: ReportOutcome,
    preview: Preview,
) -> None:
    from stormwatch.reporting import notify, send_digest

    quiet = _quiet(topic, lang)
    if kind == "digest":
        send_digest(
            quiet,
            store=store,
            deliver=_no_send,
            templates_dir=templates_dir,
            now=now,
            watchlist_name=watchlist.name,
            settings_url=settings_url,
            outcome=outcome,
            watchlist=watchlist,
        )
        return
    surge = store.latest_surge(topic.name, now - ALERT_LOOKBACK)
    if surge is None:
        preview.notes.append(f"no surge stored for {topic.name} in the last 7 days")
        return
    notify(
        quiet,
        surge,
        deliver=_no_send,
        templates_dir=templates_dir,
        watchlist_name=watchlist.name,
        settings_url=settings_url,
        outcome=outcome,
    )
