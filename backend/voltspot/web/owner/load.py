"""A site's load: the connection limit editor and the live view of how its cars share it
(each plug's allocated and drawn power, which is paused and why)."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from voltspot.runtime import runtime
from voltspot.services.errors import InvalidInput
from voltspot.services.load import meter as meter_service
from voltspot.services.load import settings as load_service
from voltspot.web.i18n import translate
from voltspot.web.owner import bp, viewer
from voltspot.web.owner.words import say_local
from voltspot.web.templating import htmx


def _values(limit: load_service.SiteLimit | None) -> dict[str, str]:
    if limit is None:
        return {"unit": "A", "amps": "", "kw": "", "phases": "3", "margin": "0",
                "min_amps": "6"}
    return {"unit": "kW" if limit.kw is not None else "A", "amps": f"{limit.amps:g}",
            "kw": f"{limit.kw:g}" if limit.kw is not None else "",
            "phases": str(limit.phases), "margin": f"{limit.margin_amps:g}",
            "min_amps": f"{limit.min_amps:g}"}


def _page(site_id: int, values: dict[str, str] | None = None, error: str | None = None,
          status: int = 200, meter_key: str | None = None):
    view = load_service.site_load(runtime().db, viewer(), site_id)
    if htmx.target == "site-load":
        return render_template("owner/_load_live.html", view=view), status
    tree = load_service.site_tree(runtime().db, viewer(), site_id)
    chart = load_service.day_chart(runtime().db, viewer(), site_id)
    page = render_template(
        "owner/load.html", view=view, tree=tree, chart=chart,
        meter=meter_service.meter_status(runtime().db, viewer(), site_id),
        meter_key=meter_key, values=values if values is not None else _values(view.limit),
        meter_url=runtime().settings.public_url.rstrip("/")
        + url_for("meter.reading", site_id=site_id), error=error)
    # A new meter key is shown this once: no cache, no back-button copy.
    headers = {"Cache-Control": "no-store"} if meter_key else {}
    return Response(page, status=status, headers=headers, mimetype="text/html")


@bp.get("/sites/<int:site_id>/load")
def site_load(site_id: int):
    return _page(site_id)


@bp.post("/sites/<int:site_id>/load")
def save_site_load(site_id: int):
    try:
        limit = load_service.set_site_limit(runtime().db, viewer(), site_id, request.form)
    except InvalidInput as problem:
        return _page(site_id, dict(request.form), translate(problem), 422)
    if limit.enabled:
        flash(_("The cars at %(site)s now share %(limit)s.", site=limit.site_name,
                limit=say_local(limit.describe())), "success")
    else:
        flash(_("Load management is off at %(site)s: every plug may draw its full power.",
                site=limit.site_name), "success")
    return redirect(url_for("owner.site_load", site_id=site_id))


@bp.post("/sites/<int:site_id>/load/stations/<charge_point_id>")
def save_station_load(site_id: int, charge_point_id: str):
    try:
        load_service.set_station_load(runtime().db, viewer(), site_id, charge_point_id,
                                      request.form)
    except InvalidInput as problem:
        return _page(site_id, error=f"{charge_point_id}: {translate(problem)}", status=422)
    flash(_("%(station)s's load settings are saved.", station=charge_point_id), "success")
    return redirect(url_for("owner.site_load", site_id=site_id))


@bp.post("/sites/<int:site_id>/load/circuits")
def add_circuit(site_id: int):
    try:
        circuit = load_service.add_circuit(runtime().db, viewer(), site_id, request.form)
    except InvalidInput as problem:
        return _page(site_id, error=translate(problem), status=422)
    flash(_("Circuit %(name)s is added; put its stations in it below.", name=circuit.name),
          "success")
    return redirect(url_for("owner.site_load", site_id=site_id))


@bp.post("/sites/<int:site_id>/load/meter")
def new_meter_key(site_id: int):
    try:
        key = meter_service.new_meter_key(runtime().db, viewer(), site_id, request.form)
    except InvalidInput as problem:
        return _page(site_id, error=translate(problem), status=422)
    return _page(site_id, meter_key=key)
