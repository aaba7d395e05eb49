"""The deployment's emblem and banner colour (idp.branding), served to every page."""

from __future__ import annotations

from typing import cast

from flask import abort, current_app, make_response, send_file
from werkzeug.wrappers import Response

from idp.accounts.views import bp
from idp.branding import Brand

CACHE = "public, max-age=3600"


def _brand() -> Brand:
    return cast(Brand, current_app.extensions["idp.brand"])


@bp.get("/brand/emblem")
def emblem() -> Response:
    brand = _brand()
    if brand.emblem_file is None or brand.emblem_type is None:
        abort(404)
    response = send_file(brand.emblem_file, mimetype=brand.emblem_type, max_age=3600)
    response.headers["Cache-Control"] = CACHE
    return response


@bp.get("/brand/style.css")
def brand_style() -> Response:
    """The banner colour as a stylesheet: the pages' CSP allows no inline style."""
    response = make_response(f":root {{ --brand: {_brand().colour}; }}\n")
    response.headers["Content-Type"] = "text/css; charset=utf-8"
    response.headers["Cache-Control"] = CACHE
    return response
