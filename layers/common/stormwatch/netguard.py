"""Which hosts a source may fetch: public internet addresses only.

A feed or instance URL comes from the watchlist and redirects come from strangers, so either
could point the collector at the Lambda's own metadata service (169.254.169.254), at loopback
or at a private network. `check_url` refuses a URL whose host is, or resolves to, a loopback,
link-local, private, multicast, reserved or unspecified address (IPv4 and IPv6; IPv4 written
in decimal, octal or hex, as `inet_aton` reads it, and IPv4-mapped IPv6 included).

The HTTP client checks every request and every redirect hop (stormwatch.http); the watchlist
checks its URLs when it is loaded, without DNS (literal addresses and localhost names).
The one override, for local tests and demos against a server on this machine, is the
environment variable STORMWATCH_ALLOW_PRIVATE_TARGETS=1, honoured by the local runner and the
watchlist loader, and never inside Lambda.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

ALLOW_ENV = "STORMWATCH_ALLOW_PRIVATE_TARGETS"
LOCAL_NAMES = ("localhost", "localhost.localdomain")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# host name -> the addresses it resolves to (text); [] when it does not resolve
Resolver = Callable[[str], list[str]]


class RefusedTarget(ValueError):
    """A URL whose host is not a public internet address."""


def resolve_host(host: str) -> list[str]:
    """The system resolver's addresses for `host`; [] when it cannot be resolved (the request
    itself then fails as a connection error, like any unreachable host)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def literal_address(host: str) -> Address | None:
    """The address a host written as an IP literal stands for, or None for a name."""
    text = host.strip("[]")
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone id is not part
    except ValueError:
        pass
    else:
        return address
    if text and all(c in "0123456789abcdefxABCDEFX." for c in text):
        try:  # 2130706433, 0x7f000001, 0177.0.0.1, 127.1: what the C resolver makes of them
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def refusal(address: Address) -> str | None:
    """Why `address` is not a public internet address, or None when it is."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return refusal(mapped)
    for kind, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return kind
    if not address.is_global:
        return "not globally reachable"
    return None


def check_url(url: str, *, resolve: Resolver | None = resolve_host) -> None:
    """Raise RefusedTarget when `url`'s host is, or resolves to, a non-public address.
    `resolve=None` checks without DNS: literal addresses and localhost names only."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if not host:
        raise RefusedTarget(f"no host in {url!r}")
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        raise RefusedTarget(f"{host} is this machine (loopback): refused as a source target")
    literal = literal_address(host)
    addresses = [literal] if literal else _resolved(host, resolve)
    for address in addresses:
        reason = refusal(address)
        if reason:
            shown = host if literal else f"{host} ({address})"
            raise RefusedTarget(f"{shown} is a {reason} address: refused as a source target")


def _resolved(host: str, resolve: Resolver | None) -> list[Address]:
    if resolve is None:
        return []
    addresses = []
    for text in resolve(host):
        address = literal_address(text)
        if address is not None:
            addresses.append(address)
    return addresses


def private_targets_allowed() -> bool:
    """The override for local tests and demos: STORMWATCH_ALLOW_PRIVATE_TARGETS=1 (or true,
    yes), ignored inside Lambda (AWS_LAMBDA_FUNCTION_NAME is set there)."""
    wanted = os.environ.get(ALLOW_ENV, "").strip().lower() in ("1", "true", "yes")
    return wanted and not os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
