"""A CTID simulator on an ephemeral port and HTTP adapters for it, sharing one fake clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from realname.platform import HttpPlatform
from realname.platform.simulator import PlatformSimulator

APP_ID = "idp-test"
APP_SECRET = "ctid-test-secret-0123456789abcdef"
TWO_ELEMENT = "/v1/verify/two-element"


class FakeTime:
    """Wall clock for both sides; `sleep` advances it instead of waiting."""

    def __init__(self) -> None:
        self.now = time.time()
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def clean_state() -> None:
    """Replaces the suite-wide fixture of that name: `realname` needs no provider, database or
    Flask app (design.md), so these tests neither build one nor break when it cannot be built.
    Their own leak check is test_logging.py."""


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def simulator(fake_time: FakeTime) -> Iterator[PlatformSimulator]:
    sim = PlatformSimulator(APP_ID, APP_SECRET, seed=7, people=12, latency_ms=0,
                            clock=fake_time.time)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def make_platform(simulator: PlatformSimulator,
                  fake_time: FakeTime) -> Iterator[Callable[..., HttpPlatform]]:
    made: list[HttpPlatform] = []

    def make(base_url: str | None = None, app_id: str = APP_ID, app_secret: str = APP_SECRET,
             **options: Any) -> HttpPlatform:
        options = {"timeout": (2.0, 5.0), "clock": fake_time.time, "sleep": fake_time.sleep,
                   **options}
        adapter = HttpPlatform(base_url or simulator.url, app_id, app_secret, **options)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()


@pytest.fixture
def platform(make_platform: Callable[..., HttpPlatform]) -> HttpPlatform:
    return make_platform()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def documented_signature(secret: str, *parts: str) -> str:
    """base64(HMAC-SHA256(secret, parts joined by newlines)), written out from the docstring."""
    message = "\n".join(parts).encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def raw_post(url: str, payload: dict[str, Any], *, nonce: str | None = None,
             timestamp: float | None = None, request_id: str | None = None,
             secret: str = APP_SECRET, path: str = TWO_ELEMENT) -> tuple[requests.Response, str]:
    """A hand-signed request, independent of the adapter's code; returns (response, nonce)."""
    body = json.dumps(payload).encode()
    nonce = nonce or secrets.token_hex(16)
    stamp = str(int(time.time() if timestamp is None else timestamp))
    signature = documented_signature(secret, "POST", path, stamp, nonce,
                                     hashlib.sha256(body).hexdigest())
    with requests.Session() as session:
        response = session.post(url + path, data=body, timeout=5, headers={
            "Content-Type": "application/json", "X-App-Id": APP_ID, "X-Timestamp": stamp,
            "X-Nonce": nonce, "X-Request-Id": request_id or uuid.uuid4().hex,
            "X-Signature": signature})
    return response, nonce
