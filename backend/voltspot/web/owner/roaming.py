"""Roaming (OCPI): partners and their handshake, the per-site "publish to roaming"
switch, roaming sessions and CDRs."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from voltspot.runtime import runtime
from voltspot.services.errors import ServiceError
from voltspot.services.roaming import owner as roaming
from voltspot.services.roaming.identity import Identity
from voltspot.web.i18n import translate
from voltspot.web.owner import bp, viewer


def _identity() -> Identity:
    return Identity.from_settings(runtime().settings)


def _page(status: int = 200, **extra):
    page = roaming.roaming_page(runtime().db, viewer(), _identity())
    return render_template("owner/roaming.html", page=page, **extra), status


@bp.get("/roaming")
def roaming_overview():
    return _page()


@bp.post("/roaming/partners")
def roaming_add_partner():
    name = request.form.get("name", "")
    versions_url = request.form.get("versions_url", "").strip()
    token = request.form.get("token", "").strip()
    try:
        if versions_url or token:
            registered = roaming.register_with(runtime().db, viewer(), _identity(), name,
                                               versions_url, token)
            return _page(registered=registered)
        created = roaming.add_partner(runtime().db, viewer(), _identity(), name)
    except ServiceError as problem:
        return _page(422, error=translate(problem), form=request.form)
    return _page(created=created)


@bp.post("/roaming/sites/<int:site_id>")
def roaming_publish_site(site_id: int):
    row = roaming.set_site_published(runtime().db, viewer(), site_id,
                                     request.form.get("publish") == "1")
    if request.headers.get("HX-Request"):
        return render_template("owner/_roaming_site.html", site=row)
    return redirect(url_for("owner.roaming_overview"))


@bp.post("/roaming/partners/<int:partner_id>/policy")
def roaming_partner_policy(partner_id: int):
    try:
        roaming.set_offline_policy(runtime().db, viewer(), partner_id,
                                   request.form.get("policy", ""))
    except ServiceError as problem:
        return _page(422, error=translate(problem))
    return redirect(url_for("owner.roaming_overview"))


@bp.post("/roaming/partners/<int:partner_id>/disconnect")
def roaming_disconnect(partner_id: int):
    roaming.disconnect(runtime().db, viewer(), _identity(), partner_id)
    return redirect(url_for("owner.roaming_overview"))
