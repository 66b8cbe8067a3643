"""Source credentials, read from SSM Parameter Store only.

A source asks for a secret by its short name, e.g. ``secrets.get("reddit/client_id")``; the
deployed implementation (`SsmSecrets`) reads the SecureString parameter
``<prefix>/reddit/client_id`` (``prefix`` is ``/stormwatch/<stage>``) through Powertools
Parameters, decrypted and cached for ``max_age`` seconds, so a warm Lambda does not call SSM on
every run. A parameter that does not exist is ``None``: the source then falls back (Reddit's
keyless RSS) or reports itself "not configured"; it never crashes the run.

Each source declares the names it reads on its own class (`secret_names`); `get_source` hands
it a `DeclaredSecrets` view that refuses any other name, and the template's SSM policy is tested
against the union of the declarations (``stormwatch.sources.declared_secrets``) and the one
secret the collect function reads itself, ``privacy/pseudonym_key`` (`stormwatch.privacy`).

Values are never logged, never part of an exception message and never shown by ``repr``.
`StaticSecrets` (tests, demo, a local JSON file) and `NoSecrets` implement the same protocol.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

DEFAULT_MAX_AGE = 300
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)+$")


class SecretsError(Exception):
    """The secret store could not be read (not: the secret does not exist). No values inside."""


@runtime_checkable
class Secrets(Protocol):
    def get(self, name: str) -> str | None:
        """The value of secret `name` ("reddit/client_id"), or None when it is not configured."""
        ...


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"secret name must look like 'source/key', got {name!r}")
    return name


def _value(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    text = str(raw).strip()
    return text or None


class NoSecrets:
    """Nothing configured: every source runs keyless or reports "not configured"."""

    def get(self, name: str) -> str | None:
        _check_name(name)
        return None

    def __repr__(self) -> str:
        return "NoSecrets()"


class StaticSecrets:
    """Secrets from a mapping (tests, the demo, a local JSON file). repr shows names only."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = {_check_name(k): v for k, v in (values or {}).items()}

    @classmethod
    def from_file(cls, path: Path | str) -> StaticSecrets:
        """A JSON object ``{"reddit/client_id": "...", ...}``; errors never quote the content."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SecretsError(f"cannot read secrets file {path}: {type(exc).__name__}") from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise SecretsError(f"secrets file {path} must be a JSON object of strings")
        return cls(data)

    def get(self, name: str) -> str | None:
        return _value(self._values.get(_check_name(name)))

    def __repr__(self) -> str:
        return f"StaticSecrets(names={sorted(self._values)})"


class UndeclaredSecret(ValueError):
    """A source asked for a secret it does not list in its `secret_names`."""


class DeclaredSecrets:
    """The secrets one source may read: the names on its class, nothing else (so the IAM
    policy derived from the declarations is never silently short of a parameter)."""

    def __init__(self, secrets: Secrets, allowed: tuple[str, ...], *, source: str) -> None:
        self._secrets = secrets
        self.allowed = frozenset(_check_name(name) for name in allowed)
        self.source = source

    def get(self, name: str) -> str | None:
        if _check_name(name) not in self.allowed:
            raise UndeclaredSecret(
                f"source {self.source!r} reads secret {name!r} but does not declare it in "
                "secret_names"
            )
        return self._secrets.get(name)

    def __repr__(self) -> str:
        return f"DeclaredSecrets(source={self.source!r}, names={sorted(self.allowed)})"


class SsmSecrets:
    """SecureString parameters under `prefix` via Powertools' SSMProvider (decrypt, cached).

    The provider (and its boto3 client) is created on first use, so building the Lambda's
    dependencies needs no AWS call. Pass `provider` (anything with Powertools'
    ``get(name, max_age=, decrypt=)``) or `client` (a boto3 SSM client) to choose the endpoint.
    """

    def __init__(
        self,
        prefix: str,
        *,
        max_age: int = DEFAULT_MAX_AGE,
        provider: Any = None,
        client: Any = None,
    ) -> None:
        prefix = "/" + prefix.strip().strip("/")
        if prefix == "/":
            raise ValueError("SSM prefix must not be empty, e.g. /stormwatch/dev")
        self.prefix = prefix
        self.max_age = max_age
        self._provider = provider
        self._client = client

    def _get_provider(self) -> Any:
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import SSMProvider

            self._provider = (
                SSMProvider(boto3_client=self._client) if self._client else SSMProvider()
            )
        return self._provider

    def path(self, name: str) -> str:
        return f"{self.prefix}/{_check_name(name)}"

    def get(self, name: str) -> str | None:
        path = self.path(name)
        try:
            raw = self._get_provider().get(path, max_age=self.max_age, decrypt=True)
        except Exception as exc:  # classify it, never leak a value
            if _is_not_found(exc):
                return None
            # the message of a botocore error names the parameter, never its value; still,
            # only the type and error code are kept so nothing secret can ride along
            raise SecretsError(
                f"cannot read SSM parameter {path}: {type(exc).__name__}{_code(exc)}"
            ) from None
        return _value(raw)

    def __repr__(self) -> str:
        return f"SsmSecrets(prefix={self.prefix!r}, max_age={self.max_age})"


def _error_code(exc: BaseException) -> str:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            if code:
                return str(code)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return ""


def _code(exc: BaseException) -> str:
    code = _error_code(exc)
    return f" ({code})" if code else ""


def _is_not_found(exc: BaseException) -> bool:
    return _error_code(exc) == "ParameterNotFound" or "ParameterNotFound" in type(exc).__name__


__all__ = [
    "DeclaredSecrets",
    "NoSecrets",
    "Secrets",
    "SecretsError",
    "SsmSecrets",
    "StaticSecrets",
    "UndeclaredSecret",
]
