"""The transmitter's HTTP surface: its metadata (SSF 1.0 §7), the stream each business system
has (read only, from its registration: §8.1.1.2) and poll delivery (RFC 8936)."""

from __future__ import annotations

import base64
import json
from typing import Any, cast
from urllib.parse import unquote

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from idp.extensions import csrf
from idp.oauth.models import Client
from idp.oauth.server import DESCRIPTION_SAFE, provider
from idp.oauth.ssf.delivery import Poller
from idp.oauth.ssf.events import EVENTS_SUPPORTED, POLL, POLL_METHOD, PUSH, PUSH_METHOD

bp = Blueprint("ssf", __name__)
MAX_ACKS = 1000
JTI_MAX = 64


def _answer(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def set_error(err: str, description: str, status: int = 400) -> Response:
    """An error in the SET delivery specifications' own shape (RFC 8935 §2.3, RFC 8936 §2.4:
    `err` from the Security Event Token error codes, and a `description`)."""
    response = _answer({"err": err, "description": description}, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="ssf", Bearer realm="ssf"'
    return response


@bp.get("/.well-known/ssf-configuration")
def transmitter_configuration() -> Response:
    """SSF 1.0 §7.1: where the keys are, how events can be delivered, where a receiver reads
    its stream. Streams are made by registering the business system (`idp clients create
    --events-uri` or `--events-poll`, or the console), not through this API."""
    iss = provider().settings.issuer
    response = jsonify({
        "spec_version": "1_0",
        "issuer": iss,
        "jwks_uri": iss + "/jwks",
        "delivery_methods_supported": [PUSH_METHOD, POLL_METHOD],
        "configuration_endpoint": iss + "/ssf/stream",
        "authorization_schemes": [{"spec_urn": "urn:ietf:rfc:6749"}],
        "default_subjects": "ALL",
    })
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def authenticated_receiver() -> Client | Response:
    """The business system calling: HTTP Basic with its client secret (whichever of the two
    secret methods it registered), or a bearer access token it obtained by client_credentials
    (for systems that authenticate with private_key_jwt). A JSON body cannot carry the
    token endpoint's form-based methods."""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    p = provider()
    client: Client | None = None
    if scheme.lower() == "bearer":
        info = p.tokens.check_access_token(credentials.strip())
        if info is not None and info.grant_id is None:  # a client_credentials token
            client = p.server.query_client(str(info.claims["client_id"]))
    elif scheme.lower() == "basic":
        client_id, secret = _basic(credentials)
        found = p.server.query_client(client_id) if client_id else None
        if found is not None and found.check_client_secret(secret):
            client = found
    if client is None:
        return set_error("authentication_failed", "Authenticate as the business system: HTTP "
                         "Basic with its client secret, or a client_credentials access token.",
                         401)
    return client


def _basic(credentials: str) -> tuple[str, str]:
    """(client_id, secret) of HTTP Basic credentials (RFC 6749 §2.3.1), or ("", "")."""
    try:
        decoded = base64.b64decode(credentials.strip().encode("ascii"), validate=True)
        client_id, sep, secret = decoded.decode("utf-8").partition(":")
    except (ValueError, UnicodeError):
        return "", ""
    client_id = unquote(client_id)
    if not sep or not client_id or len(client_id) > 80 or \
            not DESCRIPTION_SAFE.fullmatch(client_id):
        return "", ""
    return client_id, unquote(secret)


def stream_of(client: Client) -> dict[str, Any] | None:
    """The one stream a business system has, as its registration defines it (SSF 1.0
    §8.1.1): its client_id names it and is its audience; every supported event is
    delivered."""
    iss = provider().settings.issuer
    if client.events_delivery == PUSH and client.events_uri:
        delivery = {"method": PUSH_METHOD, "endpoint_url": client.events_uri}
    elif client.events_delivery == POLL:
        delivery = {"method": POLL_METHOD, "endpoint_url": iss + "/ssf/poll"}
    else:
        return None
    return {"stream_id": client.client_id, "iss": iss, "aud": client.client_id,
            "delivery": delivery, "events_supported": list(EVENTS_SUPPORTED),
            "events_requested": list(EVENTS_SUPPORTED),
            "events_delivered": list(EVENTS_SUPPORTED), "description": client.name}


@bp.route("/ssf/stream", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@csrf.exempt
def stream() -> Response:
    """SSF 1.0 §8.1.1.2, reading: without `stream_id`, the list of the caller's streams (one,
    or none); with it, that stream, or 404. Creating, changing and deleting a stream are
    refused (403): a stream follows the business system's registration, which operators
    change (`idp events configure`, the console)."""
    client = authenticated_receiver()
    if isinstance(client, Response):
        return client
    if request.method != "GET":
        return set_error("access_denied", "Streams are configured when the business system "
                         "is registered; ask the platform's operators to change it.", 403)
    found = stream_of(client)
    wanted = request.args.get("stream_id")
    if wanted is None:
        return _answer([found] if found else [])
    if found is None or wanted != found["stream_id"]:
        return set_error("not_found", "There is no stream with this stream_id.", 404)
    return _answer(found)


@bp.post("/ssf/poll")
@csrf.exempt
def poll() -> Response:
    """RFC 8936 §2: acknowledge, report errors, and receive the oldest pending SETs. Answers
    at once (`returnImmediately` is honoured either way: no long polling)."""
    client = authenticated_receiver()
    if isinstance(client, Response):
        return client
    if client.events_delivery != POLL:
        return set_error("access_denied", "This business system receives its events by push, "
                         "not by polling.", 403)
    parsed = _poll_request()
    if isinstance(parsed, str):
        return set_error("invalid_request", parsed)
    ack, errors, max_events = parsed
    poller = cast(Poller, current_app.extensions["idp.security_events"].poller)
    answer = poller.poll(client, ack=ack, errors=errors, max_events=max_events)
    # Oldest first, as queued: written without the sorting jsonify applies to keys.
    response = current_app.response_class(
        json.dumps({"sets": answer.sets, "moreAvailable": answer.more}),
        mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _poll_request() -> tuple[list[str], dict[str, tuple[str, str]], int | None] | str:
    """(ack, setErrs, maxEvents) of a poll request body, or what is wrong with it."""
    if not request.is_json:
        if request.content_length or request.form:  # a form body: read by the input guard
            return "The poll request must be a JSON object (Content-Type: application/json)."
        body: Any = {}
    else:
        try:
            body = json.loads(request.get_data() or b"{}")
        except (ValueError, RecursionError):
            return "The poll request is not valid JSON."
    if not isinstance(body, dict):
        return "The poll request must be a JSON object."
    max_events = body.get("maxEvents")
    if max_events is not None and (not isinstance(max_events, int) or
                                   isinstance(max_events, bool) or max_events < 0):
        return "maxEvents must be a non-negative integer."
    if not isinstance(body.get("returnImmediately", False), bool):
        return "returnImmediately must be true or false."
    ack = body.get("ack", [])
    if not isinstance(ack, list) or len(ack) > MAX_ACKS or \
            not all(isinstance(j, str) and 0 < len(j) <= JTI_MAX for j in ack):
        return f"ack must be a list of at most {MAX_ACKS} jti strings."
    errs = body.get("setErrs", {})
    if not isinstance(errs, dict) or len(errs) > MAX_ACKS:
        return "setErrs must be an object whose members are jti values."
    errors: dict[str, tuple[str, str]] = {}
    for jti, error in errs.items():
        if not (0 < len(jti) <= JTI_MAX) or not isinstance(error, dict) or \
                not isinstance(error.get("err"), str) or \
                not isinstance(error.get("description", ""), str):
            return "Each member of setErrs must be an object with err and description."
        errors[jti] = (error["err"][:40], str(error.get("description", ""))[:100])
    return ack, errors, max_events
