"""`stormwatch tune --topic`: the detector replayed over stored history, feedback as labels."""

from __future__ import annotations

from datetime import timedelta

from stormwatch.backtest import read_topic_points
from stormwatch.links import LinkSigner
from stormwatch.models import iso
from stormwatch.store import Store
from stormwatch.tune import detector_replay, tune_topic

from tests.integration.test_backtest_topic import START, SURGE, store_history

SIGNER = LinkSigner("k" * 48)


def test_tune_keeps_the_storm_readers_called_real_and_recommends_a_sensitivity(table, dynamodb):
    # Given two weeks of stored history with one loud negative hour, which the detector alarms
    # on at the balanced sensitivity, and a reader who marked that alert a real storm
    store_history(table, dynamodb)
    until = START + timedelta(days=15)
    store = Store(dynamodb, table, clock=lambda: until)
    points = read_topic_points("acme-cloud", table=table, client=dynamodb, days=15, until=until)
    fired = [a for a in detector_replay(points, "balanced") if abs(a - SURGE) <= timedelta(hours=3)]
    assert fired, "the fixture's surge should alarm at the balanced sensitivity"
    subject = iso(fired[0])
    claims = SIGNER.verify(
        SIGNER.issue("real", "acme-cloud", subject, now=until), "real", now=until
    )
    store.record_feedback(claims, at=until, mute_until=None)
    # When tune replays every sensitivity with that label
    report = tune_topic("acme-cloud", client=dynamodb, table=table, days=15, until=until)
    # Then each sensitivity is listed and the recommendation keeps the real storm
    for sensitivity in ("fewer", "balanced", "more"):
        assert f"\n{sensitivity} " in report
    assert "1 alert(s) labelled real" in report
    assert "keeps 1 of 1 real storm(s)" in report
