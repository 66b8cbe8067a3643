"""Per-function settings from environment variables (the only place that reads the environment).

Every variable here must be defined for the function in template.yaml; the infrastructure tests
hold the two against each other.

Plain pydantic models validated from `os.environ`, not pydantic-settings: reading a handful of
variables by name is all we need, and pydantic-settings cost every cold start ~40 ms of CPU
(it imports asyncio, python-dotenv, argparse and its YAML/TOML providers; bench/coldstart.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @classmethod
    def from_environment(cls) -> Self:
        """Each field from the variable its alias names (in any case); others are ignored."""
        return cls.model_validate({name.upper(): value for name, value in os.environ.items()})

    table_name: str = Field(validation_alias="TABLE_NAME")
    watchlist_path: Path = Field(
        default=Path("/opt/watchlist.yaml"), validation_alias="WATCHLIST_PATH"
    )
    # s3://bucket/key of the live watchlist (stormwatch.watchlist_store); empty: the file only
    watchlist_location: str = Field(default="", validation_alias="WATCHLIST_LOCATION")
    templates_dir: Path = Field(default=Path("/opt/templates"), validation_alias="TEMPLATES_DIR")
    # how long mentions and buckets live before DynamoDB's TTL removes them
    retention_days: int = Field(default=90, ge=1, validation_alias="RETENTION_DAYS")


class CollectSettings(Settings):
    # who to contact about our requests; sources ask for it in the User-Agent
    contact: str = Field(validation_alias="CONTACT")
    # SSM Parameter Store path under which source credentials live (see stormwatch.secrets)
    ssm_prefix: str = Field(default="/stormwatch/dev", validation_alias="SSM_PREFIX")


class ReportSettings(Settings):
    sender_address: str = Field(validation_alias="SENDER_ADDRESS")
    ses_configuration_set: str = Field(default="", validation_alias="SES_CONFIGURATION_SET")
    # where "change settings / unsubscribe" in the footer points
    settings_url: str = Field(default="", validation_alias="SETTINGS_URL")
    # SSM Parameter Store path under which the chat channels' URLs and secrets live
    # (<prefix>/channels/..., named per topic in the watchlist's alerts.channels) and the link
    # key (<prefix>/links/signing_key)
    ssm_prefix: str = Field(default="/stormwatch/dev", validation_alias="SSM_PREFIX")
    # the web function's URL (template Output WebFunctionUrl); empty: no storm-page, feedback
    # or one-click unsubscribe links in the messages
    web_url: str = Field(default="", validation_alias="WEB_URL")


class WebSettings(Settings):
    # SSM Parameter Store path under which the link key lives (<prefix>/links/signing_key)
    ssm_prefix: str = Field(default="/stormwatch/dev", validation_alias="SSM_PREFIX")


class DispatchSettings(Settings):
    # source -> URL of its collect task queue, a JSON object (template.yaml: COLLECT_QUEUES)
    collect_queues: dict[str, str] = Field(validation_alias="COLLECT_QUEUES")

    @field_validator("collect_queues", mode="before")
    @classmethod
    def _json_object(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value
