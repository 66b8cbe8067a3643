"""Strings and number/date formatting for the e-mails, in English and German.

The view models (`stormwatch.digest`) carry plain numbers, datetimes and label keys; the templates
turn them into words through these functions, so one view renders in either language and the
wording lives in one place that a test can hold both languages against.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

Lang = Literal["en", "de"]
LANGUAGES: tuple[Lang, ...] = ("en", "de")

# Every key must exist in every language (a unit test checks); templates read them as `s.key`.
STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "digest": "Daily digest",
        "alert": "Surge alert",
        "period": "Period",
        "mentions_label": "Mentions",
        "previous_day": "previous day",
        "vs_previous": "vs. previous day",
        "new_since_zero": "none the day before",
        "sentiment": "Sentiment",
        "net_sentiment": "Net sentiment",
        "net_hint": "positive share minus negative share of scored mentions",
        "news_tone": "GDELT news tone",
        "news_tone_articles": "articles",
        "news_tone_hint": "GDELT's average tone of world news on the topic; below 0 is negative",
        "negative": "negative",
        "neutral": "neutral",
        "positive": "positive",
        "unscored": "not scored yet",
        "by_language": "By language",
        "lang_en": "English",
        "lang_de": "German",
        "lang_fr": "French",
        "lang_it": "Italian",
        "lang_es": "Spanish",
        "lang_pt": "Portuguese",
        "lang_ar": "Arabic",
        "verdict": "Verdict",
        "verdict_quiet": "quiet",
        "verdict_as_usual": "as usual",
        "verdict_busier": "busier than usual",
        "verdict_storm": "storm warning",
        "nothing_today": "No mentions in this period.",
        "nothing_hint": "Nothing matched the topic in the sources below.",
        "nothing_no_coverage": "No source ran successfully, so an empty day says little.",
        "surges": "Surges in this period",
        "surges_more": "more surges not shown",
        "observed": "observed",
        "expected": "expected",
        "score": "score",
        "threshold": "threshold",
        "tier_watch": "watch",
        "tier_warning": "warning",
        "tier_firestorm": "firestorm",
        "most_negative": "Needs a reply",
        "most_negative_hint": "The most negative mentions, weighted by reach and engagement.",
        "most_positive": "Most positive",
        "most_engaged": "Most engaged",
        "most_engaged_rest": "Most engaged, besides those above",
        "new_voices": "New voices",
        "new_voices_hint": "authors or outlets not heard in the 30 days before",
        "new_voices_none": "Every author in this period was heard in the 30 days before.",
        "of": "of",
        "share_of_voice": "Share of voice",
        "sov_hint": "mentions in this period, against the topics marked as competitors",
        "this_topic": "this topic",
        "week_average": "7-day average",
        "vs_week": "vs. 7-day average",
        "per_day": "per day",
        "no_history": "no history yet",
        "baseline": "Baseline",
        "baseline_days_from_backfill": "days from backfill",
        "baseline_no_history": "no history",
        "chart": "Last 7 days, by hour",
        "chart_hint": (
            "One bar per hour; red: negative mentions; shaded: the 24 hours of this digest."
        ),
        "chart_empty": "No scored mentions in the last 7 days.",
        "busiest_hour": "busiest hour",
        "open": "ongoing",
        "status_degraded": "degraded",
        "status_down": "down",
        "status_refused": "needs approval / refused",
        "refused_hint": "the platform refuses this client; it needs the platform's approval",
        "truncated": "the last run stopped early; some items may be missing",
        "no_run_in_period": "no run in this period",
        "notes": "notes",
        "settings_hint": (
            "To change or stop these e-mails, ask the owner of this watchlist to edit your entry "
            "in watchlist.yaml"
        ),
        "playbook_for_tier": "steps for this tier",
        "trimmed": "Some lists were shortened to keep this e-mail small enough for every mail app.",
        "why": "why",
        "engagement": "engagement",
        "by": "by",
        "via": "via",
        "open_link": "open",
        "sources": "Sources",
        "source": "Source",
        "status": "Status",
        "last_run_items": "last run",
        "n_items": "items",
        "coverage": "Coverage",
        "sources_ok": "sources working",
        "sources_n": "sources",
        "status_ok": "ok",
        "status_never-run": "never run",
        "status_unknown": "no status",
        "failing_since": "no success since",
        "no_success_yet": "no successful run yet",
        "runs_in_a_row": "failed runs in a row",
        "last_error": "last error",
        "at": "at",
        "settings": "Change settings or unsubscribe",
        "footer": "Sent by stormwatch for the watchlist",
        "footer_why": "You receive this because you are a recipient for this topic.",
        "alert_intro": "Mentions are rising faster than usual.",
        "alert_escalation": "Escalation: this surge has grown since the last alert.",
        "escalated_from": "escalated from",
        "detected": "Detected",
        "mentions_now_vs_usual": "Mentions now vs. usual",
        "times_usual": "× usual",
        "score_vs_threshold": "Score vs. threshold",
        "negative_share_now": "Negative share now vs. usual",
        "usual": "usual",
        "unique_authors": "Unique authors",
        "complete": "Data",
        "complete_yes": "complete",
        "complete_no": "incomplete: a source failed, the real numbers may be higher",
        "drivers": "Drivers",
        "top_terms": "Top terms",
        "samples": "Sample mentions",
        "playbook": "Playbook",
        "owner": "Owner",
        "first_steps": "First steps",
        "holding_statement": "Holding statement",
        "no_playbook": "No playbook for this topic yet; add one in watchlist.yaml.",
        "mention_one": "mention",
        "mention_other": "mentions",
        "vs_expected": "vs. {expected} expected",
        "per_hour": "per hour",
        "window": "window",
        "hours": "h",
        "reasons": "Why the detector fired",
        "failing_sources": "Failing sources",
        "episode_started": "Surge started",
        "by_source": "By source",
        "alert_subject": "surge ({tier})",
        "alert_subject_escalated": "surge escalated to {tier}",
        "and_more": "and {n} more",
        "and_more_hint": "copies of the same story from other outlets or sources",
        "quiet_source": "unusually quiet ({now} vs usual {usual} a day)",
        "source_problems": "Check the sources",
        "source_problems_hint": (
            "A quiet day is only quiet if every source worked; these did not, or hardly:"
        ),
        "data_incomplete": "data incomplete",
        "failing_since_at": "{source} failing since {since}",
        "failing_no_success": "{source} failing, no success yet",
        "stories": "Distinct stories",
        "notice": "Source down",
        "notice_subject": "source down: {source}",
        "notice_intro": (
            "{source} failed {n} runs in a row for this topic. Its mentions are missing until it "
            "recovers; the digest shows it as down and surge checks mark their data incomplete."
        ),
        "notice_once": "You get this once per outage; the daily digest shows when it recovers.",
        "notice_detected": "Noticed",
        "notice_since": "Last success",
        "notice_check": (
            "Check its credentials (SSM parameters), quota and terms (README, Sources) and the "
            "collect function's logs."
        ),
        # chat, webhook and SMS deliveries (stormwatch.channels)
        "link_mention": "Top mention",
        "link_settings": "Alert settings",
        # the web function's pages and the links to them (stormwatch.web, stormwatch.links)
        "link_storm": "All mentions of this storm",
        "link_real": "Real storm",
        "link_noise": "Noise",
        "link_handled": "Handled",
        "link_mute": "Mute 24 h",
        "link_unsubscribe": "Unsubscribe",
        "respond": "Respond",
        "feedback_summary": "Alerts in the last 30 days: {n} — real {real}, noise {noise}",
        "storm_page": "Storm page",
        "storm_filter": "Filter: author, source, text",
        "storm_all": "all",
        "storm_source": "Source",
        "storm_csv": "Download CSV",
        "storm_time": "Time",
        "storm_author": "Author",
        "storm_engagement": "Engagement",
        "storm_mention": "Mention",
        "storm_empty": "No mentions stored for this episode (they may have expired).",
        "storm_times": "Times in {tz}.",
        "web_confirm": "Confirm",
        "web_confirm_real": "Mark the alert of {when} as a real storm?",
        "web_confirm_noise": "Mark the alert of {when} as noise?",
        "web_confirm_handled": "Mark the storm of {when} as handled?",
        "web_confirm_mute": (
            "Mute alerts for this topic for 24 hours? The daily digest still reports it."
        ),
        "web_confirm_unsubscribe": "Stop the e-mails about this topic to your address?",
        "web_confirm_resubscribe": "Get the e-mails about this topic again?",
        "web_done": "Done",
        "web_done_feedback": "Thank you, recorded. Feedback tunes this topic's alerts.",
        "web_done_mute": "Alerts for this topic are muted until {until}.",
        "web_done_unsubscribe": "You will get no more e-mails about this topic.",
        "web_done_resubscribe": "You will get the e-mails about this topic again.",
        "web_resubscribe_hint": "Unsubscribed by mistake?",
        "web_resubscribe": "Subscribe again",
        "web_refused": "This link does not work",
        "web_used": "This link has already been used; nothing was changed.",
        "web_not_found": "Not found",
        "channel_failing_since": "{channel} delivery failing since {since}",
        "chat_mentions": "Top mentions",
        "digest_summary": (
            "{mentions} in the 24 hours to {end}: {change}; {negative} of the scored ones "
            "negative. Verdict: {verdict}. Surges: {surges}. Sources working: {ok} of {total}."
        ),
    },
    "de": {
        "digest": "Tagesbericht",
        "alert": "Frühwarnung",
        "period": "Zeitraum",
        "mentions_label": "Erwähnungen",
        "previous_day": "Vortag",
        "vs_previous": "ggü. Vortag",
        "new_since_zero": "am Vortag keine",
        "sentiment": "Stimmung",
        "net_sentiment": "Stimmungssaldo",
        "net_hint": "Anteil positiv minus Anteil negativ der bewerteten Erwähnungen",
        "news_tone": "GDELT-Nachrichtenton",
        "news_tone_articles": "Artikel",
        "news_tone_hint": "GDELTs mittlerer Ton weltweiter Nachrichten zum Thema; unter 0: negativ",
        "negative": "negativ",
        "neutral": "neutral",
        "positive": "positiv",
        "unscored": "noch nicht bewertet",
        "by_language": "Nach Sprache",
        "lang_en": "Englisch",
        "lang_de": "Deutsch",
        "lang_fr": "Französisch",
        "lang_it": "Italienisch",
        "lang_es": "Spanisch",
        "lang_pt": "Portugiesisch",
        "lang_ar": "Arabisch",
        "verdict": "Einschätzung",
        "verdict_quiet": "ruhig",
        "verdict_as_usual": "wie üblich",
        "verdict_busier": "lebhafter als üblich",
        "verdict_storm": "Sturmwarnung",
        "nothing_today": "Keine Erwähnungen in diesem Zeitraum.",
        "nothing_hint": "In den unten genannten Quellen passte nichts zum Thema.",
        "nothing_no_coverage": "Keine Quelle lief erfolgreich; ein leerer Tag sagt daher wenig.",
        "surges": "Anstiege in diesem Zeitraum",
        "surges_more": "weitere Anstiege nicht gezeigt",
        "observed": "beobachtet",
        "expected": "erwartet",
        "score": "Wert",
        "threshold": "Schwelle",
        "tier_watch": "Beobachtung",
        "tier_warning": "Warnung",
        "tier_firestorm": "Shitstorm",
        "most_negative": "Braucht eine Antwort",
        "most_negative_hint": "Die negativsten Erwähnungen, gewichtet nach Reichweite.",
        "most_positive": "Am positivsten",
        "most_engaged": "Meiste Interaktionen",
        "most_engaged_rest": "Meiste Interaktionen, außer den obigen",
        "new_voices": "Neue Stimmen",
        "new_voices_hint": "Autoren oder Medien, die in den 30 Tagen davor nicht zu hören waren",
        "new_voices_none": "Alle Autoren dieses Zeitraums waren schon in den 30 Tagen davor dabei.",
        "of": "von",
        "share_of_voice": "Share of Voice",
        "sov_hint": "Erwähnungen im Zeitraum, im Vergleich zu den Wettbewerbern der Liste",
        "this_topic": "dieses Thema",
        "week_average": "7-Tage-Schnitt",
        "vs_week": "ggü. 7-Tage-Schnitt",
        "per_day": "pro Tag",
        "no_history": "noch keine Historie",
        "baseline": "Vergleichsbasis",
        "baseline_days_from_backfill": "Tage nachgeladen aus",
        "baseline_no_history": "ohne Historie",
        "chart": "Letzte 7 Tage, pro Stunde",
        "chart_hint": (
            "Ein Balken pro Stunde; rot: negative Erwähnungen; hinterlegt: die 24 Stunden dieses "
            "Berichts."
        ),
        "chart_empty": "Keine bewerteten Erwähnungen in den letzten 7 Tagen.",
        "busiest_hour": "stärkste Stunde",
        "open": "läuft noch",
        "status_degraded": "eingeschränkt",
        "status_down": "ausgefallen",
        "status_refused": "Freigabe nötig / abgewiesen",
        "refused_hint": "die Plattform weist diesen Zugang ab; sie muss ihn erst freigeben",
        "truncated": "der letzte Lauf endete vorzeitig; es können Einträge fehlen",
        "no_run_in_period": "kein Lauf in diesem Zeitraum",
        "notes": "Hinweise",
        "settings_hint": (
            "Um diese E-Mails zu ändern oder abzubestellen, bitten Sie die Verantwortlichen "
            "dieser Beobachtungsliste, Ihren Eintrag in watchlist.yaml zu ändern"
        ),
        "playbook_for_tier": "Schritte für diese Stufe",
        "trimmed": (
            "Einige Listen wurden gekürzt, damit jedes Mailprogramm diese E-Mail ganz zeigt."
        ),
        "why": "warum",
        "engagement": "Interaktionen",
        "by": "von",
        "via": "über",
        "open_link": "öffnen",
        "sources": "Quellen",
        "source": "Quelle",
        "status": "Status",
        "last_run_items": "letzter Lauf",
        "n_items": "Einträge",
        "coverage": "Abdeckung",
        "sources_ok": "Quellen funktionieren",
        "sources_n": "Quellen",
        "status_ok": "in Ordnung",
        "status_never-run": "noch nie gelaufen",
        "status_unknown": "kein Status",
        "failing_since": "kein Erfolg seit",
        "no_success_yet": "noch kein erfolgreicher Lauf",
        "runs_in_a_row": "Fehlläufe in Folge",
        "last_error": "letzter Fehler",
        "at": "am",
        "settings": "Einstellungen ändern oder abbestellen",
        "footer": "Gesendet von stormwatch für die Beobachtungsliste",
        "footer_why": "Sie erhalten diese E-Mail, weil Sie für dieses Thema eingetragen sind.",
        "alert_intro": "Die Erwähnungen steigen schneller als üblich.",
        "alert_escalation": "Eskalation: Der Anstieg ist seit der letzten Warnung gewachsen.",
        "escalated_from": "eskaliert von",
        "detected": "Erkannt",
        "mentions_now_vs_usual": "Erwähnungen jetzt ggü. üblich",
        "times_usual": "× üblich",
        "score_vs_threshold": "Wert ggü. Schwelle",
        "negative_share_now": "Negativer Anteil jetzt ggü. üblich",
        "usual": "üblich",
        "unique_authors": "Verschiedene Autoren",
        "complete": "Daten",
        "complete_yes": "vollständig",
        "complete_no": (
            "unvollständig: eine Quelle ist ausgefallen, die echten Zahlen können höher sein"
        ),
        "drivers": "Treiber",
        "top_terms": "Häufigste Begriffe",
        "samples": "Beispiele",
        "playbook": "Notfallplan",
        "owner": "Verantwortlich",
        "first_steps": "Erste Schritte",
        "holding_statement": "Erste Stellungnahme",
        "no_playbook": (
            "Für dieses Thema gibt es noch keinen Notfallplan; in watchlist.yaml ergänzen."
        ),
        "mention_one": "Erwähnung",
        "mention_other": "Erwähnungen",
        "vs_expected": "ggü. {expected} erwartet",
        "per_hour": "pro Stunde",
        "window": "Fenster",
        "hours": "Std.",
        "reasons": "Warum der Detektor anschlug",
        "failing_sources": "Gestörte Quellen",
        "episode_started": "Anstieg begann",
        "by_source": "Nach Quelle",
        "alert_subject": "Anstieg ({tier})",
        "alert_subject_escalated": "Anstieg eskaliert zu {tier}",
        "and_more": "und {n} weitere",
        "and_more_hint": "Kopien derselben Meldung aus anderen Medien oder Quellen",
        "quiet_source": "ungewöhnlich ruhig ({now} statt üblicherweise {usual} am Tag)",
        "source_problems": "Quellen prüfen",
        "source_problems_hint": (
            "Ein ruhiger Tag ist nur ruhig, wenn alle Quellen liefen; diese liefen nicht oder kaum:"
        ),
        "data_incomplete": "Daten unvollständig",
        "failing_since_at": "{source} gestört seit {since}",
        "failing_no_success": "{source} gestört, noch kein erfolgreicher Lauf",
        "stories": "Verschiedene Meldungen",
        "notice": "Quelle ausgefallen",
        "notice_subject": "Quelle ausgefallen: {source}",
        "notice_intro": (
            "{source} ist für dieses Thema {n}-mal in Folge fehlgeschlagen. Ihre Erwähnungen "
            "fehlen, bis sie wieder läuft; der Tagesbericht zeigt sie als ausgefallen, und "
            "Anstiegsprüfungen markieren ihre Daten als unvollständig."
        ),
        "notice_once": (
            "Diese Nachricht kommt einmal pro Ausfall; der Tagesbericht zeigt, wann die Quelle "
            "wieder läuft."
        ),
        "notice_detected": "Bemerkt",
        "notice_since": "Letzter Erfolg",
        "notice_check": (
            "Zugangsdaten (SSM-Parameter), Kontingent und Nutzungsbedingungen (README, Sources) "
            "und die Logs der collect-Funktion prüfen."
        ),
        "link_mention": "Wichtigste Erwähnung",
        "link_settings": "Einstellungen",
        "link_storm": "Alle Erwähnungen dieses Sturms",
        "link_real": "Echter Sturm",
        "link_noise": "Fehlalarm",
        "link_handled": "Erledigt",
        "link_mute": "24 h stumm",
        "link_unsubscribe": "Abbestellen",
        "respond": "Reagieren",
        "feedback_summary": "Alarme der letzten 30 Tage: {n} — echt {real}, Fehlalarm {noise}",
        "storm_page": "Sturmseite",
        "storm_filter": "Filter: Autor, Quelle, Text",
        "storm_all": "alle",
        "storm_source": "Quelle",
        "storm_csv": "CSV herunterladen",
        "storm_time": "Zeit",
        "storm_author": "Autor",
        "storm_engagement": "Interaktionen",
        "storm_mention": "Erwähnung",
        "storm_empty": "Für diese Episode sind keine Erwähnungen gespeichert (evtl. abgelaufen).",
        "storm_times": "Zeiten in {tz}.",
        "web_confirm": "Bestätigen",
        "web_confirm_real": "Den Alarm vom {when} als echten Sturm markieren?",
        "web_confirm_noise": "Den Alarm vom {when} als Fehlalarm markieren?",
        "web_confirm_handled": "Den Sturm vom {when} als erledigt markieren?",
        "web_confirm_mute": (
            "Alarme zu diesem Thema 24 Stunden stummschalten? Der Tagesbericht meldet es weiter."
        ),
        "web_confirm_unsubscribe": "Keine E-Mails zu diesem Thema mehr an Ihre Adresse senden?",
        "web_confirm_resubscribe": "Die E-Mails zu diesem Thema wieder erhalten?",
        "web_done": "Erledigt",
        "web_done_feedback": "Danke, vermerkt. Rückmeldungen stimmen die Alarme dieses Themas ab.",
        "web_done_mute": "Alarme zu diesem Thema sind bis {until} stummgeschaltet.",
        "web_done_unsubscribe": "Sie erhalten keine E-Mails zu diesem Thema mehr.",
        "web_done_resubscribe": "Sie erhalten die E-Mails zu diesem Thema wieder.",
        "web_resubscribe_hint": "Versehentlich abbestellt?",
        "web_resubscribe": "Wieder abonnieren",
        "web_refused": "Dieser Link funktioniert nicht",
        "web_used": "Dieser Link wurde schon benutzt; es wurde nichts geändert.",
        "web_not_found": "Nicht gefunden",
        "channel_failing_since": "Zustellung über {channel} scheitert seit {since}",
        "chat_mentions": "Wichtigste Erwähnungen",
        "digest_summary": (
            "{mentions} in den 24 Stunden bis {end}: {change}; davon {negative} negativ. "
            "Einschätzung: {verdict}. Anstiege: {surges}. Quellen funktionieren: {ok} von {total}."
        ),
    },
}

# The notice of a source the platform refuses (health "refused"): not an outage that passes,
# so it is worded apart from "down" (stormwatch.models.SourceNotice.health)
REFUSED_NOTICE: dict[str, dict[str, str]] = {
    "en": {
        "notice": "Source needs approval / refused",
        "notice_subject": "source needs approval / refused: {source}",
        "notice_intro": (
            "{source} was refused {n} runs in a row for this topic: the platform refuses this "
            "client (an app it has not approved, or keyless access from this network). Waiting "
            "will not bring it back; its mentions are missing until it is approved or given "
            "credentials. The digest shows it as needs approval / refused."
        ),
        "notice_once": "You get this once; the daily digest shows when it works again.",
        "notice_check": (
            "Request the platform's approval or configure credentials of an approved app (SSM "
            "parameters; README, Sources)."
        ),
    },
    "de": {
        "notice": "Quelle braucht Freigabe / abgewiesen",
        "notice_subject": "Quelle braucht Freigabe / abgewiesen: {source}",
        "notice_intro": (
            "{source} wurde für dieses Thema {n}-mal in Folge abgewiesen: Die Plattform weist "
            "diesen Zugang ab (eine nicht freigegebene App oder Zugriff ohne Schlüssel aus "
            "diesem Netz). Warten hilft nicht; ihre Erwähnungen fehlen, bis sie freigegeben ist "
            "oder Zugangsdaten hat. Der Tagesbericht zeigt sie als Freigabe nötig / abgewiesen."
        ),
        "notice_once": (
            "Diese Nachricht kommt einmal; der Tagesbericht zeigt, wann die Quelle wieder läuft."
        ),
        "notice_check": (
            "Freigabe der Plattform beantragen oder Zugangsdaten einer freigegebenen App "
            "hinterlegen (SSM-Parameter; README, Sources)."
        ),
    },
}

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAYS_DE = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")


def lang_or_default(lang: str | None) -> Lang:
    """The language to render in; anything unknown falls back to English."""
    return "de" if lang == "de" else "en"


def strings(lang: str) -> dict[str, str]:
    return STRINGS[lang_or_default(lang)]


def notice_strings(lang: str, health: str) -> dict[str, str]:
    """The strings of a source notice: a refused source's wording replaces "down"."""
    base = strings(lang)
    return {**base, **REFUSED_NOTICE[lang_or_default(lang)]} if health == "refused" else base


def _group(digits: str, sep: str) -> str:
    out = []
    while len(digits) > 3:
        out.append(digits[-3:])
        digits = digits[:-3]
    out.append(digits)
    return sep.join(reversed(out))


def fmt_number(value: float | int, lang: str, decimals: int = 0) -> str:
    """1,234.5 in English, 1.234,5 in German; `decimals` fixed digits after the point."""
    lang = lang_or_default(lang)
    text = f"{abs(value):.{decimals}f}"
    whole, _, frac = text.partition(".")
    thousands, point = (".", ",") if lang == "de" else (",", ".")
    out = _group(whole, thousands) + (point + frac if frac else "")
    return ("-" if value < 0 and text.strip("0.") else "") + out


def fmt_compact(value: float | int, lang: str) -> str:
    """A number with at most one decimal, the decimal dropped when it is zero (4 / 4.5 / 1,204)."""
    rounded = round(float(value), 1)
    decimals = 0 if rounded.is_integer() or abs(rounded) >= 100 else 1
    return fmt_number(rounded, lang, decimals)


def fmt_percent(share: float | None, lang: str, *, signed: bool = False) -> str:
    """A share (0.125) as "12.5 %" / "12,5 %"; signed adds "+" to positive values."""
    if share is None:
        return "–"
    text = fmt_compact(share * 100, lang)
    if signed and share > 0 and text.strip("0.,") != "":
        text = "+" + text
    return f"{text} %"


def fmt_signed(value: float | int, lang: str) -> str:
    text = fmt_compact(value, lang)
    return "+" + text if value > 0 else text


def fmt_datetime(
    value: datetime | None, lang: str, tz: str | None = None, *, zone: bool = True
) -> str:
    """25 Nov 2026, 09:00 (Europe/Berlin) / 25.11.2026 09:00 (Europe/Berlin); zone=False
    leaves out the zone's name where the e-mail has already said it."""
    if value is None:
        return "–"
    name = tz or (value.tzinfo.key if isinstance(value.tzinfo, ZoneInfo) else "UTC")
    local = value.astimezone(ZoneInfo(name))
    if lang_or_default(lang) == "de":
        text = f"{local:%d.%m.%Y %H:%M}"
    else:
        text = f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M}"
    return f"{text} ({name})" if zone else text


def fmt_day(value: datetime, lang: str, tz: str | None = None) -> str:
    """A short day label: "Wed 18" / "Mi 18." (the chart's axis)."""
    local = value.astimezone(ZoneInfo(tz)) if tz else value
    if lang_or_default(lang) == "de":
        return f"{_DAYS_DE[local.weekday()]} {local.day}."
    return f"{_DAYS_EN[local.weekday()]} {local.day}"


def fmt_period(start: datetime, end: datetime, lang: str, tz: str) -> str:
    """Both ends in the digest's zone, the zone named once."""
    return f"{fmt_datetime(start, lang, tz, zone=False)} – {fmt_datetime(end, lang, tz)}"


def count_noun(n: int, lang: str, noun: str = "mention") -> str:
    """'1 mention', '1.204 Erwähnungen'."""
    s = strings(lang)
    word = s[f"{noun}_one"] if n == 1 else s[f"{noun}_other"]
    return f"{fmt_number(n, lang)} {word}"
