"""Browser fixtures: Debian's Chromium driven by Playwright, and sample business systems."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from clients.sample_rp import create_rp
from tests.conftest import LiveServer, free_port

CHROMIUM = os.environ.get("IDP_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium "
                    "(or set IDP_TEST_CHROMIUM)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sample_rp(live_provider, make_client, name: str, first_party: bool, events: bool = False):
    """A sample business system on a free port; with `events`, registered for security events
    pushed to its /events receiver. Its clock is the provider's test clock (synchronised
    nodes), so a test that moves time moves it for both."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client = make_client(redirect_uri=base + "/callback", name=name, first_party=first_party,
                         post_logout_redirect_uris=[base + "/"],
                         backchannel_logout_uri=base + "/backchannel-logout",
                         **({"events_uri": base + "/events"} if events else {}))
    app = create_rp(issuer=live_provider.url, client_id=client.client_id,
                    client_secret=client.client_secret, base_url=base, name=name,
                    clock=live_provider.server.app.extensions["idp.clock"].now)
    return LiveServer(app, port), app


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


from tests.counter.conftest import citizen_with_document, make_staff  # noqa: E402,F401
