"""Web: the storm page, feedback and one-click unsubscribe behind a Lambda Function URL.

Thin: HTTP event in, `stormwatch.web.WebApp` decides, HTTP response out. The signed token in
each link is the only authorisation (see template.yaml, WebFunctionUrl)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from stormwatch.links import LINK_KEY_PARAMETER, LinkSigner, token_fingerprint
from stormwatch.runtime import aws_client
from stormwatch.secrets import SsmSecrets
from stormwatch.settings import WebSettings
from stormwatch.store import Store
from stormwatch.watchlist_store import live_watchlist
from stormwatch.web import (
    RequestTooLarge,
    WebApp,
    request_from_function_url,
    response_to_function_url,
)

logger = Logger()


@cache
def _default_app() -> WebApp:
    settings = WebSettings.from_environment()
    key = SsmSecrets(settings.ssm_prefix).get(LINK_KEY_PARAMETER)
    if not key:
        raise RuntimeError(f"SSM parameter {settings.ssm_prefix}/{LINK_KEY_PARAMETER} is not set")
    store = Store(
        aws_client("dynamodb"), settings.table_name, retention_days=settings.retention_days
    )
    return WebApp(
        signer=LinkSigner(key),
        store=store,
        watchlist=live_watchlist(settings.watchlist_path, settings.watchlist_location),
        templates_dir=settings.templates_dir,
    )


app_factory = _default_app


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app = app_factory()
    try:
        request = request_from_function_url(event)
    except RequestTooLarge:
        return response_to_function_url(app.too_large())
    response = app.handle(request)
    # the token is a credential: logs get a fingerprint of it, never the token or the query
    logger.info(
        "web request",
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "token": token_fingerprint(request.token) if request.token else "",
        },
    )
    return response_to_function_url(response)
