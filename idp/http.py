"""Request and response rules shared by every route: response security headers, refusal of
input no route may see (NUL and other control characters), and error answers in the form the
caller reads (RFC 6749 JSON for the protocol endpoints, a page in the person's language
elsewhere). No input ever reaches a 5xx through here."""

from __future__ import annotations

import logging
import traceback
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from idp.extensions import db
from idp.store import StoreUnavailable

log = logging.getLogger(__name__)

# A backing service that does not answer: the request is refused with 503, never a 500.
OUTAGES = (StoreUnavailable, OperationalError, InterfaceError, PoolTimeout)

# Endpoints a program calls: their errors are JSON (RFC 6749 §5.2, RFC 6750 §3.1).
API_PATHS = ("/token", "/revoke", "/introspect", "/userinfo", "/jwks", "/.well-known/",
             "/healthz", "/readyz", "/admin/api/", "/ssf/")
# C0 controls but TAB, LF and CR (which forms may carry), and DEL. NUL never reaches a database.
FORBIDDEN_CHARS = frozenset(chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 127])
HEADER_FORBIDDEN = FORBIDDEN_CHARS | {"\r", "\n"}


def is_api_request() -> bool:
    return request.path.startswith(API_PATHS)


def request_value(name: str) -> str | None:
    """A query or form value for code that runs on every answer, error pages included (the
    locale selector): a body too large or undecodable yields None instead of raising again."""
    try:
        return request.args.get(name) or request.form.get(name)
    except (HTTPException, UnicodeDecodeError):
        return None


def _bad(text: str) -> bool:
    return not FORBIDDEN_CHARS.isdisjoint(text)


def refused_input() -> str | None:
    """What is wrong with the request's input, or None. Checked before any route runs."""
    if _bad(request.path):
        return "path"
    try:
        sources = (request.args, request.form)
    except UnicodeDecodeError:
        return "encoding"
    for source in sources:
        for key, values in source.lists():
            if _bad(key) or any(_bad(v) for v in values):
                return key if not _bad(key) else "parameter name"
    for name, value in request.headers.items():
        if not HEADER_FORBIDDEN.isdisjoint(value):
            return name
    return None


# The heading of an error page, by status: what happened, in plain words (the lead sentence
# under it says more; the error code stays small at the bottom).
PAGE_HEADINGS = {
    400: _l("The request could not be accepted"), 403: _l("You cannot open this page"),
    404: _l("Page not found"), 405: _l("This page cannot be used this way"),
    409: _l("Nothing was saved"), 413: _l("What you sent is too large"),
    414: _l("The address is too long"), 429: _l("Too many requests"),
    431: _l("What you sent is too large"), 500: _l("Something went wrong"),
    503: _l("The service is temporarily unavailable"),
}


def error_page(status: int, error: str, lead: str, *, heading: str | None = None,
               description: str | None = None, back: tuple[str, str] | None = None) -> Response:
    """An error page in the person's language (templates/error.html through base.html, so its
    <html lang> is the language shown): a heading, `lead` (one or two sentences), the way
    back (home, and `back` = (url, name) of the business system when known), the service
    hotline, and the error code with `description` small at the end."""
    context = {"status": status, "error": error, "lead": lead, "description": description,
               "heading": heading or str(PAGE_HEADINGS.get(
                   status, PAGE_HEADINGS[500 if status >= 500 else 400])),
               "back": back}
    try:
        return make_response(render_template("error.html", **context), status)
    except Exception:  # noqa: BLE001 - the page itself failed: answer without the templates
        log.exception("the error page for %s could not be rendered", status)
        return make_response(BARE_PAGE.format(status=status), status)


# What a browser gets when even the error page cannot be rendered: both languages, each marked.
BARE_PAGE = ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{status}'
             '</title></head><body><h1>系统出现错误</h1><p role="alert">请稍后再试。</p>'
             '<div lang="en"><h2>Something went wrong</h2><p>Please try again later.</p></div>'
             '<p><a href="/">首页 / Home</a></p></body></html>')


def error_response(status: int, error: str, description: str,
                   api_description: str = "") -> Response:
    """An error in the caller's form: JSON for the protocol endpoints (`api_description`: RFC
    6749 §5.2 allows only printable ASCII there), else a page in the person's language."""
    if is_api_request():
        response = jsonify({"error": error,
                            "error_description": api_description or description})
        response.status_code = status
        response.headers["Cache-Control"] = "no-store"
        return response
    return error_page(status, error, description)


# Endpoints that accept a larger body than MAX_CONTENT_LENGTH (a face image for the platform;
# a catalogue file in the operators' console or its JSON API).
LARGE_BODIES = {"identity.verify": 3 * 1024 * 1024, "admin.imports": 4 * 1024 * 1024,
                "admin_api.import_records": 4 * 1024 * 1024}


def _guard_input() -> Response | None:
    if request.endpoint in LARGE_BODIES:
        request.max_content_length = LARGE_BODIES[request.endpoint]
    where = refused_input()
    if where is None:
        return None
    return error_response(400, "invalid_request",
                          _("The request contains characters that are not allowed."),
                          "The request contains characters that are not allowed.")


HTTP_MESSAGES = {
    400: "invalid_request", 404: "not_found", 405: "invalid_request",
    413: "invalid_request", 414: "invalid_request", 431: "invalid_request",
}


HTTP_DESCRIPTIONS = {  # (page text, marked for translation; API text, ASCII)
    403: (_l("You do not have permission to open this page."), "The request is not valid."),
    404: (_l("The page you asked for does not exist. The address may be mistyped, or the "
             "page may have moved."), "No such endpoint."),
    405: (_l("This address does not accept that kind of request. Please start again from "
             "the home page."), "This endpoint does not accept this HTTP method."),
    413: (_l("What you sent is larger than this page accepts. If you were uploading a file, "
             "choose a smaller one."), "The request body is too large."),
    414: (_l("The address is too long. Please start again from the home page."),
          "The request URI is too long."),
    429: (_l("You made too many requests in a short time. Please wait a moment and try "
             "again."), "The request is not valid."),
    431: (_l("Your browser sent too much data with the request. Clear this site's cookies "
             "and try again."), "The request headers are too large."),
}
SERVER_ERROR = (_l("Something went wrong on our side. Please try again later."),
                "The server could not complete the request.")
NOT_VALID = (_l("The request is not valid."), "The request is not valid.")


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    error = HTTP_MESSAGES.get(status, "invalid_request" if status < 500 else "server_error")
    page_text, api_text = SERVER_ERROR if status >= 500 else \
        HTTP_DESCRIPTIONS.get(status, NOT_VALID)
    response = error_response(status, error, str(page_text), api_text)
    if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


UNAVAILABLE = (_l("The service is briefly unavailable. Please try again in a moment."),
               "A backing service is unavailable; retry shortly.")
RETRY_AFTER = "2"
# A unique or foreign-key violation that a service's own checks did not foresee is another
# request writing the same thing at the same moment: nothing was saved (the unit of work rolls
# back), and trying again meets the other request's result.
CONFLICT = (_l("Someone changed the same data at the same moment, so nothing was saved. "
               "Please reload the page and try again."),
            "A concurrent request changed the same data; nothing was saved. Retry.")
# The OAuth and OpenID endpoints answer only the RFC's error codes (server_error there).
RFC_PATHS = tuple(p for p in API_PATHS if not p.startswith("/admin/"))


def unavailable(exc: Exception) -> Response:
    """A store or database outage: refuse service cleanly (503 + Retry-After), in the
    caller's form. Nothing was decided, so retrying is safe."""
    log.warning("outage on %s %s: %s", request.method, request.path, type(exc).__name__)
    response = error_response(503, "temporarily_unavailable", str(UNAVAILABLE[0]),
                              UNAVAILABLE[1])
    response.headers["Retry-After"] = RETRY_AFTER
    return response


def _unexpected(exc: Exception) -> Response:
    # An exception ends the unit of work without it: roll back before the error response
    # passes through commit_unit_of_work.
    db.session.rollback()
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    if isinstance(exc, OUTAGES) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return unavailable(exc)
    if isinstance(exc, IntegrityError) and not request.path.startswith(RFC_PATHS):
        log.warning("concurrent write refused (SQLSTATE %s) on %s %s",
                    getattr(exc.orig, "sqlstate", None), request.method, request.path)
        return error_response(409, "conflict", str(CONFLICT[0]), CONFLICT[1])
    if isinstance(exc, DBAPIError):
        # The database's own message can quote the row (PostgreSQL: "Key (phone)=(139…)
        # already exists"); log where it happened and the SQLSTATE, never the message.
        log.error("database error %s (SQLSTATE %s) on %s %s\n%s", type(exc.orig).__name__,
                  getattr(exc.orig, "sqlstate", None), request.method, request.path,
                  "".join(traceback.format_tb(exc.__traceback__)))
    else:
        log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "server_error", str(SERVER_ERROR[0]), SERVER_ERROR[1])


# Every answer's security headers (HSTS behind TLS), and a page's besides (idp/oauth/hotpath.py
# sends the same).
ANSWER_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"))
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
PAGE_HEADERS = (
    ("Cache-Control", "no-store"), ("Pragma", "no-cache"), ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"),
)


def security_headers(response: Response, hsts: bool) -> Response:
    for name, value in ANSWER_HEADERS:
        response.headers.setdefault(name, value)
    if hsts:
        response.headers[HSTS[0]] = HSTS[1]
    if response.mimetype == "text/html":
        for name, value in PAGE_HEADERS:
            response.headers[name] = value
    return response


class AsciiQueryString:
    """WSGI middleware: bytes outside ASCII in the raw query string (which some servers pass
    through undecoded) are percent-encoded, so they reach the routes as the invalid or odd
    characters they are instead of breaking the request object."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        query = environ.get("QUERY_STRING", "")
        if not query.isascii():
            environ["QUERY_STRING"] = quote(query.encode("latin-1", "replace"),
                                            safe="".join(map(chr, range(0x21, 0x7F))))
        return self.app(environ, start_response)


def commit_unit_of_work(response: Response) -> Response:
    """The request is the unit of work (design.md): services flush, and what the request did
    commits here once, whatever the status (a refused login's audit row counts too). An
    exception rolls back first (_unexpected), so nothing it half-did is committed."""
    if db.session().in_transaction():
        db.session.commit()
    return response


HOT_PATH_ERROR = "idp.hot_path_error"  # WSGI environ key (idp/oauth/hotpath.py)


def raise_hot_path_error() -> None:
    """A hot path that could not finish and must not be done again hands its error here, so
    the answer is the application's own for that error (a 503 for a lost store)."""
    error = request.environ.get(HOT_PATH_ERROR)
    if error is not None:
        raise error


def init_http(app: Flask, *, hsts: bool) -> None:
    app.before_request(raise_hot_path_error)
    app.before_request(_guard_input)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    app.after_request(lambda response: security_headers(response, hsts))
    app.after_request(commit_unit_of_work)
    app.wsgi_app = AsciiQueryString(app.wsgi_app)  # type: ignore[method-assign]
