"""`stormwatch watchlist push | pull | diff | history | rollback`: the live watchlist's versions.

Against AWS with `--location s3://bucket/watchlist.yaml` (the stack's WatchlistLocation output,
or STORMWATCH_WATCHLIST_LOCATION); against a local endpoint with `--endpoint URL` (the location
then defaults to the one `stormwatch run --endpoint URL` uses).
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from stormwatch import local
from stormwatch.config import WatchlistError
from stormwatch.watchlist_store import (
    LOCAL_LOCATION,
    MAX_AGE_SECONDS,
    StoreUnavailable,
    WatchlistLocation,
    WatchlistStore,
)

LOCATION_VARIABLE = "STORMWATCH_WATCHLIST_LOCATION"


class UsageError(ValueError):
    """A command line that cannot be carried out; one line, exit 2."""


def _location(args: argparse.Namespace) -> WatchlistLocation:
    uri = args.location or os.environ.get(LOCATION_VARIABLE)
    if not uri and args.endpoint:
        uri = LOCAL_LOCATION
    if not uri:
        raise UsageError(
            f"say where the watchlist lives: --location s3://bucket/{Path(LOCAL_LOCATION).name} "
            f"(the stack's WatchlistLocation output, or {LOCATION_VARIABLE}), "
            "or --endpoint URL for a local endpoint"
        )
    return WatchlistLocation.parse(uri)


@contextmanager
def _store(args: argparse.Namespace) -> Iterator[WatchlistStore]:
    location = _location(args)
    with local.aws_endpoint(args.endpoint) if args.endpoint else nullcontext():
        from stormwatch.runtime import aws_client

        yield WatchlistStore(aws_client("s3"), location)


def cmd_push(args: argparse.Namespace) -> int:
    text = Path(args.file).read_text(encoding="utf-8")
    with _store(args) as store:
        result = store.push(text, file=args.file, note=args.message or "")
    if not result.changed:
        print(f"unchanged: {args.file} is the live version {result.version_id} already")
    else:
        print(
            f"pushed {args.file} to {store.location} as version {result.version_id}; every "
            f"function runs it within {MAX_AGE_SECONDS} s of its next invocation"
        )
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    with _store(args) as store:
        stored = store.get(args.version) if args.version else store.latest()
    if stored is None:
        raise StoreUnavailable(f"{store.location} holds no version yet (push one first)")
    if args.output:
        Path(args.output).write_text(stored.text, encoding="utf-8")
        print(f"wrote version {stored.version_id} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(stored.text)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """Unified diff from the live (or --version) version to FILE; exit 1 when they differ."""
    with _store(args) as store:
        stored = store.get(args.version) if args.version else store.latest()
    before = stored.text if stored else ""
    label = f"{store.location} version {stored.version_id}" if stored else "(no version yet)"
    after = Path(args.file).read_text(encoding="utf-8")
    lines = list(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), label, args.file
        )
    )
    sys.stdout.writelines(line if line.endswith("\n") else line + "\n" for line in lines)
    return 1 if lines else 0


def cmd_history(args: argparse.Namespace) -> int:
    with _store(args) as store:
        versions = store.history(limit=args.limit)
    if not versions:
        print(f"{store.location} holds no version yet: the functions run the packaged file")
    for version in versions:
        print(
            f"{'*' if version.live else ' '} {version.version_id}  "
            f"{version.modified:%Y-%m-%d %H:%M:%S} UTC  {version.size:>6} B  {version.note}"
        )
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    with _store(args) as store:
        result = store.rollback(args.version)
    print(f"rolled back {store.location}: live now as version {result.version_id}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run one watchlist command; a refused version or an unreachable store is exit 2."""
    try:
        return args.watchlist_func(args)
    except WatchlistError as exc:
        print(f"stormwatch watchlist {args.action}: refused, nothing changed", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
    except (StoreUnavailable, UsageError, ValueError, OSError) as exc:
        print(f"stormwatch watchlist {args.action}: {exc}".replace("\n", " "), file=sys.stderr)
    return 2


def register(sub: argparse._SubParsersAction, default_watchlist: str) -> None:
    """Add `watchlist` and its actions to the `stormwatch` parser."""
    parser = sub.add_parser("watchlist", help="push, pull, diff, history, rollback (live list)")
    actions = parser.add_subparsers(dest="action", required=True)

    def action(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = actions.add_parser(name, help=help_text)
        p.add_argument("--location", help=f"s3://bucket/key (default ${LOCATION_VARIABLE})")
        p.add_argument("--endpoint", help="a local AWS-compatible endpoint instead of AWS")
        p.set_defaults(func=run, watchlist_func=func)
        return p

    push = action("push", cmd_push, "check a file, then make it the live version")
    push.add_argument("file", nargs="?", default=default_watchlist)
    push.add_argument("-m", "--message", help="why (shown by history)")
    pull = action("pull", cmd_pull, "print the live (or --version) version")
    pull.add_argument("--version", help="a version id from history")
    pull.add_argument("-o", "--output", help="write to this file instead of stdout")
    diff = action("diff", cmd_diff, "diff the live (or --version) version against a file")
    diff.add_argument("file", nargs="?", default=default_watchlist)
    diff.add_argument("--version", help="a version id from history")
    history = action("history", cmd_history, "list the versions, newest first (* = live)")
    history.add_argument("--limit", type=int, default=20)
    rollback = action("rollback", cmd_rollback, "make an earlier version live again")
    rollback.add_argument("version", nargs="?", help="default: the one before the live one")
