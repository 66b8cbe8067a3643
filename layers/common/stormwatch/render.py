"""Turn a digest or alert view into a finished e-mail (subject, HTML, plain text, headers).

The templates live in a directory given at runtime (`templates/` in the repo, `/opt/templates` in
the Lambda layer). HTML templates are autoescaped; every link goes through the `link` filter
(`sanitize.safe_link`) and every text through `clip`, one line, or `clip_lines`
(`sanitize.clean_text`) even though the view builders already did both: the templates must be
safe on their own.
CSS is written once in `_base.html.j2` and inlined with css-inline, keeping only the
`prefers-color-scheme` media rules in a <style> block for clients that support dark mode.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import css_inline
import jinja2
from jinja2 import pass_context

from stormwatch import i18n
from stormwatch.digest import AlertView, DigestView, MentionItem, NoticeView
from stormwatch.models import RenderedEmail
from stormwatch.sanitize import clean_text, safe_link

SUBJECT_CHARS = 200
# Gmail clips messages above ~102 KB; the views are bounded so a digest stays far below that,
# and `_fit` shortens the lists of anything that still gets there.
HTML_BUDGET = 100_000
# list lengths tried, in turn, when a rendered e-mail is over the budget
SHRINK_STEPS = (3, 2, 1, 0)

_INLINER = css_inline.CSSInliner(
    keep_style_tags=False,
    keep_at_rules=True,  # the dark-mode @media rules cannot be inlined; keep them in <style>
    load_remote_stylesheets=False,
    keep_link_tags=False,
)


def make_environment(templates_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2"),
            disabled_extensions=("txt", "txt.j2"),
            default_for_string=True,
            default=True,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(
        num=_num,
        compact=_compact,
        pct=_pct,
        signed=_signed,
        dt=_dt,
        period=_period,
        day=_day,
        count=_count,
        link=_link,
        clip=_clip,
        clip_lines=_clip_lines,
    )
    return env


def render_digest(view: DigestView, templates_dir: Path, *, lang: str = "en") -> RenderedEmail:
    lang = i18n.lang_or_default(lang)
    s = i18n.strings(lang)
    verdict = s[f"verdict_{view.verdict}"]
    if view.delta_share is not None:
        change = f" ({i18n.fmt_percent(view.delta_share, lang, signed=True)})"
    else:  # nothing the day before: a percentage would be meaningless
        change = f" ({i18n.fmt_signed(view.delta, lang)})" if view.delta else ""
    subject = (
        f"[{view.watchlist_name}] {view.topic_title}: {verdict} — "
        f"{i18n.count_noun(view.count, lang)}{change}"
    )
    return _fit("digest", view, templates_dir, lang, subject)


def render_alert(view: AlertView, templates_dir: Path, *, lang: str = "en") -> RenderedEmail:
    lang = i18n.lang_or_default(lang)
    s = i18n.strings(lang)
    surge = view.surge
    key = "alert_subject_escalated" if surge.escalation else "alert_subject"
    label = s[key].format(tier=s[f"tier_{surge.tier}"])
    observed = i18n.count_noun(round(surge.observed), lang)
    expected = s["vs_expected"].format(expected=i18n.fmt_compact(surge.expected, lang))
    subject = (
        f"[{view.watchlist_name}] {view.topic_title}: {label} — "
        f"{observed} {s['per_hour']} {expected}"
    )
    return _fit("alert", view, templates_dir, lang, subject)


def render_notice(view: NoticeView, templates_dir: Path, *, lang: str = "en") -> RenderedEmail:
    """The short "source down" e-mail (bounded by its view: no lists to shrink)."""
    lang = i18n.lang_or_default(lang)
    s = i18n.notice_strings(lang, view.health)
    label = s["notice_subject"].format(source=clean_text(view.source, 80))
    subject = f"[{view.watchlist_name}] {view.topic_title}: {label}"
    return _render("notice", view, templates_dir, lang, subject)


# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _environment(templates_dir: Path) -> jinja2.Environment:
    """One compiled environment per directory for the life of the process (warm Lambdas)."""
    return make_environment(templates_dir)


def _fit(
    kind: str, view: DigestView | AlertView, templates_dir: Path, lang: str, subject: str
) -> RenderedEmail:
    """Render; if the HTML is over HTML_BUDGET (only hostile or extreme content gets there:
    the views are capped), render again with shorter lists and texts until it fits."""
    email = _render(kind, view, templates_dir, lang, subject)
    for cap in SHRINK_STEPS:
        if len(email.html.encode()) <= HTML_BUDGET:
            break
        email = _render(kind, _shrink(view, cap), templates_dir, lang, subject)
    return email


def _shrink(view: DigestView | AlertView, cap: int) -> DigestView | AlertView:
    """The same view with every list cut to `cap` items and texts to a line or two."""
    text_chars = 140 if cap >= 2 else 60

    def items(values: list[MentionItem] | None) -> list[MentionItem] | None:
        if values is None:
            return None
        return [
            m.model_copy(
                update={
                    "text": clean_text(m.text, text_chars, lines=True),
                    "title": clean_text(m.title, text_chars),
                    "why": m.why[:cap],
                }
            )
            for m in values[:cap]
        ]

    if isinstance(view, AlertView):
        return view.model_copy(
            update={
                "samples": items(view.samples),
                "reasons": view.reasons[:cap],
                "top_terms": view.top_terms[: cap + 2],
                "drivers": view.drivers[: cap + 2],
                "trimmed": True,
            }
        )
    return view.model_copy(
        update={
            "surges": [
                g.model_copy(update={"top_terms": g.top_terms[:cap], "drivers": g.drivers[:cap]})
                for g in view.surges[:cap]
            ],
            "most_negative": items(view.most_negative),
            "most_positive": items(view.most_positive),
            "most_engaged": items(view.most_engaged),
            "new_voices": items(view.new_voices),
            "share_of_voice": view.share_of_voice[: cap + 1],
            "by_source": view.by_source[: cap + 3],
            "sources": [
                r.model_copy(
                    update={"notes": r.notes[: max(0, cap - 2)], "last_error": r.last_error[:120]}
                )
                for r in view.sources[: max(cap * 2, 5)]
            ],
            "trimmed": True,
        }
    )


def _render(
    kind: str,
    view: DigestView | AlertView | NoticeView,
    templates_dir: Path,
    lang: str,
    subject: str,
) -> RenderedEmail:
    env = _environment(Path(templates_dir).resolve())
    subject = clean_text(subject, SUBJECT_CHARS)
    context: dict[str, Any] = {
        "view": view,
        "s": i18n.notice_strings(lang, view.health)
        if isinstance(view, NoticeView)
        else i18n.strings(lang),
        "lang": lang,
        "tz": view.timezone,
        "subject": subject,
    }
    html = env.get_template(f"{kind}.html.j2").render(context)
    text = env.get_template(f"{kind}.txt.j2").render(context)
    html = _INLINER.inline(html)
    headers = {"Auto-Submitted": "auto-generated", "X-Stormwatch-Topic": view.topic_name}
    if view.settings_url:
        headers["List-Unsubscribe"] = f"<{view.settings_url}>"
    return RenderedEmail(subject=subject, html=html, text=_tidy(text), headers=headers)


def _tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n") + "\n"


# filters: the language comes from the template context, so one environment serves both


@pass_context
def _num(ctx: Any, value: float | int, decimals: int = 0) -> str:
    return i18n.fmt_number(value, ctx["lang"], decimals)


@pass_context
def _compact(ctx: Any, value: float | int) -> str:
    return i18n.fmt_compact(value, ctx["lang"])


@pass_context
def _pct(ctx: Any, share: float | None, signed: bool = False) -> str:
    return i18n.fmt_percent(share, ctx["lang"], signed=signed)


@pass_context
def _signed(ctx: Any, value: float | int) -> str:
    return i18n.fmt_signed(value, ctx["lang"])


@pass_context
def _dt(ctx: Any, value: Any, zone: bool = True) -> str:
    return i18n.fmt_datetime(value, ctx["lang"], ctx["tz"], zone=zone)


@pass_context
def _period(ctx: Any, start: Any, end: Any) -> str:
    return i18n.fmt_period(start, end, ctx["lang"], ctx["tz"])


@pass_context
def _day(ctx: Any, value: Any) -> str:
    return i18n.fmt_day(value, ctx["lang"], ctx["tz"])


@pass_context
def _count(ctx: Any, n: int, noun: str = "mention") -> str:
    return i18n.count_noun(n, ctx["lang"], noun)


def _link(value: str | None) -> str:
    """An http(s) URL or the empty string; templates only emit <a> when this is non-empty."""
    return safe_link(value) or ""


def _clip(value: Any, limit: int = 280) -> str:
    """Outside text as one line (a line break in a name cannot fake a line of the e-mail)."""
    return clean_text(value if isinstance(value, str) else str(value or ""), limit)


def _clip_lines(value: Any, limit: int = 280) -> str:
    """A mention's text or a holding statement: line breaks kept (for `white-space: pre-line`)."""
    return clean_text(value if isinstance(value, str) else str(value or ""), limit, lines=True)
