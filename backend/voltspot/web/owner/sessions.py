"""Sessions: the filtered table with its CSV export, and one session's page."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import (
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _

from voltspot.runtime import runtime
from voltspot.services.errors import Conflict, InvalidInput
from voltspot.services.owner import session_control, session_words
from voltspot.services.owner import sessions as owner_sessions
from voltspot.services.payments.gateways.base import PaymentDeclined, PaymentUnavailable
from voltspot.services.reports.csv_format import csv_format
from voltspot.web.i18n import translate
from voltspot.web.owner import bp, viewer
from voltspot.web.templating import htmx


@bp.app_context_processor
def session_words_in_templates() -> dict:
    """Session facts in words (services/owner/session_words.py) for the owner templates."""
    return {"session_words": session_words}


@bp.app_template_global("duration_words")
def duration_words(seconds: float) -> str:
    """Seconds as "2 h 05 min" / "45 min" / "0 min" (whole minutes, rounded)."""
    minutes = round(seconds / 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


@bp.get("/sessions")
def sessions():
    filters, problems = owner_sessions.parse_filters(request.args)
    before = request.args.get("before", type=int)
    after = request.args.get("after", type=int)
    view = owner_sessions.sessions_view(runtime().db, viewer(), filters, before=before,
                                        after=after)
    context = dict(page=view.page, choices=view.choices, problems=problems,
                   payment_words=owner_sessions.PAYMENT_WORDS)
    if htmx and htmx.target == "sessions-table":
        return render_template("owner/_sessions_table.html", **context)
    return render_template("owner/sessions.html", **context)


@bp.get("/sessions.csv")
def sessions_csv():
    filters, _problems = owner_sessions.parse_filters(request.args)
    lines = owner_sessions.csv_lines(runtime().db, viewer(), filters,
                                     fmt=csv_format(request.args))
    return Response(stream_with_context(lines), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="voltspot-sessions.csv"'})


def meter_charts(detail: owner_sessions.SessionDetail) -> dict[str, dict]:
    """The meter readings as chart specs for static/js/owner_charts.js."""
    zone = ZoneInfo(detail.timezone)
    labels = [p.taken_at.astimezone(zone).strftime("%H:%M:%S") for p in detail.meter]

    def series(values, label: str, axis: str = "y") -> dict:
        return {"label": label, "axis": axis,
                "data": [None if v is None else round(v / 1000, 3) for v in values]}

    charts = {"power_energy": {
        "type": "line", "labels": labels,
        "axes": {"y": {"title": "kW"}, "y1": {"title": "kWh"}},
        "series": [series([p.power_w for p in detail.meter], _("Power (kW)")),
                   series([p.energy_wh for p in detail.meter], _("Energy (kWh)"), "y1")]}}
    if any(p.soc_percent is not None for p in detail.meter):
        charts["soc"] = {
            "type": "line", "labels": labels, "axes": {"y": {"title": "%", "max": 100}},
            "series": [{"label": _("Battery (%%)"), "axis": "y",
                        "data": [p.soc_percent for p in detail.meter]}]}
    return charts


@bp.get("/sessions/<int:session_id>")
def session_detail(session_id: int):
    detail = owner_sessions.session_detail(runtime().db, viewer(), session_id)
    context = dict(detail=detail, payment_words=owner_sessions.PAYMENT_WORDS)
    if htmx.target == "session-live":
        return render_template("owner/_session_live.html", **context)
    return render_template("owner/session.html", charts=meter_charts(detail), **context)


def _start_page(form: session_control.StartForm, error: str | None = None,
                status: int = 200):
    return render_template("owner/session_start.html", form=form, error=error,
                           no_card=session_control.NO_CARD), status


@bp.get("/connectors/<int:connector_pk>/start")
def start_page(connector_pk: int):
    return _start_page(session_control.start_form(runtime().db, viewer(), connector_pk))


@bp.post("/connectors/<int:connector_pk>/start")
def start_on_plug(connector_pk: int):
    """Start charging on a plug; the new session's page follows it live."""
    rt = runtime()
    try:
        started = session_control.start_on_plug(rt.db, rt.control, viewer(), connector_pk,
                                                request.form)
    except InvalidInput as invalid:
        form = session_control.start_form(rt.db, viewer(), connector_pk)
        return _start_page(form, translate(invalid), 422)
    except Conflict as busy:
        flash(translate(busy), "warning")
        form = session_control.start_form(rt.db, viewer(), connector_pk)
        return redirect(url_for("owner.station", charge_point_id=form.charge_point_id), 303)
    flash(translate(started.message), "success" if started.accepted else "danger")
    return redirect(url_for("owner.session_detail", session_id=started.session_id), 303)


@bp.post("/sessions/<int:session_id>/stop")
def stop_session(session_id: int):
    rt = runtime()
    try:
        said = session_control.stop_running_session(rt.db, rt.control, viewer(), session_id)
    except Conflict as refused:
        flash(translate(refused), "danger")
    else:
        flash(translate(said), "success")
    return redirect(url_for("owner.session_detail", session_id=session_id), 303)


@bp.post("/sessions/<int:session_id>/refund")
def refund(session_id: int):
    """Give the driver back all or part of a paid session, with a reason."""
    rt = runtime()
    try:
        owner_sessions.refund_session(rt.db, rt.payments, viewer(), session_id,
                                      request.form.get("amount", ""),
                                      request.form.get("reason", ""))
    except (InvalidInput, PaymentDeclined, PaymentUnavailable) as problem:
        flash(_("No refund was made: %(why)s", why=translate(problem)), "danger")
    else:
        flash(_("Refunded. The driver's receipt shows it."), "success")
    return redirect(url_for("owner.session_detail", session_id=session_id), 303)
