"""The benchmark's own arithmetic and its promise to touch only its region of benchmarks.md."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import sentiment_accuracy as bench


def test_metrics_on_a_hand_checked_example():
    # Given 6 gold labels and predictions with known per-class counts
    gold = ["negative", "negative", "neutral", "neutral", "positive", "positive"]
    pred = ["negative", "neutral", "neutral", "neutral", "negative", "positive"]
    # When the metrics are computed
    m = bench.metrics(gold, pred)
    # Then they match the hand computation
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["neg_precision"] == pytest.approx(1 / 2)
    assert m["neg_recall"] == pytest.approx(1 / 2)
    assert m["macro_recall"] == pytest.approx((0.5 + 1 + 0.5) / 3)
    f1_neg, f1_neu, f1_pos = 0.5, 2 * (2 / 3) * 1 / (2 / 3 + 1), 2 * 1 * 0.5 / 1.5
    assert m["macro_f1"] == pytest.approx((f1_neg + f1_neu + f1_pos) / 3)


def test_write_region_replaces_only_the_sentiment_region(tmp_path):
    # Given a benchmarks page with three owners' regions
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\n<!-- sentiment:start -->\nold\n<!-- sentiment:end -->\n\n"
        "<!-- surge:start -->\nsurge table\n<!-- surge:end -->\n",
        encoding="utf-8",
    )
    # When the sentiment benchmark writes its section
    bench.write_region("new table", doc)
    # Then only its region changed
    text = doc.read_text(encoding="utf-8")
    assert "<!-- sentiment:start -->\nnew table\n<!-- sentiment:end -->" in text
    assert "old" not in text
    assert "<!-- surge:start -->\nsurge table\n<!-- surge:end -->" in text
    assert text.startswith("# Benchmarks\n")


def test_target_line_says_by_how_much_a_target_is_missed():
    assert bench.target_line("x ≥ 0.65", 0.61, 0.65) == "| x ≥ 0.65 | 0.610 | no (short by 0.040) |"
    assert bench.target_line("size", 2.5, 20, fmt="{:.2f} MB", higher=False).endswith("| yes |")


def test_benchmark_skips_with_a_message_without_shared_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STORMWATCH_SHARED", str(tmp_path / "nowhere"))
    assert bench.main(["--no-write"]) == 0
    assert "SKIP" in capsys.readouterr().out
