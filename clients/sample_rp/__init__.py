"""A sample business system (示例业务系统) that logs citizens in through the provider."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, abort, redirect, render_template_string, request, session

from clients.sdk import (
    OidcClient,
    ProviderError,
    SecurityEventError,
    TokenError,
    make_pkce,
    security_event_subject,
)

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{{ name }}</title></head><body>
<h1>{{ name }}</h1>
{% if user %}
<p id="status">已登录 (logged in) as <b id="who">{{ user.get('name') or user['sub'] }}</b>,
 acr {{ claims['acr'] }}, amr {{ claims['amr']|join(',') }}</p>
<h2>ID token claims (verified)</h2>
<pre id="id-token-claims">{{ id_claims }}</pre>
<h2>UserInfo response</h2>
<pre id="userinfo">{{ pretty }}</pre>
<p><a id="logout" href="/logout">退出 (log out)</a></p>
{% else %}
<p id="status">未登录 (not logged in)</p>
<p><a id="login" href="/login">使用统一身份认证登录 (log in)</a></p>
{% endif %}
{% if error %}<p id="error">{{ error }}</p>{% endif %}
<h2>安全事件 (security events received)</h2>
{% if events %}<table id="security-events"><tr><th>sub</th><th>event</th><th>iat</th></tr>
{% for e in events %}<tr><td>{{ e.sub }}</td><td>{{ e.type }}</td><td>{{ e.iat }}</td></tr>
{% endfor %}</table>{% else %}<p id="no-security-events">无 (none)</p>{% endif %}
</body></html>"""
# Events after which the sample system ends its own sessions of the person: they can no
# longer be trusted to be that person's (integration guide, "Security events").
ENDS_SESSIONS = ("account-disabled", "account-purged", "session-revoked", "credential-change")


@dataclass
class RpState:
    """Server-side sessions, so back-channel logout can end them by `sid`."""

    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    logout_tokens: list[dict[str, Any]] = field(default_factory=list)
    security_events: list[dict[str, Any]] = field(default_factory=list)  # verified, in order
    lock: threading.Lock = field(default_factory=threading.Lock)


def create_rp(*, issuer: str, client_id: str | None, client_secret: str | None, base_url: str,
              name: str = "示例业务系统", credentials_file: str | None = None,
              scope: str = "openid profile phone",
              clock: Callable[[], float] = time.time) -> Flask:
    app = Flask(__name__)
    app.secret_key = secrets.token_hex(16)
    app.config["SESSION_COOKIE_NAME"] = "rp_" + secrets.token_hex(3)
    state = RpState()
    app.extensions["rp_state"] = state
    holder: dict[str, OidcClient] = {}

    def oidc() -> OidcClient:
        if "c" not in holder:
            cid, secret = client_id, client_secret
            if credentials_file:
                with open(credentials_file, encoding="utf-8") as f:
                    creds = json.load(f)
                cid, secret = creds["client_id"], creds["client_secret"]
            holder["c"] = OidcClient(issuer=issuer, client_id=cid or "", client_secret=secret,
                                     clock=clock,
                                     redirect_uri=base_url + "/callback")
        return holder["c"]

    def current() -> dict[str, Any] | None:
        key = session.get("rp_session")
        with state.lock:
            return state.sessions.get(key) if key else None

    @app.get("/")
    def index() -> str:
        data = current()
        with state.lock:
            events = [{"sub": security_event_subject(c), "type": t.rsplit("/", 1)[-1],
                       "iat": c["iat"]} for c in state.security_events for t in c["events"]]
        return render_template_string(PAGE, name=name, user=data and data["userinfo"],
                                      events=events,
                                      claims=data and data["claims"], error=request.args.get(
                                          "error"),
                                      pretty=json.dumps(data and data["userinfo"],
                                                        ensure_ascii=False, indent=2),
                                      id_claims=json.dumps(data and data["claims"],
                                                           ensure_ascii=False, indent=2))

    @app.get("/login")
    def login() -> Any:
        verifier, challenge = make_pkce()
        session["flow"] = {"state": secrets.token_urlsafe(16), "nonce": secrets.token_urlsafe(16),
                           "verifier": verifier}
        extra = {k: v for k, v in request.args.items() if k in {"prompt", "acr_values",
                                                                "ui_locales", "max_age"}}
        return redirect(oidc().authorization_url(state=session["flow"]["state"],
                                                 nonce=session["flow"]["nonce"],
                                                 code_challenge=challenge, scope=scope, **extra))

    @app.get("/callback")
    def callback() -> Any:
        flow = session.pop("flow", None)
        if not flow or request.args.get("state") != flow["state"]:
            abort(400, "state mismatch")
        if "error" in request.args:
            return redirect("/?error=" + request.args["error"])
        client = oidc()
        try:
            tokens = client.exchange_code(request.args["code"], flow["verifier"])
            claims = client.verify_id_token(tokens["id_token"], nonce=flow["nonce"],
                                            access_token=tokens["access_token"])
            info = client.userinfo(tokens["access_token"])
        except (ProviderError, TokenError) as exc:
            return redirect("/?error=" + str(exc))
        key = secrets.token_urlsafe(16)
        with state.lock:
            state.sessions[key] = {"claims": claims, "userinfo": info, "tokens": tokens}
        session["rp_session"] = key
        return redirect("/")

    @app.get("/logout")
    def logout() -> Any:
        data = current()
        if data is None:
            return redirect("/")
        url = oidc().end_session_url(id_token_hint=data["tokens"]["id_token"],
                                     post_logout_redirect_uri=base_url + "/",
                                     state=secrets.token_urlsafe(8))
        with state.lock:
            state.sessions.pop(session.pop("rp_session"), None)
        return redirect(url)

    @app.post("/backchannel-logout")
    def backchannel_logout() -> Any:
        try:
            claims = oidc().verify_logout_token(request.form.get("logout_token", ""))
        except TokenError:
            return {"error": "invalid_request"}, 400
        with state.lock:
            state.logout_tokens.append(claims)
            for key in [k for k, v in state.sessions.items()
                        if v["claims"].get("sid") == claims.get("sid")]:
                del state.sessions[key]
        return "", 200

    @app.post("/events")
    def security_event() -> Any:
        """Push delivery (RFC 8935): 202 for a SET that verifies (a repeat of one already
        received, by jti, too), else 400 with the RFC's error code."""
        if request.mimetype != "application/secevent+jwt":
            return {"err": "invalid_request",
                    "description": "Content-Type must be application/secevent+jwt"}, 400
        try:
            claims = oidc().verify_security_event(request.get_data(as_text=True))
        except SecurityEventError as exc:
            return {"err": exc.err, "description": exc.description}, 400
        sub = security_event_subject(claims)
        with state.lock:
            if all(e["jti"] != claims["jti"] for e in state.security_events):
                state.security_events.append(claims)
            if any(t.rsplit("/", 1)[-1] in ENDS_SESSIONS for t in claims["events"]):
                for key in [k for k, v in state.sessions.items()
                            if v["claims"].get("sub") == sub]:
                    del state.sessions[key]
        return "", 202

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the sample business system.")
    parser.add_argument("--issuer", default=os.environ.get("IDP_ISSUER", "http://127.0.0.1:5000"))
    parser.add_argument("--base-url", default="http://127.0.0.1:5001")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--credentials", default="instance/demo-client.json",
                        help="JSON file with client_id and client_secret")
    args = parser.parse_args()
    app = create_rp(issuer=args.issuer, client_id=None, client_secret=None,
                    base_url=args.base_url, credentials_file=args.credentials)
    app.run(host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
