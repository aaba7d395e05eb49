"""`idp serve` as an operator runs it: granian (or gunicorn) in a subprocess, over HTTP."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port

IDP = str(Path(sys.executable).with_name("idp"))


def _env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env.update(IDP_DATABASE_URL=f"sqlite:///{tmp_path}/serve.db",
               IDP_ISSUER=f"http://127.0.0.1:{port}", IDP_DEMO_DATA="1",
               IDP_ARGON2_MEMORY_KIB="8192", IDP_ARGON2_TIME_COST="1")
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    port = free_port()
    env = _env(tmp_path, port)
    subprocess.run([IDP, "db", "upgrade"], env=env, check=True, capture_output=True,
                   cwd=tmp_path)
    proc = subprocess.Popen([IDP, "serve", "--port", str(port), "--workers", "1"], env=env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    assert proc.stdout is not None
    output = []
    for line in proc.stdout:  # blocks until the server says it listens (or the process dies)
        output.append(line)
        if "Started worker" in line or "Booting worker" in line:  # granian, gunicorn
            break
    _wait_until_listening(port)
    try:
        yield f"http://127.0.0.1:{port}", "".join(output)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()


def _wait_until_listening(port: int, seconds: float = 20.0) -> None:
    """A worker reports itself started a moment before its server accepts connections."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise RuntimeError("idp serve did not accept connections")


def _login(base: str) -> requests.Response:
    browser = requests.Session()
    page = browser.get(base + "/login")
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    return browser.post(base + "/login", allow_redirects=False, data={
        "csrf_token": csrf, "identifier": "demo", "password": "Yiwang-Tongban-2026"})


def test_serve_prints_demo_credentials_and_discovery_on_first_start(served):
    base, output = served
    assert "business system client_id: demo-business-system" in output
    assert re.search(r"client_secret:\s+\S{20,}", output)
    assert "demo citizen login:         demo / Yiwang-Tongban-2026" in output
    assert f"Discovery: {base}/.well-known/openid-configuration" in output
    assert requests.get(base + "/.well-known/openid-configuration").json()["issuer"] == base


def test_each_request_under_idp_serve_gets_its_own_csrf_token_and_logins_work(served):
    base, _ = served
    first = requests.get(base + "/login").text
    second = requests.get(base + "/login").text
    token = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
    assert token.search(first).group(1) != token.search(second).group(1)
    assert _login(base).status_code == 303
    assert _login(base).status_code == 303


def test_serve_refuses_several_workers_on_the_in_process_store(tmp_path):
    env = _env(tmp_path, free_port())
    result = subprocess.run([IDP, "serve", "--workers", "2"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "in-process store" in result.stderr
