"""`privacy: pseudonymous`: author handles are replaced before anything is stored.

With the watchlist's `privacy: pseudonymous`, the collector hands every mention to a
`Pseudonymiser` before writing it: the author's handle becomes `anon-<12 hex>`, an HMAC-SHA256
of "<source>:<handle, casefolded>" under a key kept in SSM (`<prefix>/privacy/pseudonym_key`,
read through `stormwatch.secrets` like the source credentials), and a Stack Exchange author's
profile URL (kept in `Mention.channel` for the attribution) is dropped. The same author keeps one
pseudonym within a deployment, so distinct-author counts, "new voices" and surge evidence work
as before; without the key the pseudonym cannot be computed from a handle, nor linked with
another deployment's. Without a usable key nothing is collected (fail closed). What is stored,
for how long and why: docs/privacy.md.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from stormwatch.attribution import without_profile
from stormwatch.models import Mention
from stormwatch.secrets import Secrets
from stormwatch.watchlist import Watchlist

PSEUDONYM_KEY = "privacy/pseudonym_key"
MIN_KEY_CHARS = 32  # e.g. `openssl rand -hex 32` gives 64
PSEUDONYM_HEX = 12  # 48 bits: no collisions to speak of among a topic's authors

Pseudonymise = Callable[[Mention], Mention]


class PrivacyError(Exception):
    """Pseudonymous privacy cannot be honoured (no usable key); never holds the key."""


class Pseudonymiser:
    def __init__(self, key: str) -> None:
        if len(key) < MIN_KEY_CHARS:
            raise PrivacyError(
                f"the SSM parameter {PSEUDONYM_KEY} must have at least {MIN_KEY_CHARS} characters"
            )
        self._key = key.encode()

    def pseudonym(self, source: str, author: str) -> str:
        """`anon-<hex>` for a handle ("" stays "": no author is no author)."""
        if not author:
            return ""
        who = f"{source}:{author.casefold()}".encode()
        return "anon-" + hmac.new(self._key, who, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]

    def __call__(self, mention: Mention) -> Mention:
        author = self.pseudonym(mention.source, mention.author)
        channel = without_profile(mention.source, mention.channel)  # a profile names the author
        return mention.model_copy(update={"author": author, "channel": channel})

    def __repr__(self) -> str:  # the key stays out of logs
        return "Pseudonymiser()"


def pseudonymiser_for(watchlist: Watchlist, secrets: Secrets) -> Pseudonymise | None:
    """What the collector applies to each mention before storing it; None keeps handles."""
    if watchlist.privacy != "pseudonymous":
        return None
    key = secrets.get(PSEUDONYM_KEY)
    if not key:
        raise PrivacyError(
            f"privacy: pseudonymous needs the SecureString parameter {PSEUDONYM_KEY} in SSM "
            "(see docs/privacy.md); nothing is collected without it"
        )
    return Pseudonymiser(key)
