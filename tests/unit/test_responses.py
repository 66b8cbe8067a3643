"""Messages and the web function: storm-page and feedback links in every channel, one-click
unsubscribe headers per recipient, unsubscribes and mute honoured by every send."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default

from stormwatch.channels.base import Target
from stormwatch.channels.email import EmailChannel
from stormwatch.channels.message import sms_line
from stormwatch.links import LinkBuilder, LinkSigner
from stormwatch.models import Feedback, iso
from stormwatch.reporting import Responses, notify, send_digest

from tests.support.channels import NOW, TEMPLATES, hostile_surge, make_topic
from tests.support.fakes import OnceOnly

SIGNER = LinkSigner("k" * 48)
LINKS = LinkBuilder(SIGNER, "https://abc123.lambda-url.eu-central-1.on.aws/")
RECIPIENTS = ["ann@example.com", "bob@example.com"]


class Audience:
    def __init__(self, unsubscribed=(), muted_until: datetime | None = None):
        self.gone = {SIGNER.recipient_ref(a) for a in unsubscribed}
        self.until = muted_until

    def unsubscribed(self, topic: str) -> set[str]:
        return set(self.gone)

    def muted_until(self, topic: str) -> datetime | None:
        return self.until

    def surges_between(self, topic, start, end):
        return [hostile_surge("warning", detected_at=NOW - timedelta(days=d)) for d in (1, 2, 3)]

    def feedback_between(self, topic, start, end):
        def said(days: int, verdict: str) -> Feedback:
            surge = iso(NOW - timedelta(days=days))
            return Feedback(topic="acme-cloud", surge=surge, verdict=verdict, at=NOW)

        return [said(1, "noise"), said(2, "handled"), said(3, "mute")]


def alert(audience: Audience, channels=None) -> OnceOnly:
    deliver = OnceOnly()
    slack = [{"kind": "slack", "url_parameter": "channels/slack/comms"}]
    topic = make_topic(alerts={"recipients": RECIPIENTS, "channels": channels or slack})
    notify(
        topic,
        hostile_surge("firestorm"),
        deliver=deliver,
        templates_dir=TEMPLATES,
        watchlist_name="w",
        now=NOW,
        responses=Responses(LINKS, audience),
    )
    return deliver


def test_an_alert_links_to_its_storm_page_and_feedback_in_chat_and_e_mail():
    # Given the web function's URL is configured, When a surge is alerted
    deliver = alert(Audience())
    notification = next(iter(deliver.notifications.values()))
    purposes = [link.purpose for link in notification.links]
    # Then chat gets the storm page first and the four feedback actions
    assert purposes[0] == "storm"
    assert {"real", "noise", "handled", "mute"} <= set(purposes)
    # and the e-mail shows the same links, each a signed URL of the web function
    email = next(iter(deliver.sent.values()))[0]
    for purpose in ("storm", "real", "noise", "handled", "mute"):
        assert f"{LINKS.base_url}/{purpose}?t=v1." in email.text
    assert "lambda-url" in email.html
    # and the text message stays one segment: a signed link (~280 characters) does not fit,
    # so it is left out rather than split into a second paid segment
    assert len(sms_line(notification)) <= 160


def test_an_unsubscribed_recipient_gets_no_alert_but_the_others_and_chat_do():
    deliver = alert(Audience(unsubscribed=["ANN@example.com"]))
    emails = [t.address for t in deliver.targets.values() if t.channel == "email"]
    assert emails == ["bob@example.com"]


def test_a_muted_topic_sends_no_alert_until_the_mute_ends():
    assert alert(Audience(muted_until=NOW + timedelta(hours=1))).sent == {}
    assert len(alert(Audience(muted_until=NOW - timedelta(minutes=1))).sent) == 3  # 2 + slack


class MemoryStoreForDigest:
    """Nothing happened: an empty digest is still sent (and still reports the topic)."""

    def buckets_between(self, *a):
        return []

    def count_between(self, *a):
        return 0

    def mentions_between(self, *a):
        return []

    def surges_between(self, *a):
        return []

    def checkpoints(self, topic, sources):
        return []

    def known_authors(self, *a, **kw):
        return set()

    def remember_authors(self, *a):
        return False

    def channel_health(self, topic):
        return []

    def get_source_state(self, *a):
        return None

    def feedback_between(self, *a):
        return []


def test_a_muted_topic_still_gets_its_digest_without_the_unsubscribed():
    deliver = OnceOnly()
    topic = make_topic(digest={"recipients": RECIPIENTS, "timezone": "UTC"})
    send_digest(
        topic,
        store=MemoryStoreForDigest(),
        deliver=deliver,
        templates_dir=TEMPLATES,
        now=NOW,
        watchlist_name="w",
        responses=Responses(
            LINKS, Audience(unsubscribed=["bob@example.com"], muted_until=NOW + timedelta(hours=9))
        ),
    )
    assert [address for _, address in deliver.sent.values()] == ["ann@example.com"]
    # and it says how the last 30 days' alerts were judged ("handled" is a real storm)
    email = next(iter(deliver.sent.values()))[0]
    assert "Alerts in the last 30 days: 3 — real 1, noise 1" in email.text
    assert 'id="feedback-summary"' in email.html


def test_the_feedback_line_speaks_german_too():
    deliver = OnceOnly()
    topic = make_topic(digest={"recipients": RECIPIENTS, "timezone": "UTC", "language": "de"})
    send_digest(
        topic,
        store=MemoryStoreForDigest(),
        deliver=deliver,
        templates_dir=TEMPLATES,
        now=NOW,
        watchlist_name="w",
        responses=Responses(LINKS, Audience()),
    )
    email = next(iter(deliver.sent.values()))[0]
    assert "Alarme der letzten 30 Tage: 3 — echt 1, Fehlalarm 1" in email.text


class CapturingMailer:
    def __init__(self):
        self.sent = []

    def send(self, email, to):
        self.sent.append((email, to))
        return "m-1"


def test_every_e_mail_carries_its_recipients_own_one_click_unsubscribe():
    # Given an alert and the e-mail channel with the web function's links
    deliver = alert(Audience())
    notification = next(iter(deliver.notifications.values()))
    mailer = CapturingMailer()
    channel = EmailChannel(mailer, LINKS, clock=lambda: NOW)
    # When it is sent to two recipients
    for address in RECIPIENTS:
        channel.send(notification, Target(channel="email", address=address))
    # Then each carries RFC 8058's headers with an https URL for that recipient, no address
    urls = []
    for email, address in mailer.sent:
        assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        value = email.headers["List-Unsubscribe"]
        assert value.startswith(f"<{LINKS.base_url}/unsubscribe?t=v1.") and value.endswith(">")
        assert address.split("@")[0] not in value and "example.com" not in value
        token = value[1:-1].split("?t=")[1]
        claims = SIGNER.verify(token, "unsubscribe", now=NOW)
        assert claims.subject == SIGNER.recipient_ref(address)
        urls.append(value)
    assert urls[0] != urls[1]


def test_without_a_web_url_the_e_mail_is_unchanged():
    deliver = alert(Audience())
    notification = next(iter(deliver.notifications.values()))
    mailer = CapturingMailer()
    EmailChannel(mailer).send(notification, Target(channel="email", address=RECIPIENTS[0]))
    assert "List-Unsubscribe-Post" not in mailer.sent[0][0].headers


def test_teams_shows_the_storm_page_and_all_four_feedback_actions():
    from stormwatch.channels.teams import teams_payload

    deliver = alert(Audience())
    notification = next(iter(deliver.notifications.values()))
    card = teams_payload(notification)["attachments"][0]["content"]
    titles = [action["title"] for action in card["actions"]]
    assert titles == ["All mentions of this storm", "Real storm", "Noise", "Handled", "Mute 24 h"]


def test_the_report_function_signs_links_only_with_its_key_and_says_when_it_is_missing():
    import pytest
    from stormwatch import local
    from stormwatch.secrets import StaticSecrets

    report = local.load_handler("report")
    # Given no web URL, Then there are no links (and nothing to sign)
    assert report.link_builder("", StaticSecrets({})) is None
    # Given a web URL but no key in SSM, Then it stops with a message naming the parameter
    with pytest.raises(RuntimeError, match="links/signing_key"):
        report.link_builder(LINKS.base_url, StaticSecrets({}))
    # Given both, Then links point at the web function
    builder = report.link_builder(LINKS.base_url, StaticSecrets({"links/signing_key": "k" * 48}))
    assert builder.url("storm", "acme", "x", now=NOW).startswith(LINKS.base_url + "/storm?t=")


class SesStub:
    def __init__(self):
        self.requests = []

    def send_email(self, **request):
        self.requests.append(request)
        return {"MessageId": "m-1"}


def test_the_mailer_sends_the_one_click_headers_and_the_local_demo_only_list_unsubscribe():
    from stormwatch.mailer import Mailer

    deliver = alert(Audience())
    notification = next(iter(deliver.notifications.values()))
    target = Target(channel="email", address=RECIPIENTS[0])
    # Given the deployed https URL, When the e-mail goes through the real mailer
    ses = SesStub()
    EmailChannel(Mailer(ses, "alerts@example.com"), LINKS, clock=lambda: NOW).send(
        notification, target
    )
    sent = message_from_bytes(ses.requests[0]["Content"]["Raw"]["Data"], policy=default)
    # Then both RFC 8058 headers are in the message, the URL whole
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    value = str(sent["List-Unsubscribe"]).strip()
    assert value.startswith(f"<{LINKS.base_url}/unsubscribe?t=v1.") and " " not in value
    SIGNER.verify(value[1:-1].split("?t=")[1], "unsubscribe", now=NOW)
    # Given the local demo's http URL, Then only List-Unsubscribe (one-click needs https)
    local = LinkBuilder(SIGNER, "http://127.0.0.1:8765")
    ses = SesStub()
    EmailChannel(Mailer(ses, "alerts@example.com"), local, clock=lambda: NOW).send(
        notification, target
    )
    sent = message_from_bytes(ses.requests[0]["Content"]["Raw"]["Data"], policy=default)
    assert sent["List-Unsubscribe-Post"] is None
    assert str(sent["List-Unsubscribe"]).strip().startswith("<http://127.0.0.1:8765/unsubscribe")
