"""The topic query language, checked locally on every collected item.

Source searches are fuzzy (HN's Algolia matched "applauded" for "apple"), so every mention is
re-checked here before it is stored. Matching is on whole words:

* case- and accent-insensitive: "ZÜRICH" = "zurich", "Straße" = "strasse";
* words are runs of Unicode letters/digits, so "apple" matches "Apple's", "#apple" and "APPLE",
  but not "applauded" or "pineapple";
* a phrase ("acme cloud", or a term containing spaces or punctuation such as "e-mail") matches
  its words in a row;
* a trailing `*` makes the last word a prefix: `bahn*` matches "Bahnhof";
* inflected forms match in the topic's `languages` among de, es, fr, it and pt
  (:mod:`stormwatch.inflection`): the phrase "deutsche bahn" matches "der Deutschen Bahn", the
  term "bahn" matches "Bahnen", "lufthansa" matches "Lufthansas". Compounds do not: "bahn"
  never matches "Bahnhof" unless the query says `bahn*`. An English-only topic (the default)
  matches word forms exactly, as written.

A topic without `query` matches when any of its terms or phrases occurs. With `query` the
expression decides instead, in this syntax (operators in capitals; lower-case "and"/"or"/"not"
are ordinary words)::

    acme "acme cloud" AND outage OR (down NOT -test) bahn*

* bare words and "exact phrases";
* `AND`, `OR`, `NOT`, and `-word` as a short NOT;
* adjacent operands are ANDed (`acme outage` = `acme AND outage`); AND binds tighter than OR;
* parentheses group.

`exclude` entries (terms or phrases) veto a match in both modes.

Texts are normalised once into " word word word " and every leaf becomes a substring test on
that string (" word " for a word, " word" for a prefix), which keeps a check in the tens of µs.
Only when that fails is the text reduced to dictionary forms, once per language and text, and
the leaf's dictionary forms looked for in it (bench/match_speed.py measures the cost).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from stormwatch.inflection import INFLECTED_LANGUAGES, dictionary_words, fold
from stormwatch.watchlist import Topic

__all__ = [
    "MAX_DEPTH",
    "And",
    "Leaf",
    "Node",
    "Not",
    "Or",
    "QueryError",
    "TopicMatcher",
    "compile_topic",
    "normalize",
    "parse_query",
    "search_terms",
]

_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def normalize(text: str) -> str:
    """Text as " w1 w2 … " (casefolded, accents stripped, ß→ss) for whole-word substring tests."""
    return " " + " ".join(_words(text)) + " "


class QueryError(ValueError):
    """A query, term or phrase that cannot be used; the message names the position and problem."""


# --------------------------------------------------------------------------------------------
# AST


@dataclass(frozen=True)
class Leaf:
    """A word or phrase; `prefix` makes its last word match as a prefix (`bahn*`)."""

    raw: str
    words: tuple[str, ...]
    prefix: bool = False

    @property
    def needle(self) -> str:
        return " " + " ".join(self.words) + ("" if self.prefix else " ")


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Leaf | Not | And | Or


def make_leaf(raw: str, *, where: str = "") -> Leaf:
    """A leaf from a term/phrase as written; raises QueryError if it has no letters or digits."""
    text = raw.strip()
    prefix = text.endswith("*")
    if prefix:
        text = text.rstrip("*")
    words = tuple(_words(text))
    if not words:
        raise QueryError(f"{where}{raw!r} has no letters or digits to match")
    return Leaf(raw=raw.strip(), words=words, prefix=prefix)


# --------------------------------------------------------------------------------------------
# Parser


@dataclass(frozen=True)
class _Tok:
    kind: str  # WORD PHRASE AND OR NOT MINUS LPAREN RPAREN
    value: str
    pos: int


_OPERATORS = {"AND": "AND", "OR": "OR", "NOT": "NOT"}

# parentheses and NOTs nested deeper than this are refused: far beyond any real query, and
# well inside Python's recursion limit (the parser recurses once per level)
MAX_DEPTH = 50


def _tokenize(expr: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(expr)
    while i < n:
        ch = expr[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            toks.append(_Tok("LPAREN", ch, i))
            i += 1
        elif ch == ")":
            toks.append(_Tok("RPAREN", ch, i))
            i += 1
        elif ch == '"':
            end = expr.find('"', i + 1)
            if end < 0:
                raise QueryError(f"unterminated quote: the '\"' at position {i} is never closed")
            toks.append(_Tok("PHRASE", expr[i + 1 : end], i))
            i = end + 1
        elif ch == "-" and i + 1 < n and not expr[i + 1].isspace():
            toks.append(_Tok("MINUS", ch, i))
            i += 1
        else:
            start = i
            while i < n and not expr[i].isspace() and expr[i] not in '()"':
                i += 1
            word = expr[start:i]
            kind = _OPERATORS.get(word, "WORD")
            toks.append(_Tok(kind, word, start))
    return toks


class _Parser:
    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.toks = _tokenize(expr)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def descend(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError(
                f"the query nests deeper than {MAX_DEPTH} levels of '(' and NOT "
                f"(at position {tok.pos})"
            )

    def parse(self) -> Node:
        if not self.toks:
            raise QueryError("the query is empty")
        node = self.parse_or()
        tok = self.peek()
        if tok is not None:
            if tok.kind == "RPAREN":
                raise QueryError(f"unexpected ')' at position {tok.pos}: no '(' to close")
            raise QueryError(f"unexpected {tok.value!r} at position {tok.pos}")  # pragma: no cover
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            children.append(self.parse_and(after=tok))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self, after: _Tok | None = None) -> Node:
        children = [self.parse_unary(after)]
        while (tok := self.peek()) is not None and tok.kind not in ("OR", "RPAREN"):
            if tok.kind == "AND":
                self.take()
                children.append(self.parse_unary(tok))
            else:
                children.append(self.parse_unary(None))
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self, after: _Tok | None) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind in ("NOT", "MINUS"):
            self.take()
            self.descend(tok)
            node = Not(self.parse_unary(tok))
            self.depth -= 1
            return node
        return self.parse_primary(after)

    def parse_primary(self, after: _Tok | None) -> Node:
        tok = self.peek()
        if tok is None or tok.kind in ("AND", "OR", "RPAREN"):
            where = f"at position {tok.pos}" if tok else "at the end of the query"
            if after is not None:
                what = "'-'" if after.kind == "MINUS" else repr(after.value)
                problem = f"{what} at position {after.pos} needs a word, phrase or '(' after it"
            else:
                problem = "expected a word, phrase or '('"
            found = f" (found {tok.value!r} {where})" if tok else f" ({where})"
            raise QueryError(problem + found)
        self.take()
        if tok.kind == "LPAREN":
            self.descend(tok)
            inner = self.parse_or()
            close = self.peek()
            if close is None or close.kind != "RPAREN":
                raise QueryError(f"missing ')' for the '(' at position {tok.pos}")
            self.take()
            self.depth -= 1
            return inner
        where = f"at position {tok.pos}: "
        if tok.kind == "PHRASE" and not tok.value.strip():
            raise QueryError(f"empty phrase {where[:-2]}")
        return make_leaf(tok.value, where=where)


def parse_query(expr: str) -> Node:
    """Parse a query expression into an AST (Leaf/And/Or/Not); raises QueryError."""
    return _Parser(expr).parse()


# --------------------------------------------------------------------------------------------
# Compilation


def _leaves(node: Node, positive: bool = True) -> list[tuple[Leaf, bool]]:
    if isinstance(node, Leaf):
        return [(node, positive)]
    if isinstance(node, Not):
        return _leaves(node.child, not positive)
    out: list[tuple[Leaf, bool]] = []
    for child in node.children:
        out.extend(_leaves(child, positive))
    return out


class _Text:
    """A text normalised once; its dictionary forms per language are worked out on demand."""

    __slots__ = ("_forms", "raw", "words")

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.words = normalize(raw)
        self._forms: dict[str, str] = {}

    def forms(self, lang: str) -> str:
        hay = self._forms.get(lang)
        if hay is None:
            hay = self._forms[lang] = " " + " ".join(dictionary_words(self.raw, lang)) + " "
        return hay


def _leaf_test(leaf: Leaf, langs: tuple[str, ...]) -> Callable[[_Text], bool]:
    """The leaf as written, or (not for a prefix) its dictionary forms in one of ``langs``."""
    needle = leaf.needle
    if leaf.prefix or not langs:
        return lambda text: needle in text.words

    @cache
    def forms() -> tuple[tuple[str, str], ...]:
        # worked out for the first text that needs them, not when the topic is compiled: every
        # function compiles the watchlist when it loads it, and most never match a text
        return tuple((lang, f" {' '.join(dictionary_words(leaf.raw, lang))} ") for lang in langs)

    return lambda text: needle in text.words or any(f in text.forms(lang) for lang, f in forms())


def _compile(node: Node, langs: tuple[str, ...] = ()) -> Callable[[_Text], bool]:
    if isinstance(node, Leaf):
        return _leaf_test(node, langs)
    if isinstance(node, Not):
        inner = _compile(node.child, langs)
        return lambda hay: not inner(hay)
    parts = tuple(_compile(child, langs) for child in node.children)
    if isinstance(node, And):
        return lambda hay: all(p(hay) for p in parts)
    return lambda hay: any(p(hay) for p in parts)


def _dedupe(leaves: list[Leaf]) -> list[Leaf]:
    seen: set[str] = set()
    out = []
    for leaf in leaves:
        if leaf.needle not in seen:
            seen.add(leaf.needle)
            out.append(leaf)
    return out


class TopicMatcher:
    """A compiled topic: `matches(text)`, and `search_terms()` for the sources.

    `langs` are the languages whose inflected forms match (a subset of INFLECTED_LANGUAGES);
    empty: word forms match exactly as written."""

    def __init__(self, include: Node, exclude: list[Leaf], langs: tuple[str, ...] = ()) -> None:
        self.include = include
        self.exclude = exclude
        self.langs = langs
        self._include = _compile(include, langs)
        self._excluded = tuple(_leaf_test(leaf, langs) for leaf in exclude)
        self.positive = _dedupe([leaf for leaf, pos in _leaves(include) if pos])
        if not self.positive:
            raise QueryError("the query needs at least one word or phrase that is not negated")

    def _text_matches(self, text: _Text) -> bool:
        return self._include(text) and not any(test(text) for test in self._excluded)

    def matches(self, text: str) -> bool:
        return self._text_matches(_Text(text or ""))

    def search_terms(self) -> list[str]:
        """What to ask a source's search for: the positive words/phrases, as written.

        The union of searches for these is a superset of what the topic matches (every match
        contains at least one positive leaf), which is why sources search each of them.
        """
        return [leaf.raw for leaf in self.positive]


def compile_topic(topic: Topic) -> TopicMatcher:
    """Compile a topic's query (or its terms and phrases) and exclusions; raises QueryError."""
    if topic.query:
        try:
            include = parse_query(topic.query)
        except QueryError as exc:
            raise QueryError(f"topic {topic.name!r}: query: {exc}") from exc
    else:
        leaves = [make_leaf(t, where=f"topic {topic.name!r}: ") for t in topic.search_terms]
        include = leaves[0] if len(leaves) == 1 else Or(tuple(leaves))
    exclude = [make_leaf(t, where=f"topic {topic.name!r}: exclude ") for t in topic.exclude]
    langs = tuple(lang for lang in INFLECTED_LANGUAGES if lang in topic.languages)
    try:
        return TopicMatcher(include, exclude, langs)
    except QueryError as exc:
        raise QueryError(f"topic {topic.name!r}: {exc}") from exc


def search_terms(topic: Topic) -> list[str]:
    """The words/phrases a source should search for this topic (see TopicMatcher.search_terms)."""
    return compile_topic(topic).search_terms()
