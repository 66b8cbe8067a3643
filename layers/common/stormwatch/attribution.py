"""The credit a licence asks for when a mention is shown: Stack Exchange posts are CC BY-SA.

Stack Exchange's terms ask whoever shows a post to name the site, link the post, name the
author and link the name to the author's profile page; CC BY-SA asks for the licence, with a
link to it. The Stack Exchange source keeps site, licence and profile in `Mention.channel`
("<site> · <licence> · <profile URL>", written by `stackexchange_channel`), so the stored item
needs no field of its own; `credit_of` reads them back for the e-mails and the storm page,
cleaned, with safe links or none. (The post's own link is `Mention.url`.)

Pure and light: the digest, the alert and the storm page import it, never the source adapter.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from stormwatch.sanitize import clean_text, safe_link

STACKEXCHANGE = "stackexchange"  # the source whose content needs the credit
SEPARATOR = " · "
DEFAULT_LICENCE = "CC BY-SA"  # Stack Exchange's, when an item does not name its version
SITE_CHARS = 80
LICENCE_CHARS = 40
# a profile is https://<site>/users/<id>/<name slug>: a longer one is not a real profile, and
# chat messages (three links per mention) must stay within the services' size limits
PROFILE_URL_CHARS = 200
# the licence versions Stack Exchange content is under, by publication date
_CC_BY_SA = re.compile(r"CC BY-SA (2\.5|3\.0|4\.0)")


class Credit(BaseModel):
    """Where a post was published, under which licence, and its author's profile page."""

    model_config = ConfigDict(frozen=True)

    site: str  # e.g. "stackoverflow"
    licence: str  # e.g. "CC BY-SA 4.0"
    licence_url: str | None = None
    profile_url: str | None = None  # None when unknown or pseudonymised

    def text(self) -> str:
        """One line for a CSV cell: site, licence and profile."""
        return SEPARATOR.join(p for p in (self.site, self.licence, self.profile_url) if p)


def stackexchange_channel(site: str, licence: str, profile: str) -> str:
    """`Mention.channel` of a Stack Exchange post; `credit_of` reads it back."""
    return SEPARATOR.join(part for part in (site, licence or DEFAULT_LICENCE, profile) if part)


def _parts(channel: str) -> tuple[str, str, str]:
    """(site, licence, profile) of a Stack Exchange channel; the profile is the last part
    when there are three (a licence name from the API could itself hold the separator)."""
    site, _, rest = channel.partition(SEPARATOR)
    licence, _, profile = rest.rpartition(SEPARATOR)
    if not licence:  # only two parts: no profile
        licence, profile = rest, ""
    return site, licence, profile


def credit_of(source: str, channel: str) -> Credit | None:
    """The credit a mention of `source` must show; None when its licence asks for none."""
    if source != STACKEXCHANGE:
        return None
    site, licence, profile = _parts(channel)
    licence = clean_text(licence, LICENCE_CHARS) or DEFAULT_LICENCE
    version = _CC_BY_SA.fullmatch(licence)
    profile_url = safe_link(profile)
    return Credit(
        site=clean_text(site, SITE_CHARS) or "Stack Exchange",
        licence=licence,
        licence_url=(
            f"https://creativecommons.org/licenses/by-sa/{version.group(1)}/" if version else None
        ),
        profile_url=profile_url if profile_url and len(profile_url) <= PROFILE_URL_CHARS else None,
    )


def without_profile(source: str, channel: str) -> str:
    """The channel without the author's profile (pseudonymous privacy: the profile URL names
    the author as much as the handle does)."""
    if source != STACKEXCHANGE:
        return channel
    site, licence, _ = _parts(channel)
    return stackexchange_channel(site, licence, "")
