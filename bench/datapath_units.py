"""DynamoDB items and request units per mention: the demo cycle, and a steady live day.

    .venv/bin/python bench/datapath_units.py [--json]
    .venv/bin/python bench/datapath_units.py --steady --topics 5 --mentions-per-day 2000
    .venv/bin/python bench/datapath_units.py --storm

Default: runs the demo cycle (`make demo`: embedded moto server, recorded responses, the real
handlers) with a request-unit counter (tests/support/ddb_units.py) on every DynamoDB client
the handlers make. `--steady`: a day of live traffic through the data path alone, in-process
moto: four weeks of history imported and one warm-up batch per topic (not counted), then a
stream batch every 15 minutes with each topic's share of the day's mentions, each mention
stored scored (Store.put_mention), counted (scoring.write_scores) and the topics checked
(scoring.check_surges), as the collect and score handlers do. Prints items written/read and
write/read units per mention. `--storm`: the write units of each hourly-bucket update through
a storm hour (5,000 mentions by 4,000 distinct authors, in the stream's batches of 100) and a
quiet hour (20 mentions, 15 authors). Counts, not timings: the machine's load does not change them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from datetime import timedelta  # noqa: E402

from stormwatch import local, runtime  # noqa: E402
from stormwatch.cycle import DEMO_NOW, CycleConfig, run_cycle  # noqa: E402

from tests.support.ddb_units import Units, attach, detach  # noqa: E402


def measure() -> dict[str, Any]:
    total = Units()
    clients = runtime.aws_client

    def counted_client(service: str) -> Any:
        client = clients(service)
        return attach(client, total) if service == "dynamodb" else client

    runtime.aws_client = counted_client
    with tempfile.TemporaryDirectory() as out:
        config = CycleConfig.recorded_demo(Path(out))
        result = run_cycle(config, echo=lambda line: None)
    runtime.aws_client = clients
    return {
        "mentions": result.scored,
        "score_batches": result.score_batches,
        "items_written": total.items_written,
        "items_read": total.items_read,
        "wru": total.wru,
        "rru": total.rru,
        **total.per(result.scored),
        "calls": total.calls,
    }


BATCHES_PER_DAY = 96  # the fastest collector runs every 15 minutes


def _mentions(topic: str, at: Any, n: int, batch: int) -> list[Any]:
    from datetime import timedelta

    from stormwatch.models import Mention, ScoredMention, Sentiment

    label = ("negative", "neutral", "positive")
    return [
        ScoredMention(
            mention=Mention(
                topic=topic,
                source="hackernews",
                native_id=f"{batch}-{i}",
                published=at - timedelta(minutes=i % 14),
                text=f"{topic} mention {batch} {i} " + "words " * 30,
                author=f"user{(batch * 7 + i) % 400}",
                engagement=i % 9,
                url=f"https://news.example/{batch}/{i}",
            ),
            sentiment=Sentiment(label=label[i % 3], score=0.0, lang="en", terms=("x",)),
            story=f"t:{batch}-{i % 5}",
        )
        for i in range(n)
    ]


def measure_steady(topics: int, mentions_per_day: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws
    from stormwatch.config import load_watchlist
    from stormwatch.scoring import check_surges, write_scores
    from stormwatch.store import Store
    from stormwatch.timeutil import floor_hour
    from stormwatch.watchlist import Watchlist

    from tests.support.fakes import in_stream_order

    first = load_watchlist(local.repo_path("watchlist.yaml")).topics[0]
    names = [f"topic-{i}" for i in range(topics)]
    watchlist = Watchlist(topics=[first.model_copy(update={"name": n}) for n in names])
    start = floor_hour(DEMO_NOW)
    per_batch = max(1, round(mentions_per_day / BATCHES_PER_DAY))
    clock = {"now": start}
    units, sequence, mentions = Units(), 1, 0
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    with mock_aws():
        local.ensure_table("bench")
        client = boto3.client("dynamodb", region_name="eu-central-1")
        store = Store(client, "bench", clock=lambda: clock["now"])
        store.put_baseline_buckets(_history(names, start, per_batch * 4))
        for batch in range(-1, BATCHES_PER_DAY):
            clock["now"] = start + timedelta(minutes=15 * (batch + 1))
            if batch == 0:
                attach(client, units)
            scored = [m for n in names for m in _mentions(n, clock["now"], per_batch, batch)]
            for item in scored:
                store.put_mention(item)
            records = in_stream_order(scored, first=sequence)
            sequence += len(records)
            outcome = write_scores(store, records, now=clock["now"])
            check_surges(store, watchlist, outcome.topics, now=clock["now"])
            mentions += len(scored) if batch >= 0 else 0
    return {
        "topics": topics,
        "mentions": mentions,
        "batches": BATCHES_PER_DAY,
        "items_written": units.items_written,
        "items_read": units.items_read,
        "wru": units.wru,
        "rru": units.rru,
        **units.per(mentions),
        "calls": units.calls,
    }


def _history(names: list[str], start: Any, per_hour: int) -> list[tuple[Any, list[str]]]:
    """Four weeks of hourly buckets per topic whose numbers vary as real hours do (counts
    around `per_hour`, some negative, most authors distinct, engagement summed), seeded: the
    detector state's packed size depends on how varied its numbers are, and a history of one
    repeated count would make it look far smaller than a real one."""
    import random

    from stormwatch.models import HourBucket

    rng = random.Random(12)
    history = []
    for name in names:
        for h in range(1, 28 * 24):
            count = max(1, round(rng.gauss(per_hour, per_hour**0.5 + 1)))
            authors = [f"{name}-{h}-{a}" for a in range(max(1, round(count * 0.85)))]
            bucket = HourBucket(
                topic=name,
                hour=start - timedelta(hours=h),
                count=count,
                negative=sum(rng.random() < 0.2 for _ in range(count)),
                engagement=sum(rng.randrange(40) for _ in range(count)),
                top_author=min(count, 1 + rng.randrange(4)),
            )
            history.append((bucket, authors))
    return history


STREAM_BATCH = 100  # the score function's BatchSize (template.yaml)


def _hour_of_mentions(topic: str, hour: Any, mentions: int, authors: int) -> list[Any]:
    """`mentions` scored mentions spread over one hour by `authors` distinct authors (the
    first ones posting more), each of its own story but for copies in fives."""
    from datetime import timedelta

    from stormwatch.models import Mention, ScoredMention, Sentiment

    label = ("negative", "neutral", "positive")
    return [
        ScoredMention(
            mention=Mention(
                topic=topic,
                source=("hackernews", "reddit", "bluesky", "mastodon", "rss")[i % 5],
                native_id=f"{topic}-{i}",
                published=hour + timedelta(seconds=i * 3600 // mentions),
                text=f"{topic} storm {i}",
                author=f"voice{i % authors}",
                engagement=i % 40,
            ),
            sentiment=Sentiment(label=label[i % 3], score=0.0, lang="en"),
            story=f"t:{i // 5}",
        )
        for i in range(mentions)
    ]


def measure_bucket_updates(mentions: int, authors: int) -> dict[str, Any]:
    """Write units of each bucket update (Store.apply_scores: one read, one conditional put)
    through one hour of `mentions` by `authors` distinct authors, in stream batches of
    STREAM_BATCH. The same calls on any version of the store, so before and after compare."""
    import boto3
    from moto import mock_aws
    from stormwatch.store import Store
    from stormwatch.timeutil import floor_hour

    from tests.support.fakes import in_stream_order

    hour = floor_hour(DEMO_NOW)
    records = in_stream_order(_hour_of_mentions("storm", hour, mentions, authors))
    per_update: list[float] = []
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    with mock_aws():
        local.ensure_table("bench")
        client = boto3.client("dynamodb", region_name="eu-central-1")
        store = Store(client, "bench", clock=lambda: hour + timedelta(hours=1))
        for start in range(0, len(records), STREAM_BATCH):
            units = Units()
            attach(client, units)
            store.apply_scores("storm", hour, records[start : start + STREAM_BATCH])
            detach(client)
            per_update.append(units.wru)
        bucket = store.buckets_between("storm", hour, hour)[0]
    return {
        "mentions": mentions,
        "distinct_authors": authors,
        "bucket_updates": len(per_update),
        "wru_first_update": per_update[0],
        "wru_last_update": per_update[-1],
        "wru_max_update": max(per_update),
        "wru_all_updates": sum(per_update),
        "authors_counted": bucket.authors,
        "stories_counted": bucket.stories,
        "stories_true": len({r.scored.story for r in records}),
    }


def measure_storm() -> dict[str, Any]:
    """A storm hour (5,000 mentions, 4,000 distinct authors) against a quiet one (20 mentions,
    15 authors): write units per bucket update."""
    return {
        "quiet_hour": measure_bucket_updates(20, 15),
        "storm_hour": measure_bucket_updates(5000, 4000),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--steady", action="store_true")
    parser.add_argument("--storm", action="store_true", help="bucket updates: storm vs quiet hour")
    parser.add_argument("--topics", type=int, default=5)
    parser.add_argument("--mentions-per-day", type=int, default=2000)
    args = parser.parse_args()
    if args.storm:
        numbers = measure_storm()
    elif args.steady:
        numbers = measure_steady(args.topics, args.mentions_per_day)
    else:
        numbers = measure()
    print(json.dumps(numbers, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
