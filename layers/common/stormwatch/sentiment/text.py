"""Social-media text to tokens: the one tokenizer that training and inference share.

What it does to a post, in order:

* URLs become ``<url>``, @mentions ``<user>``, numbers ``<num>``; a hashtag gives its word
  (``#fail`` -> ``fail``), split at inner capitals too (``#EpicFail`` -> ``epic``, ``fail``);
* emoticons (``:)``, ``:-(``, ``<3`` ...) and emoji become tokens of their own, so they carry
  weight like words do (skin-tone modifiers and variation selectors are dropped);
* elongations (``loooove``, ``!!!!``) are flagged ``<elong>`` and shortened: to one repeat when
  that gives a word of the lexicon (``loooove`` -> ``love``), else to two (``sooo`` -> ``soo``);
  a word in SHOUTING capitals is flagged ``<caps>``;
* words are lower-cased; a negation of the text's language (``not``, ``n't``, ``nicht``,
  ``kein``, ``pas``, ``non``, ``não`` ...; English's for a language without a list) marks
  the next words up to the next punctuation (at most ``NEGATION_SCOPE`` words) with the prefix
  ``not_``, so "not good" and "good" are different features;
* ``!`` and ``?`` become ``!`` / ``?`` tokens (once per run).

The output is a list of strings; the feature extractor turns them into hashed n-grams.
"""

from __future__ import annotations

import re
from collections.abc import Container

NEGATION_SCOPE = 3
NEG_PREFIX = "not_"

NEGATORS = {
    "en": frozenset(
        [
            "not",
            "no",
            "never",
            "nothing",
            "nobody",
            "none",
            "nowhere",
            "neither",
            "nor",
            "cannot",
            "cant",
            "dont",
            "doesnt",
            "didnt",
            "isnt",
            "arent",
            "wasnt",
            "werent",
            "wont",
            "wouldnt",
            "shouldnt",
            "couldnt",
            "havent",
            "hasnt",
            "hadnt",
            "aint",
            "without",
            "mustnt",
            "neednt",
        ]
    ),
    "de": frozenset(
        [
            "nicht",
            "nichts",
            "nie",
            "niemals",
            "kein",
            "keine",
            "keinen",
            "keinem",
            "keiner",
            "keines",
            "niemand",
            "nirgends",
            "weder",
            "ohne",
            "nix",
        ]
    ),
    # Romance languages: the word after the negation is marked ("pas bon", "no me gusta");
    # French "ne"/"n'" is left out because the negated verb sits between "ne" and "pas"
    "fr": frozenset(["pas", "jamais", "rien", "aucun", "aucune", "sans", "ni", "non", "personne"]),
    "es": frozenset(
        ["no", "nunca", "nada", "nadie", "ningún", "ninguna", "ninguno", "sin", "ni", "jamás"]
    ),
    "it": frozenset(["non", "mai", "niente", "nulla", "nessuno", "nessuna", "senza", "né"]),
    "pt": frozenset(["não", "nao", "nunca", "nada", "ninguém", "nenhum", "nenhuma", "sem", "nem"]),
    "ar": frozenset(["لا", "لم", "لن", "ليس", "ما", "مش", "غير", "بدون"]),
}
# how a negated word is shown to a reader, per language ("not good", "nicht gut", "pas bon")
NEGATION_WORD = {"en": "not", "de": "nicht", "fr": "pas", "es": "no", "it": "non", "pt": "não"}

_EMOTICON = (
    r"(?:[<>]?[:;=8xX][\-o\*']?[\)\]\(\[dDpP/\\:\}\{@\|]+"  # :) :-( ;P :/ xD
    r"|[\)\]\(\[dDpP/\\:\}\{@\|]+[\-o\*']?[:;=8][<>]?"  # (: )-:
    r"|<3+|</3+|\^_*\^|-_+-|o_O|O_o|T_T|;_;)"
)
_EMOJI = (
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\u3030\u303d\u3297\u3299"
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u21aa\u24c2\u25aa-\u25fe]"
)
_TOKEN_RE = re.compile(
    r"(?P<url>(?:https?://|www\.)\S+)"
    r"|(?P<user>@\w+)"
    r"|(?P<tag>#\w+)"
    rf"|(?P<emo>{_EMOTICON})(?=\s|$|[.,!?])"
    rf"|(?P<emoji>{_EMOJI})"
    r"|(?P<num>\d+(?:[.,:/]\d+)*(?:st|nd|rd|th|er|h|k|m)?\b)"
    r"|(?P<word>[^\W\d_]+(?:['’][^\W\d_]+)*)"
    r"|(?P<punct>[!?]+|[.,;:]+|[\"“”„()\[\]]|\s-\s)"
)
_DROP = re.compile("[\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff]")
_ELONG = re.compile(r"(.)\1{2,}")
_CAMEL = re.compile(r"[A-ZÄÖÜ]?[a-zäöüß]+|[A-ZÄÖÜ]+(?![a-zäöüß])|\d+")
_APOS = re.compile("['’]")
_HTML = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'"}
_HTML_RE = re.compile("|".join(map(re.escape, _HTML)))


def tokenize(text: str, lang: str = "en", known: Container[str] = frozenset()) -> list[str]:
    """Normalised tokens of one social-media text (see the module doc)."""
    if "&" in text:
        text = _HTML_RE.sub(lambda m: _HTML[m.group()], text)
    text = _DROP.sub("", text)
    negators = NEGATORS.get(lang, NEGATORS["en"])
    out: list[str] = []
    scope = 0
    for match in _TOKEN_RE.finditer(text):
        kind = match.lastgroup
        raw = match.group()
        if kind == "word":
            token = _word(raw, out, known)
            if token is None:
                continue
            if scope > 0:
                out.append(NEG_PREFIX + token)
                scope -= 1
            else:
                out.append(token)
            if token in negators or raw.endswith(("n't", "n’t", "N'T")):
                scope = NEGATION_SCOPE
        elif kind == "punct":
            scope = 0
            if raw[0] in "!?":
                if len(raw) > 1 and raw[0] == raw[1]:
                    out.append("<elong>")
                out.append("!" if "!" in raw else "?")
        elif kind == "url":
            out.append("<url>")
        elif kind == "user":
            out.append("<user>")
        elif kind == "tag":
            body = raw[1:]
            parts = _CAMEL.findall(body) if not body.islower() else [body]
            out.append("#")
            for part in parts or [body]:
                token = _word(part, out, known)
                if token:
                    out.append(token)
        elif kind == "emo":
            out.append(raw.replace("-", "").replace("'", ""))
            scope = 0
        elif kind == "emoji":
            out.append(raw)
        else:  # num
            out.append("<num>")
    return out


def _word(raw: str, out: list[str], known: Container[str]) -> str | None:
    if len(raw) >= 3 and raw.isupper():
        out.append("<caps>")
    token = raw.lower()
    if "'" in token or "’" in token:
        # don't -> dont, it's -> its: apostrophes are spelled inconsistently in tweets anyway
        token = _APOS.sub("", token)
    if _ELONG.search(token):
        out.append("<elong>")
        double = _ELONG.sub(r"\1\1", token)
        single = _ELONG.sub(r"\1", token)
        token = single if double not in known and single in known else double
    return token


def display(token: str, lang: str = "en") -> str:
    """A token as a person reads it: ``not_good`` -> ``not good`` (``nicht gut`` in German)."""
    if token.startswith(NEG_PREFIX):
        return NEGATION_WORD.get(lang, "not") + " " + token[len(NEG_PREFIX) :]
    return token
