"""Hanging feeds do not eat the run: each request has an overall deadline (body included), and
no retry starts when the invocation's own time is nearly up. A fake transport and a fake clock:
nothing here really waits."""

from __future__ import annotations

import random

import pytest
import requests
import urllib3
from requests.adapters import BaseAdapter
from stormwatch.http import HttpClient, HttpError

UA = "stormwatch/0.1.0 (+https://example.org/contact)"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Drip:
    """A body that arrives one byte a second (each read returns as soon as a byte is there)."""

    def __init__(self, clock: FakeClock, size: int) -> None:
        self.clock, self.left = clock, size

    def read(self, amount: int = -1, **_: object) -> bytes:
        if self.left <= 0:
            return b""
        self.clock.now += 1.0
        self.left -= 1
        return b"x"

    read1 = read

    def close(self) -> None:
        pass


class HangingAdapter(BaseAdapter):
    """A transport whose server answers slowly: `drip` bodies, or nothing (read timeouts that
    take the whole read timeout each)."""

    def __init__(self, clock: FakeClock, *, drip: int = 0, live: bool = False) -> None:
        super().__init__()
        self.clock, self.drip, self.live = clock, drip, live
        self.timeouts: list[tuple[float, float]] = []

    def send(self, request, **kwargs):
        connect, read = kwargs["timeout"]
        self.timeouts.append((connect, read))
        if not self.drip:
            self.clock.now += read
            raise requests.ReadTimeout("read timed out")
        resp = requests.Response()
        resp.status_code = 200
        body = Drip(self.clock, self.drip)
        # live: the body behind a real urllib3 response, as requests' own adapter returns it
        resp.raw = urllib3.HTTPResponse(body, preload_content=False) if self.live else body
        resp.url = request.url
        resp.request = request
        return resp

    def close(self) -> None:
        pass


def client(adapter: HangingAdapter, clock: FakeClock, **kwargs) -> HttpClient:
    session = requests.Session()
    session.mount("https://", adapter)
    return HttpClient(
        UA, session=session, sleep=clock.sleep, clock=clock, rng=random.Random(1), **kwargs
    )


@pytest.mark.parametrize("live", [False, True])
def test_a_feed_dripping_one_byte_a_second_is_cut_at_the_request_deadline(live):
    # Given a feed that sends its 100-byte body one byte a second
    clock = FakeClock()
    http = client(HangingAdapter(clock, drip=100, live=live), clock, request_budget=30)
    started = clock.now
    # When fetched
    with pytest.raises(HttpError, match="took longer than 30 s"):
        http.get("https://feeds.example/slow.xml")
    # Then the request gave up after its 30 s overall, not after the whole body
    assert clock.now - started <= 31


def test_a_feed_that_never_answers_costs_at_most_the_request_deadline():
    # Given a feed that never answers (each attempt waits for the whole read timeout)
    clock = FakeClock()
    adapter = HangingAdapter(clock)
    http = client(adapter, clock, request_budget=30, max_retries=3)
    started = clock.now
    # When fetched
    with pytest.raises(HttpError, match="ReadTimeout"):
        http.get("https://feeds.example/dead.xml")
    # Then retries stop within the request's 30 s, and no attempt may outlast what is left
    assert clock.now - started <= 30
    assert all(read <= 30 for _, read in adapter.timeouts)


def test_no_retry_starts_when_the_invocations_time_is_nearly_up():
    # Given an invocation with 12 s left and a feed that never answers
    clock = FakeClock()
    adapter = HangingAdapter(clock)
    http = client(adapter, clock, max_retries=3).until(clock.now + 12)
    started = clock.now
    # When fetched
    with pytest.raises(HttpError, match="no time left"):
        http.get("https://feeds.example/dead.xml")
    # Then the request stops at the invocation's deadline: the first attempt was shortened to
    # the time left, and no retry was started after it
    assert clock.now - started <= 12
    assert adapter.timeouts == [(5.0, 12.0)]
    # And a request asked for once the time is up is not even started
    with pytest.raises(HttpError, match="no time left"):
        http.get("https://feeds.example/other.xml")
    assert len(adapter.timeouts) == 1
