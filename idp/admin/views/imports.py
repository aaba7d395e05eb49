"""Importing the catalogue and business systems from a CSV file (UTF-8 or GBK exports), with a
dry run: created / updated / unchanged, and every rejected row with its line and reasons.
All or nothing: when any row is rejected nothing is written."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from idp.access.imports import ImportReport
from idp.admin.forms import ImportForm
from idp.admin.views import bp
from idp.admin.views.common import access, actor, page

MAX_UPLOAD = 4 * 1024 * 1024  # the endpoint's body limit (idp.http.LARGE_BODIES)


# What each rejection code means, in the page's language; the row's own detail (which value,
# which column) follows in the service's words.
PROBLEM_NAMES = {
    "bad_code": _l("Invalid code"), "bad_division": _l("Unknown division code"),
    "bad_encoding": _l("The file's encoding cannot be read"), "bad_level": _l("Invalid level"),
    "bad_status": _l("Invalid status"), "bad_type": _l("Invalid item type"),
    "bad_value": _l("Invalid value"), "client_taken": _l("Client already belongs to a system"),
    "duplicate_code": _l("Duplicate code"), "empty_file": _l("The file is empty"),
    "empty_value": _l("Required value missing"),
    "level_mismatch": _l("Level does not match the division"),
    "missing_field": _l("Missing field"), "not_a_list": _l("Not a list of records"),
    "not_an_object": _l("Not a record"),
    "outside_department": _l("Division outside the department's area"),
    "too_long": _l("Value too long"), "unknown_client": _l("Unknown client"),
    "unknown_department": _l("Unknown department"), "unknown_field": _l("Unknown field"),
    "unknown_item": _l("Unknown item"), "wrong_field_count": _l("Wrong number of fields"),
    "wrong_header": _l("Wrong header line"),
}


@bp.route("/imports", methods=["GET", "POST"])
def imports() -> Response:
    form = ImportForm()
    report: ImportReport | None = None
    missing = False
    if form.validate_on_submit():
        upload = form.file.data
        if not isinstance(upload, FileStorage) or not upload.filename:
            missing = True
        else:
            report = access().import_csv(form.kind.data or "", upload.read(MAX_UPLOAD + 1),
                                         actor=actor(), source=_name(upload.filename),
                                         dry_run=bool(form.dry_run.data))
    status = 400 if request.method == "POST" and (report is None or report.rejected) else 200
    return page("admin_imports.html", status, form=form, report=report, missing=missing,
                problem_names=PROBLEM_NAMES)


def _name(filename: str) -> str:
    """The uploaded file's own name, for the audit record (no path, at most 100 characters)."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1][:100] or "upload.csv"
