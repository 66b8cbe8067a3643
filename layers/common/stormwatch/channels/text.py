"""Escaping for chat markup. Mention text is hostile input: it must reach a channel as text,
never as markup, a link, or a mention that pings people.

Slack (mrkdwn): `&`, `<` and `>` are the only control characters of Slack's markup; escaped as
`&amp;`, `&lt;`, `&gt;`, Slack's documented escaping, `<!channel>`, `<!here>`, `<@U123>` and
`<http://x|label>` show as the characters they are. Bare `@channel`/`@here`/`@everyone` get an
invisible word joiner after the `@`, so even a message posted with link_names cannot ping.

Teams (Adaptive Card): hostile text goes into `TextRun`s, which Teams does not parse as Markdown;
angle brackets become look-alike quotation marks so no `<at>` tag or HTML survives either.
"""

from __future__ import annotations

import re

from stormwatch.sanitize import clean_text

_SLACK = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_BROADCAST = re.compile(r"@(?=(channel|here|everyone)\b)", re.IGNORECASE)
_WORD_JOINER = "\u2060"
_TEAMS = {"<": "‹", ">": "›"}


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut with an ellipsis (chat blocks have hard limits)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _quiet_broadcasts(text: str) -> str:
    return _BROADCAST.sub("@" + _WORD_JOINER, text)


def slack_text(text: str, limit: int) -> str:
    """Plain text for mrkdwn: cleaned (no bidi/control characters), escaped, no pings, cut
    before escaping so an escape sequence is never cut in half."""
    plain = _quiet_broadcasts(clean_text(text, limit))
    escaped = "".join(_SLACK.get(ch, ch) for ch in plain)
    if len(escaped) <= limit:
        return escaped
    out: list[str] = []
    used = 1  # room for the ellipsis
    for ch in plain:
        piece = _SLACK.get(ch, ch)
        if used + len(piece) > limit:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) + "…"


def slack_plain(text: str, limit: int) -> str:
    """For Slack `plain_text` objects (headers, buttons): Slack does not parse these, but the
    broadcast words are quieted and the length capped all the same."""
    return clip(_quiet_broadcasts(clean_text(text, limit)), limit)


def slack_link(url: str, label: str, limit: int) -> str:
    """`<url|label>`: the label escaped, the URL's `|` percent-encoded and `&` escaped (Slack's
    rule for URLs in mrkdwn); a URL with characters a safe link never has is left out."""
    if any(ch in url for ch in "<> \n"):
        return slack_text(label, limit)
    href = url.replace("|", "%7C").replace("&", "&amp;")
    return f"<{href}|{slack_text(label, limit)}>"


def teams_text(text: str, limit: int) -> str:
    """Text for an Adaptive Card TextRun: cleaned, no angle brackets, no pings, capped."""
    plain = _quiet_broadcasts(clean_text(text, limit))
    return "".join(_TEAMS.get(ch, ch) for ch in plain)
