"""Language detection for short social-media texts, tuned for the English/German question.

Three steps, cheapest first:

1. the writing system: a text mostly in Cyrillic, Arabic, Greek, Hebrew, CJK, Hangul, Thai or
   Devanagari letters gets that script's usual language code (``ru``, ``ar``, ``el`` ...);
2. function words: a small stop-word list per language (English, German and the Latin-script
   languages most often met next to them: fr, es, it, pt, nl, tr, sv, da, pl, id) is counted;
3. for English versus German, a character-trigram naive Bayes model (``models/langid.json.gz``,
   trained on the labelled tweets by ``bench/train_sentiment.py``) decides when the stop words
   alone are thin, which is the usual case for a two-word tweet.

A text with no letters at all (only emoji, links or numbers) is ``und``. Codes are ISO 639-1.
The accuracy on mixed English/German short texts is measured in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import threading
from importlib import resources

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_NOISE = re.compile(r"(?:https?://|www\.)\S+|[@#]\w+|&\w+;")

_STOPWORDS: dict[str, frozenset[str]] = {
    # one-letter words ("a", "e", "o", "i", "w", "y") are left out: they are in too many languages
    lang: frozenset(w for w in words.split() if len(w) > 1 or lang == "en")
    for lang, words in {
        "en": """the and is are was were to of in it that this for you with on not be have has
            i my me we they he she its it's i'm don't what so but just at your all will can do
            an by from or if there about how when who would been being our their them him her
            than then too very get got really why because am im dont cant thats a no yes as""",
        "de": """der die das und ist nicht ich du er sie es wir ihr ein eine einen dem den des
            mit auf für von zu im in auch sich noch nur aber wie was wenn schon mal bei dass
            sind war hat haben wird kann mir mich dir dich uns euch oder doch so ja nein heute
            jetzt immer hier kein keine sehr gibt geht bin bist warum weil über nach vom zum
            zur""",
        "fr": """le la les et est une un des du de que qui pas pour dans ce cette sur avec je
            tu il elle nous vous ils sont au aux mais ou plus se ne on c'est j'ai très pour tout
            merci vraiment bien avec être fait comme aussi""",
        "es": """el la los las y es una un de que en por con para no se lo le su al del muy
            pero como más está son yo tú mi es estoy qué también gracias muy bien hoy todo""",
        "it": """il lo la gli le e è di che un una per con non del della sono mi ti ma come
            anche questo questa sei ho ha molto perché""",
        "pt": """o a os as e é de que um uma para com não do da dos das em no na se mais mas
            como muito você eu está são também""",
        "nl": """de het een en is van dat niet ik je jij we zijn op te met voor maar ook
            er hij zij dit wat nog wel geen naar bij heb heeft""",
        "tr": """ve bir bu da de için ile çok ne ben sen o ama gibi daha var yok değil mi
            olarak""",
        "sv": """och att det är som på för med jag inte en ett har av till den om men vi
            så kan var""",
        "da": """og at det er som på for med jeg ikke en et har af til den om men vi så kan
            var""",
        "pl": """i w na nie że to jest się z do jak ale co tak jestem już dla po""",
        "id": """dan yang di ini itu dengan untuk tidak ada aku saya kamu dari ke juga akan
            bisa sudah""",
    }.items()
}
# the function words of each language, for callers that want to skip them
STOPWORDS = _STOPWORDS

# word -> the languages whose stop-word list has it
_STOP_INDEX: dict[str, tuple[str, ...]] = {}
for _lang, _words in _STOPWORDS.items():
    for _word in _words:
        _STOP_INDEX[_word] = (*_STOP_INDEX.get(_word, ()), _lang)
# letters that only (or nearly only) German uses among the languages above
_GERMAN_LETTERS = frozenset("äöüß")

_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("ru", "\u0400-\u04ff"),
    ("ar", "\u0600-\u06ff\u0750-\u077f"),
    ("el", "\u0370-\u03ff"),
    ("he", "\u0590-\u05ff"),
    ("ja", "\u3040-\u30ff"),
    ("zh", "\u4e00-\u9fff"),
    ("ko", "\uac00-\ud7af\u1100-\u11ff"),
    ("th", "\u0e00-\u0e7f"),
    ("hi", "\u0900-\u097f"),
)
_SCRIPT_RE = [(code, re.compile(f"[{ranges}]")) for code, ranges in _SCRIPTS]

_ALIASES = {"eng": "en", "ger": "de", "deu": "de", "english": "en", "german": "de"}

_model: dict | None = None
_model_lock = threading.Lock()


def normalize_lang(lang: str | None) -> str:
    """``en-US`` -> ``en``, ``DE`` -> ``de``, ``deu`` -> ``de``; empty -> ``""``."""
    if not lang:
        return ""
    code = lang.strip().lower().replace("_", "-").split("-", 1)[0]
    return _ALIASES.get(code, code)


def detect_language(text: str) -> str:
    """``en``, ``de``, another ISO 639-1 code, or ``und`` when the text has no letters."""
    clean = _NOISE.sub(" ", text)
    letters = [ch for ch in clean if ch.isalpha()]
    if not letters:
        return "und"
    # 1. writing system
    latin = sum(1 for ch in letters if ch < "\u0250")
    if latin < len(letters) / 2:
        sample = "".join(letters)
        best, best_n = "und", 0
        for code, pattern in _SCRIPT_RE:
            n = len(pattern.findall(sample))
            if n > best_n:
                best, best_n = code, n
        # kana beside kanji is Japanese
        if best == "zh" and _SCRIPT_RE[4][1].search(sample):
            best = "ja"
        return best
    # 2. stop words
    words = [w.lower() for w in _WORD.findall(clean)]
    hits = dict.fromkeys(_STOPWORDS, 0)
    for word in words:
        for lang in _STOP_INDEX.get(word, ()):
            hits[lang] += 1
    en_de = max(hits["en"], hits["de"])
    other, other_hits = "und", 0
    for lang, n in hits.items():
        if n > other_hits and lang not in ("en", "de"):
            other, other_hits = lang, n
    if (
        other_hits >= 2
        and other_hits > en_de
        and (other_hits >= 1.5 * en_de + 1 or not _has_german_letters(clean))
    ):
        return other
    # 3. English or German: stop words plus character trigrams
    return _en_or_de(clean, words, hits["en"], hits["de"])


def _has_german_letters(text: str) -> bool:
    return any(ch in _GERMAN_LETTERS for ch in text.lower())


def _en_or_de(text: str, words: list[str], en_hits: int, de_hits: int) -> str:
    margin = 1.5 * (de_hits - en_hits)
    if _has_german_letters(text):
        margin += 2.0
    model = _load_model()
    if model is not None:
        margin += _trigram_margin(words, model)
    return "de" if margin > 0 else "en"


def _trigram_margin(words: list[str], model: dict) -> float:
    """log P(text | de) - log P(text | en) under the trigram model, capped per trigram."""
    weights: dict[str, float] = model["w"]
    cache: dict[str, float] = model.setdefault("_cache", {})
    total = 0.0
    for word in words:
        margin = cache.get(word)
        if margin is None:
            padded = f" {word} "
            margin = 0.0
            for i in range(len(padded) - 2):
                margin += weights.get(padded[i : i + 3], 0.0)
            if len(cache) > 100_000:
                cache.clear()
            cache[word] = margin
        total += margin
    return total + model.get("bias", 0.0)


def _load_model() -> dict | None:
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                try:
                    ref = resources.files(__package__) / "models" / "langid.json.gz"
                    with ref.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
                        _model = json.load(fh)
                except (FileNotFoundError, OSError):
                    _model = {}
    return _model or None


def trigram_table(en_texts, de_texts, top: int = 4000, alpha: float = 0.5) -> dict:
    """Build the en/de trigram model from two corpora (used by the training script)."""
    counts = {"en": {}, "de": {}}
    for lang, texts in (("en", en_texts), ("de", de_texts)):
        table = counts[lang]
        for text in texts:
            for word in _WORD.findall(_NOISE.sub(" ", text)):
                padded = f" {word.lower()} "
                for i in range(len(padded) - 2):
                    tri = padded[i : i + 3]
                    table[tri] = table.get(tri, 0) + 1
    total = {lang: sum(t.values()) for lang, t in counts.items()}
    vocab = set(counts["en"]) | set(counts["de"])
    scored = {}
    for tri in vocab:
        p_de = (counts["de"].get(tri, 0) + alpha) / (total["de"] + alpha * len(vocab))
        p_en = (counts["en"].get(tri, 0) + alpha) / (total["en"] + alpha * len(vocab))
        support = counts["de"].get(tri, 0) + counts["en"].get(tri, 0)
        scored[tri] = (math.log(p_de / p_en), support)
    # ties in support are broken by the trigram itself: set order varies between runs
    keep = sorted(scored.items(), key=lambda kv: (-kv[1][1], kv[0]))[:top]
    return {"w": {tri: round(max(-4.0, min(4.0, v)), 3) for tri, (v, _) in keep}, "default": 0.0}
