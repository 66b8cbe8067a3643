"""The `stormwatch` command: run, demo, backfill, invoke, preview, check, sentiment, backtest,
watchlist, tune, serve, cost."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from stormwatch import local
from stormwatch.backfill import MAX_DAYS as BACKFILL_DAYS


class UsageError(Exception):
    """A problem with what the command was given, told in one line (exit code 2)."""


def _checked_watchlist(args: argparse.Namespace) -> None:
    """Validate the watchlist before anything runs: a bad one stops the command with its
    problems (WatchlistError), not with a handler's traceback halfway through."""
    from stormwatch.config import load_watchlist

    load_watchlist(args.watchlist)


def _read_event(path: str) -> dict[str, Any]:
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(event, dict):
        raise UsageError(f"{path}: an event must be a JSON object")
    return event


def _check_event(function: str, event: dict[str, Any], path: str) -> None:
    """What the function's own model would refuse, refused here in one line before anything
    runs (stream records are the batch processor's to report, one by one)."""
    from pydantic import ValidationError

    from stormwatch.events import CollectEvent, DigestEvent
    from stormwatch.sources import FACTORIES

    if function == "score" or "Records" in event:
        if not isinstance(event.get("Records"), list):
            raise UsageError(f"{path}: the {function} function takes stream records ('Records')")
        return
    model = CollectEvent if function in ("dispatch", "collect") else DigestEvent
    try:
        request = model.model_validate(event)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "(event)"
        raise UsageError(f"{path}: field '{field}': {error['msg']}") from None
    if isinstance(request, CollectEvent) and request.source not in FACTORIES:
        known = ", ".join(sorted(FACTORIES))
        raise UsageError(f"{path}: unknown source {request.source!r} (known: {known})")


def _cycle_config(args: argparse.Namespace, *, demo: bool):
    from stormwatch.cycle import DEMO_NOW, CycleConfig

    _checked_watchlist(args)
    config = CycleConfig(
        watchlist_path=Path(args.watchlist),
        templates_dir=local.repo_path("templates"),
        out_dir=Path(args.out),
        endpoint=getattr(args, "endpoint", None),
    )
    if getattr(args, "table", None):
        config.table_name = args.table
    if getattr(args, "sender", None):
        config.sender = args.sender
    if demo:
        config.replay_dir = local.repo_path("demo", "recordings")
        config.clock = lambda: DEMO_NOW
    return config


def cmd_demo(args: argparse.Namespace) -> int:
    from stormwatch.cycle import DEMO_NOW, run_cycle

    print(
        "stormwatch demo — offline replay of recorded responses, "
        f"clock fixed at {DEMO_NOW:%Y-%m-%d %H:%M} UTC"
    )
    result = run_cycle(_cycle_config(args, demo=True))
    return _finish(result)


def cmd_run(args: argparse.Namespace) -> int:
    from stormwatch.cycle import run_cycle

    print("stormwatch run — one live cycle (collect → score → report)")
    result = run_cycle(_cycle_config(args, demo=False))
    return _finish(result)


def _backfill_days(value: str) -> int:
    days = int(value) if value.strip().isdigit() else 0
    if not 1 <= days <= BACKFILL_DAYS:
        raise argparse.ArgumentTypeError(
            f"{value!r}: give whole days from 1 to {BACKFILL_DAYS} (the detector's baseline)"
        )
    return days


def cmd_backfill(args: argparse.Namespace) -> int:
    """One cycle that asks the topic's sources for its past days, then scores and reports."""
    from stormwatch.config import WatchlistError, load_watchlist
    from stormwatch.cycle import run_cycle

    try:
        known = [t.name for t in load_watchlist(args.watchlist).topics]
    except WatchlistError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.topic not in known:
        topics = ", ".join(known)
        print(f"no topic {args.topic!r} in {args.watchlist} (topics: {topics})", file=sys.stderr)
        return 2
    config = _cycle_config(args, demo=args.replay)
    config.topic, config.backfill_days = args.topic, args.days
    config.sources = [args.source] if args.source else None
    print(
        f"stormwatch backfill — {args.days} past day(s) of {args.topic!r} from every source "
        "that can search its history (continues on later runs if it does not fit)"
    )
    result = run_cycle(config)
    return _finish(result)


def _finish(result: Any) -> int:
    accepted = result.ses_accepted
    sent = sum(1 for d in result.deliveries if not d["repeat"] and d["channel"] == "email")
    chat = sum(1 for d in result.deliveries if not d["repeat"] and d["channel"] != "email")
    print(
        f"done in {result.seconds:.1f} s: {sum(c['new'] for c in result.collected)} new mentions, "
        f"{result.scored} scored, {len(result.surges)} surge(s), {sent} e-mail(s) and "
        f"{chat} chat/webhook/SMS message(s) sent"
        + (f", {accepted} accepted by SES on the endpoint" if accepted >= 0 else "")
    )
    for failure in result.failures:
        print(f"problem: {failure}", file=sys.stderr)
    return 1 if result.failures else 0


def cmd_invoke(args: argparse.Namespace) -> int:
    """Run one handler with an event file, like `sam local invoke -e`, without Docker."""
    from stormwatch.cycle import CycleConfig, wire_handlers, write_channels

    event = _read_event(args.event)
    _check_event(args.function, event, args.event)
    config = _cycle_config(args, demo=args.replay)
    if not args.replay:
        config = CycleConfig(
            watchlist_path=config.watchlist_path,
            templates_dir=config.templates_dir,
            out_dir=config.out_dir,
            endpoint=args.endpoint,
        )
    with local.aws_endpoint(args.endpoint), local.ChannelReceiver() as receiver:
        local.ensure_table(config.table_name)
        local.ensure_sender(config.sender)
        wired = wire_handlers(config, receiver.url)
        if "Records" in event:
            local.put_stream_images(event, config.table_name)
        response: Any
        if args.function == "collect" and "Records" not in event:
            # a schedule's input: dispatch, then collect the queued tasks, as in AWS
            response = wired["collect"](event)
        else:
            handler = wired["handlers"][args.function]
            response = handler.lambda_handler(
                event, local.FakeLambdaContext(f"stormwatch-{args.function}")
            )
        files = local.write_emails(wired["rendered"], config.out_dir)
        sms = local.sms_accepted() if args.endpoint is None else []
        files += write_channels(receiver.requests, sms, config.out_dir / "channels")[0]
    print(json.dumps(response, indent=2, default=str))
    for path in files:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from stormwatch.config import load_watchlist, run_examples, watchlist_warnings

    watchlist = load_watchlist(args.watchlist)
    for warning in watchlist_warnings(watchlist, args.watchlist):
        print(warning, file=sys.stderr)
    results = run_examples(watchlist.topics)
    failed = [r for r in results if not r.ok]
    for topic in watchlist.topics:
        print(
            f"✓ {topic.name}: sources {', '.join(topic.sources.enabled()) or 'none'}; digest "
            f"{topic.digest.hour:02d}:00 {topic.digest.timezone} to "
            f"{len(topic.digest.recipients)} recipient(s)"
        )
    for result in failed:
        expectation = (
            "should match but does not" if result.expected else "should not match but does"
        )
        print(f"✗ {result.topic}: {expectation}: {result.text!r}", file=sys.stderr)
    print(
        f"{args.watchlist}: {len(watchlist.topics)} topic(s), "
        f"{len(results) - len(failed)}/{len(results)} examples pass"
    )
    return 1 if failed else 0


def cmd_sentiment(args: argparse.Namespace, rest: list[str]) -> int:
    from stormwatch.sentiment import run_cli

    return run_cli(rest, sys.stdin, sys.stdout)


def cmd_preview(args: argparse.Namespace) -> int:
    """Render the digest or alert e-mails to out/ (no sending) and print their paths."""
    from stormwatch.preview import PreviewError, run_preview

    _checked_watchlist(args)
    try:
        preview = run_preview(
            args.kind,
            watchlist_path=Path(args.watchlist),
            templates_dir=local.repo_path("templates"),
            out_dir=Path(args.out),
            topic=args.topic,
            lang=args.lang,
            endpoint=args.endpoint,
            table=args.table,
        )
    except PreviewError as exc:
        if exc.usage:  # what was asked for does not exist: the caller's mistake, like a typo
            raise UsageError(str(exc)) from None
        print(f"nothing to preview: {exc}", file=sys.stderr)
        return 1
    for note in preview.notes:
        print(f"note: {note}", file=sys.stderr)
    for path in preview.files:
        print(path)
    return 0


def cmd_backtest(args: argparse.Namespace, rest: list[str]) -> int:
    from stormwatch.backtest import run_cli

    return run_cli(rest, sys.stdout, sys.stderr)


def cmd_serve(args: argparse.Namespace) -> int:
    """The web function on 127.0.0.1 over the demo data on the embedded endpoint."""
    from stormwatch.models import iso
    from stormwatch.serve import demo_links, demo_web

    print("stormwatch serve — the demo cycle into an embedded endpoint, then the web function")
    with demo_web(_cycle_config(args, demo=True), args.port) as (server, surges):
        links = demo_links(server.url)
        print(f"• serving on {server.url} (Ctrl-C stops)")
        for surge in surges:
            for action in ("storm", "real", "noise", "handled", "mute"):
                url = links.url(action, surge.topic, iso(surge.detected_at), now=server.app.clock())
                print(f"• {surge.topic} {surge.tier} {action:<8} {url}")
        try:
            server.serve_until_interrupted()
        except KeyboardInterrupt:
            print("stopped")
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    import boto3

    from stormwatch.backtest import DEFAULT_TABLE, BacktestInputError
    from stormwatch.tune import tune_topic

    client = boto3.client("dynamodb", endpoint_url=args.endpoint) if args.endpoint else None
    try:
        report = tune_topic(
            args.topic,
            client=client or boto3.client("dynamodb"),
            table=args.table or DEFAULT_TABLE,
            days=args.days,
        )
    except BacktestInputError as exc:
        print(f"stormwatch tune: error: {exc}", file=sys.stderr)
        return 2
    print(report, end="")
    return 0


def cmd_cost(args: argparse.Namespace) -> int:
    """The watchlist's monthly AWS cost from the unit costs bench/cost.py measured."""
    from stormwatch import cost, template_facts
    from stormwatch.config import load_watchlist

    watchlist = load_watchlist(args.watchlist)
    template = template_facts.load_template(local.repo_path("template.yaml"))
    per_source, other = template_facts.runs_per_day(template_facts.functions(template))
    if args.mentions_per_day < 0:
        raise UsageError("--mentions-per-day must not be negative")
    try:
        units = cost.load_units(Path(args.units) if args.units else None)
        shape = cost.shape_of(
            [topic.sources.enabled() for topic in watchlist.topics],
            per_source,
            other,
            mentions_per_topic_per_day=args.mentions_per_day,
            retention_days=int(template_facts.parameter_default(template, "RetentionDays")),
        )
    except (OSError, ValueError) as exc:
        raise UsageError(f"stormwatch cost: {exc}") from None
    result = cost.estimate(shape, units)
    if args.json:
        print(json.dumps({"monthly_usd": round(result.total, 2), **result.model_dump()}, indent=2))
    else:
        print(cost.explain(shape, units, result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stormwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    default_watchlist = str(local.repo_path("watchlist.yaml"))

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--watchlist", default=default_watchlist, help="watchlist file")
        p.add_argument("--out", default="out", help="where rendered e-mails are written")

    demo = sub.add_parser("demo", help="one full cycle offline, from recorded responses")
    common(demo)
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="one full live cycle against an embedded AWS endpoint")
    common(run)
    run.add_argument("--endpoint", help="use this AWS-compatible endpoint instead of moto")
    run.add_argument("--table", help="table name (default stormwatch-local)")
    run.add_argument("--sender", help="sender address known to the endpoint's SES")
    run.set_defaults(func=cmd_run)

    backfill = sub.add_parser(
        "backfill", help="fetch a topic's past days from every source that can search history"
    )
    common(backfill)
    backfill.add_argument("--topic", required=True, help="the topic's name in the watchlist")
    backfill.add_argument(
        "--days", type=_backfill_days, default=BACKFILL_DAYS, help=f"1 to {BACKFILL_DAYS}"
    )
    backfill.add_argument("--source", help="one source only (default: every source of the topic)")
    backfill.add_argument("--endpoint", help="use this AWS-compatible endpoint instead of moto")
    backfill.add_argument("--table", help="table name (default stormwatch-local)")
    backfill.add_argument(
        "--replay", action="store_true", help="serve HTTP from demo/recordings (offline)"
    )
    backfill.set_defaults(func=cmd_backfill)

    invoke = sub.add_parser("invoke", help="run one handler with an event (like sam local invoke)")
    common(invoke)
    invoke.add_argument("function", choices=["dispatch", "collect", "score", "report"])
    invoke.add_argument("event", help="event JSON, e.g. events/collect_hackernews.json")
    invoke.add_argument("--endpoint", help="use this AWS-compatible endpoint instead of moto")
    invoke.add_argument(
        "--replay",
        action="store_true",
        help="serve HTTP from demo/recordings with the demo clock (offline)",
    )
    invoke.set_defaults(func=cmd_invoke)

    preview = sub.add_parser(
        "preview", help="render the digest or alert to out/ from the demo data or a store"
    )
    common(preview)
    preview.add_argument("kind", choices=["digest", "alert"])
    preview.add_argument("--topic", help="one topic (default: every topic)")
    preview.add_argument("--lang", choices=["en", "de"], help="language (default: the topic's)")
    preview.add_argument("--endpoint", help="read this endpoint's table instead of the demo data")
    preview.add_argument("--table", help="table name (default stormwatch-local)")
    preview.set_defaults(func=cmd_preview)

    check = sub.add_parser("check", help="validate the watchlist and run its match examples")
    check.add_argument("watchlist", nargs="?", default=default_watchlist)
    check.set_defaults(func=cmd_check)

    sentiment = sub.add_parser(
        "sentiment", add_help=False, help="score text lines from stdin: [--lang CODE|auto]"
    )
    sentiment.set_defaults(func=cmd_sentiment, passthrough=True)
    backtest = sub.add_parser(
        "backtest",
        add_help=False,
        help="replay the surge detector over a CSV series or a topic's stored history (--topic)",
    )
    backtest.set_defaults(func=cmd_backtest, passthrough=True)
    serve = sub.add_parser(
        "serve", help="run the web function (storm page, feedback) on 127.0.0.1 over the demo data"
    )
    common(serve)
    serve.add_argument("--port", type=int, default=8765)
    serve.set_defaults(func=cmd_serve)
    from stormwatch import watchlist_cli

    watchlist_cli.register(sub, default_watchlist)
    tune = sub.add_parser(
        "tune", help="replay the detector with the readers' feedback as labels; recommend one"
    )
    tune.add_argument("--topic", required=True)
    tune.add_argument("--endpoint", help="AWS-compatible endpoint URL holding the table")
    tune.add_argument("--table", help="table name (default stormwatch-local)")
    tune.add_argument("--days", type=int, default=35, help="days of stored history and feedback")
    tune.set_defaults(func=cmd_tune)
    cost = sub.add_parser("cost", help="estimate the watchlist's monthly AWS cost")
    cost.add_argument("watchlist", nargs="?", default=default_watchlist)
    cost.add_argument(
        "--mentions-per-day", type=float, default=2000, help="per topic (default 2,000)"
    )
    cost.add_argument("--units", help="unit costs JSON (default: the last bench/cost.py run)")
    cost.add_argument("--json", action="store_true")
    cost.set_defaults(func=cmd_cost)
    return parser


def main(argv: list[str] | None = None) -> int:
    from stormwatch.config import WatchlistError

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        # sentiment and backtest own their options; hand them everything after the sub-command
        if argv and argv[0] in ("sentiment", "backtest"):
            args = parser.parse_args(argv[:1])
            return args.func(args, argv[1:])
        args = parser.parse_args(argv)
        return args.func(args)
    except WatchlistError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`stormwatch backtest --json | head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
