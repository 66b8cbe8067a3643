"""Language detection for short social-media texts: which model should score this text?

Three steps, cheapest first:

1. the writing system: a text mostly in Cyrillic, Arabic, Greek, Hebrew, CJK, Hangul, Thai or
   Devanagari letters gets that script's usual language code (``ru``, ``ar``, ``el`` ...);
2. a character n-gram naive Bayes model (``models/langid.json.gz``, trained by
   ``bench/train_sentiment.py`` on the shared training splits) picks among the Latin-script
   languages it knows (:data:`MODELLED`): every word, padded with spaces, adds the log
   probabilities of its 1- to 4-grams under each language;
3. function words of other Latin-script languages (nl, tr, sv, da, pl, id) overrule the model
   when they outnumber the chosen language's own, so a Dutch post is ``nl``, not German.

A text the model cannot place is ``und`` (unknown), never a guess: one without letters (only
emoji, links or numbers), one with no n-gram the model knows, or one where the two best
languages are closer than :data:`MIN_MARGIN` nats, or one whose 3- and 4-grams the model
mostly does not know (:data:`MIN_FAMILIAR`: gibberish, or a language it was not trained on).
Codes are ISO 639-1. Accuracy per language, on full and on shortened texts, is measured in
``docs/benchmarks.md``.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from dataclasses import dataclass, field
from importlib import resources

UNKNOWN = "und"
# the languages the n-gram model knows (Latin script)
MODELLED = ("en", "de", "fr", "it", "es", "pt")
NGRAM_MAX = 4
# below this log-likelihood gap between the two best languages a text is ``und``
MIN_MARGIN = 1.0
# a text whose 3- and 4-grams the model mostly does not know is in no modelled language: ``und``
MIN_FAMILIAR = 0.75

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_NOISE = re.compile(r"(?:https?://|www\.)\S+|[@#]\w+|&\w+;")
# what is left of a link or a retweet after anonymisation ("RT @user: ... http")
_NOT_WORDS = frozenset({"http", "https", "rt"})

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
# languages told apart by function words only (the model has no data for them)
_BY_STOPWORDS = tuple(lang for lang in _STOPWORDS if lang not in MODELLED)
_OTHER_STOPWORDS = frozenset().union(*(_STOPWORDS[lang] for lang in _BY_STOPWORDS))

# word -> the languages whose stop-word list has it
_STOP_INDEX: dict[str, tuple[str, ...]] = {}
for _lang, _words in _STOPWORDS.items():
    for _word in _words:
        _STOP_INDEX[_word] = (*_STOP_INDEX.get(_word, ()), _lang)

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
# any letter beyond Latin and IPA: only then is the writing system counted
_NON_LATIN = re.compile(r"[^\W\d_\u0000-\u024f]")

_ALIASES = {
    "eng": "en",
    "ger": "de",
    "deu": "de",
    "fra": "fr",
    "fre": "fr",
    "ita": "it",
    "spa": "es",
    "por": "pt",
    "english": "en",
    "german": "de",
    "french": "fr",
    "italian": "it",
    "spanish": "es",
    "portuguese": "pt",
}


def normalize_lang(lang: str | None) -> str:
    """``en-US`` -> ``en``, ``DE`` -> ``de``, ``deu`` -> ``de``; empty -> ``""``."""
    if not lang:
        return ""
    code = lang.strip().lower().replace("_", "-").split("-", 1)[0]
    return _ALIASES.get(code, code)


def word_ngrams(word: str) -> list[str]:
    """The 1- to NGRAM_MAX-grams of a lower-cased word padded with spaces (" ab " -> " a", ...)."""
    padded = f" {word} "
    length = len(padded)
    return [
        padded[i : i + n]
        for n in range(1, NGRAM_MAX + 1)
        for i in range(length - n + 1)
        if padded[i : i + n] != " "
    ]


def text_words(text: str) -> list[str]:
    """Lower-cased words of a text without links, @mentions, #hashtags and HTML entities."""
    return [w for w in _WORD.findall(_NOISE.sub(" ", text).lower()) if w not in _NOT_WORDS]


@dataclass(frozen=True)
class Ranking:
    lang: str  # the most likely modelled language, or ``und`` when no n-gram is known
    lead: float  # its log-likelihood lead over the next language, in nats
    familiar: float  # share of the text's 3- and 4-grams that the model knows, 0..1


@dataclass
class NgramModel:
    """Log probabilities of character n-grams per language (rows follow ``langs``)."""

    langs: tuple[str, ...]
    logp: dict[str, tuple[float, ...]]
    # word -> (summed log probabilities or None, known 3-/4-grams, all 3-/4-grams)
    _cache: dict[str, tuple[tuple[float, ...] | None, int, int]] = field(
        default_factory=dict, repr=False
    )

    def word_scores(self, word: str) -> tuple[tuple[float, ...] | None, int, int]:
        """A word's summed log probabilities per language (None: no n-gram known) and how many
        of its 3- and 4-grams the model knows, of how many."""
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        logp = self.logp
        grams = word_ngrams(word)
        rows = [row for gram in grams if (row := logp.get(gram)) is not None]
        long = [gram for gram in grams if len(gram) >= 3]
        entry = (
            tuple(map(sum, zip(*rows, strict=True))) if rows else None,
            sum(1 for gram in long if gram in logp),
            len(long),
        )
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[word] = entry
        return entry

    def rank(self, words: list[str]) -> Ranking:
        """The most likely language of the words, its lead, and how familiar the text looks."""
        entries = [self.word_scores(word) for word in words]
        rows = [sums for sums, _, _ in entries if sums is not None]
        long = sum(n for _, _, n in entries)
        familiar = sum(k for _, k, _ in entries) / long if long else 1.0
        if not rows:
            return Ranking(UNKNOWN, 0.0, familiar)
        totals = list(map(sum, zip(*rows, strict=True)))
        best = max(range(len(totals)), key=totals.__getitem__)
        lead = totals[best] - max(v for k, v in enumerate(totals) if k != best)
        return Ranking(self.langs[best], lead, familiar)


_model: NgramModel | None = None
_model_lock = threading.Lock()


def load_model() -> NgramModel:
    """The shipped n-gram model (loaded once; about 0.1 s)."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                ref = resources.files(__package__) / "models" / "langid.json.gz"
                with ref.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
                    doc = json.load(fh)
                langs = tuple(doc["langs"])
                _model = NgramModel(langs, {g: tuple(v) for g, v in doc["logp"].items()})
    return _model


def detect_language(text: str) -> str:
    """An ISO 639-1 code, or ``und`` when the text cannot be placed (see the module doc)."""
    clean = _NOISE.sub(" ", text)
    if _NON_LATIN.search(clean):
        letters = [ch for ch in clean if ch.isalpha()]
        if sum(1 for ch in letters if ch < "\u0250") < len(letters) / 2:
            return _by_script("".join(letters))
    words = [w for w in _WORD.findall(clean.lower()) if w not in _NOT_WORDS]
    if not words:
        return UNKNOWN
    ranking = load_model().rank(words)
    other = _other_by_stopwords(words, ranking.lang)
    if other:
        return other
    if ranking.lead < MIN_MARGIN or ranking.familiar < MIN_FAMILIAR:
        return UNKNOWN
    return ranking.lang


def _by_script(letters: str) -> str:
    best, best_n = UNKNOWN, 0
    for code, pattern in _SCRIPT_RE:
        n = len(pattern.findall(letters))
        if n > best_n:
            best, best_n = code, n
    # kana beside kanji is Japanese
    if best == "zh" and _SCRIPT_RE[4][1].search(letters):
        best = "ja"
    return best


def _other_by_stopwords(words: list[str], modelled: str) -> str | None:
    """A language outside the model whose function words outnumber ``modelled``'s own."""
    if _OTHER_STOPWORDS.isdisjoint(words):
        return None
    hits: dict[str, int] = {}
    for word in words:
        for lang in _STOP_INDEX.get(word, ()):
            hits[lang] = hits.get(lang, 0) + 1
    own = hits.get(modelled, 0)
    other = max(_BY_STOPWORDS, key=lambda lang: hits.get(lang, 0))
    n = hits.get(other, 0)
    return other if n >= 2 and n >= 1.5 * own + 1 else None
