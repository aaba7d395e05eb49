"""The Node quick start of docs/integration-guide.md (clients/quickstart/node/app.mjs, Express +
openid-client v6) run with `node` against the live provider: the code flow with PKCE, state and
nonce, the claims page, and RP-initiated logout. Node.js 20+ and npm are required: CI installs
them (.ci/run), and a machine without them fails here rather than skipping."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.flows.quickstart import QUICKSTART, log_in_and_out, register, running

NODE_APP = QUICKSTART / "node"


def _node() -> str:
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the Node quick start: apt-get install nodejs npm")
    version = subprocess.run([node, "--version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.fail(f"openid-client v6 needs Node.js 20 or newer; this machine has {version}")
    if not (NODE_APP / "node_modules").is_dir():  # a clean clone: install the locked versions
        installed = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_APP,
                                   capture_output=True, text=True, timeout=600)
        assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    return node


def test_node_quickstart_logs_a_person_in_shows_sub_and_acr_and_logs_out(
        live_provider, make_client, make_user):
    node = _node()
    user = make_user(trust_level=3, name="张三")
    base, settings = register(live_provider, make_client)
    with running([node, "app.mjs"], NODE_APP, {**os.environ, **settings}, base,
                 ready="quick start listening on") as app:
        shown = log_in_and_out(app, live_provider, user)
    assert shown.sub == user.id
    assert shown.acr == "3"
    assert shown.amr == "pwd"
    assert shown.name == "张三"
