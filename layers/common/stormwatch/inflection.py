"""Dictionary forms of words, so that a topic matches the inflected forms of its words.

"Ärger mit der Deutschen Bahn" is about the phrase "deutsche bahn": once both are reduced to
dictionary forms ("deutsch bahn") the phrase is found. The dictionaries are simplemma's
(zero dependencies, MIT licence), for the languages in :data:`INFLECTED_LANGUAGES` only: the
layer build removes the other languages' files (``layers/common/Makefile``).

Rules on top of the dictionary, because social-media text and queries differ in case:

* a word is looked up as written, lower-cased and capitalised (German nouns are capitalised, a
  query is often not: "bahn" alone is the verb "bahnen"), and the shortest dictionary form
  wins ("Deutschen" -> "Deutscher" or "deutsch": "deutsch");
* a German word no dictionary knows that ends in a genitive "s" ("Lufthansas", "Telekoms")
  loses it, unless it ends in "ss", "us" or "is" ("Bus", "Paris");
* compounds stay whole: "Bahnhof" is "bahnhof", not "bahn" (a query says ``bahn*`` for that).

Forms are folded like the matcher's text (case, accents, ß -> ss) and cached per word.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# the languages whose inflections topics match; the layer ships simplemma's data for these only
INFLECTED_LANGUAGES: tuple[str, ...] = ("de", "es", "fr", "it", "pt")

_WORD = re.compile(r"\w+")
_GENITIVE_KEEP = ("ss", "us", "is")


def fold(text: str) -> str:
    """Case- and accent-folded text: "Zürich" -> "zurich", "Straße" -> "strasse"."""
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


@lru_cache(maxsize=200_000)
def dictionary_form(word: str, lang: str) -> str:
    """The folded dictionary form of one word in ``lang`` (see the module doc for the rules)."""
    # imported on first use, and its dictionary for `lang` decoded then (about 1.3 s of CPU for
    # German): only paths that match inflected text pay for it (bench/coldstart.py)
    import simplemma

    variants = dict.fromkeys((word, word.lower(), word.capitalize()))
    forms = {simplemma.lemmatize(v, lang=lang) for v in variants}
    form = min(forms, key=lambda f: (len(f), f))
    if (
        lang == "de"
        and len(word) >= 5
        and word.endswith("s")
        and not word.endswith(_GENITIVE_KEEP)
        and not any(simplemma.is_known(v, lang=lang) for v in variants)
    ):
        form = word[:-1]
    # a compatibility character can fold to a space and a mark ("ﹰ"): a form is one word
    return "".join(fold(form).split())


def dictionary_words(text: str, lang: str) -> list[str]:
    """The dictionary forms of a text's words, in order."""
    return [dictionary_form(word, lang) for word in _WORD.findall(text)]
