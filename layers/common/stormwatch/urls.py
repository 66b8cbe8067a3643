"""URLs as stored: without click-tracking parameters.

Its own module, apart from the source adapters, because the store and the story grouping
(stormwatch.syndication) use it too, on paths that import no adapter.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "ocid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ref_src",
        "cmpid",
        "wt_mc",
        "__twitter_impression",
        "at_medium",
        "at_campaign",
    }
)


def strip_tracking(url: str | None) -> str | None:
    """The URL without utm_* and other click-tracking parameters; otherwise unchanged."""
    if not url or "?" not in url:
        return url
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [
        (k, v)
        for k, v in pairs
        if not (k.lower().startswith("utm_") or k.lower() in TRACKING_PARAMS)
    ]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))
