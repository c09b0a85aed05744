"""Sites and stations: add and edit sites, add and adopt stations, the station page with
its plugs and OCPP log, plug settings, and remote actions with the charger's answer."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from voltspot.runtime import runtime
from voltspot.services.errors import Conflict, InvalidInput
from voltspot.services.forms import INVALID_STATUS, FormInvalid
from voltspot.services.owner import plugs, sites, station_admin, station_views
from voltspot.services.owner.reference import CONNECTOR_TYPES, COUNTRIES, CURRENCIES, timezones
from voltspot.services.owner.remote_actions import REMOTE_ACTIONS, ActionReply, remote_action
from voltspot.services.owner.station_admin import Credentials
from voltspot.web.i18n import translate
from voltspot.web.owner import bp, viewer
from voltspot.web.templating import htmx


def _site_form(site_id: int | None, values, errors: dict[str, str], status: int = 200):
    return render_template("owner/site_form.html", site_id=site_id, values=values,
                           errors=errors, timezones=timezones(),
                           countries=sorted(COUNTRIES),
                           currencies=sorted(CURRENCIES)), status


@bp.get("/sites/new")
def new_site():
    return _site_form(None, sites.site_form_values(), {})


@bp.post("/sites/new")
def create_site():
    try:
        site_id = sites.create_site(runtime().db, viewer(), request.form).id
    except FormInvalid as invalid:
        return _site_form(None, request.form, invalid.errors, INVALID_STATUS)
    flash(_("The site is saved. Add its stations next."), "success")
    return redirect(url_for("owner.site", site_id=site_id))


@bp.get("/sites/<int:site_id>")
def site(site_id: int):
    view = station_views.site_overview(runtime().db, viewer(), site_id)
    return render_template("owner/site.html", view=view)


@bp.get("/sites/<int:site_id>/edit")
def edit_site(site_id: int):
    return _site_form(site_id, sites.edit_form_values(runtime().db, viewer(), site_id), {})


@bp.post("/sites/<int:site_id>/edit")
def update_site(site_id: int):
    try:
        sites.update_site(runtime().db, viewer(), site_id, request.form)
    except FormInvalid as invalid:
        return _site_form(site_id, request.form, invalid.errors, INVALID_STATUS)
    flash(_("The site is saved."), "success")
    return redirect(url_for("owner.site", site_id=site_id))


def _station_form(template: str, values, errors: dict[str, str], status: int = 200,
                  **context):
    options = [(s.id, s.name) for s in sites.site_options(runtime().db, viewer())]
    return render_template(template, sites=options, values=values, errors=errors,
                           **context), status


def _credentials_page(credentials: Credentials, heading: str, message: str | None = None
                      ) -> Response:
    response = render_template("owner/station_added.html", credentials=credentials,
                               heading=heading, message=message,
                               ocpp_url=runtime().settings.ocpp_url,
                               heartbeat=runtime().settings.heartbeat_interval)
    # The password is shown this once: no cache, no back-button copy.
    return Response(response, headers={"Cache-Control": "no-store"}, mimetype="text/html")


@bp.get("/stations/new")
def add_station():
    values = station_admin.new_station_values(request.args.get("site_id", ""))
    return _station_form("owner/add_station.html", values, {})


@bp.post("/stations/new")
def create_station():
    try:
        credentials = station_admin.add_station(runtime().db, viewer(), request.form)
    except FormInvalid as invalid:
        return _station_form("owner/add_station.html", request.form, invalid.errors,
                             INVALID_STATUS)
    return _credentials_page(credentials, _("%(station)s is added",
                                            station=credentials.charge_point_id))


def _station_page(charge_point_id: str, reply: ActionReply | None = None, status: int = 200):
    before = request.args.get("before", type=int)
    view = station_views.station_overview(runtime().db, viewer(), charge_point_id, before)
    if htmx.target == "station-live":
        return render_template("owner/_station_live.html", view=view), status
    if htmx.target == "station-frames":
        return render_template("owner/_station_frames.html", view=view), status
    return render_template("owner/station.html", view=view, reply=reply,
                           actions=REMOTE_ACTIONS), status


@bp.get("/stations/<charge_point_id>")
def station(charge_point_id: str):
    return _station_page(charge_point_id)


@bp.post("/stations/<charge_point_id>/actions/<action>")
def station_action(charge_point_id: str, action: str):
    rt = runtime()
    try:
        reply = remote_action(rt.db, rt.control, viewer(), charge_point_id, action,
                              request.form)
        status = 200
    except InvalidInput as invalid:
        reply, status = ActionReply(False, translate(invalid)), 422
    if htmx.target == "station-reply":
        return render_template("owner/_station_reply.html", reply=reply), status
    return _station_page(charge_point_id, reply, status)


@bp.post("/stations/<charge_point_id>/protocol")
def station_protocol(charge_point_id: str):
    try:
        said = station_admin.set_ocpp_preference(runtime().db, viewer(), charge_point_id,
                                                 request.form)
    except InvalidInput as invalid:
        flash(translate(invalid), "warning")
    else:
        flash(translate(said), "success")
    return redirect(url_for("owner.station", charge_point_id=charge_point_id))


@bp.post("/stations/<charge_point_id>/password")
def station_password(charge_point_id: str):
    try:
        credentials = station_admin.new_password(runtime().db, runtime().control, viewer(),
                                                 charge_point_id)
    except Conflict as refused:
        flash(translate(refused), "warning")
        return redirect(url_for("owner.station", charge_point_id=charge_point_id))
    return _credentials_page(credentials,
                             _("New password for %(station)s", station=charge_point_id),
                             _("The old password no longer works: the station was "
                               "disconnected. Enter the new one in its settings now."))


@bp.get("/stations/<charge_point_id>/adopt")
def adopt_station(charge_point_id: str):
    try:
        values = station_admin.adoption_form_values(runtime().db, viewer(), charge_point_id)
    except Conflict as refused:
        flash(translate(refused), "info")
        return redirect(url_for("owner.station", charge_point_id=charge_point_id))
    return _station_form("owner/station_adopt.html", values, {},
                         charge_point_id=charge_point_id)


@bp.post("/stations/<charge_point_id>/adopt")
def adopt_station_save(charge_point_id: str):
    rt = runtime()
    try:
        adoption = station_admin.adopt_station(rt.db, rt.control, viewer(), charge_point_id,
                                               request.form)
    except FormInvalid as invalid:
        return _station_form("owner/station_adopt.html", request.form, invalid.errors,
                             INVALID_STATUS, charge_point_id=charge_point_id)
    except Conflict as refused:
        flash(translate(refused), "info")
        return redirect(url_for("owner.station", charge_point_id=charge_point_id))
    credentials = Credentials(adoption.charge_point_id, adoption.site_id,
                              adoption.site_name, adoption.password)
    return _credentials_page(credentials, _("%(station)s is adopted", station=charge_point_id),
                             translate(adoption.message) + " "
                             + _("Enter this password in its settings."))


def _plug_form(plug: plugs.PlugEdit, errors: dict[str, str], status: int = 200):
    return render_template("owner/station_connector.html", plug=plug, values=plug.values,
                           errors=errors, types=CONNECTOR_TYPES), status


@bp.get("/connectors/<int:connector_pk>/edit")
def edit_connector(connector_pk: int):
    return _plug_form(plugs.plug_for_edit(runtime().db, viewer(), connector_pk), {})


@bp.post("/connectors/<int:connector_pk>/edit")
def update_connector(connector_pk: int):
    db = runtime().db
    try:
        plug = plugs.update_plug(db, viewer(), connector_pk, request.form)
    except FormInvalid as invalid:
        return _plug_form(plugs.plug_for_edit(db, viewer(), connector_pk, request.form),
                          invalid.errors, INVALID_STATUS)
    flash(_("Plug %(number)s is saved.", number=plug.number), "success")
    return redirect(url_for("owner.station", charge_point_id=plug.charge_point_id))
