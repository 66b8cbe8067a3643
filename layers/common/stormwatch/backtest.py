"""`stormwatch backtest`: replay the shipped surge detector over a historical series.

    stormwatch backtest --csv FILE [--time-col timestamp] [--count-col value]
                        [--negative-col NAME] [--authors-col NAME] [--engagement-col NAME]
                        [--sensitivity balanced] [--min-count N] [--cooldown-hours N] [--json]
    stormwatch backtest --topic NAME [--endpoint URL] [--table NAME] [--days 28]
                        [--until ISO] [--sensitivity ...] [--min-count N] [--cooldown-hours N]
                        [--json]

Prints the alarms the detector would have raised, each at the time it would have fired.
``--topic`` reads the topic's stored hourly buckets (the same ones the live scorer reads) from
the table - on an AWS-compatible endpoint (``--endpoint``, e.g. the embedded one of
``stormwatch run``) or in real AWS (``--table``, default credentials) - and replays them hour
by hour.  Pure apart from reading the CSV or the table: the caller passes ``stdout``.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn, TextIO

from stormwatch.surge import SENSITIVITIES, Alarm, Point, backtest, settings_for
from stormwatch.timeutil import floor_hour, parse_timestamp


class BacktestInputError(ValueError):
    """The CSV cannot be read as a series; the message names the file, line and column."""


def _parse_time(raw: str) -> datetime:
    """ISO 8601 or epoch seconds; a CSV's times without a zone are UTC."""
    return parse_timestamp(raw, "time", naive_is_utc=True)


def _parse_number(raw: str) -> float:
    text = (raw or "").strip()
    if not text:
        return 0.0
    value = float(text)
    if value != value or value < 0:  # NaN or negative
        raise ValueError(f"not a non-negative number: {raw!r}")
    return value


def read_points(
    path: str,
    *,
    time_col: str = "timestamp",
    count_col: str = "value",
    negative_col: str | None = None,
    authors_col: str | None = None,
    engagement_col: str | None = None,
) -> list[Point]:
    """Read a CSV into points; raises BacktestInputError naming the line and column."""
    # Point field -> CSV column (None: not read)
    columns = {
        "count": count_col,
        "negative": negative_col,
        "authors": authors_col,
        "engagement": engagement_col,
    }
    try:
        handle = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115
    except OSError as exc:
        raise BacktestInputError(f"{path}: cannot open: {exc.strerror or exc}") from exc
    with handle:
        reader = csv.DictReader(handle)
        _check_columns(path, reader.fieldnames or [], time_col, columns)
        points = [_row_point(path, reader.line_num, row, time_col, columns) for row in reader]
    if not points:
        raise BacktestInputError(f"{path}: no data rows")
    return points


def _check_columns(
    path: str, header: Sequence[str], time_col: str, columns: dict[str, str | None]
) -> None:
    """Every column asked for is in the header; the error names the flag that asked."""
    for field, col in {"time": time_col, **columns}.items():
        if col and col not in header:
            have = ", ".join(header) if header else "(no header)"
            raise BacktestInputError(
                f"{path}: no column {col!r} (given by --{field}-col); the header has: {have}"
            )


def _row_point(
    path: str, line: int, row: dict[str, str], time_col: str, columns: dict[str, str | None]
) -> Point:
    try:
        when = _parse_time(row[time_col] or "")
    except ValueError as exc:
        raise BacktestInputError(
            f"{path}, line {line}: bad timestamp in column {time_col!r}: "
            f"{row[time_col]!r} (use ISO 8601, e.g. 2015-03-01 14:05:00)"
        ) from exc
    values: dict[str, Any] = {}
    for key, col in columns.items():
        if not col:
            continue
        try:
            values[key] = _parse_number(row[col] or "")
        except ValueError as exc:
            raise BacktestInputError(
                f"{path}, line {line}: bad number in column {col!r}: {row[col]!r}"
            ) from exc
    if "authors" in values:
        values["authors"] = int(values["authors"])
    return Point(time=when, **values)


DEFAULT_TABLE = "stormwatch-local"  # the table `stormwatch run` / `demo` create locally


def read_topic_points(
    topic: str,
    *,
    table: str = DEFAULT_TABLE,
    client: Any = None,
    endpoint: str | None = None,
    days: int = 28,
    until: datetime | None = None,
) -> list[Point]:
    """The topic's stored hourly buckets as points, one per complete hour (zeros where empty).

    Reads ``days`` of complete hours ending before ``until`` (default: now), i.e. the open
    hour is left out: a bucket that is still filling would look like a quiet hour.  The hours
    the live check leaves out of the baseline are marked incomplete here too, from the
    sources' stored checkpoints: those before every source that can look back had read them
    (``baseline_coverage``), and those since the last success of a source failing now.
    """
    from stormwatch.scoring import hourly_points
    from stormwatch.store import Store

    if client is None:
        import boto3

        client = boto3.client("dynamodb", endpoint_url=endpoint) if endpoint else None
        client = client or boto3.client("dynamodb")
    end = floor_hour(until or datetime.now(UTC))
    last = end - timedelta(hours=1)
    start = end - timedelta(days=days)
    buckets = Store(client, table).buckets_between(topic, start, last)
    if not buckets:
        raise BacktestInputError(
            f"topic {topic!r}: no hourly buckets in table {table!r} between "
            f"{start:%Y-%m-%d %H:00} and {last:%Y-%m-%d %H:00} UTC"
        )
    first = min(b.hour for b in buckets)
    failing_from, complete_from = _source_state(Store(client, table), topic, end)
    return hourly_points(
        buckets, first, last, incomplete_from=failing_from, complete_from=complete_from
    )


def _source_state(store: Any, topic: str, until: datetime):
    """(incomplete_from, complete_from) as the live check computes them, from the checkpoints
    of the sources that have run for the topic (the watchlist is not read here)."""
    from stormwatch.backfill import baseline_coverage
    from stormwatch.scoring import behind, incomplete_from
    from stormwatch.sources import history_of

    history = history_of()
    ran = [c for c in store.checkpoints(topic, history) if c.last_run is not None]
    coverage = baseline_coverage(ran, history, until)
    return incomplete_from(behind(ran), until), coverage.complete_from


def summarise(alarms: Sequence[Alarm], points: Sequence[Point]) -> dict:
    tiers = {"watch": 0, "warning": 0, "firestorm": 0}
    for alarm in alarms:
        tiers[alarm.tier] = tiers.get(alarm.tier, 0) + 1
    first = min(p.time for p in points)
    last = max(p.time for p in points)
    weeks = max((last - first).total_seconds() / (7 * 86400), 1e-9)
    return {
        "points": len(points),
        "from": first.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": last.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "alarms": len(alarms),
        "episodes": sum(1 for a in alarms if not a.escalation),
        "escalations": sum(1 for a in alarms if a.escalation),
        "by_tier": tiers,
        "alarms_per_week": round(len(alarms) / weeks, 3),
    }


def _table(alarms: Sequence[Alarm], summary: dict, settings_label: str) -> str:
    lines = [
        f"{summary['points']} points from {summary['from']} to {summary['to']}; "
        f"sensitivity {settings_label}",
        "",
    ]
    if not alarms:
        lines.append("No alarms: the detector would have stayed quiet.")
    else:
        head = (
            f"{'fires at (UTC)':<21} {'tier':<9} {'esc':<3} {'observed/h':>11} "
            f"{'expected/h':>11} {'score':>7} {'thr':>5} {'neg now':>8} {'usual':>6}"
        )
        lines += [head, "-" * len(head)]
        for a in alarms:
            lines.append(
                f"{a.time.strftime('%Y-%m-%d %H:%M:%S'):<21} {a.tier:<9} "
                f"{'yes' if a.escalation else '':<3} {a.observed:>11.1f} {a.expected:>11.1f} "
                f"{a.score:>7.1f} {a.threshold:>5.1f} {a.negative_share:>8.1%} "
                f"{a.usual_negative_share:>6.1%}"
            )
    lines += [
        "",
        f"{summary['alarms']} alarms ({summary['episodes']} episodes, "
        f"{summary['escalations']} escalations); {summary['alarms_per_week']} per week",
    ]
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stormwatch backtest",
        description="Replay the surge detector over a historical series and print its alarms.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", help="CSV file with a header row")
    source.add_argument("--topic", help="a topic's stored hourly buckets (see --endpoint/--table)")
    parser.add_argument("--endpoint", help="AWS-compatible endpoint URL holding the table")
    parser.add_argument(
        "--table", help=f"table name (default {DEFAULT_TABLE}; without --endpoint: real AWS)"
    )
    parser.add_argument("--days", type=int, default=28, help="days of stored history (--topic)")
    parser.add_argument("--until", default=None, help="replay up to this UTC time (--topic)")
    parser.add_argument("--time-col", default="timestamp")
    parser.add_argument("--count-col", default="value")
    parser.add_argument("--negative-col", default=None)
    parser.add_argument("--authors-col", default=None)
    parser.add_argument("--engagement-col", default=None)
    parser.add_argument("--sensitivity", default="balanced", choices=SENSITIVITIES)
    parser.add_argument("--min-count", type=int, default=None)
    parser.add_argument("--cooldown-hours", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


class _ParserExit(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _points_from_args(args: argparse.Namespace) -> list[Point]:
    """The series to replay: a stored topic's hourly buckets or a CSV file."""
    if not args.topic:
        return read_points(
            args.csv,
            time_col=args.time_col,
            count_col=args.count_col,
            negative_col=args.negative_col,
            authors_col=args.authors_col,
            engagement_col=args.engagement_col,
        )
    if args.days < 1:
        raise BacktestInputError("--days must be at least 1")
    return read_topic_points(
        args.topic,
        table=args.table or DEFAULT_TABLE,
        endpoint=args.endpoint,
        days=args.days,
        until=_parse_time(args.until) if args.until else None,
    )


def run_cli(argv: list[str], stdout: TextIO, stderr: TextIO | None = None) -> int:
    """Run `stormwatch backtest`; returns the exit status (0 ok, 2 bad input)."""
    parser = build_parser()

    def _exit(status: int = 0, message: str | None = None) -> NoReturn:
        raise _ParserExit(status, message or "")

    parser.exit = _exit  # type: ignore[method-assign]
    parser.error = lambda message: _exit(2, f"{parser.prog}: error: {message}\n")  # type: ignore[method-assign]
    err = stderr or stdout
    try:
        args = parser.parse_args(argv)
    except _ParserExit as exc:
        if exc.status:
            err.write(exc.message)
        else:
            stdout.write(parser.format_help())
        return exc.status
    try:
        points = _points_from_args(args)
        settings = settings_for(
            args.sensitivity, min_count=args.min_count, cooldown_hours=args.cooldown_hours
        )
        alarms = backtest(points, settings)
    except (BacktestInputError, ValueError) as exc:
        err.write(f"stormwatch backtest: error: {exc}\n")
        return 2
    except Exception as exc:  # the store: endpoint unreachable, no such table, no credentials
        if not args.topic:
            raise
        err.write(f"stormwatch backtest: error: cannot read topic {args.topic!r}: {exc}\n")
        return 1
    summary = summarise(alarms, points)
    if args.json:
        json.dump(
            {"alarms": [a.to_dict() for a in alarms], "summary": summary},
            stdout,
            indent=2,
            sort_keys=False,
        )
        stdout.write("\n")
    else:
        stdout.write(_table(alarms, summary, args.sensitivity))
    return 0
