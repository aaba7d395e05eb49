"""Quick start (业务系统快速接入): a Flask business system logging people in with Authlib.

Authorization code flow with PKCE S256, `state` and `nonce` (Authlib makes and checks all three),
the verified ID token's claims on the page, and RP-initiated logout with `id_token_hint`.
Run: OIDC_ISSUER=… OIDC_CLIENT_ID=… OIDC_CLIENT_SECRET=… python app.py (see ../README.md).
"""

from __future__ import annotations

import os
import secrets
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, redirect, render_template_string, session, url_for

ISSUER = os.environ["OIDC_ISSUER"]  # https://… in production; http only for a local provider
BASE_URL = os.environ.get("APP_BASE_URL", "http://127.0.0.1:5003")  # as registered

app = Flask(__name__)
app.secret_key = os.environ.get("APP_SECRET_KEY") or secrets.token_hex(32)
app.config.update(SESSION_COOKIE_NAME="quickstart", SESSION_COOKIE_SAMESITE="Lax",
                  SESSION_COOKIE_SECURE=BASE_URL.startswith("https://"))
oauth = OAuth(app)
oauth.register(
    "idp",
    client_id=os.environ["OIDC_CLIENT_ID"],
    client_secret=os.environ["OIDC_CLIENT_SECRET"],
    server_metadata_url=ISSUER + "/.well-known/openid-configuration",
    client_kwargs={"scope": "openid profile phone",
                   "code_challenge_method": "S256",  # PKCE, required by the platform
                   "token_endpoint_auth_method": "client_secret_basic"},  # or client_secret_post
)

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>业务系统 (quick start)</title></head><body>{% if claims %}
<p>已登录 (logged in): <b id="name">{{ name }}</b></p>
<dl><dt>sub</dt><dd id="sub">{{ claims.sub }}</dd><dt>acr (可信等级)</dt>
<dd id="acr">{{ claims.acr }}</dd><dt>amr</dt><dd id="amr">{{ claims.amr|join(" ") }}</dd></dl>
<p><a id="logout" href="{{ url_for('logout') }}">退出 (log out)</a></p>
{% else %}<p id="status">未登录 (not logged in)</p>
<p><a id="login" href="{{ url_for('login') }}">使用统一身份认证登录 (log in)</a></p>{% endif %}
{% if error %}<p id="error">{{ error }}</p>{% endif %}</body></html>"""


@app.get("/")
def index() -> str:
    return render_template_string(PAGE, claims=session.get("claims"), name=session.get("name"))


@app.get("/login")
def login() -> Any:
    # Authlib adds state, nonce and the PKCE challenge, and keeps them in the session.
    return oauth.idp.authorize_redirect(BASE_URL + "/callback")


@app.get("/callback")
def callback() -> Any:
    # Checks state, sends the PKCE verifier, verifies the ID token (signature, iss, aud, exp,
    # nonce, at_hash). An error from the platform (e.g. access_denied) raises OAuthError.
    token = oauth.idp.authorize_access_token()
    claims = dict(token["userinfo"])  # the verified ID token's claims: sub, acr, amr, sid …
    info = oauth.idp.userinfo(token=token)  # profile and phone claims come from UserInfo
    if info["sub"] != claims["sub"]:  # OpenID Connect Core §5.3.2
        abort(502)
    session.clear()
    session.update(claims=claims, name=info.get("name"), id_token=token["id_token"])
    return redirect(url_for("index"))


@app.errorhandler(OAuthError)
def login_failed(error: OAuthError) -> tuple[str, int]:  # e.g. access_denied, state mismatch
    return render_template_string(PAGE, error=error.error), 400


@app.get("/logout")
def logout() -> Any:
    id_token = session.get("id_token")
    session.clear()
    if not id_token:
        return redirect(url_for("index"))
    end_session = oauth.idp.load_server_metadata()["end_session_endpoint"]
    return redirect(end_session + "?" + urlencode({
        "id_token_hint": id_token, "post_logout_redirect_uri": BASE_URL + "/",
        "state": secrets.token_urlsafe(16)}))


if __name__ == "__main__":  # development server; production runs app:app under gunicorn
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5003")))
