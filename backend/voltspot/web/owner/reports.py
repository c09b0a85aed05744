"""Reports: energy, sessions and revenue over time; utilisation per connector; uptime per
station. One period picker for all three; each page draws charts from the same numbers
its tables show."""

from __future__ import annotations

from datetime import date

from flask import render_template, request

from voltspot.domain.money import major_units
from voltspot.models import utcnow
from voltspot.runtime import runtime
from voltspot.services.errors import InvalidInput
from voltspot.services.reports import figures as reports
from voltspot.web.owner import bp, viewer


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _picked(session) -> dict:
    """The site, period and bucket asked for. Days that differ from the chosen preset's
    make a custom period; a period that cannot be made falls back to the last 30 days,
    with the reason shown."""
    sites = reports.site_choices(session, viewer())
    site_id = request.args.get("site", type=int)
    if site_id not in {site.id for site in sites}:
        site_id = None
    timezone = reports.reporting_timezone(sites, site_id)
    now = utcnow()
    preset = request.args.get("period", "30")
    first_day, last_day = _day("from"), _day("to")
    problem = None
    try:
        period = reports.make_period(timezone, now, preset, first_day, last_day)
        if preset in reports.PRESETS and first_day and last_day and (
                (first_day, last_day) != (period.first_day, period.last_day)):
            period = reports.make_period(timezone, now, "custom", first_day, last_day)
    except InvalidInput as error:
        problem = f"{error}. Showing the last 30 days."
        period = reports.make_period(timezone, now)
    unit = request.args.get("by")
    if unit not in reports.BUCKETS:
        unit = reports.default_bucket(period)
    args = {"period": period.preset, "by": unit}
    if period.preset == "custom":
        args.update({"from": period.first_day.isoformat(), "to": period.last_day.isoformat()})
    if site_id is not None:
        args["site"] = site_id
    return dict(sites=sites, site_id=site_id, period=period, unit=unit, problem=problem,
                args=args)


def overview_charts(report: reports.Overview) -> dict[str, dict]:
    """Chart specs (static/js/owner_charts.js) for the overview's tables."""
    labels = [row.label for row in report.rows]
    return {
        "energy": {"type": "bar", "labels": labels,
                   "axes": {"y": {"title": "kWh"}, "y1": {"title": "sessions"}},
                   "series": [{"label": "Energy (kWh)", "axis": "y",
                               "data": [round(r.energy_wh / 1000, 3) for r in report.rows]},
                              {"label": "Sessions", "axis": "y1", "type": "line",
                               "data": [r.sessions for r in report.rows]}]},
        "revenue": {"type": "bar", "labels": labels, "axes": {"y": {"title": "amount"}},
                    "series": [{"label": f"Revenue ({currency})", "axis": "y",
                                "data": [float(major_units(r.revenue.get(currency, 0), currency))
                                         for r in report.rows]}
                               for currency in report.currencies]},
        "hours": {"type": "bar", "labels": [f"{h.hour:02d}" for h in report.by_hour],
                  "axes": {"y": {"title": "sessions"}},
                  "series": [{"label": "Sessions started", "axis": "y",
                              "data": [h.sessions for h in report.by_hour]}]},
    }


def _percent(share: float) -> float:
    return round(share * 100, 1)


@bp.get("/reports", endpoint="reports")
def reports_overview():
    with runtime().db.session() as session:
        picked = _picked(session)
        report = reports.overview(session, viewer(), picked["period"], picked["unit"],
                                  picked["site_id"])
    return render_template("owner/reports.html", report=report, charts=overview_charts(report),
                           tab="overview", **picked)


@bp.get("/reports/utilisation")
def reports_utilisation():
    with runtime().db.session() as session:
        picked = _picked(session)
        report = reports.utilisation(session, viewer(), picked["period"], picked["site_id"])
    chart = {"type": "bar",
             "labels": [f"{c.charge_point_id} · {c.connector_id}" for c in report.connectors],
             "axes": {"y": {"title": "% of the time", "max": 100}},
             "series": [{"label": "Occupied", "axis": "y",
                         "data": [_percent(c.occupied_share) for c in report.connectors]},
                        {"label": "Charging", "axis": "y",
                         "data": [_percent(c.charging_share) for c in report.connectors]}]}
    return render_template("owner/report_utilisation.html", report=report, chart=chart,
                           tab="utilisation", **picked)


@bp.get("/reports/uptime")
def reports_uptime():
    with runtime().db.session() as session:
        picked = _picked(session)
        report = reports.uptime(session, viewer(), picked["period"], picked["site_id"])
    known = [s for s in report.stations if s.known]
    chart = {"type": "bar", "labels": [s.charge_point_id for s in known],
             "axes": {"y": {"title": "% of the time", "max": 100}},
             "series": [{"label": "Uptime", "axis": "y",
                         "data": [_percent(s.uptime_share) for s in known]},
                        {"label": "Connected", "axis": "y",
                         "data": [_percent(s.connected_share) for s in known]}]}
    return render_template("owner/report_uptime.html", report=report, chart=chart,
                           tab="uptime", **picked)
