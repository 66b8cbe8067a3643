"""The words of a chat message, once for Slack and Teams: plain text, not yet escaped.

`chat_message` reads a Notification's alert, notice or digest view (already cleaned and bounded) and
says it in the topic's language with stormwatch.i18n. Each chat channel escapes these strings for
its own markup (`stormwatch.channels.text`); `sms_line` is the one-line text message.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from stormwatch.attribution import Credit
from stormwatch.digest import AlertView, DigestView, MentionItem, NoticeView
from stormwatch.i18n import (
    count_noun,
    fmt_compact,
    fmt_datetime,
    fmt_percent,
    notice_strings,
    strings,
)
from stormwatch.notification import Notification
from stormwatch.sanitize import clean_text

MENTIONS_CAP = 5
DIGEST_MENTIONS_CAP = 3  # "needs a reply", in the digest summary
STEPS_CAP = 10
SMS_CHARS = 160  # one GSM-7 segment; longer texts are split and cost more
SMS_TITLE_CHARS = 40
SMS_LINK_PURPOSES = ("storm", "settings")  # our own links only, the storm page first


class ChatMention(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    url: str | None = None
    source: str = ""
    # content whose licence asks for credit (Stack Exchange, CC BY-SA): site, licence, profile,
    # and the author it names ("by Zoë O'Brien", in the message's language)
    credit: Credit | None = None
    byline: str = ""


class ChatLink(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    url: str


class ChatMessage(BaseModel):
    """What a chat message says, in order; every string is plain, unescaped text."""

    model_config = ConfigDict(frozen=True)

    headline: str
    intro: str
    facts: list[tuple[str, str]] = Field(default_factory=list)
    mentions_title: str = ""
    mentions: list[ChatMention] = Field(default_factory=list)
    steps_title: str = ""
    steps: list[str] = Field(default_factory=list)
    statement_title: str = ""
    statement: str = ""
    links: list[ChatLink] = Field(default_factory=list)
    footer: str = ""


def chat_message(notification: Notification) -> ChatMessage:
    view = notification.view
    s = strings(view.language)
    links = [ChatLink(label=s[f"link_{link.purpose}"], url=link.url) for link in notification.links]
    footer = f"{s['footer']} “{view.watchlist_name}”"
    if isinstance(view, AlertView):
        return _alert_message(view, s, links, footer)
    if isinstance(view, NoticeView):
        return _notice_message(view, s, links, footer)
    return _digest_message(view, s, links, footer)


def _alert_message(
    view: AlertView, s: dict[str, str], links: list[ChatLink], footer: str
) -> ChatMessage:
    g, lang = view.surge, view.language
    ratio = f" ({fmt_compact(g.ratio, lang)} {s['times_usual']})" if g.ratio is not None else ""
    facts = [
        (s["detected"], fmt_datetime(g.detected_at, lang)),
        (
            s["mentions_now_vs_usual"],
            f"{fmt_compact(g.observed, lang)} {s['per_hour']}, {s['expected']} "
            f"{fmt_compact(g.expected, lang)}{ratio}",
        ),
        (
            s["negative_share_now"],
            f"{fmt_percent(g.negative_share, lang)} / {s['usual']} "
            f"{fmt_percent(g.usual_negative_share, lang)}",
        ),
        (s["complete"], s["complete_yes"] if g.complete else s["complete_no"]),
    ]
    if view.top_terms:
        facts.append((s["top_terms"], ", ".join(view.top_terms)))
    playbook = view.playbook
    tier = s[f"tier_{g.tier}"].upper()
    escalated = ""
    if view.escalated_from:
        escalated = f" ({s['escalated_from']} {s['tier_' + view.escalated_from]})"
    steps_title = s["first_steps"]
    if playbook.tier:  # the playbook's own steps for this tier, not its defaults
        steps_title += f" ({s['tier_' + playbook.tier]}: {s['playbook_for_tier']})"
    return ChatMessage(
        headline=f"{tier}{escalated} · {s['alert']}: {view.topic_title}",
        intro=s["alert_escalation"] if g.escalation else s["alert_intro"],
        facts=facts,
        mentions_title=s["chat_mentions"],
        mentions=[_chat_mention(m, s) for m in view.samples[:MENTIONS_CAP]],
        steps_title=steps_title if playbook.first_steps else "",
        steps=playbook.first_steps[:STEPS_CAP],
        statement_title=s["holding_statement"] if playbook.holding_statement else "",
        statement=playbook.holding_statement,
        links=links,
        footer=footer,
    )


def _chat_mention(m: MentionItem, s: dict[str, str]) -> ChatMention:
    return ChatMention(
        text=m.title or m.text or m.url or "–",
        url=m.url,
        source=m.source,
        credit=m.credit,
        byline=f"{s['by']} {m.author}" if m.credit and m.author else "",
    )


def _notice_message(
    view: NoticeView, s: dict[str, str], links: list[ChatLink], footer: str
) -> ChatMessage:
    lang = view.language
    s = notice_strings(lang, view.health)
    since = fmt_datetime(view.since, lang) if view.since else s["no_success_yet"]
    facts = [
        (s["notice_detected"], fmt_datetime(view.detected_at, lang)),
        (s["notice_since"], since),
        (s["runs_in_a_row"], str(view.failures)),
    ]
    if view.last_error:
        facts.append((s["last_error"], view.last_error))
    return ChatMessage(
        headline=f"{s['notice']}: {view.source} · {view.topic_title}",
        intro=s["notice_intro"].format(source=view.source, n=view.failures),
        facts=facts,
        links=links,
        footer=footer,
    )


def digest_summary(view: DigestView) -> str:
    """The digest in one paragraph: volume and change, negative share, verdict, surges,
    sources working."""
    s, lang = strings(view.language), view.language
    if view.delta_share is not None:
        change = f"{fmt_percent(view.delta_share, lang, signed=True)} {s['vs_previous']}"
    else:
        change = s["new_since_zero"]
    return s["digest_summary"].format(
        mentions=count_noun(view.count, lang),
        end=fmt_datetime(view.period_end, lang),
        change=change,
        negative=fmt_percent(view.sentiment.negative_share, lang),
        verdict=s[f"verdict_{view.verdict}"],
        surges=view.surges_total,
        ok=view.sources_ok,
        total=len(view.sources),
    )


def _digest_message(
    view: DigestView, s: dict[str, str], links: list[ChatLink], footer: str
) -> ChatMessage:
    return ChatMessage(
        headline=f"{s['digest']}: {view.topic_title}",
        intro=digest_summary(view),
        mentions_title=s["most_negative"],
        mentions=[_chat_mention(m, s) for m in view.most_negative[:DIGEST_MENTIONS_CAP]],
        links=links,
        footer=footer,
    )


def sms_line(notification: Notification) -> str:
    """One short line: tier (or "source down"), topic, the headline number, a link if any."""
    view = notification.view
    s = strings(view.language)
    title = clean_text(view.topic_title, SMS_TITLE_CHARS).replace("\n", " ")
    if isinstance(view, AlertView):
        g = view.surge
        what = (
            f"{s['tier_' + g.tier].upper()}: {title}, {fmt_compact(g.observed, view.language)}"
            f"/{s['hours']} vs {fmt_compact(g.expected, view.language)}"
        )
    elif isinstance(view, NoticeView):
        notice = notice_strings(view.language, view.health)["notice"]
        what = f"{notice}: {clean_text(view.source, 30)} ({title})"
    else:
        what = (
            f"{s['digest']}: {title}, {count_noun(view.count, view.language)}, "
            f"{fmt_percent(view.sentiment.negative_share, view.language)} {s['negative']}"
        )
    line = f"[stormwatch] {what}"
    # only a link of our own: a third-party URL in a text message reads like phishing
    by_purpose = {x.purpose: x.url for x in notification.links}
    link = next((by_purpose[p] for p in SMS_LINK_PURPOSES if p in by_purpose), "")
    if link and len(line) + 1 + len(link) <= SMS_CHARS:
        line = f"{line} {link}"
    return line[:SMS_CHARS]
