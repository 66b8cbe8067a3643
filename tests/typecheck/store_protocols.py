"""Checked by mypy (make typecheck), never run: the Store satisfies every Protocol that a
consumer declares for it, so a consumer's narrow view cannot drift from the real table."""

from stormwatch.collector import CollectorStore
from stormwatch.preview import PreviewStore
from stormwatch.reporting import Audience, ChannelHealthLog, DigestStore
from stormwatch.source_state import SourceState
from stormwatch.store import Store
from stormwatch.web import WebStore


def store_fits_its_consumers(store: Store) -> None:
    digest: DigestStore = store
    preview: PreviewStore = store
    health: ChannelHealthLog = store
    audience: Audience = store
    web: WebStore = store
    state: SourceState = store
    collector: CollectorStore = store
    del digest, preview, health, audience, web, state, collector
