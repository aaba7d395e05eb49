"""Importing the catalogue and business systems from a CSV file (UTF-8 or GBK exports), with a
dry run: created / updated / unchanged, and every rejected row with its line and reasons.
All or nothing: when any row is rejected nothing is written."""

from __future__ import annotations

from flask import request
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from idp.access.imports import ImportReport
from idp.admin.forms import ImportForm
from idp.admin.views import bp
from idp.admin.views.common import access, actor, page

MAX_UPLOAD = 4 * 1024 * 1024  # the endpoint's body limit (idp.http.LARGE_BODIES)


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
    return page("admin_imports.html", status, form=form, report=report, missing=missing)


def _name(filename: str) -> str:
    """The uploaded file's own name, for the audit record (no path, at most 100 characters)."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1][:100] or "upload.csv"
