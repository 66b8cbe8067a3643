"""Time in one place: aware UTC, the hour an instant falls in, and the one timestamp parser.

Every stored time, bucket and cursor is aware UTC. Timestamps arrive as ISO 8601 / RFC 3339
text (source APIs, our own items and cursors, signed links, CSV files) or as epoch seconds;
`parse_timestamp` reads all of them, returns aware UTC and fails with a `TimestampError` that
names the field, so a bad value is reported where it came in.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime


class TimestampError(ValueError):
    """A value that is not a timestamp; the message names the field and the value."""


def utc(value: datetime) -> datetime:
    """Aware UTC datetime; naive values are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_EPOCH_TEXT = re.compile(r"[+-]?\d+(\.\d+)?")


def iso(value: datetime) -> str:
    """Sortable ISO-8601 UTC string with a trailing Z, second precision."""
    return utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def floor_hour(value: datetime) -> datetime:
    """The start of the UTC hour `value` falls in (naive values are taken as UTC)."""
    return utc(value).replace(minute=0, second=0, microsecond=0)


def parse_timestamp(
    value: object, field: str = "timestamp", *, naive_is_utc: bool = False
) -> datetime:
    """`value` as aware UTC: ISO 8601 text (a trailing Z or an offset, optional fraction),
    epoch seconds (a number or numeric text) or a datetime.

    Text without a zone is malformed for the APIs we read (RFC 3339 requires one): it raises
    unless `naive_is_utc` says the input's convention is UTC (CSV files, our own old items).
    Anything else raises TimestampError naming `field`."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        parsed = _from_epoch(value, field)
    elif isinstance(value, str) and value.strip():
        parsed = _from_text(value.strip(), field)
    elif value is None or isinstance(value, str):
        raise TimestampError(f"missing {field}")
    else:
        raise TimestampError(f"{field} is not a timestamp: {value!r}")
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise TimestampError(f"{field} without a time zone: {str(value)[:64]!r}")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _from_text(text: str, field: str) -> datetime:
    # digits alone are epoch seconds, never ISO 8601's basic date ("37240701" is 1971, not 3724)
    if _EPOCH_TEXT.fullmatch(text):
        return _from_epoch(float(text), field)
    iso_text = text[:-1] + "+00:00" if text[-1] in "zZ" else text
    try:
        return datetime.fromisoformat(iso_text)
    except ValueError:
        pass
    try:
        seconds = float(text)
    except ValueError:
        raise TimestampError(
            f"{field} is neither ISO 8601 nor epoch seconds: {text[:64]!r}"
        ) from None
    return _from_epoch(seconds, field)


def _from_epoch(seconds: float, field: str) -> datetime:
    if not math.isfinite(seconds):
        raise TimestampError(f"{field} is not a finite number of seconds: {seconds!r}")
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise TimestampError(f"{field} is out of range: {seconds!r}") from None
