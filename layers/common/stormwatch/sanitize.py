"""The two sanitisers for outside text on its way into an e-mail: `clean_text` for what is shown,
`safe_link` for what is linked. Mentions pass them when they are stored, and the digest, alert
and notice once more when they are built and rendered (HTML and text part alike).

Mention texts, author names, URLs and source errors are hostile input. Bidi overrides and
isolates (U+202A-202E, U+2066-2069) can make "invoice\u202efdp.exe" read "invoiceexe.pdf";
zero-width characters hide words; a line break in an author name can fake a line such as
"== Urgent ==" in the text part. None of them survive here.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

MAX_URL_CHARS = 2000

_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# what a browser would percent-encode anyway, and what means something in HTML
_URL_UNSAFE = {'"': "%22", "<": "%3C", ">": "%3E", "\\": "%5C", "`": "%60"}
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$")


def clean_text(value: str | None, limit: int, *, lines: bool = False) -> str:
    """Text fit to show: NFC, no control, format (bidi, zero-width) or unassigned characters,
    whitespace runs as one space, at most `limit` characters (an ellipsis marks a cut). One line
    unless `lines`: then line breaks stay, at most one blank line in a row."""
    if not value:
        return ""
    # only the start can be shown: cut before the per-character work, so a hostile 100 kB text
    # costs no more than a short one (room left for invisible characters that get removed)
    text = "".join(_visible(ch, lines) for ch in value[: limit * 4 + 64])
    text = unicodedata.normalize("NFC", text)
    if lines:
        text = "\n".join(line.strip() for line in _SPACES.sub(" ", text).split("\n"))
        text = _BLANK_LINES.sub("\n\n", text)
    else:
        text = " ".join(text.split())
    text = text.strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _visible(ch: str, lines: bool) -> str:
    """A character as shown: line breaks as "\\n" (or a space), other spaces as a space,
    control/format/private/unassigned characters as nothing."""
    if ch in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029":
        return "\n" if lines else " "
    if ch.isspace():
        return " "
    return "" if unicodedata.category(ch)[0] == "C" else ch


def safe_link(value: str | None) -> str | None:
    """An absolute http(s) URL fit for an href and for the text part, or None.

    Refused rather than repaired, since a repaired link would lead somewhere else: other
    schemes (javascript:, data:), relative links, whitespace, control or invisible characters
    anywhere, user info (`https://acme.com@evil.example` goes to evil.example), hosts that are
    not plain ASCII names or addresses (international and punycode names can imitate a known
    one), and more than MAX_URL_CHARS. Characters with a meaning in HTML are percent-encoded."""
    if not value:
        return None
    url = value.strip()
    if len(url) > MAX_URL_CHARS or any(ch.isspace() or _visible(ch, False) != ch for ch in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not url.lower().startswith(
        f"{parts.scheme.lower()}://"
    ):
        return None
    if "@" in parts.netloc or not _plain_host(parts.hostname or ""):
        return None
    return "".join(_URL_UNSAFE.get(ch, ch) for ch in url)


def _plain_host(host: str) -> bool:
    """An ASCII host name without punycode labels, or an IP address."""
    if host.startswith("[") or ":" in host:  # IPv6 literal (urlsplit drops the brackets)
        return bool(re.fullmatch(r"[0-9a-f:.]+", host))
    if not _HOST.match(host):
        return False
    return not any(label.startswith("xn--") for label in host.split("."))
