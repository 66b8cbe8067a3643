"""Write the demo's backfill recordings: 28 days of history before the demo clock, in the
response shapes of the real APIs, for the requests a backfill makes (demo/recordings/README.md).

Like every demo recording the items are invented (seeded, so the files are reproducible): an
ordinary month of a cloud company and of a railway in the news, with a daily rhythm, a few
complaints among questions, releases and praise. They end where the live recordings begin (one
day before the clock), so the backfill and the live run read different items.

    .venv/bin/python scripts/demo_backfill_recordings.py   # rewrites the files, same content
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # stormwatch.cycle.DEMO_NOW
SINCE = NOW - timedelta(days=28)  # stormwatch.backfill.MAX_DAYS
UNTIL = NOW - timedelta(days=1)  # the live recordings cover the last day
OUT = Path(__file__).resolve().parents[1] / "demo" / "recordings"
JSON = {"Content-Type": "application/json; charset=utf-8"}

ACME_NEUTRAL = [
    "How do I rotate access keys on Acme Cloud without downtime?",
    "Acme Cloud object storage: lifecycle rules for old backups",
    "Moving our staging cluster to Acme Cloud, notes from week one",
    "Acme Cloud pricing for egress compared with the big three",
    "Terraform provider for Acme Cloud now supports load balancers",
    "Acme Cloud region list: is there one in South America?",
    "Running Postgres on Acme Cloud managed databases, a write-up",
    "Acme Cloud CLI 3.2 released with shell completion",
]
ACME_POSITIVE = [
    "Acme Cloud support answered in ten minutes, impressed",
    "Really happy with Acme Cloud's new dashboard, great work",
    "Acme Cloud made our migration painless, thank you",
]
ACME_NEGATIVE = [
    "Acme Cloud console is slow again today, annoying",
    "Billing surprise on Acme Cloud, the invoice doubled",
    "Acme Cloud deploys failing for ten minutes, frustrating",
]
BAHN_NEUTRAL = [
    "Deutsche Bahn stellt neuen Fahrplan für den Winter vor",
    "Deutsche Bahn erweitert das WLAN im Regionalverkehr",
    "Deutsche Bahn baut Bahnhof in Kassel um",
    "Deutsche Bahn: Bauarbeiten auf der Strecke Köln–Frankfurt",
    "Deutsche Bahn meldet mehr Fahrgäste im Oktober",
]
BAHN_POSITIVE = ["Deutsche Bahn: neue ICE-Züge pünktlich und beliebt"]
BAHN_NEGATIVE = [
    "Deutsche Bahn: Verspätungen nach Stellwerksstörung",
    "Ärger über Zugausfälle bei der Deutschen Bahn in Bayern",
]


def _times(rng: random.Random, per_hour: float) -> list[datetime]:
    """Publish times from SINCE to UNTIL, busiest mid-afternoon UTC, newest first."""
    times = []
    hour = SINCE
    while hour < UNTIL:
        rate = per_hour * (1 + 0.6 * math.sin(2 * math.pi * (hour.hour - 9) / 24))
        for _ in range(_poisson(rng, rate)):
            times.append(hour + timedelta(seconds=rng.randrange(1, 3600)))
        hour += timedelta(hours=1)
    return sorted(times, reverse=True)


def _poisson(rng: random.Random, rate: float) -> int:
    count, threshold, product = 0, math.exp(-rate), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _text(rng: random.Random, neutral: list[str], positive: list[str], negative: list[str]) -> str:
    roll = rng.random()
    pool = negative if roll < 0.12 else positive if roll < 0.3 else neutral
    return rng.choice(pool)


def hackernews(rng: random.Random) -> list[dict]:
    hits = []
    for number, at in enumerate(_times(rng, 0.08)):
        title = _text(rng, ACME_NEUTRAL, ACME_POSITIVE, ACME_NEGATIVE)
        story = number % 3 != 0
        object_id = str(46800000 - number)
        hits.append(
            {
                "_tags": ["story" if story else "comment", f"author_user{number % 97}"],
                "author": f"user{number % 97}",
                "created_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "created_at_i": int(at.timestamp()),
                "objectID": object_id,
                "title": title if story else None,
                "url": f"https://blog{number % 13}.example/{object_id}" if story else None,
                "points": rng.randint(1, 40) if story else None,
                "num_comments": rng.randint(0, 12) if story else None,
                "story_title": None if story else "Ask HN: Which cloud for a small team?",
                "comment_text": None if story else f"<p>{title}</p>",
                "story_id": None if story else 46700001,
            }
        )
    return hits


def hn_pages(hits: list[dict], query: str) -> list[dict]:
    per_page = 100
    pages = max(1, math.ceil(len(hits) / per_page))
    return [
        {
            "hits": hits[p * per_page : (p + 1) * per_page],
            "hitsPerPage": per_page,
            "nbHits": len(hits),
            "nbPages": pages,
            "page": p,
            "query": query,
            "exhaustiveNbHits": True,
            "processingTimeMS": 2,
        }
        for p in range(pages)
    ]


def stackexchange(rng: random.Random) -> dict:
    items = []
    for number, at in enumerate(_times(rng, 0.03)):
        title = _text(rng, ACME_NEUTRAL, ACME_POSITIVE, ACME_NEGATIVE)
        question = 80990000 - number
        items.append(
            {
                "tags": ["acme-cloud"],
                "owner": {"user_id": 30000 + number % 41, "display_name": f"dev{number % 41}"},
                "is_answered": number % 2 == 0,
                "view_count": rng.randint(10, 400),
                "answer_count": rng.randint(0, 3),
                "score": rng.randint(0, 8),
                "creation_date": int(at.timestamp()),
                "question_id": question,
                "link": f"https://stackoverflow.com/questions/{question}/acme-cloud",
                "title": title,
                "body": f"<p>{title}. We use the Acme Cloud SDK from Python.</p>",
            }
        )
    return {"items": items, "has_more": False, "quota_max": 10000, "quota_remaining": 9950}


def github(rng: random.Random, kind: str, per_hour: float, first: int) -> dict:
    items = []
    for number, at in enumerate(_times(rng, per_hour)):
        title = _text(rng, ACME_NEUTRAL, ACME_POSITIVE, ACME_NEGATIVE)
        issue = first - number
        html = f"https://github.com/acme-example/acme-cli/{'pull' if kind == 'pr' else 'issues'}"
        item = {
            "html_url": f"{html}/{issue}",
            "id": 3000000000 + issue,
            "number": issue,
            "title": title,
            "user": {"login": f"contributor{number % 29}", "type": "User"},
            "state": "closed" if number % 3 else "open",
            "comments": rng.randint(0, 6),
            "created_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updated_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "body": f"{title} (Acme Cloud CLI)",
            "reactions": {"total_count": rng.randint(0, 5)},
        }
        if kind == "pr":
            item["pull_request"] = {"html_url": f"{html}/{issue}"}
        items.append(item)
    return {"total_count": len(items), "incomplete_results": False, "items": items}


def gdelt(rng: random.Random, per_hour: float, texts: tuple, language: str, country: str) -> dict:
    articles = []
    for number, at in enumerate(_times(rng, per_hour)):
        title = _text(rng, *texts)
        domain = f"news{number % 17}.example"
        articles.append(
            {
                "url": f"https://{domain}/{at:%Y/%m/%d}/{number}",
                "url_mobile": "",
                "title": title,
                "seendate": at.strftime("%Y%m%dT%H%M%SZ"),
                "socialimage": "",
                "domain": domain,
                "language": language,
                "sourcecountry": country,
            }
        )
    return {"articles": articles}


def _entry(url: str, params: dict, body: str, note: str) -> dict:
    return {"url": url, "params": params, "headers": JSON, "body": body, "note": note}


def main() -> None:
    rng = random.Random(20261125)  # noqa: S311 - demo data, not security
    lo, hi = int(SINCE.timestamp()), int(NOW.timestamp())
    window = f"created_at_i>{lo},created_at_i<={hi}"
    files: dict[str, dict] = {}
    entries = []
    hn_url = "https://hn.algolia.com/api/v1/search_by_date"
    for page in hn_pages(hackernews(rng), '"acme cloud"'):
        name = f"hackernews/backfill-acme-cloud-phrase-page{page['page']}.json"
        files[name] = page
        params = {"query": '"acme cloud"', "numericFilters": window, "page": str(page["page"])}
        entries.append(_entry(hn_url, params, name, "acme-cloud backfill, 28 days, phrase search"))
    files["hackernews/backfill-acmecloud-page0.json"] = hn_pages([], "acmecloud")[0]
    params = {"query": "acmecloud", "numericFilters": window, "page": "0"}
    entries.append(_entry(hn_url, params, "hackernews/backfill-acmecloud-page0.json", "none"))

    se_url = "https://api.stackexchange.com/2.3/search/advanced"
    files["stackexchange/backfill-acme-cloud-phrase.json"] = stackexchange(rng)
    files["stackexchange/backfill-empty.json"] = {"items": [], "has_more": False}
    for query, name in (
        ('"acme cloud"', "backfill-acme-cloud-phrase"),
        ("acmecloud", "backfill-empty"),
    ):
        params = {"site": "stackoverflow", "q": query, "todate": str(hi), "page": "1"}
        entries.append(_entry(se_url, params, f"stackexchange/{name}.json", "acme-cloud backfill"))

    gh_url = "https://api.github.com/search/issues"
    overlap = (NOW - timedelta(minutes=10) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    span = f"{(SINCE + timedelta(seconds=1)):%Y-%m-%dT%H:%M:%SZ}..{NOW:%Y-%m-%dT%H:%M:%SZ}"
    files["github/backfill-empty.json"] = {
        "total_count": 0,
        "incomplete_results": False,
        "items": [],
    }
    for kind, rate, first in (("issue", 0.03, 400), ("pr", 0.015, 900)):
        name = f"github/backfill-acme-cloud-{kind}s.json"
        files[name] = github(rng, kind, rate, first)
        q = f'("acme cloud" OR acmecloud) is:{kind} created:'
        entries.append(_entry(gh_url, {"q": q + span, "page": "1"}, name, "backfill"))
        entries.append(
            _entry(
                gh_url,
                {"q": q + overlap + "..*", "page": "1"},
                "github/backfill-empty.json",
                "the backfill step's look at the newest minutes (read live already)",
            )
        )

    gd_url = "https://api.gdeltproject.org/api/v2/doc/doc"
    start = (SINCE + timedelta(seconds=1)).strftime("%Y%m%d%H%M%S")
    acme = (ACME_NEUTRAL, ACME_POSITIVE, ACME_NEGATIVE)
    bahn = (BAHN_NEUTRAL, BAHN_POSITIVE, BAHN_NEGATIVE)
    for topic, query, rate, texts, language, country in (
        (
            "acme-cloud",
            '("acme cloud" OR acmecloud) sourcelang:english',
            0.05,
            acme,
            "English",
            "United States",
        ),
        (
            "deutsche-bahn",
            '("deutsche bahn" OR "db navigator" OR bahnstreik) sourcelang:german',
            0.1,
            bahn,
            "German",
            "Germany",
        ),
    ):
        name = f"gdelt/backfill-artlist-{topic}.json"
        files[name] = gdelt(rng, rate, texts, language, country)
        params = {"mode": "ArtList", "query": query, "startdatetime": start}
        entries.append(_entry(gd_url, params, name, f"{topic} backfill, 28 days"))

    for name, body in files.items():
        (OUT / name).write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", "utf-8")
    index = {
        "about": "The backfill's 28 days before the demo clock (scripts/demo_backfill_recordings.py"
        "; invented items in real response shapes). Format: README.md.",
        "recordings": entries,
    }
    (OUT / "index.backfill.json").write_text(json.dumps(index, indent=2) + "\n", "utf-8")
    print(f"wrote {len(files)} bodies and {len(entries)} entries to {OUT}")


if __name__ == "__main__":
    main()
