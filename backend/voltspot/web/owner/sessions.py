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

from voltspot.runtime import runtime
from voltspot.services.errors import InvalidInput
from voltspot.services.owner import sessions as owner_sessions
from voltspot.services.payments.gateways.base import PaymentDeclined, PaymentUnavailable
from voltspot.web.owner import bp, viewer
from voltspot.web.templating import htmx


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
    filters, _ = owner_sessions.parse_filters(request.args)
    lines = owner_sessions.csv_lines(runtime().db, viewer(), filters)
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
        "series": [series([p.power_w for p in detail.meter], "Power (kW)"),
                   series([p.energy_wh for p in detail.meter], "Energy (kWh)", "y1")]}}
    if any(p.soc_percent is not None for p in detail.meter):
        charts["soc"] = {
            "type": "line", "labels": labels, "axes": {"y": {"title": "%", "max": 100}},
            "series": [{"label": "Battery (%)", "axis": "y",
                        "data": [p.soc_percent for p in detail.meter]}]}
    return charts


@bp.get("/sessions/<int:session_id>")
def session_detail(session_id: int):
    detail = owner_sessions.session_detail(runtime().db, viewer(), session_id)
    return render_template("owner/session.html", detail=detail, charts=meter_charts(detail),
                           payment_words=owner_sessions.PAYMENT_WORDS)


@bp.post("/sessions/<int:session_id>/refund")
def refund(session_id: int):
    """Give the driver back all or part of a paid session, with a reason."""
    rt = runtime()
    try:
        owner_sessions.refund_session(rt.db, rt.payments, viewer(), session_id,
                                      request.form.get("amount", ""),
                                      request.form.get("reason", ""))
    except (InvalidInput, PaymentDeclined, PaymentUnavailable) as problem:
        flash(f"No refund was made: {problem}", "danger")
    else:
        flash("Refunded. The driver's receipt shows it.", "success")
    return redirect(url_for("owner.session_detail", session_id=session_id), 303)
