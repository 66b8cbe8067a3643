"""Feedback as labels: the digest's summary, the replay per sensitivity, the recommendation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stormwatch.feedback import (
    labels,
    recommend,
    replay_with_labels,
    summarize,
    tune_report,
)
from stormwatch.models import Feedback, Surge, iso

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
REAL, NOISE = T0, T0 + timedelta(days=3)


def said(when: datetime, verdict: str, minutes: int = 0) -> Feedback:
    return Feedback(
        topic="acme", surge=iso(when), verdict=verdict, at=T0 + timedelta(minutes=minutes)
    )


def surge(when: datetime) -> Surge:
    return Surge(
        topic="acme",
        detected_at=when,
        tier="warning",
        observed=1,
        expected=1,
        score=1,
        threshold=1,
        negative_share=0.5,
        usual_negative_share=0.1,
    )


def test_the_latest_verdict_that_says_real_or_noise_wins():
    # Given a reader who said noise, then another who said handled, then someone muted
    feedback = [said(REAL, "noise", 1), said(REAL, "handled", 2), said(REAL, "mute", 3)]
    # Then the surge counts as a real storm (mute says nothing about it)
    assert labels(feedback) == {iso(REAL): True}


def test_the_summary_counts_alerts_and_how_they_were_judged():
    surges = [surge(REAL), surge(NOISE), surge(T0 + timedelta(days=5))]
    summary = summarize(surges, [said(REAL, "real"), said(NOISE, "noise")])
    assert (summary.alerts, summary.real, summary.noise) == (3, 1, 1)


def fake_replay(points, sensitivity):
    """ "more" alarms on both, "balanced" only on the real storm, "fewer" on nothing."""
    return {
        "more": [REAL + timedelta(hours=1), NOISE - timedelta(hours=2)],
        "balanced": [REAL + timedelta(minutes=45)],
        "fewer": [],
    }[sensitivity]


def test_each_sensitivity_says_which_real_storms_it_keeps_and_which_noise_it_drops():
    judged = {iso(REAL): True, iso(NOISE): False}
    results = replay_with_labels([], judged, ("fewer", "balanced", "more"), fake_replay)
    by_name = {r.sensitivity: r for r in results}
    assert by_name["more"].real_kept == [REAL] and by_name["more"].noise_kept == [NOISE]
    assert by_name["balanced"].real_kept == [REAL] and by_name["balanced"].noise_dropped == [NOISE]
    assert by_name["fewer"].real_missed == [REAL]
    # Then the recommendation keeps every real storm and drops the noise
    best = recommend(results)
    assert best.sensitivity == "balanced"
    report = tune_report("acme", results, best)
    assert "Recommended: alerts.sensitivity: balanced" in report
    assert "keeps 1 of 1 real storm(s), drops 1 of 1 noise" in report


def test_keeping_a_real_storm_outweighs_dropping_noise():
    judged = {iso(REAL): True, iso(NOISE): False}
    results = replay_with_labels([], judged, ("fewer", "more"), fake_replay)
    assert recommend(results, current="fewer").sensitivity == "more"


def test_without_feedback_the_current_sensitivity_stays_and_the_report_says_why():
    results = replay_with_labels([], {}, ("fewer", "balanced", "more"), fake_replay)
    best = recommend(results, current="balanced")
    assert best.sensitivity == "balanced"
    assert "No feedback yet" in tune_report("acme", results, best)
