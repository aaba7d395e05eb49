"""The picture code's image and its recording (ADR 0013); never cached anywhere."""

from __future__ import annotations

from flask import abort, request
from werkzeug.wrappers import Response

from idp.accounts.views import bp
from idp.accounts.views.common import captchas


def _media(data: bytes | None, mimetype: str) -> Response:
    """The picture or recording; the site's 404 page for a challenge that is unknown, used,
    expired or drawn too often (the page's "another picture" link gets a new one)."""
    if data is None:
        abort(404)
    response = Response(data, 200, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.get("/captcha/<challenge>.png")
def captcha_image(challenge: str) -> Response:
    return _media(captchas().image(challenge), "image/png")


@bp.get("/captcha/<challenge>.wav")
def captcha_audio(challenge: str) -> Response:
    return _media(captchas().audio(challenge, request.remote_addr), "audio/wav")
