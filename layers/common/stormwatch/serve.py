"""The web function on this machine: `stormwatch serve` and the demo's storm pages.

`WebServer` speaks HTTP on 127.0.0.1 and hands each request to the same code the Lambda runs
(`request_from_function_url` → `WebApp.handle` → `response_to_function_url`), so what the
browser tests check is what the Function URL serves. The demo's link key is fixed and fake
(never valid anywhere); a deployment's key is the SSM parameter links/signing_key.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from stormwatch import local
from stormwatch.links import LinkBuilder, LinkSigner
from stormwatch.models import Surge, iso
from stormwatch.web import (
    MAX_BODY_BYTES,
    FixedWatchlist,
    RequestTooLarge,
    WebApp,
    WebRequest,
    request_from_function_url,
    response_to_function_url,
)

if TYPE_CHECKING:
    from stormwatch.cycle import CycleConfig

DEMO_LINK_KEY = "demo-link-key-not-secret-never-valid-anywhere-0123"
DEFAULT_PORT = 8765


def demo_links(base_url: str) -> LinkBuilder:
    return LinkBuilder(LinkSigner(DEMO_LINK_KEY), base_url)


class WebServer:
    """A threaded HTTP server on 127.0.0.1 in front of a WebApp (port 0: any free port)."""

    def __init__(self, app: WebApp, port: int = DEFAULT_PORT) -> None:
        self.app = app
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(app))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> WebServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve_until_interrupted(self) -> None:
        """Block while the server thread serves (Ctrl-C raises KeyboardInterrupt here)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)


def _handler_for(app: WebApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._send(response_to_function_url(app.too_large()))
                return
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            parts = urlsplit(self.path)
            event = {
                "requestContext": {"http": {"method": self.command}},
                "rawPath": parts.path,
                "rawQueryString": parts.query,
                "body": body,
            }
            try:
                request = request_from_function_url(event)
            except RequestTooLarge:
                self._send(response_to_function_url(app.too_large()))
                return
            self._send(response_to_function_url(app.handle(request)))

        def _send(self, response: dict[str, Any]) -> None:
            data = response["body"].encode("utf-8")
            self.send_response(response["statusCode"])
            for name, value in response["headers"].items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # URLs carry tokens: they stay out of the terminal

    return Handler


def write_storm_page(app: WebApp, links: LinkBuilder, surge: Surge, out_dir: Path) -> list[Path]:
    """out/storm-<topic>.html and .csv for one surge, through the web function's own routes."""
    token = links.signer.issue("storm", surge.topic, iso(surge.detected_at), now=app.clock())
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for route, suffix in (("/storm", "html"), ("/storm.csv", "csv")):
        response = app.handle(WebRequest(method="GET", path=route, query={"t": token}))
        if response.status != 200:
            raise RuntimeError(f"storm page for {surge.topic}: HTTP {response.status}")
        path = out_dir / f"storm-{surge.topic}.{suffix}"
        path.write_text(response.body, encoding="utf-8")
        files.append(path)
    return files


@contextmanager
def demo_web(config: CycleConfig, port: int = DEFAULT_PORT) -> Iterator[tuple[WebServer, list]]:
    """The embedded endpoint (or `config.endpoint`) with the demo cycle run into it, and the
    web function serving it on 127.0.0.1:`port`. Yields the server and the stored surges."""
    from stormwatch.config import load_watchlist
    from stormwatch.cycle import run_cycle
    from stormwatch.runtime import aws_client
    from stormwatch.store import Store

    watchlist = load_watchlist(config.watchlist_path)
    with local.aws_endpoint(config.endpoint) as endpoint:
        config.endpoint = endpoint
        store = Store(aws_client("dynamodb"), config.table_name, clock=config.clock)
        app = WebApp(
            signer=LinkSigner(DEMO_LINK_KEY),
            store=store,
            watchlist=FixedWatchlist(watchlist),
            templates_dir=config.templates_dir,
            clock=config.clock,
        )
        with WebServer(app, port) as server:
            config.web_url = server.url  # the messages link to this very server
            run_cycle(config, echo=lambda _line: None)
            now = config.clock()
            surges = [
                surge
                for topic in watchlist.topics
                for surge in store.surges_between(topic.name, now - timedelta(days=7), now)
            ]
            yield server, surges
