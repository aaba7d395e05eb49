"""The console's JSON API under /admin/api (RFC 6750 bearer tokens: client_credentials with
the `admin` scope; no cookies, so no CSRF): the rates report, a scope's follow-up list, and
the imports with the same checks and results as the CSV upload."""

from __future__ import annotations

import json
from typing import Any, cast

from flask import current_app, jsonify, request
from werkzeug.wrappers import Response

from idp.access.errors import AccessError
from idp.access.imports import KINDS
from idp.access.ports import LoginEvidence
from idp.access.services import AccessService
from idp.access.snapshots import check_month
from idp.admin.views import api_bp
from idp.admin.views.bearer import api_actor, api_error, bearer_required
from idp.extensions import csrf, get_settings

csrf.exempt(api_bp)


def _service(refresh: bool = True) -> AccessService:
    service = cast(AccessService, current_app.extensions["idp.access"])
    if refresh:
        service.refresh(cast(LoginEvidence, current_app.extensions["idp.login_evidence"]),
                        max_age=get_settings().access_refresh_seconds)
    return service


def _json(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@api_bp.get("/rates")
@bearer_required
def rates() -> Response:
    """Every rate now (after the cheap rollup), or a stored month's (?month=YYYY-MM)."""
    month = request.args.get("month")
    if month:
        try:
            report = _service(refresh=False).stored_report(check_month(month))
        except AccessError:
            return api_error("invalid_request", "month must be YYYY-MM.", 400)
        if report is None:
            return api_error("not_found", "No figures are stored for that month.", 404)
        return _json(report.to_dict())
    service = _service()
    return _json({**service.report().to_dict(), "live_days": service.live_days,
                  "targets": service.targets.spec()})


@api_bp.get("/follow-up")
@bearer_required
def follow_up() -> Response:
    """?scope=city:441800 | county:441802 | dept:<code>:licensing | … (every item listed)."""
    scope = request.args.get("scope", "")
    if not scope or len(scope) > 120:
        return api_error("invalid_request", "Give a scope, e.g. scope=city:441800.", 400)
    try:
        found = _service().follow_up(scope)
    except AccessError:
        return api_error("invalid_request", "The scope names no access-rate scope (e.g. "
                         "dept:<code>:licensing, city:441800, county:441802).", 400)
    return _json(found.to_dict())


@api_bp.post("/imports/<kind>")
@bearer_required
def import_records(kind: str) -> Response:
    """A JSON list of records keyed by the CSV columns; ?dry_run=1 checks and counts only.
    200 with the counts; 422 with every rejected record (nothing written)."""
    if kind not in KINDS:
        return api_error("not_found", "Import departments, items or systems.", 404)
    if not request.is_json:
        return api_error("invalid_request", "Send a JSON list (Content-Type: "
                         "application/json).", 415)
    try:
        records = json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):
        return api_error("invalid_request", "The body is not valid JSON.", 400)
    dry_run = request.args.get("dry_run", "") in ("1", "true", "yes")
    report = _service(refresh=False).import_records(kind, records, actor=api_actor(),
                                                    source="api", dry_run=dry_run)
    if report.rejected:
        return _json({"error": "invalid_request",
                      "error_description": "Some records were rejected; nothing was written.",
                      **report.to_dict()}, 422)
    return _json(report.to_dict())
