"""Request and response rules shared by every route: response security headers, refusal of
input no route may see (NUL and other control characters), and error answers in the form the
caller reads (RFC 6749 JSON for the protocol endpoints, a page in the person's language
elsewhere). No input ever reaches a 5xx through here."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# Endpoints a program calls: their errors are JSON (RFC 6749 §5.2, RFC 6750 §3.1).
API_PATHS = ("/token", "/revoke", "/introspect", "/userinfo", "/jwks", "/.well-known/",
             "/healthz", "/readyz")
# C0 controls but TAB, LF and CR (which forms may carry), and DEL. NUL never reaches a database.
FORBIDDEN_CHARS = frozenset(chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 127])
HEADER_FORBIDDEN = FORBIDDEN_CHARS | {"\r", "\n"}


def is_api_request() -> bool:
    return request.path.startswith(API_PATHS)


def _bad(text: str) -> bool:
    return not FORBIDDEN_CHARS.isdisjoint(text)


def refused_input() -> str | None:
    """What is wrong with the request's input, or None. Checked before any route runs."""
    if _bad(request.path):
        return "path"
    for source in (request.args, request.form):
        for key, values in source.lists():
            if _bad(key) or any(_bad(v) for v in values):
                return key if not _bad(key) else "parameter name"
    for name, value in request.headers.items():
        if not HEADER_FORBIDDEN.isdisjoint(value):
            return name
    return None


def error_response(status: int, error: str, description: str) -> Response:
    """An error in the caller's form: JSON for the protocol endpoints, otherwise a page."""
    if is_api_request():
        response = jsonify({"error": error, "error_description": description})
        response.status_code = status
        response.headers["Cache-Control"] = "no-store"
        return response
    return make_response(render_template("error.html", error=error, lead=description), status)


def _guard_input() -> Response | None:
    where = refused_input()
    if where is None:
        return None
    return error_response(400, "invalid_request",
                          _("The request contains characters that are not allowed."))


HTTP_MESSAGES = {
    400: "invalid_request", 404: "not_found", 405: "invalid_request",
    413: "invalid_request", 414: "invalid_request", 431: "invalid_request",
}


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    descriptions = {
        404: _("This page does not exist."),
        405: _("This address does not accept that kind of request."),
        413: _("The request is too large."),
        414: _("The address is too long."),
        431: _("The request headers are too large."),
    }
    error = HTTP_MESSAGES.get(status, "invalid_request" if status < 500 else "server_error")
    description = descriptions.get(status, _("The request is not valid."))
    if status >= 500:
        description = _("Something went wrong on our side. Please try again later.")
    response = error_response(status, error, description)
    if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "server_error",
                          _("Something went wrong on our side. Please try again later."))


def security_headers(response: Response, hsts: bool) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if hsts:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
    return response


def init_http(app: Flask, *, hsts: bool) -> None:
    app.before_request(_guard_input)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    app.after_request(lambda response: security_headers(response, hsts))
