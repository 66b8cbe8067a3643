"""Sentiment accuracy and speed on public labelled data, written to docs/benchmarks.md.

    python bench/sentiment_accuracy.py [--no-write] [--quick]

For every data set and every analyzer (TextBlob, VADER, textblob-de where it is installed, and
stormwatch's trained models) it prints accuracy, macro-F1, macro-recall, negative precision and
recall and the time per text; then the language-detection accuracy on mixed English/German short
texts, the import and first-call times, the throughput and the model size; then it rewrites only
the region between ``<!-- sentiment:start -->`` and ``<!-- sentiment:end -->`` of
docs/benchmarks.md. It skips with a message when ``../shared/data/sentiment`` is absent.

No number comes from data the model was trained or tuned on; every row names its split.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import langid_model
import sentiment_data as data

DOC = data.REPO / "docs/benchmarks.md"
START, END = "<!-- sentiment:start -->", "<!-- sentiment:end -->"
MODELS = data.REPO / "layers/common/stormwatch/sentiment/models"
LABELS = data.LABELS

TARGETS = [
    # (description, data set, analyzer, metric, threshold)
    ("TweetEval test macro-recall ≥ 0.65", "tweeteval-test", "stormwatch", "macro_recall", 0.65),
    ("TweetEval test negative recall ≥ 0.70", "tweeteval-test", "stormwatch", "neg_recall", 0.70),
    ("PotTS test macro-F1 ≥ 0.70", "potts-test", "stormwatch", "macro_f1", 0.70),
]


# ---------------------------------------------------------------- analyzers


def textblob_en() -> Callable[[str], str]:
    from textblob import TextBlob

    def run(text: str) -> str:
        p = TextBlob(text).sentiment.polarity
        return "positive" if p > 0 else "negative" if p < 0 else "neutral"

    return run


def vader_en() -> Callable[[str], str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()

    def run(text: str) -> str:
        c = sia.polarity_scores(text)["compound"]
        return "positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral"

    return run


def textblob_de() -> Callable[[str], str] | None:
    """textblob-de 0.4.3, if installed; shimmed for textblob >= 0.18, which dropped the
    ``translate`` and ``compat`` modules it imports, and run with its pattern tokenizer because
    NLTK's punkt data cannot be downloaded here. Sentiment uses its German Polarity Lexicon."""
    import importlib.util
    import types

    if importlib.util.find_spec("textblob_de") is None:
        return None
    if "textblob.translate" not in sys.modules:
        translate = types.ModuleType("textblob.translate")
        translate.Translator = type("Translator", (), {})
        sys.modules["textblob.translate"] = translate
    if "textblob.compat" not in sys.modules:
        compat = types.ModuleType("textblob.compat")

        def with_metaclass(meta, *bases):
            class Meta(meta):
                def __new__(cls, name, this_bases, d):
                    return meta(name, bases, d)

            return type.__new__(Meta, "temporary_class", (), {})

        compat.with_metaclass = with_metaclass
        compat.basestring = compat.unicode = compat.text_type = str
        compat.string_types = (str,)
        compat.PY2 = False
        compat.implements_to_string = lambda x: x
        sys.modules["textblob.compat"] = compat
    try:
        from textblob_de import PatternTokenizer, TextBlobDE
    except ImportError as exc:
        print(f"textblob-de not usable: {exc}")
        return None
    tokenizer = PatternTokenizer()

    def run(text: str) -> str:
        p = TextBlobDE(text, tokenizer=tokenizer).sentiment.polarity
        return "positive" if p > 0 else "negative" if p < 0 else "neutral"

    return run


def stormwatch(lang: str | None) -> Callable[[str], str]:
    from stormwatch.sentiment import analyze, get_analyzer

    if lang is None:
        return lambda text: analyze(text).label
    analyzer = get_analyzer(lang)
    return lambda text: analyzer.analyze(text).label


# ---------------------------------------------------------------- metrics


def metrics(gold: list[str], pred: list[str]) -> dict[str, float]:
    out = {"accuracy": sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)}
    recalls, f1s = [], []
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        npred, ngold = pred.count(label), gold.count(label)
        prec = tp / npred if npred else 0.0
        rec = tp / ngold if ngold else 0.0
        recalls.append(rec)
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
        if label == "negative":
            out["neg_precision"], out["neg_recall"] = prec, rec
    out["macro_recall"] = sum(recalls) / 3
    out["macro_f1"] = sum(f1s) / 3
    return out


def timed(run: Callable[[str], str], texts: list[str]) -> tuple[list[str], float]:
    t0 = time.process_time()
    pred = [run(t) for t in texts]
    return pred, (time.process_time() - t0) / len(texts) * 1e6


# ---------------------------------------------------------------- sections


def accuracy_rows(quick: bool) -> list[dict]:
    en_sets = [
        (data.tweeteval("test"), "test split; never trained or tuned on"),
        (data.vader_tweets(), "whole set; never trained or tuned on (other domain)"),
        (data.sxsw_brands(), "whole set; never trained or tuned on (other domain)"),
    ]
    de_sets = [
        (data.potts("test"), "test split; never trained or tuned on"),
        (
            data.germeval_dev(),
            "trained on by the shipped de model: its numbers here are NOT held out "
            "(see the held-out rows below)",
        ),
    ]
    de_meta = model_meta("de")
    if not any("GermEval" in t for t in de_meta.get("trained_on", [])):
        de_sets[1] = (de_sets[1][0], "whole set; never trained or tuned on (other domain)")
    rows = []
    analyzers_en = [
        ("TextBlob", textblob_en()),
        ("VADER", vader_en()),
        ("stormwatch", stormwatch("en")),
    ]
    tb_de = textblob_de()
    analyzers_de = ([("textblob-de", tb_de)] if tb_de else []) + [("stormwatch", stormwatch("de"))]
    for sets, analyzers in ((en_sets, analyzers_en), (de_sets, analyzers_de)):
        for split, note in sets:
            texts, gold = split.texts, split.labels
            if quick:
                texts, gold = texts[:500], gold[:500]
            for name, run in analyzers:
                pred, us = timed(run, texts)
                rows.append(row(split, note, name, gold, pred, us))
                print(fmt_row(rows[-1]))
            if split.name == "tweeteval-test":
                rob = data.roberta_tweeteval_test()[: len(gold)]
                rows.append(row(split, note, "RoBERTa (published predictions)", gold, rob, None))
                print(fmt_row(rows[-1]))
    return rows


def row(split, note, name, gold, pred, us) -> dict:
    return {
        "set": split.name,
        "lang": split.lang,
        "n": len(gold),
        "split": note,
        "analyzer": name,
        **metrics(gold, pred),
        "us_per_text": us,
    }


def fmt_row(r: dict) -> str:
    us = "-" if r["us_per_text"] is None else f"{r['us_per_text']:.0f}µs"
    return (
        f"{r['set']:<18} {r['analyzer']:<32} acc {r['accuracy']:.3f}  F1 {r['macro_f1']:.3f}  "
        f"R {r['macro_recall']:.3f}  negP {r['neg_precision']:.3f}  "
        f"negR {r['neg_recall']:.3f}  {us}"
    )


def model_meta(lang: str) -> dict:
    path = MODELS / f"{lang}.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8")).get("meta", {})


def langid_rows(quick: bool) -> list[dict]:
    """Routing per language on splits the language-ID model was not trained on, by length."""
    from stormwatch.sentiment import detect_language

    sets = langid_model.evaluation_sets()
    if quick:
        sets = {name: (lang, texts[:300]) for name, (lang, texts) in sets.items()}
    t0 = time.process_time()
    rows = langid_model.routing(detect_language, sets)
    n = sum(r["n"] for r in rows)
    for r in rows:
        r["us"] = (time.process_time() - t0) / n * 1e6
        cut = "as posted" if r["cut"] is None else f"first {r['cut']} words"
        print(f"langid {r['set']:<18} {cut:<14} right {r['right']:.3f} und {r['unknown']:.3f}")
    return rows


UMSAB_LANGS = ("fr", "it", "es", "pt", "ar")


def umsab_lines() -> list[str]:
    """French, Italian, Spanish, Portuguese, Arabic: the held-out numbers the training wrote."""
    lines = [
        "",
        "### French, Italian, Spanish, Portuguese, Arabic (UMSAB)",
        "",
        "Written by `bench/train_sentiment.py` into each model's metadata: C, character n-grams "
        "and the decision bias were chosen by 5-fold cross-validation on the UMSAB train split "
        "(1,839 tweets); *val* is the UMSAB validation split (324 tweets) scored by a model "
        "fitted on train only, so never trained or tuned on; *CV* is the 5-fold held-out score "
        "on train before the bias. The shipped model is then refitted on train + val. The UMSAB "
        "test splits are kept aside and never read.",
        "",
        "| language | split | accuracy | macro-F1 | macro-recall | neg P | neg R |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for lang in UMSAB_LANGS:
        for name, m in model_meta(lang).get("heldout", {}).items():
            lines.append(
                f"| {lang} | {name} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} "
                f"| {m['macro_recall']:.3f} | {m['neg_precision']:.3f} | {m['neg_recall']:.3f} |"
            )
    return lines


def langid_lines(rows: list[dict]) -> list[str]:
    lines = [
        "",
        "### Language detection: share routed to the right model",
        "",
        "Sets the language-ID model was not trained on (`bench/langid_model.py`): TweetEval val "
        "(en), UMSAB val of each language (its German val is left out of the German training "
        "text), PotTS dev and GermEval-2017 dev (de). *und*: the text could not be placed and is "
        "left unscored. Romanised Hindi (UMSAB hi) has no model: it should not land on one, but "
        "mostly reads as English (code-mixed).",
        "",
        "| set | language | n | as posted | first 5 words | first 3 words | und (as posted) "
        "| most frequent wrong (as posted) |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    by_set: dict[str, dict] = {}
    for r in rows:
        by_set.setdefault(r["set"], {})[r["cut"]] = r
    for name, cuts in by_set.items():
        full = cuts[None]
        lines.append(
            f"| {name} | {full['lang']} | {full['n']} | {full['right']:.3f} "
            f"| {cuts[5]['right']:.3f} | {cuts[3]['right']:.3f} | {full['unknown']:.3f} "
            f"| {full['top_wrong'] or '–'} |"
        )
    if rows:
        lines += [
            "",
            f"Detection costs {rows[0]['us']:.0f} µs per text (CPU time, averaged over these "
            "rows, each word's first sight included).",
        ]
    return lines


def speed() -> dict:
    """Import time, first-call time, warm throughput (one core) and model size."""
    code = (
        "import time, json\n"
        "import stormwatch.models\n"
        "t0 = time.process_time()\n"
        "import stormwatch.sentiment as s\n"
        "t1 = time.process_time()\n"
        "s.analyze('hello world, what a lovely day', 'en')\n"
        "t2 = time.process_time()\n"
        "s.analyze('hallo welt, was für ein schöner tag', 'de')\n"
        "t3 = time.process_time()\n"
        "s.detect_language('hallo welt')\n"
        "t4 = time.process_time()\n"
        "print(json.dumps({'import': t1 - t0, 'first_en': t2 - t1, 'first_de': t3 - t2,"
        " 'first_detect': t4 - t3}))\n"
    )
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    out = {k: sorted(r[k] for r in runs)[len(runs) // 2] for k in runs[0]}
    from stormwatch.sentiment import analyze, get_analyzer

    texts = data.tweeteval("test").texts
    analyzer = get_analyzer("en")
    for t in texts[:2000]:
        analyzer.analyze(t)
    t0 = time.process_time()
    for t in texts:
        analyzer.analyze(t)
    out["texts_per_s_en"] = len(texts) / (time.process_time() - t0)
    analyzer_de = get_analyzer("de")
    for key, de_texts in (
        ("texts_per_s_de", data.potts("test").texts),
        ("texts_per_s_de_long", data.germeval_dev().texts),
    ):
        for t in de_texts:
            analyzer_de.analyze(t)
        t0 = time.process_time()
        for t in de_texts:
            analyzer_de.analyze(t)
        out[key] = len(de_texts) / (time.process_time() - t0)
        out[key.replace("texts_per_s", "chars")] = sum(map(len, de_texts)) / len(de_texts)
    out["chars_en"] = sum(map(len, texts)) / len(texts)
    others = []
    for lang in UMSAB_LANGS:
        tweets = data.umsab(lang, "val").texts
        others += tweets
        analyzer_x = get_analyzer(lang)
        for t in tweets:
            analyzer_x.analyze(t)
        t0 = time.process_time()
        for _ in range(3):
            for t in tweets:
                analyzer_x.analyze(t)
        out[f"texts_per_s_{lang}"] = 3 * len(tweets) / (time.process_time() - t0)
    de_texts = data.potts("test").texts + data.germeval_dev().texts
    mixed = texts[:5000] + de_texts + others
    t0 = time.process_time()
    for t in mixed:
        analyze(t)
    out["texts_per_s_auto"] = len(mixed) / (time.process_time() - t0)
    out["model_bytes"] = sum(p.stat().st_size for p in MODELS.glob("*") if p.is_file())
    out["model_files"] = {p.name: p.stat().st_size for p in sorted(MODELS.glob("*")) if p.is_file()}
    print(json.dumps(out, indent=1))
    return out


# ---------------------------------------------------------------- markdown


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def find(rows, set_name, analyzer, metric):
    for r in rows:
        if r["set"] == set_name and r["analyzer"] == analyzer:
            return r[metric]
    return None


def render(rows: list[dict], lang_rows: list[dict], sp: dict, quick: bool) -> str:
    today = dt.date.today().isoformat()
    en_meta, de_meta = model_meta("en"), model_meta("de")
    lines = [
        "## Sentiment accuracy",
        "",
        f"Written by `bench/sentiment_accuracy.py` on {today}; machine: {machine()}."
        + (" **Quick run (first 500 texts per set): not for quoting.**" if quick else ""),
        "Labels: negative / neutral / positive (PotTS `mixed` rows left out). Metrics: accuracy, "
        "macro-F1, macro-averaged recall, precision and recall of *negative*, time per text "
        "(CPU time of one process, so other load on the machine does not inflate it; warm caches). "
        "The stormwatch rows use the language the data set is in; the "
        "RoBERTa row is the published model's test predictions, for reference.",
        "",
        "Splits: the English model was trained on the SemEval 2013-2016 pool minus TweetEval val "
        "and tuned (C, decision bias) on TweetEval val; the German model was trained on "
        + "; ".join(de_meta.get("trained_on", ["?"]))
        + "; tuned: "
        + de_meta.get("tuned_on", "?")
        + ". Test sets below were never used for training or tuning unless the row says so.",
        "",
        "| data set | n | split | analyzer | accuracy | macro-F1 | macro-recall | neg P | neg R "
        "| µs/text |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        us = "–" if r["us_per_text"] is None else f"{r['us_per_text']:.0f}"
        name = f"**{r['analyzer']}**" if r["analyzer"] == "stormwatch" else r["analyzer"]
        lines.append(
            f"| {r['set']} | {r['n']} | {r['split']} | {name} | {r['accuracy']:.3f} "
            f"| {r['macro_f1']:.3f} | {r['macro_recall']:.3f} | {r['neg_precision']:.3f} "
            f"| {r['neg_recall']:.3f} | {us} |"
        )
    heldout = de_meta.get("heldout", {})
    if heldout:
        lines += [
            "",
            "German held-out numbers computed by `bench/train_sentiment.py` (the shipped model "
            "trains on these sets, so they come from models that did not see the rows scored):",
            "",
            "| data set, how held out | accuracy | macro-F1 | macro-recall | neg P | neg R |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, m in heldout.items():
            lines.append(
                f"| {name} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {m['macro_recall']:.3f} "
                f"| {m['neg_precision']:.3f} | {m['neg_recall']:.3f} |"
            )
    if en_meta.get("dev_metrics") or de_meta.get("dev_metrics"):
        lines += ["", "Dev-split numbers (tuned on, so optimistic; shown for transparency): "]
        for lang, meta in (("en", en_meta), ("de", de_meta)):
            m = meta.get("dev_metrics")
            if m:
                lines[-1] += (
                    f"{lang} ({meta.get('tuned_on', '').split(':')[0]}) macro-F1 "
                    f"{m['macro_f1']:.3f}, macro-recall {m['macro_recall']:.3f}, neg R "
                    f"{m['neg_recall']:.3f}. "
                )
    lines += umsab_lines() + langid_lines(lang_rows)
    files = ", ".join(f"`{k}` {v / 1e6:.2f} MB" for k, v in sp["model_files"].items())
    lines += [
        "",
        "### Speed and size",
        "",
        f"- import of `stormwatch.sentiment` (after `stormwatch.models`): "
        f"{sp['import'] * 1000:.1f} ms CPU time (median of 5 fresh interpreters)",
        f"- first call, English (loads weights): {sp['first_en'] * 1000:.0f} ms; German: "
        f"{sp['first_de'] * 1000:.0f} ms; first language detection: "
        f"{sp['first_detect'] * 1000:.0f} ms",
        f"- throughput on one core (CPU time), warm: English tweets "
        f"{sp['texts_per_s_en']:,.0f} texts/s (TweetEval test, {sp['chars_en']:.0f} chars on "
        f"average), German tweets {sp['texts_per_s_de']:,.0f} texts/s (PotTS test, "
        f"{sp['chars_de']:.0f} chars), German feedback and news "
        f"{sp['texts_per_s_de_long']:,.0f} texts/s (GermEval-2017 dev, "
        f"{sp['chars_de_long']:.0f} chars); "
        + ", ".join(f"{lang} {sp[f'texts_per_s_{lang}']:,.0f}" for lang in UMSAB_LANGS)
        + " texts/s (UMSAB val tweets); with language detection on a mix of all "
        f"{sp['texts_per_s_auto']:,.0f} texts/s",
        f"- model files: {sp['model_bytes'] / 1e6:.2f} MB in total ({files})",
        "",
        "### Targets (issues 4 and 14)",
        "",
        "| target | measured | met? |",
        "|---|---:|---|",
    ]
    for desc, set_name, analyzer, metric, threshold in TARGETS:
        value = find(rows, set_name, analyzer, metric)
        lines.append(target_line(desc, value, threshold))
    lines += issue14_targets(heldout, lang_rows, sp)
    lines.append(
        target_line("added import time ≤ 0.15 s", sp["import"], 0.15, fmt="{:.3f} s", higher=False)
    )
    lines.append(
        target_line(
            "model files ≤ 20 MB", sp["model_bytes"] / 1e6, 20, fmt="{:.2f} MB", higher=False
        )
    )
    lines += ["", *SHORTFALLS]
    return "\n".join(lines)


# why the missed targets are missed (see docs/sentiment.md); kept beside the table it explains
SHORTFALLS = [
    "Where targets are missed, and why:",
    "",
    "- *TweetEval test macro-recall.* A bag-of-words linear model is at its limit here: TweetEval "
    "test (2017 tweets, many political) differs from the 2013-2016 training pool (its negative "
    "share is 32 % against 16 %), and the negative-leaning decision bias that buys the negative "
    "recall costs neutral recall. Every setting was chosen on TweetEval val (macro-recall 0.709 "
    "there); closing the gap to RoBERTa needs a contextual model, which does not fit a few "
    "megabytes and tens of microseconds per text.",
    "- *PotTS test macro-F1.* About 15,000 German training texts (of which 2,584 are Deutsche "
    "Bahn feedback) are too few for 0.70 with word features. Since the German model is "
    "calibrated to customer feedback (GermEval rows weigh 6 tweets, the bias is chosen on "
    "GermEval), PotTS test dropped from 0.616 to 0.601: tweets are no longer what it is tuned "
    "for.",
    "- *GermEval-2017 (customer feedback).* Tweets do not teach the vocabulary of rail-customer "
    "feedback and news, and 2,584 in-domain texts are few: the nested held-out number (0.517 / "
    "0.712, from 0.446 before the calibration) is short of 0.55 / 0.72. The GermEval weight was "
    "picked among 3, 6 and 10 on this same held-out number, so it is mildly optimistic.",
    "- *fr, it, pt on UMSAB val.* 1,839 training tweets per language and no sentiment lexicon: "
    "the models are just above the TF-IDF baselines the issue quotes for the tests; the "
    "training tweets are about politics and TV, so customer-service words are weakly learnt.",
    "- *Throughput with detection.* Measured on a machine shared with five other engineers "
    "(load 4-10): English alone ran 6,730 texts/s here against 20,000 on the idle machine on "
    "2026-11-26, so every speed on this page is about 3x low. The mix also holds 2,584 "
    "GermEval texts of 524 characters on average and sees every word for the first time; on "
    "tweets only, language detection plus scoring ran at 4,361 texts/s warm (0.72x English "
    "alone).",
    "- The textblob-de rows run textblob-de 0.4.3 with two small import shims (textblob ≥ 0.18 "
    "dropped modules it imports) and its pattern tokenizer (NLTK's punkt data is not "
    "downloadable here); its numbers match the ones published for it (0.60 / 0.33).",
]


# issue 14's targets are on kept-aside tests judged outside the repository; these are the
# nearest numbers measured here (validation splits, held-out folds), named as such
UMSAB_TARGETS = {"fr": 0.61, "it": 0.61, "es": 0.57, "pt": 0.63}


def issue14_targets(heldout: dict, lang_rows: list[dict], sp: dict) -> list[str]:
    lines = []
    ge = next((m for k, m in heldout.items() if k.startswith("germeval2017-dev, 5-fold")), None)
    if ge:
        lines.append(
            target_line(
                "GermEval-2017 dev held out (test: kept aside) macro-F1 ≥ 0.55",
                ge["macro_f1"],
                0.55,
            )
        )
        lines.append(
            target_line(
                "GermEval-2017 dev held out (test: kept aside) accuracy ≥ 0.72",
                ge["accuracy"],
                0.72,
            )
        )
    for lang, goal in UMSAB_TARGETS.items():
        val = next((m for k, m in model_meta(lang).get("heldout", {}).items() if "val" in k), None)
        desc = f"{lang} UMSAB val macro-F1 ≥ {goal} (the target is on the kept-aside test)"
        lines.append(target_line(desc, val["macro_f1"] if val else None, goal))
    for r in lang_rows:
        if r["cut"] is None and r["lang"] in ("en", "de", "fr", "it", "es", "pt"):
            lines.append(target_line(f"{r['set']} routed to {r['lang']} ≥ 0.95", r["right"], 0.95))
    lines.append(
        target_line(
            "throughput ≥ 5,000 texts/s per core, all languages, with detection",
            sp["texts_per_s_auto"],
            5_000,
            fmt="{:,.0f}",
        )
    )
    return lines


def target_line(desc, value, threshold, fmt="{:.3f}", higher=True) -> str:
    if value is None:
        return f"| {desc} | not measured | – |"
    ok = value >= threshold if higher else value <= threshold
    gap = "" if ok else f" (short by {fmt.format(abs(value - threshold))})"
    return f"| {desc} | {fmt.format(value)} | {'yes' if ok else 'no' + gap} |"


def write_region(body: str, doc: Path = DOC) -> None:
    """Replace only the text between the sentiment markers of ``doc``; append them if absent."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else f"{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{START}\n{body}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--quick", action="store_true", help="500 texts per set (smoke run)")
    args = parser.parse_args(argv)
    if data.shared_root() is None:
        print(
            "SKIP: labelled sentiment data not found at ../shared/data/sentiment "
            "(set STORMWATCH_SHARED); nothing measured"
        )
        return 0
    rows = accuracy_rows(args.quick)
    lang_rows = langid_rows(args.quick)
    sp = speed()
    body = render(rows, lang_rows, sp, args.quick)
    if args.no_write:
        print(body)
    else:
        write_region(body)
        print(f"wrote the sentiment region of {DOC.relative_to(data.REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
