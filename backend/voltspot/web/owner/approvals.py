"""Sign-in requests (admins only): identities a provider created, let in or refused."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from voltspot.runtime import runtime
from voltspot.services.owner import approvals
from voltspot.web.owner import bp, viewer


@bp.get("/sign-in-requests")
def sign_in_requests():
    requests = approvals.sign_in_requests(runtime().db, viewer())
    return render_template("owner/sign_in_requests.html", requests=requests)


@bp.post("/sign-in-requests/<int:owner_id>/approve")
def approve_sign_in(owner_id: int):
    email = approvals.decide_sign_in_request(runtime().db, viewer(), owner_id, let_in=True)
    flash(_("%(email)s may sign in now.", email=email), "success")
    return redirect(url_for("owner.sign_in_requests"))


@bp.post("/sign-in-requests/<int:owner_id>/refuse")
def refuse_sign_in(owner_id: int):
    email = approvals.decide_sign_in_request(runtime().db, viewer(), owner_id, let_in=False)
    flash(_("%(email)s was refused and cannot sign in.", email=email), "info")
    return redirect(url_for("owner.sign_in_requests"))
