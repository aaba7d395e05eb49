"""Health endpoints and browser-facing security headers.

Covers liveness/readiness probes, the headers on HTML pages (RFC 7234 §5.2.2.3 no-store,
RFC 7034 X-Frame-Options and CSP Level 2 frame-ancestors against clickjacking per RFC 6749
§10.13), and the SSO cookie attributes (RFC 6265 §4.1.2.6 HttpOnly, RFC 6265bis SameSite).
"""

from __future__ import annotations

from idp.accounts.views import SESSION_COOKIE


def test_healthz_answers_ok(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_reports_database_and_store_ready(app):
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "database": True, "store": True}


def test_login_page_carries_the_security_headers(app):
    response = app.test_client().get("/login")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_sso_cookie_is_httponly_and_samesite_lax(browser, make_user):
    response = browser.login(make_user())
    assert response.status_code == 303
    cookies = [c for c in response.headers.getlist("Set-Cookie")
               if c.startswith(SESSION_COOKIE + "=")]
    assert len(cookies) == 1
    attributes = {part.strip().split("=", 1)[0].lower(): part.strip()
                  for part in cookies[0].split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"] == "SameSite=Lax"
    assert attributes["path"] == "Path=/"
    assert "secure" not in attributes  # the test issuer is http; https issuers add Secure


def test_failed_login_sets_no_sso_cookie(browser, make_user):
    response = browser.login(make_user(), password="Wrong-Password-1")
    assert response.status_code == 400
    assert not [c for c in response.headers.getlist("Set-Cookie")
                if c.startswith(SESSION_COOKIE + "=")]
