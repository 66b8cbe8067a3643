"""Feedback closes the loop: what readers said about alerts, summed up for the digest, and used
as labels to replay the detector at each sensitivity (`stormwatch tune`).

Pure. The detector is called only through its public replay (`stormwatch.surge.backtest` with
`settings_for`, what `stormwatch backtest --topic` runs), passed in as `Replay`, so a new
detector behind the same entry point needs no change here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from stormwatch.models import Feedback, Surge, iso, utc
from stormwatch.timeutil import parse_timestamp

SUMMARY_DAYS = 30
# a replayed alarm counts as the labelled alert when it fires this close to it (the live system
# checks every 15 minutes, the replay at the end of each hour)
MATCH_WINDOW = timedelta(hours=3)

# (the topic's hourly points, a sensitivity) -> the times the detector would alarm
Replay = Callable[[Sequence[object], str], list[datetime]]


class FeedbackSummary(BaseModel):
    """ "Alerts in the last 30 days: N — real R, noise X" (the digest)."""

    model_config = ConfigDict(frozen=True)

    alerts: int
    real: int
    noise: int


def labels(feedback: Sequence[Feedback]) -> dict[str, bool]:
    """Per surge (its detection time, ISO): True real storm, False noise. The latest verdict
    that says either wins ("handled" is a real storm; "mute" says neither)."""
    result: dict[str, bool] = {}
    for item in sorted(feedback, key=lambda f: utc(f.at)):
        if item.label is not None:
            result[item.surge] = item.label
    return result


def summarize(surges: Sequence[Surge], feedback: Sequence[Feedback]) -> FeedbackSummary:
    """The alerts (surge items, escalations included: each was sent) and how they were judged."""
    judged = labels(feedback)
    verdicts = [judged.get(iso(s.detected_at)) for s in surges]
    return FeedbackSummary(
        alerts=len(surges),
        real=sum(1 for v in verdicts if v is True),
        noise=sum(1 for v in verdicts if v is False),
    )


class SensitivityResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    sensitivity: str
    alarms: int
    real_kept: list[datetime]
    real_missed: list[datetime]
    noise_dropped: list[datetime]
    noise_kept: list[datetime]


def replay_with_labels(
    points: Sequence[object], judged: dict[str, bool], sensitivities: Sequence[str], replay: Replay
) -> list[SensitivityResult]:
    """For each sensitivity: which labelled real storms the replay still alarms on (kept) and
    which labelled noise it no longer alarms on (dropped)."""
    labelled = [
        (parse_timestamp(k, "judged time", naive_is_utc=True), v) for k, v in judged.items()
    ]
    results = []
    for sensitivity in sensitivities:
        alarms = replay(points, sensitivity)
        fired = {
            when: any(abs(utc(a) - when) <= MATCH_WINDOW for a in alarms) for when, _ in labelled
        }
        real = sorted(when for when, is_real in labelled if is_real)
        noise = sorted(when for when, is_real in labelled if not is_real)
        results.append(
            SensitivityResult(
                sensitivity=sensitivity,
                alarms=len(alarms),
                real_kept=[w for w in real if fired[w]],
                real_missed=[w for w in real if not fired[w]],
                noise_dropped=[w for w in noise if not fired[w]],
                noise_kept=[w for w in noise if fired[w]],
            )
        )
    return results


def recommend(results: Sequence[SensitivityResult], current: str = "balanced") -> SensitivityResult:
    """The sensitivity that keeps the most real storms, then drops the most noise, then raises
    the fewest alarms; a tie keeps the current one. Missing a real storm costs more than any
    amount of noise: that is what the tool is for. Without any labels: the current one."""
    labelled = any(r.real_kept or r.real_missed or r.noise_kept or r.noise_dropped for r in results)
    if not labelled:
        return next((r for r in results if r.sensitivity == current), results[0])
    return max(
        results,
        key=lambda r: (
            len(r.real_kept),
            len(r.noise_dropped),
            -r.alarms,
            r.sensitivity == current,
        ),
    )


def tune_report(topic: str, results: Sequence[SensitivityResult], best: SensitivityResult) -> str:
    """The table `stormwatch tune` prints."""

    def times(values: list[datetime]) -> str:
        return ", ".join(f"{v:%m-%d %H:%M}" for v in values) or "–"

    real = len(best.real_kept) + len(best.real_missed)
    noise = len(best.noise_dropped) + len(best.noise_kept)
    lines = [
        f"Topic {topic}: {real} alert(s) labelled real, {noise} labelled noise (UTC times).",
        "",
        f"{'sensitivity':<12} {'alarms':>6}  {'real kept':<28} {'real missed':<22} "
        f"{'noise dropped':<22} noise still alarmed",
    ]
    for r in results:
        lines.append(
            f"{r.sensitivity:<12} {r.alarms:>6}  {times(r.real_kept):<28} "
            f"{times(r.real_missed):<22} {times(r.noise_dropped):<22} {times(r.noise_kept)}"
        )
    lines += [
        "",
        f"Recommended: alerts.sensitivity: {best.sensitivity} — keeps {len(best.real_kept)} of "
        f"{real} real storm(s), drops {len(best.noise_dropped)} of {noise} noise alert(s).",
    ]
    if real + noise == 0:
        lines.append("No feedback yet: label alerts with the links in them, then run this again.")
    return "\n".join(lines) + "\n"
