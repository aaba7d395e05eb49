"""The Python quick start of docs/integration-guide.md (clients/quickstart/python/app.py, Flask
+ Authlib) run as a business system would run it, against the live provider: the code flow with
PKCE, state and nonce, the claims page, and RP-initiated logout."""

from __future__ import annotations

import os
import sys

from tests.flows.quickstart import QUICKSTART, log_in_and_out, register, running


def test_python_quickstart_logs_a_person_in_shows_sub_and_acr_and_logs_out(
        live_provider, make_client, make_user):
    user = make_user(trust_level=3, name="张三")
    base, settings = register(live_provider, make_client)
    env = {**os.environ, **settings, "PYTHONWARNINGS": "error"}
    with running([sys.executable, "app.py"], QUICKSTART / "python", env, base,
                 ready="Running on") as app:
        shown = log_in_and_out(app, live_provider, user)
    assert shown.sub == user.id
    assert shown.acr == "3"
    assert shown.amr == "pwd"
    assert shown.name == "张三"
