"""The whole cycle over real HTTP against an embedded moto server (loopback only).

collect (replayed responses) → DynamoDB → stream → score → surge item → stream → alert → digest,
through the real handlers, exactly as `stormwatch demo` runs it.
"""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest
from stormwatch import local
from stormwatch.backtest import read_topic_points
from stormwatch.config import load_watchlist
from stormwatch.cycle import DEMO_NOW, CycleConfig, run_cycle
from stormwatch.scoring import check_topic, incomplete_from
from stormwatch.store import Store
from stormwatch.surge import backtest, settings_for

pytestmark = [pytest.mark.server, pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    config = CycleConfig.recorded_demo(out)
    lines: list[str] = []
    result = run_cycle(config, echo=lines.append)
    return result, lines, out


def test_demo_cycle_collects_scores_and_mails_without_failures(demo_run):
    # Given the shipped watchlist and the recorded responses
    result, lines, _ = demo_run
    # Then every source ran, mentions went through the stream into the scorer, and nothing failed
    assert result.failures == []
    assert {c["topic"] for c in result.collected} == {"acme-cloud", "deutsche-bahn"}
    assert all(c["ok"] for c in result.collected)
    new = sum(c["new"] for c in result.collected)
    assert new > 20 and result.scored == new
    # And the near misses that the fuzzy source returned were rejected locally
    assert sum(c["not_matching"] for c in result.collected) > 0
    # And the summary says what happened per step
    assert any(line.startswith("• collect hackernews") for line in lines)
    assert any(line.startswith("• score") for line in lines)


def test_the_demo_backfills_its_history_from_recordings_instead_of_inventing_buckets(demo_run):
    # Given the demo's fresh store: every topic is new to every source
    result, lines, out = demo_run
    # Then each source that can search its history read the 28 days before the clock from the
    # recorded responses, in one step, and nothing was seeded
    steps = [c for c in result.collected if c["backfill"]]
    assert {(c["source"], c["topic"]) for c in steps} == {
        ("bluesky", "acme-cloud"),
        ("gdelt", "acme-cloud"),
        ("gdelt", "deutsche-bahn"),
        ("github", "acme-cloud"),
        ("hackernews", "acme-cloud"),
        ("mastodon", "acme-cloud"),
        ("mastodon", "deutsche-bahn"),
        ("stackexchange", "acme-cloud"),
        ("youtube", "acme-cloud"),
    }
    assert all(c["backfill_done"] for c in steps)
    # (the Bluesky, Mastodon and YouTube recordings hold only their newest page: nothing new)
    newest_only = ("bluesky", "mastodon", "youtube")
    assert all(c["new"] > 0 for c in steps if c["source"] not in newest_only)
    assert not any("synthetic" in line or "seeded" in line for line in lines)
    # And the digest says where its baseline came from, and averages the backfilled days
    digest = (out / "digest-acme-cloud-2026-11-25.txt").read_text(encoding="utf-8")
    assert (
        "Baseline: 28 days from backfill: bluesky, gdelt, github, hackernews, mastodon, "
        "stackexchange, youtube (no history: reddit, rss)"
    ) in digest
    assert "vs. 7-day average" in digest


def test_demo_outage_burst_raises_one_alert_for_acme_cloud(demo_run):
    # Given the recorded burst of AcmeCloud outage complaints on top of a quiet baseline
    result, _, _ = demo_run
    # Then exactly one surge episode is raised, for acme-cloud, and its alert is mailed
    assert [s["topic"] for s in result.surges] == ["acme-cloud"]
    alerts = [d for d in result.deliveries if d["kind"] == "alert" and d["channel"] == "email"]
    assert len(alerts) == 1 and alerts[0]["topic"] == "acme-cloud"
    # and goes to each chat, webhook and SMS channel of the demo watchlist once
    chat = [d for d in result.deliveries if d["channel"] != "email"]
    assert sorted(d["channel"] for d in chat if d["kind"] == "alert") == [
        "slack",
        "sms",
        "teams",
        "webhook",
    ]
    # and Slack, which asked for it, gets the digest's summary too
    assert [d["channel"] for d in chat if d["kind"] == "digest"] == ["slack"]


def test_the_demo_writes_what_each_channel_received_under_out_channels(demo_run):
    # Given the demo's alert delivered to Slack, Teams and the webhook on the local receiver
    # and to SMS on the embedded SNS
    result, _, out = demo_run
    channels = out / "channels"
    # Then each channel's messages are written: the alert everywhere, the digest summary to Slack
    assert result.channels_received == {"slack": 2, "sms": 1, "teams": 1, "webhook": 1}
    alert, digest = json.loads((channels / "slack.json").read_text())
    assert alert["blocks"][0]["type"] == "header" and "FIRESTORM" in alert["text"]
    assert digest["text"] == "Daily digest: AcmeCloud"
    teams = json.loads((channels / "teams.json").read_text())[0]
    assert teams["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    # And the webhook arrived signed, with its headers, and the signature verifies
    webhook = json.loads((channels / "webhook.json").read_text())[0]
    assert webhook["signature_valid"] is True
    assert webhook["headers"]["Stormwatch-Signature"].startswith("t=")
    assert webhook["body"]["type"] == "surge.alert" and webhook["body"]["version"] == "1"
    # And the text message is one short line naming the tier and the topic
    (line,) = (channels / "sms.txt").read_text().splitlines()
    assert line.startswith("+447700900123: [stormwatch] FIRESTORM: AcmeCloud")
    assert len(line.split(": ", 1)[1]) <= 160


def test_each_topic_gets_a_digest_accepted_by_ses_and_written_to_out(demo_run):
    result, _, out = demo_run
    digests = [d for d in result.deliveries if d["kind"] == "digest" and d["channel"] == "email"]
    assert sorted(d["topic"] for d in digests) == ["acme-cloud", "deutsche-bahn"]
    # SES on the endpoint accepted every e-mail the cycle sent
    assert result.ses_accepted == sum(1 for d in result.deliveries if d["channel"] == "email")
    # And both parts of each digest are in out/, with real mentions from the replay
    for topic in ("acme-cloud", "deutsche-bahn"):
        html = next(out.glob(f"digest-{topic}-*.html")).read_text()
        text = next(out.glob(f"digest-{topic}-*.txt")).read_text()
        assert "<html" in html.lower() and len(text) > 200
    german = next(out.glob("digest-deutsche-bahn-*.txt")).read_text()
    assert "Erwähnungen" in german


def test_hostile_mention_text_is_inert_in_every_email(demo_run):
    # Given the recordings contain a <script> mention with a javascript: link
    _, _, out = demo_run
    for path in out.glob("*.html"):
        html = path.read_text().lower()
        if path.name.startswith("storm-"):
            # the storm page (a web page, not an e-mail) runs exactly one script: our own,
            # which its CSP allows by hash; the mention's <script> is text there too
            html = html.replace("<script>(function(){", "", 1)
        # Then no e-mail or page carries active content of a mention or a non-http link
        assert "<script" not in html
        assert "javascript:" not in html


def test_backtest_replaying_the_demo_buckets_yields_the_surges_the_live_run_wrote(tmp_path):
    # Given the demo run live against an endpoint that stays up after the cycle
    with local.aws_endpoint(None) as endpoint:
        config = CycleConfig(
            watchlist_path=local.repo_path("watchlist.yaml"),
            templates_dir=local.repo_path("templates"),
            out_dir=tmp_path,
            endpoint=endpoint,
            replay_dir=local.repo_path("demo", "recordings"),
            clock=lambda: DEMO_NOW,
        )
        run_cycle(config, echo=lambda _: None)
        client = boto3.client("dynamodb", endpoint_url=endpoint)
        store = Store(client, config.table_name)
        watchlist = load_watchlist(config.watchlist_path)
        for topic in watchlist.topics:
            live = store.surges_between(topic.name, DEMO_NOW - timedelta(days=28), DEMO_NOW)
            # When `stormwatch backtest --topic` replays the stored buckets up to the live run,
            # evaluating at the instant the live run evaluated
            points = read_topic_points(topic.name, client=client, until=DEMO_NOW)
            settings = settings_for(
                topic.alerts.sensitivity,
                min_count=topic.alerts.min_count,
                cooldown_hours=topic.alerts.cooldown_hours,
            )
            replayed = backtest(points, settings, since=DEMO_NOW)
            # Then it makes the decisions the live run made
            assert [(a.time, a.tier) for a in replayed] == [
                (s.detected_at, s.tier) for s in live
            ], topic.name
            # And the live check on the same stored buckets (the live surge was written after
            # the first of several score batches, before all buckets were complete) shows the
            # same numbers and evidence as the replay
            rerun = check_topic(_BeforeAnySurge(store), topic, now=DEMO_NOW)
            assert [(a.score, a.threshold) for a in replayed] == (
                [(rerun.score, rerun.threshold)] if rerun else []
            )
            live_only = {
                "top_terms",
                "sources",
                "failing_sources",
                "failing_since",
                "baseline_coverage",
            }
            if _failing_marks_only_the_open_hour(store, topic):
                # a source failing at the live instant (e.g. a replay slowed past its deadline
                # on a loaded machine) that never succeeded in this hour marks only the open
                # hour incomplete, which the replay does not read (it would look quiet);
                # hours before it the replay marks from the checkpoints, as live
                live_only.add("complete")
            for alarm in replayed:
                assert alarm.evidence.model_dump(exclude=live_only) == rerun.evidence.model_dump(
                    exclude=live_only
                )


def _failing_marks_only_the_open_hour(store: Store, topic) -> bool:
    checkpoints = store.checkpoints(topic.name, topic.sources.enabled())
    failing = [c for c in checkpoints if c.consecutive_failures]
    open_hour = DEMO_NOW.replace(minute=0, second=0, microsecond=0)
    return bool(failing) and incomplete_from(failing, DEMO_NOW) == open_hour


class _BeforeAnySurge:
    """The store as the live check saw it before the cycle wrote its first surge."""

    def __init__(self, store: Store):
        self._store = store

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def latest_surge(self, topic: str, since):
        return None


def test_the_demo_writes_the_storm_page_and_its_csv_one_row_per_mention(demo_run):
    # Given the demo's acme-cloud surge
    _, _, out = demo_run
    html = (out / "storm-acme-cloud.html").read_text(encoding="utf-8")
    rows = (out / "storm-acme-cloud.csv").read_text(encoding="utf-8").splitlines()
    # Then the page lists every mention of the episode, and the CSV has the same, one a row
    assert rows[0].startswith("published_utc,source,author,sentiment")
    assert html.count("<tr><td>") == len(rows) - 1 > 20
    # and the alert e-mail links to the storm page and the feedback actions
    alert = next(out.glob("alert-acme-cloud-*.txt")).read_text(encoding="utf-8")
    for action in ("storm", "real", "noise", "handled", "mute"):
        assert f"http://127.0.0.1:8765/{action}?t=v1." in alert
