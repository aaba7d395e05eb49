"""/activate (for citizens): set your own password with the code on your activation slip."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from idp.accounts.lockout import Gate
from idp.accounts.views.common import page, policy_messages, when
from idp.counter import counter
from idp.counter.forms import ActivateForm
from idp.counter.views import activation_bp
from idp.counter.views.common import gate_message


def _refusal(gate: Gate) -> str:
    if gate.reason == "locked":
        return _("Too many failed attempts. You can try again after %(time)s.",
                 time=when(gate.retry_at or 0))
    return gate_message(gate)


@activation_bp.route("/activate", methods=["GET", "POST"])
def activate() -> Response:
    form = ActivateForm()
    error, problems = None, []
    if form.validate_on_submit():
        result = counter().codes.redeem(form.identifier.data or "", form.code.data or "",
                                        form.password.data or "", request.remote_addr)
        if result.outcome == "activated":
            return page("activate_done.html", username=result.user.username
                        if result.user else "")
        if result.outcome == "weak_password":
            problems = policy_messages(result.problems)
        elif result.outcome == "refused" and result.gate is not None:
            error = _refusal(result.gate)
        else:
            error = _("The username or activation code is wrong, or the code has expired or "
                      "was already used. A counter can print a new slip.")
    form.code.data = ""
    status = 400 if request.method == "POST" else 200
    return page("activate.html", status, form=form, error=error, problems=problems)
