"""Syndication: the same story arriving as many copies counts (and is shown) once.

A press release picked up by forty outlets, a wire story on Google News, Yahoo and Reddit, the
same headline with and without `utm_` parameters: these are copies of one *story*, not forty
voices. This module says which mentions are the same story. It is pure (no AWS, no clock) and
cheap (standard library only).

Two signals, either of which joins two mentions:

* **Canonical URL** — the link with click-tracking parameters removed (`strip_tracking`), the
  scheme and fragment dropped, the host lower-cased without `www.`, the path without a trailing
  slash and the remaining query parameters sorted. Only for mentions that *are* the item at the
  link: a comment (Hacker News, YouTube: `channel == "comment"`) carries the link of the story
  it comments on, so comments never join by URL.
* **Near-duplicate text** — the mention's *story text*: for a comment its own words; for an
  item with a headline of at least `MIN_HEADLINE_TOKENS` words the headline without an outlet
  suffix (" - Reuters", " | Yahoo News"); otherwise title and text. Normalised (accents and
  case folded, punctuation dropped) into word tokens; two texts are near-duplicates when the
  Jaccard similarity of their word-bigram sets is at least `NEAR_DUPLICATE_JACCARD` (0.6) and
  both have at least `MIN_FUZZY_TOKENS` tokens (shorter texts join only when identical).
  Candidate pairs come from MinHash signatures (`NUM_PERM` = 16 hash functions, locality
  sensitive hashing in 8 bands of 2 rows: a pair at Jaccard 0.6 becomes a candidate with
  probability 0.97, at 0.8 with 0.9999); every candidate is then checked with the exact Jaccard,
  so the threshold is exact and unrelated pairs are never compared.

`story_key(mention)` is one short, deterministic key per mention from that mention alone (its
normalised story text, else its canonical URL, else its own id). `story_keys(mentions)` joins a
collection by both signals (union-find) and gives every member of a group the same key (the
smallest of their own keys), and `group_stories` returns the groups. Keys computed for different
collections agree for exact copies; near-duplicates that never meet in one collection keep
their own keys, so counting distinct keys over-counts stories rather than merging different
ones.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from itertools import pairwise
from urllib.parse import parse_qsl, urlencode, urlsplit

from stormwatch.models import Mention
from stormwatch.urls import strip_tracking

# a headline this long identifies a story on its own (shorter ones need their text too)
MIN_HEADLINE_TOKENS = 4
# texts shorter than this join only when identical
MIN_FUZZY_TOKENS = 4
# word-bigram Jaccard similarity at or above which two story texts are the same story
NEAR_DUPLICATE_JACCARD = 0.6
NUM_PERM = 16
BANDS = 8
ROWS = NUM_PERM // BANDS
KEY_CHARS = 10  # hex characters of a key's hash (40 bits)
# an outlet suffix: " - Reuters", " | Yahoo News", " — heise online" (at most 5 words)
_OUTLET_SUFFIX = re.compile(r"\s+[-–—|·]\s+(?P<outlet>[^-–—|·]{1,60})$")
_TOKEN = re.compile(r"\w+")
_MERSENNE = (1 << 61) - 1
# fixed (a, b) pairs of the MinHash permutations h -> (a*h + b) mod p: deterministic across runs
_PERMUTATIONS = [
    (
        int.from_bytes(hashlib.blake2b(f"a{i}".encode(), digest_size=8).digest()) % _MERSENNE | 1,
        int.from_bytes(hashlib.blake2b(f"b{i}".encode(), digest_size=8).digest()) % _MERSENNE,
    )
    for i in range(NUM_PERM)
]


def canonical_url(url: str | None) -> str | None:
    """`host/path?sorted-query` of an http(s) URL without tracking parameters; None if none."""
    if not url:
        return None
    url = strip_tracking(url.strip()) or ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return f"{host}{path}" + (f"?{query}" if query else "")


def strip_outlet(headline: str) -> str:
    """The headline without a trailing " - Outlet" / " | Outlet" (at most 5 words), when
    what is left is still a headline of MIN_HEADLINE_TOKENS words."""
    match = _OUTLET_SUFFIX.search(headline.strip())
    if not match or len(_TOKEN.findall(match.group("outlet"))) > 5:
        return headline.strip()
    rest = headline.strip()[: match.start()]
    return rest if len(tokens(rest)) >= MIN_HEADLINE_TOKENS else headline.strip()


def tokens(text: str) -> list[str]:
    """Word tokens: accents removed, case folded, punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _TOKEN.findall(plain.casefold())


def _is_comment(mention: Mention) -> bool:
    return mention.channel == "comment"


def story_text(mention: Mention) -> str:
    """The words that say which story a mention is (see the module docstring)."""
    if _is_comment(mention):
        return mention.text or mention.title
    if mention.title:
        headline = strip_outlet(mention.title)
        if len(tokens(headline)) >= MIN_HEADLINE_TOKENS:
            return headline
        return f"{headline}\n{mention.text}".strip()
    return mention.text


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:KEY_CHARS]


def story_key(mention: Mention) -> str:
    """One deterministic key from this mention alone: `t:` its normalised story text (at
    least 3 words), else `u:` its canonical URL (not for comments), else `m:` its own id."""
    words = tokens(story_text(mention))
    if len(words) >= 3:
        return "t:" + _digest(" ".join(words))
    url = None if _is_comment(mention) else canonical_url(mention.url)
    if url:
        return "u:" + _digest(url)
    return "m:" + _digest(f"{mention.source}\x1f{mention.native_id}")


def shingles(words: Sequence[str]) -> frozenset[str]:
    """Word bigrams (a single word stands for itself)."""
    if len(words) < 2:
        return frozenset(words)
    return frozenset(f"{a} {b}" for a, b in pairwise(words))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _minhash(items: frozenset[str]) -> tuple[int, ...]:
    hashes = [int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest()) for s in items]
    return tuple(min((a * h + b) % _MERSENNE for h in hashes) for a, b in _PERMUTATIONS)


def near_duplicate(a: str, b: str) -> bool:
    """Whether two texts are the same story by the text signal alone."""
    wa, wb = tokens(a), tokens(b)
    if wa == wb:
        return bool(wa)
    if min(len(wa), len(wb)) < MIN_FUZZY_TOKENS:
        return False
    return jaccard(shingles(wa), shingles(wb)) >= NEAR_DUPLICATE_JACCARD


class _Groups:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def group_stories(mentions: Sequence[Mention]) -> list[list[int]]:
    """Indices of `mentions` grouped by story, each group in input order, groups ordered by
    their first member."""
    groups = _Groups(len(mentions))
    first: dict[str, int] = {}
    keys = [story_key(m) for m in mentions]
    for i, key in enumerate(keys):
        first.setdefault(key, i)
        groups.join(first[key], i)
    by_url: dict[str, int] = {}
    for i, m in enumerate(mentions):
        url = None if _is_comment(m) else canonical_url(m.url)
        if url:
            by_url.setdefault(url, i)
            groups.join(by_url[url], i)
    # near-duplicate text: MinHash bands propose candidates, the exact Jaccard decides
    sets: dict[int, frozenset[str]] = {}
    bands: dict[tuple[int, tuple[int, ...]], list[int]] = {}
    for i, m in enumerate(mentions):
        words = tokens(story_text(m))
        if len(words) < MIN_FUZZY_TOKENS:
            continue
        sets[i] = shingles(words)
        signature = _minhash(sets[i])
        for band in range(BANDS):
            bands.setdefault((band, signature[band * ROWS : (band + 1) * ROWS]), []).append(i)
    checked: set[tuple[int, int]] = set()
    for members in bands.values():
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                if (i, j) in checked or groups.find(i) == groups.find(j):
                    continue
                checked.add((i, j))
                if jaccard(sets[i], sets[j]) >= NEAR_DUPLICATE_JACCARD:
                    groups.join(i, j)
    out: dict[int, list[int]] = {}
    for i in range(len(mentions)):
        out.setdefault(groups.find(i), []).append(i)
    return sorted(out.values(), key=lambda g: g[0])


def story_keys(mentions: Sequence[Mention]) -> list[str]:
    """One key per mention, the same for every member of a story group (the smallest of the
    members' own `story_key`s, so the result does not depend on the order)."""
    own = [story_key(m) for m in mentions]
    keys = list(own)
    for group in group_stories(mentions):
        shared = min(own[i] for i in group)
        for i in group:
            keys[i] = shared
    return keys
