"""Loaders for the public labelled sentiment sets in ``../shared/data/sentiment``.

The data is never copied into the repository: every loader reads it from ``$STORMWATCH_SHARED``
(default: ``../shared`` beside the repository root). :func:`shared_root` returns ``None`` when
it is absent so callers can skip with a message.

Splits (see docs/sentiment.md):

* English training pool: SemEval 2013-2016 task 4A minus the rows that are TweetEval's val split.
* English dev (tuning): TweetEval val. English test (reporting only): TweetEval test.
* English extra tests (never trained or tuned on): VADER's human-rated tweets, SXSW brand tweets.
* German training: PotTS outside its dev and test splits, SB-10k, optionally GermEval-2017 dev.
* German dev (tuning): PotTS dev. German test (reporting only): PotTS test; GermEval-2017 dev
  when it is not trained on.

PotTS ``mixed`` rows are left out everywhere: the task is three-class.
"""

from __future__ import annotations

import csv
import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LABELS = ("negative", "neutral", "positive")
csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class Split:
    name: str
    lang: str
    texts: list[str]
    labels: list[str]
    note: str = ""

    def __len__(self) -> int:
        return len(self.texts)


def shared_root() -> Path | None:
    root = Path(os.environ.get("STORMWATCH_SHARED") or REPO.parent / "shared")
    data = root / "data" / "sentiment"
    return data if data.is_dir() else None


def _data() -> Path:
    data = shared_root()
    if data is None:
        raise FileNotFoundError(
            "labelled sentiment data not found: "
            "set STORMWATCH_SHARED or put shared/ beside the repo"
        )
    return data


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


# ---------------------------------------------------------------- English


def semeval_pool(include_tweeteval_val: bool = False) -> Split:
    rows = _rows(_data() / "en/semeval2017_task4A/semeval_2013-2016_task4A_train_dedup.tsv")
    header, body = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    texts, labels = [], []
    for row in body:
        if row[col["in_tweeteval_val"]] == "1" and not include_tweeteval_val:
            continue
        texts.append(row[col["text"]])
        labels.append(row[col["label"]])
    note = "SemEval 2013-2016 4A pool" + ("" if include_tweeteval_val else " minus TweetEval val")
    return Split("semeval-pool", "en", texts, labels, note)


def tweeteval(split: str) -> Split:
    base = _data() / "en/tweeteval"
    texts = (base / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = [
        LABELS[int(x)] for x in (base / f"{split}_labels.txt").read_text().split() if x.strip()
    ]
    assert len(texts) == len(labels), (split, len(texts), len(labels))
    return Split(f"tweeteval-{split}", "en", texts, labels, f"TweetEval {split}")


def roberta_tweeteval_test() -> list[str]:
    path = _data() / "en/tweeteval/roberta_rt_predictions_test.txt"
    return [LABELS[int(x)] for x in path.read_text().split()]


def vader_tweets(threshold: float = 0.5) -> Split:
    """VADER's 4,200 human-rated tweets; mean rating > +t positive, < -t negative, else neutral."""
    texts, labels = [], []
    for row in _rows(_data() / "en/vader_icwsm2014/tweets_GroundTruth.txt"):
        if len(row) < 3:
            continue
        mean = float(row[1])
        texts.append(row[2])
        labels.append(
            "positive" if mean > threshold else "negative" if mean < -threshold else "neutral"
        )
    return Split(
        "vader-tweets", "en", texts, labels, f"VADER ICWSM-2014 tweets, mean rating ±{threshold}"
    )


def sxsw_brands() -> Split:
    rows = _rows(_data() / "en/brands_product_emotions/brands_product_emotions_3class.tsv")[1:]
    rows = [r for r in rows if len(r) >= 3 and r[0] in LABELS]
    return Split(
        "sxsw-brands",
        "en",
        [r[2] for r in rows],
        [r[0] for r in rows],
        "SXSW 2011 brand tweets (neutral = no emotion toward the brand)",
    )


# ---------------------------------------------------------------- German


def _potts_split(name: str) -> list[tuple[str, str]]:
    return [(r[2], r[1]) for r in _rows(_data() / f"de/potts/{name}.tsv") if len(r) > 2]


def potts(split: str) -> Split:
    """PotTS ``test``, ``dev``, or ``train`` (the corpus minus every dev and test text)."""
    if split in ("dev", "test"):
        pairs = _potts_split(split)
    else:
        held = {t for t, _ in _potts_split("dev")} | {t for t, _ in _potts_split("test")}
        pairs = [(r[1], r[0]) for r in _rows(_data() / "de/potts/corpus_label_text.tsv")]
        pairs = [(t, lab) for t, lab in pairs if t not in held]
    pairs = [(t, lab) for t, lab in pairs if lab in LABELS]
    return Split(
        f"potts-{split}",
        "de",
        [t for t, _ in pairs],
        [lab for _, lab in pairs],
        f"PotTS {split} (without 'mixed')",
    )


def sb10k() -> Split:
    rows = _rows(_data() / "de/sb10k/sb10k_corpus_as_hydrated_by_fricke.tsv")
    rows = [r for r in rows if len(r) >= 5 and r[4] != "Not Available" and r[1] in LABELS]
    return Split("sb10k", "de", [r[4] for r in rows], [r[1] for r in rows], "SB-10k (hydrated)")


def germeval_dev() -> Split:
    rows = _rows(_data() / "de/germeval2017/dev.tsv")
    rows = [r for r in rows if len(r) >= 4 and r[3] in LABELS]
    return Split(
        "germeval2017-dev",
        "de",
        [r[1] for r in rows],
        [r[3] for r in rows],
        "GermEval-2017 dev (Deutsche Bahn feedback)",
    )


# ---------------------------------------------------------------- UMSAB (7 languages)

UMSAB_FOLDERS = {
    "fr": "french",
    "it": "italian",
    "es": "spanish",
    "pt": "portuguese",
    "ar": "arabic",
    "hi": "hindi",
    "de": "german",
}


def umsab(lang: str, split: str) -> Split:
    """UMSAB ``train`` or ``val`` of one language (the test splits are kept aside, never read).

    The files have no final newline, so they are split on ``\\n``; Hindi rows with leftover
    label columns after a tab keep only the text before the tab.
    """
    if split not in ("train", "val"):
        raise ValueError(f"UMSAB {split!r}: only train and val are used (test is kept aside)")
    base = _data() / "multilingual/umsab" / UMSAB_FOLDERS[lang]
    texts = (base / f"{split}_text.txt").read_text(encoding="utf-8").split("\n")
    labels = (base / f"{split}_labels.txt").read_text(encoding="utf-8").split("\n")
    texts, labels = texts[: len(labels)], [LABELS[int(x)] for x in labels if x.strip()]
    assert len(texts) == len(labels), (lang, split, len(texts), len(labels))
    texts = [t.split("\t", 1)[0] for t in texts]
    return Split(f"umsab-{lang}-{split}", lang, texts, labels, f"UMSAB {lang} {split}")
