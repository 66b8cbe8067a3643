"""How big a mention item is, and how many write units it costs, on real recorded responses.

    .venv/bin/python bench/mention_items.py [--demo] [--json]

Parses the real API responses in ../shared/payloads (STORMWATCH_SHARED; skipped with a message
when absent) with the sources' own parsers, scores each mention as the collector does, and
builds its item with stormwatch.codec. `--demo` also takes every mention item the demo cycle
writes (`make demo`'s recordings, invented in the real shapes; about a minute). For each item:
its size as DynamoDB bills it (bench/cost_meter.py) and the write units of one put, in three
layouts — the layout before the codec stopped repeating the key (the sort key
`M#<published>#<source>#<native id>` and the partition key's topic were stored again as
attributes, with the unread `kind`, `author_key` and `collected_at`), the codec without text
compression, and the codec as it is. Counts, not timings.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cost_meter import item_size  # noqa: E402

SHARED = Path(os.environ.get("STORMWATCH_SHARED", REPO.parent / "shared"))
PAYLOADS = SHARED / "payloads"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
COLLECTED = NOW
EXPIRES = int(NOW.timestamp()) + 90 * 86400
Item = dict[str, Any]


def _body(name: str) -> Any:
    data = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data.get("body", data) if isinstance(data, dict) else data


def shared_mentions() -> Iterator[Any]:
    """Every item of the recorded responses that its source's parser accepts, as a Mention."""
    from stormwatch.sources import (
        bluesky,
        github,
        hackernews,
        mastodon,
        reddit,
        stackexchange,
        youtube,
    )
    from stormwatch.sources.rss import FeedSpec, parse_feed

    parsers: list[tuple[str, Callable[[Any], Any], Callable[[Any], list[Any]]]] = [
        ("hn_algolia_search_2026.json", lambda h: hackernews.parse_hit(h, "t"), _hits),
        ("hn_algolia_search_by_date_2014.json", lambda h: hackernews.parse_hit(h, "t"), _hits),
        ("reddit_listing_hot_2026.json", lambda c: reddit.parse_post(c, "t"), _children),
        ("reddit_search_listing_2016.json", lambda c: reddit.parse_post(c, "t"), _children),
        ("mastodon_timelines_tag.json", lambda s: mastodon.parse_status(s, "t", "m.s"), list),
        ("mastodon_public_timeline_anonymous.json", lambda s: mastodon.parse_status(s, "t", "m.s"), list),  # noqa: E501
        ("bluesky_searchPosts.json", lambda p: bluesky.parse_post(p, "t", now=NOW), _posts),
        ("stackexchange_search_advanced.json", lambda i: stackexchange.parse_question(i, "t", "stackoverflow"), _items),  # noqa: E501
        ("github_search_issues.json", lambda i: github.parse_issue(i, "t"), _items),
        ("youtube_videos.json", lambda i: youtube.parse_video(i, "t"), _items),
        ("youtube_commentThreads.json", lambda i: youtube.parse_comment_thread(i, "t"), _items),
    ]  # fmt: skip
    for name, parse, entries in parsers:
        for entry in entries(_body(name)):
            try:
                yield parse(entry)
            except ValueError:
                continue
    feeds = [
        FeedSpec(url="google_news_rss_search.xml", kind="google_news"),
        FeedSpec(url="google_alerts_atom_excerpt.xml", kind="google_alerts"),
    ]
    for spec in feeds:
        content = (PAYLOADS / spec.url).read_bytes()
        mentions, _, _ = parse_feed(content, spec, "t", now=NOW)
        yield from mentions


def _hits(body: Any) -> list[Any]:
    bodies = [entry["reply"] for entry in body] if isinstance(body, list) else [body]
    return [hit for b in bodies for hit in b.get("hits", [])]


def _children(body: Any) -> list[Any]:
    return body["data"]["children"]


def _posts(body: Any) -> list[Any]:
    return body["posts"]


def _items(body: Any) -> list[Any]:
    return body["items"]


def codec_items(mentions: list[Any]) -> list[Item]:
    """Each mention scored and stored as the collector does: its item in DynamoDB JSON."""
    from stormwatch.codec import mention_item
    from stormwatch.collector import scored_for_storage
    from stormwatch.store import _to_ddb
    from stormwatch.watchlist import Topic

    items = []
    for mention in mentions:
        topic = Topic(name=mention.topic, terms=["x"], sources={"hackernews": {}})
        (scored,) = scored_for_storage([mention], topic)
        item = mention_item(scored, expires_at=EXPIRES)
        items.append({k: _to_ddb(v) for k, v in item.items()})
    return items


def demo_items() -> list[Item]:
    """Every mention item the demo cycle puts (DynamoDB JSON), the last put of each key."""
    from stormwatch import runtime
    from stormwatch.cycle import CycleConfig, run_cycle

    seen: dict[tuple[str, str], Item] = {}

    def remember(params: dict[str, Any], **_: Any) -> None:
        item = params.get("Item", {})
        if item.get("sk", {}).get("S", "").startswith("M#"):
            seen[(item["pk"]["S"], item["sk"]["S"])] = item

    def watched(service: str) -> Any:
        client = make_client(service)
        if service == "dynamodb":
            client.meta.events.register("provide-client-params.dynamodb.PutItem", remember)
        return client

    make_client, runtime.aws_client = runtime.aws_client, watched
    try:
        with tempfile.TemporaryDirectory() as out:
            config = CycleConfig.recorded_demo(Path(out))
            run_cycle(config, echo=lambda line: None)
    finally:
        runtime.aws_client = make_client
    return list(seen.values())


def previous_layout(item: Item) -> Item:
    """The item as the codec wrote it before: the key's parts and the unread fields repeated,
    the text plain."""
    from stormwatch.codec import scored_from_item
    from stormwatch.events import deserialize_image
    from stormwatch.store import _to_ddb

    scored = scored_from_item(deserialize_image(item))
    mention = scored.mention
    extra = {
        "kind": "mention",
        "topic": mention.topic,
        "source": mention.source,
        "native_id": mention.native_id,
        "published": item["sk"]["S"].split("#")[1],
        "author_key": mention.author_key,
        "collected_at": COLLECTED.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "text": mention.text or None,
    }
    old = {k: v for k, v in item.items() if k != "text_z"}
    return old | {k: _to_ddb(v) for k, v in extra.items() if v is not None}


def text_plain(item: Item) -> Item:
    """The item with its text stored plain (the codec without compression)."""
    previous = previous_layout(item)
    plain = {k: v for k, v in item.items() if k != "text_z"}
    if "text" in previous:
        plain["text"] = previous["text"]
    return plain


def summary(items: list[Item]) -> dict[str, float]:
    sizes = [item_size(item) for item in items]
    return {
        "items": len(items),
        "over_1_kb": sum(size > 1024 for size in sizes),
        "write_units": sum(max(1, math.ceil(size / 1024)) for size in sizes),
        "mean_bytes": round(sum(sizes) / max(len(sizes), 1), 1),
        "largest_bytes": max(sizes, default=0),
    }


def measure(items: list[Item]) -> dict[str, dict[str, float]]:
    return {
        "previous layout": summary([previous_layout(i) for i in items]),
        "key not repeated, text plain": summary([text_plain(i) for i in items]),
        "codec (text compressed when long)": summary(items),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", action="store_true", help="also the demo cycle's items")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    if PAYLOADS.is_dir():
        results["shared payloads"] = measure(codec_items(list(shared_mentions())))
    else:
        print(f"skipped the shared payloads: {PAYLOADS} not found (set STORMWATCH_SHARED)")
    if args.demo:
        results["demo cycle"] = measure(demo_items())
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for data, layouts in results.items():
        print(f"{data}:")
        for layout, row in layouts.items():
            print(f"  {layout:36s} {json.dumps(row)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
