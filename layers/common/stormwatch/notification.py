"""What to tell: one `Notification` per alert, notice or digest, whatever the channel.

It carries the language-neutral view (already cleaned and bounded by `stormwatch.digest`), the
e-mail rendered once per language its recipients read, and links. Links are typed by purpose
(`Link.purpose`), so the storm page, feedback and unsubscribe links of later work are one more
purpose each, and every channel shows them the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from stormwatch.digest import AlertView, DigestView, NoticeView
from stormwatch.links import LinkBuilder
from stormwatch.models import RenderedEmail, SurgeTier, iso
from stormwatch.sanitize import safe_link

NotificationKind = Literal["alert", "notice", "digest"]
# what a link is for; each channel labels it in the reader's language (stormwatch.i18n link_*)
# what an alert offers its readers through the web function (stormwatch.web), in this order
ResponsePurpose = Literal["storm", "real", "noise", "handled", "mute"]
RESPONSE_PURPOSES: tuple[ResponsePurpose, ...] = get_args(ResponsePurpose)
LinkPurpose = Literal["mention", "settings", "unsubscribe"] | ResponsePurpose
NotificationView = Annotated[AlertView | NoticeView | DigestView, Field(discriminator="kind")]


class Link(BaseModel):
    model_config = ConfigDict(frozen=True)

    purpose: LinkPurpose
    url: str


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: NotificationKind
    # the delivery key without the channel and target, e.g. alert#<topic>#S#<iso>#<tier>
    key: str
    topic: str
    tier: SurgeTier | None = None
    # in the topic's own language: what chat, webhook and SMS say
    view: NotificationView
    # the e-mail, by language (the topic's language always present)
    emails: dict[str, RenderedEmail] = Field(default_factory=dict)
    links: list[Link] = Field(default_factory=list)

    def email_for(self, language: str) -> RenderedEmail:
        return self.emails.get(language) or self.emails[self.view.language]


def links_for(view: AlertView | NoticeView | DigestView) -> list[Link]:
    """The links every channel offers with a notification: the most telling mention (alerts)
    and where to change the settings, each only when there is a safe URL."""
    links = []
    if isinstance(view, AlertView):
        top = next((m.url for m in view.samples if safe_link(m.url)), None)
        if top:
            links.append(Link(purpose="mention", url=top))
    if view.settings_url:
        links.append(Link(purpose="settings", url=view.settings_url))
    return links


def response_links(
    builder: LinkBuilder | None, topic: str, detected_at: datetime, *, now: datetime
) -> list[Link]:
    """The storm page and the feedback links of one alerted surge; none without a web URL."""
    if builder is None:
        return []
    subject = iso(detected_at)
    return [
        Link(purpose=purpose, url=builder.url(purpose, topic, subject, now=now))
        for purpose in RESPONSE_PURPOSES
    ]
