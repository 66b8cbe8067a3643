"""Sources fetch public internet addresses only: the metadata service, loopback and private
networks are refused in the watchlist, at request time and after every redirect."""

from __future__ import annotations

import random
from ipaddress import ip_network

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from stormwatch import netguard
from stormwatch.http import HttpClient, HttpError
from stormwatch.netguard import RefusedTarget, check_url
from stormwatch.watchlist import Topic

from tests.unit.test_http import UA, FakeAdapter

# a resolver for the tests: no DNS, names map to what a hostile zone could answer
ZONE = {
    "feeds.example": ["93.184.216.34"],
    "rebind.example": ["93.184.216.34", "10.0.0.7"],
    "metadata.example": ["169.254.169.254"],
    "v6.example": ["2606:2800:220:1:248:1893:25c8:1946"],
}


def resolve(host: str) -> list[str]:
    return ZONE.get(host, [])


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # the instance metadata service
        "http://127.0.0.1:8080/feed",
        "http://localhost/feed",
        "http://api.localhost/feed",
        "http://[::1]/feed",
        "http://[::ffff:127.0.0.1]/feed",  # IPv4-mapped IPv6
        "http://[fe80::1%25eth0]/feed",
        "http://[fd00::1]/feed",
        "http://10.1.2.3/feed",
        "http://172.16.0.1/feed",
        "http://192.168.0.1/feed",
        "http://100.64.0.1/feed",  # carrier-grade NAT
        "http://0.0.0.0/feed",
        "http://224.0.0.1/feed",
        "http://240.0.0.1/feed",
        "http://2130706433/feed",  # 127.0.0.1 in decimal
        "http://0x7f000001/feed",  # in hex
        "http://0177.0.0.1/feed",  # in octal
        "http://127.1/feed",  # short form
        "http://metadata.example/feed",  # a name resolving to the metadata address
        "http://rebind.example/feed",  # one of several addresses private
    ],
)
def test_internal_targets_are_refused(url):
    with pytest.raises(RefusedTarget, match="refused as a source target"):
        check_url(url, resolve=resolve)


@pytest.mark.parametrize(
    "url",
    [
        "https://feeds.example/rss",
        "https://v6.example/rss",
        "https://93.184.216.34/rss",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/rss",
        "https://unknown.example/rss",  # does not resolve: the request fails on its own
    ],
)
def test_public_targets_pass(url):
    check_url(url, resolve=resolve)


@pytest.mark.parametrize(
    ("sources", "shown"),
    [
        ({"rss": {"feeds": ["http://169.254.169.254/latest/meta-data/"]}}, "169.254.169.254"),
        ({"rss": {"google_alerts": ["http://127.0.0.1/alerts/feeds/1/2"]}}, "127.0.0.1"),
        ({"mastodon": {"instances": ["https://127.0.0.1"]}}, "127.0.0.1"),
        ({"mastodon": {"instances": ["https://localhost:3000"]}}, "localhost"),
    ],
)
def test_the_watchlist_refuses_internal_feed_and_instance_urls(monkeypatch, sources, shown):
    monkeypatch.delenv(netguard.ALLOW_ENV, raising=False)
    with pytest.raises(ValidationError, match=f"{shown}.*refused as a source target"):
        Topic.model_validate({"name": "acme", "terms": ["acme"], "sources": sources})


def test_the_override_admits_local_targets_but_never_inside_lambda(monkeypatch):
    # Given the override set for a local test
    monkeypatch.setenv(netguard.ALLOW_ENV, "1")
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    local = {"rss": {"feeds": ["http://127.0.0.1:8000/feed.xml"]}}
    # Then the watchlist takes a feed on this machine
    Topic.model_validate({"name": "acme", "terms": ["acme"], "sources": local})
    assert netguard.private_targets_allowed()
    # But inside Lambda the override is ignored
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "stormwatch-collect")
    assert not netguard.private_targets_allowed()
    with pytest.raises(ValidationError):
        Topic.model_validate({"name": "acme", "terms": ["acme"], "sources": local})


def guarded_client(script: list, **kwargs) -> tuple[HttpClient, FakeAdapter]:
    adapter = FakeAdapter(script)
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    http = HttpClient(
        UA, session=session, sleep=lambda s: None, rng=random.Random(1), resolve=resolve, **kwargs
    )
    return http, adapter


def test_a_request_to_the_metadata_address_is_never_sent():
    http, adapter = guarded_client([(200, {}, b"secret credentials")])
    with pytest.raises(HttpError, match=r"169\.254\.169\.254 is a link-local address"):
        http.get("http://169.254.169.254/latest/meta-data/iam/security-credentials/")
    assert adapter.sent == []


def test_a_redirect_to_the_metadata_address_is_not_followed():
    # Given a public feed that answers 302 to the metadata service
    metadata = "http://169.254.169.254/latest/meta-data/"
    http, adapter = guarded_client(
        [(302, {"Location": metadata}, b""), (200, {}, b"secret credentials")]
    )
    # When fetched
    with pytest.raises(HttpError, match="refused as a source target"):
        http.get("https://feeds.example/rss")
    # Then only the first hop was sent
    assert [request.url for request, _ in adapter.sent] == ["https://feeds.example/rss"]


def test_a_redirect_to_a_public_host_is_followed():
    http, adapter = guarded_client(
        [(301, {"Location": "https://v6.example/rss"}, b""), (200, {}, b"<rss/>")]
    )
    assert http.get("https://feeds.example/rss").content == b"<rss/>"
    assert len(adapter.sent) == 2


def test_the_local_runner_override_lets_a_client_fetch_this_machine():
    http, _ = guarded_client([(200, {}, b"<rss/>")], allow_private_targets=True)
    assert http.get("http://127.0.0.1:8000/feed.xml").content == b"<rss/>"


# ---- properties: the verdict does not depend on how an address is written ------------------

INTERNAL_V4 = st.sampled_from(
    [ip_network(n) for n in ("10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "192.168.0.0/16")]
).flatmap(lambda net: st.integers(0, net.num_addresses - 1).map(lambda i: net.network_address + i))


def refused(url: str) -> bool:
    try:
        check_url(url, resolve=resolve)
    except RefusedTarget:
        return True
    return False


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_gets_one_verdict_however_it_is_written(address):
    dotted = refused(f"http://{address}/")
    assert refused(f"http://{int(address)}/") == dotted
    assert refused(f"http://{hex(int(address))}/") == dotted
    assert refused(f"http://[::ffff:{address}]/") == dotted
    # and only globally reachable unicast addresses pass
    assert dotted or (address.is_global and not address.is_multicast)


@given(INTERNAL_V4)
def test_every_address_of_loopback_link_local_and_private_networks_is_refused(address):
    assert refused(f"http://{address}/") and refused(f"http://{int(address)}:8080/x")


@given(st.ip_addresses(v=6))
def test_an_ipv6_address_passes_only_when_globally_reachable(address):
    assert refused(f"http://[{address}]/") or address.is_global
