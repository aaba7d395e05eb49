"""Shared by the quick-start tests: run an example business system of clients/quickstart/ as
its own process, and log a person in and out through it over HTTP as a browser would."""

from __future__ import annotations

import html
import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import requests

from tests.conftest import LiveServer, TestClient, TestUser, csrf_from, free_port

QUICKSTART = Path(__file__).resolve().parents[2] / "clients" / "quickstart"


@dataclass
class RunningApp:
    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def log(self) -> str:
        return "".join(self.output)[-3000:]


def register(live_provider: LiveServer,
             make_client: Callable[..., TestClient]) -> tuple[str, dict[str, str]]:
    """Register a business system for an app on a free port: its base URL and environment, as
    in docs/integration-guide.md (`idp clients create` with these URIs)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client = make_client(redirect_uri=base + "/callback", post_logout_redirect_uris=[base + "/"],
                         name="快速接入示例")
    return base, {"OIDC_ISSUER": live_provider.url, "OIDC_CLIENT_ID": client.client_id,
                  "OIDC_CLIENT_SECRET": client.client_secret or "", "APP_BASE_URL": base,
                  "PORT": str(port)}


@contextmanager
def running(command: list[str], cwd: Path, env: dict[str, str], url: str,
            ready: str) -> Iterator[RunningApp]:
    """Start the app; return once it has printed `ready` (it then accepts connections)."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, encoding="utf-8")
    assert process.stdout is not None
    app = RunningApp(url, process)
    for line in process.stdout:  # blocks until the line comes or the process ends
        app.output.append(line)
        if ready in line:
            break
    else:
        process.wait(timeout=10)
        process.stdout.close()
        raise AssertionError(f"{command} exited ({process.returncode}):\n{app.log()}")
    drain = threading.Thread(target=lambda: app.output.extend(process.stdout or []), daemon=True)
    drain.start()
    try:
        yield app
    finally:
        process.terminate()
        process.wait(timeout=20)
        drain.join(timeout=5)
        process.stdout.close()


def _text_of(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', page)
    assert match, f"no #{element_id} on the page:\n{page[:2000]}"
    return html.unescape(match.group(1))


@dataclass
class Shown:
    """What the app's page shows after the login."""

    name: str
    sub: str
    acr: str
    amr: str


def log_in_and_out(app: RunningApp, provider: LiveServer, user: TestUser) -> Shown:
    """Log in through the app with the provider's login form (with its CSRF token), read the
    claims page, then log out; the provider session must be over afterwards."""
    with requests.Session() as browser:
        shown = _log_in(browser, app, provider, user)
        _log_out(browser, app, provider)
    return shown


def _log_in(browser: requests.Session, app: RunningApp, provider: LiveServer,
            user: TestUser) -> Shown:
    assert "未登录" in browser.get(app.url + "/", timeout=10).text
    login_page = browser.get(app.url + "/login", timeout=10)  # → /authorize → /login
    assert login_page.url.startswith(provider.url + "/login"), (login_page.url, app.log())
    authorize = parse_qs(urlparse(login_page.history[-1].url).query)  # what the app asked for
    assert authorize["response_type"] == ["code"] and authorize["code_challenge_method"] == ["S256"]
    assert authorize["scope"] == ["openid profile phone"]
    assert len(authorize["state"][0]) >= 16 and len(authorize["nonce"][0]) >= 16
    assert len(authorize["code_challenge"][0]) == 43  # base64url of a SHA-256 digest
    next_url = re.search(r'name="next"[^>]*value="([^"]+)"', login_page.text)
    assert next_url, login_page.text[:2000]
    claims_page = browser.post(provider.url + "/login", timeout=10, data={
        "csrf_token": csrf_from(login_page.text), "identifier": user.username,
        "password": user.password, "next": html.unescape(next_url.group(1))})
    # → /authorize → the app's /callback (code exchange, ID token check, UserInfo) → /
    assert claims_page.status_code == 200, (claims_page.status_code, app.log())
    assert claims_page.url == app.url + "/", claims_page.url
    text = claims_page.text
    return Shown(_text_of(text, "name"), _text_of(text, "sub"), _text_of(text, "acr"),
                 _text_of(text, "amr"))


def _log_out(browser: requests.Session, app: RunningApp, provider: LiveServer) -> None:
    end_session = requests.get(provider.url + "/.well-known/openid-configuration",
                               timeout=10).json()["end_session_endpoint"]
    logged_out = browser.get(app.url + "/logout", timeout=10)  # → end_session → the app's /
    hop = logged_out.history[-1].url  # the app sent the browser to the platform's logout
    assert hop.startswith(end_session + "?"), [r.url for r in logged_out.history]
    sent = parse_qs(urlparse(hop).query)
    assert sent["post_logout_redirect_uri"] == [app.url + "/"] and "id_token_hint" in sent
    assert logged_out.url.startswith(app.url + "/?state="), logged_out.url
    assert "未登录" in logged_out.text
    again = browser.get(app.url + "/login", timeout=10)  # no SSO session left: the form again
    assert again.url.startswith(provider.url + "/login"), again.url
