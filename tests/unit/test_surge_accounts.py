"""Who carries a surge: one account, a wandering tone, one story over several hours.

All series are synthetic and seeded (no network, no ../shared needed).
"""

from __future__ import annotations

import random
from datetime import timedelta

from stormwatch.surge import Point, assess, evaluate, settings_for
from test_surge import HOUR, daily_rate, quiet_history

# The hour-to-hour wander of a topic's tone: the share of negative mentions of an hour is
# drawn from a Beta with mean 0.15 and concentration 200 (sd about 0.025), as in
# bench/surge_inject.py.
USUAL_SHARE = 0.15
CONCENTRATION = 200.0


def wandering_tone_history(seed: int = 11) -> list[Point]:
    """Quiet traffic whose negative share wanders from hour to hour (beta-binomial)."""
    rng = random.Random(seed)
    a = USUAL_SHARE * CONCENTRATION
    out = []
    for p in quiet_history(seed=seed):
        share = rng.betavariate(a, CONCENTRATION - a)
        negative = rng.binomialvariate(int(p.count), share) if p.count else 0
        out.append(Point(p.time, p.count, negative, p.authors, p.engagement))
    return out


def test_given_a_wandering_tone_when_a_news_spike_is_a_little_more_negative_then_it_stays_watch():
    # Given a topic whose negative share wanders by a few points from hour to hour, and an
    # hour of news at 15x the usual volume, many authors, its share 5.5 points above usual:
    # within the tone's ordinary wander, although very unlikely for independent mentions
    history = wandering_tone_history()
    t = history[-1].time + HOUR
    n = round(15 * daily_rate(t.hour, 100.0))
    spike = Point(t, n, round(0.205 * n), round(0.9 * n), 3.0 * n)
    # When evaluated at the end of that hour
    a = assess([*history, spike], t + timedelta(minutes=59), settings_for())
    # Then the volume alarm stays at watch: the tone of a busy hour wanders as much as any
    assert a.tier == "watch"
    assert any("not significantly above usual" in r for r in a.evidence.reasons)


def test_given_a_wandering_tone_when_a_busy_hour_turns_clearly_negative_then_it_warns():
    # Given the same topic and a busy hour whose share rose from 15 % to 40 %, many authors
    history = wandering_tone_history()
    t = history[-1].time + HOUR
    n = round(4 * daily_rate(t.hour, 100.0))
    storm = Point(t, n, round(0.4 * n), round(0.9 * n), 3.0 * n)
    # When evaluated
    a = assess([*history, storm], t + timedelta(minutes=59), settings_for())
    # Then it is at least a warning: the shift is far beyond the tone's wander
    assert a.tier in ("warning", "firestorm")


def one_account_in_busy_news(history: list[Point], top_author_count: int = 0) -> Point:
    """Ordinary news at 5x usual (authors slightly more diverse than usual, tone 2 points up)
    and one account adding a usual hour's worth of mentions, 90 % negative."""
    t = history[-1].time + HOUR
    usual = daily_rate(t.hour, 100.0)
    ordinary, burst = round(5 * usual), round(usual)
    return Point(
        time=t,
        count=ordinary + burst,
        negative=round(0.17 * ordinary + 0.9 * burst),
        authors=round(0.95 * ordinary) + 1,
        engagement=3.0 * ordinary,
        top_author_count=top_author_count,
    )


def test_given_one_account_in_busy_news_when_authors_are_counted_then_it_stays_watch():
    # Given an open watch episode, and an hour of busy diverse news in which one account
    # posts a usual hour's worth of negative mentions (the busiest author is not known)
    history = quiet_history()
    bucket = one_account_in_busy_news(history)
    now = bucket.time + timedelta(minutes=55)
    # When evaluated
    a = assess([*history, bucket], now, settings_for())
    # Then the rise in negative share does not hold without the mentions the window's
    # authors do not account for: watch, and the reason says so
    assert a.tier == "watch"
    assert any("without their own author" in r for r in a.evidence.reasons)


def test_given_one_account_in_busy_news_when_its_count_is_known_then_it_stays_watch():
    # Given the same hour, with the busiest author's count known (the account)
    history = quiet_history()
    usual = round(daily_rate((history[-1].time + HOUR).hour, 100.0))
    bucket = one_account_in_busy_news(history, top_author_count=usual)
    # When evaluated
    a = assess([*history, bucket], bucket.time + timedelta(minutes=55), settings_for())
    # Then without that one account the share is not significantly up: watch
    assert a.tier == "watch"
    assert a.evidence.top_author_count == usual
    assert any("one account" in r for r in a.evidence.reasons)


def test_given_one_account_writing_most_of_the_extra_when_known_then_it_stays_watch():
    # Given a small rise (2.5x) whose extra mentions are mostly one account's, negative, and
    # enough other authors that the distinct-author count alone does not show it
    history = quiet_history()
    t = history[-1].time + HOUR
    usual = daily_rate(t.hour, 100.0)
    n = round(2.5 * usual)
    account = round(0.9 * (n - usual))
    negative = round(0.15 * usual + 0.9 * account)
    bucket = Point(t, n, negative, round(0.9 * n), 3.0 * n, top_author_count=account)
    # When evaluated
    a = assess([*history, bucket], t + timedelta(minutes=59), settings_for())
    # Then one account wrote most of the extra: watch, with its share in the evidence
    assert a.tier == "watch"
    assert a.evidence.top_author_share >= 0.5


def test_given_a_diverse_negative_storm_with_a_busy_fan_account_then_it_still_warns():
    # Given a storm at 4x usual, 45 % negative, many authors, whose busiest author wrote 3 %
    history = quiet_history()
    t = history[-1].time + HOUR
    n = round(4 * daily_rate(t.hour, 100.0))
    storm = Point(t, n, round(0.45 * n), round(0.9 * n), 6.0 * n, top_author_count=n // 33)
    # When evaluated
    alarm = evaluate([*history, storm], t + timedelta(minutes=59), settings_for())
    # Then the one busy account does not hold it: warning or firestorm
    assert alarm is not None
    assert alarm.tier in ("warning", "firestorm")


def test_given_one_story_copied_for_three_hours_when_the_sustained_window_fires_then_held():
    # Given three hours in a row at 2.5x usual, 50 % negative, each hour one story copied
    # many times (the same press release running on)
    history = quiet_history()
    hours = []
    for _ in range(3):
        t = (hours or history)[-1].time + HOUR
        n = round(2.5 * daily_rate(t.hour, 100.0))
        hours.append(Point(t, n, round(0.5 * n), round(0.9 * n), 3.0 * n, stories=1))
    now = hours[-1].time + timedelta(minutes=59)
    # When evaluated at the end of the third hour
    a = assess([*history, *hours], now, settings_for())
    # Then whichever window fired, "one story, many copies" holds it at watch
    assert a.tier == "watch"
    assert a.evidence.held_by_stories in ("warning", "firestorm")
    assert a.evidence.stories == 1
