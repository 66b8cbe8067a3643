"""Train and measure the language-ID n-gram model (``models/langid.json.gz``).

Training data per language (never a split that is reported): English the SemEval pool minus
TweetEval val (first 12,000 tweets); German PotTS train and SB-10k minus the UMSAB German val
tweets; French, Italian, Spanish, Portuguese their UMSAB train split.
Measured on: TweetEval val (en), UMSAB val (every language; German val is left out of
training for this), PotTS dev and GermEval-2017 dev (de), each whole and cut to its first
3 and 5 words. Pure Python, deterministic (sorted counts, no randomness).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable

import sentiment_data as data
from stormwatch.sentiment import langid

TOP_NGRAMS = 60_000
ALPHA = 0.5
EN_CAP = 12_000


def training_corpora() -> dict[str, list[str]]:
    german_val = set(data.umsab("de", "val").texts)
    german = [t for t in data.potts("train").texts + data.sb10k().texts if t not in german_val]
    corpora = {"en": data.semeval_pool().texts[:EN_CAP], "de": german}
    for lang in ("fr", "it", "es", "pt"):
        corpora[lang] = data.umsab(lang, "train").texts
    return corpora


def build_table(corpora: dict[str, list[str]]) -> dict:
    """Naive Bayes log probabilities of the TOP_NGRAMS most frequent n-grams per language."""
    langs = tuple(lang for lang in langid.MODELLED if lang in corpora)
    counts = {lang: Counter() for lang in langs}
    for lang in langs:
        for text in corpora[lang]:
            for word in langid.text_words(text):
                counts[lang].update(langid.word_ngrams(word))
    total = Counter()
    for table in counts.values():
        total.update(table)
    keep = sorted(total, key=lambda g: (-total[g], g))[:TOP_NGRAMS]
    logp = {}
    for lang in langs:
        n = sum(counts[lang][g] for g in keep) + ALPHA * len(keep)
        for g in keep:
            logp.setdefault(g, []).append(round(math.log((counts[lang][g] + ALPHA) / n), 2))
    return {"langs": list(langs), "logp": dict(sorted(logp.items()))}


def evaluation_sets() -> dict[str, tuple[str, list[str]]]:
    """name -> (true language, texts); none of them trained on."""
    sets = {"tweeteval-val": ("en", data.tweeteval("val").texts)}
    for lang in ("de", "fr", "it", "es", "pt", "hi"):
        sets[f"umsab-{lang}-val"] = (lang, data.umsab(lang, "val").texts)
    sets["potts-dev"] = ("de", data.potts("dev").texts)
    sets["germeval2017-dev"] = ("de", data.germeval_dev().texts)
    return sets


def first_words(text: str, n: int) -> str:
    return " ".join(text.split()[:n])


def routing(detect: Callable[[str], str], sets=None, cuts: Iterable[int | None] = (None, 5, 3)):
    """Per set and cut: share detected as the true language, as ``und``, and the top wrong one."""
    rows = []
    for name, (lang, texts) in (sets or evaluation_sets()).items():
        for cut in cuts:
            got = Counter(detect(t if cut is None else first_words(t, cut)) for t in texts)
            wrong = [(n, g) for g, n in got.most_common() if g not in (lang, langid.UNKNOWN)]
            rows.append(
                {
                    "set": name,
                    "lang": lang,
                    "cut": cut,
                    "n": len(texts),
                    "right": got[lang] / len(texts),
                    "unknown": got[langid.UNKNOWN] / len(texts),
                    "top_wrong": f"{wrong[0][1]} {wrong[0][0] / len(texts):.1%}" if wrong else "",
                }
            )
    return rows
