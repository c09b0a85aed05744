"""Reports: energy, sessions and revenue over time; utilisation per connector; uptime per
station. One period picker for all three; each page draws charts from the same numbers
its tables show."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from voltspot.domain.money import major_units
from voltspot.runtime import runtime
from voltspot.services.errors import InvalidInput
from voltspot.services.messages import N_
from voltspot.services.reports import reliability
from voltspot.services.reports.csv_format import csv_format
from voltspot.services.reports.overview import Overview, overview_page
from voltspot.services.reports.picker import Picked, ReportAsk
from voltspot.services.reports.uptime import uptime_page
from voltspot.services.reports.utilisation import utilisation_page
from voltspot.web.i18n import translate
from voltspot.web.owner import bp, viewer
from voltspot.web.owner.words import bucket


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _asked() -> ReportAsk:
    """The site, period and bucket the query asks for (checked by the service)."""
    return ReportAsk(site_id=request.args.get("site", type=int),
                     preset=request.args.get("period", "30"), first_day=_day("from"),
                     last_day=_day("to"), unit=request.args.get("by"))


def _picked(picked: Picked) -> dict:
    return dict(sites=picked.sites, site_id=picked.site_id, period=picked.period,
                unit=picked.unit, problem=picked.problem, args=picked.args)


# Up to this many days (weeks, months) a report's charts are all bars, with their values.
FEW_BUCKETS = 3


def overview_charts(report: Overview, unit: str = "day") -> dict[str, dict]:
    """Chart specs (static/js/owner_charts.js) for the overview's tables, its rows named
    per ``unit`` in the owner's language."""
    labels = [bucket(row.start, unit, row.label) for row in report.rows]
    # A line needs points to join: over a few days the sessions are bars beside the energy.
    sessions_as = "line" if len(report.rows) > FEW_BUCKETS else "bar"
    return {
        "energy": {"type": "bar", "labels": labels,
                   "axes": {"y": {"title": "kWh"},
                            "y1": {"title": _("sessions"), "integer": True}},
                   "series": [{"label": _("Energy (kWh)"), "axis": "y",
                               "data": [round(r.energy_wh / 1000, 3) for r in report.rows]},
                              {"label": _("Sessions"), "axis": "y1", "type": sessions_as,
                               "data": [r.sessions for r in report.rows]}]},
        "revenue": {"type": "bar", "labels": labels, "axes": {"y": {"title": _("amount")}},
                    "series": [{"label": _("Revenue (%(currency)s)", currency=currency),
                                "axis": "y",
                                "data": [float(major_units(r.revenue.get(currency, 0), currency))
                                         for r in report.rows]}
                               for currency in report.currencies]},
        "hours": {"type": "bar", "labels": [f"{h.hour:02d}" for h in report.by_hour],
                  "axes": {"y": {"title": _("sessions"), "integer": True}},
                  "series": [{"label": _("Sessions started"), "axis": "y",
                              "data": [h.sessions for h in report.by_hour]}]},
    }


def _percent(share: float) -> float:
    return round(share * 100, 1)


@bp.get("/reports", endpoint="reports")
def reports_overview():
    page = overview_page(runtime().db, viewer(), _asked())
    return render_template("owner/reports.html", report=page.report, page=page,
                           charts=overview_charts(page.report, page.picked.unit), tab="overview",
                           **_picked(page.picked))


@bp.get("/reports/utilisation")
def reports_utilisation():
    page = utilisation_page(runtime().db, viewer(), _asked())
    report = page.report
    chart = {"type": "bar",
             "labels": [f"{c.charge_point_id} · {c.connector_id}" for c in report.connectors],
             "axes": {"y": {"title": _("%% of the time"), "max": 100}},
             "series": [{"label": _("Occupied"), "axis": "y",
                         "data": [_percent(c.occupied_share) for c in report.connectors]},
                        {"label": _("Charging"), "axis": "y",
                         "data": [_percent(c.charging_share) for c in report.connectors]}]}
    return render_template("owner/report_utilisation.html", report=report, chart=chart,
                           tab="utilisation", **_picked(page.picked))


@bp.get("/reports/uptime")
def reports_uptime():
    page = uptime_page(runtime().db, viewer(), _asked())
    report = page.report
    known = [s for s in report.stations if s.known]
    chart = {"type": "bar", "labels": [s.charge_point_id for s in known],
             "axes": {"y": {"title": _("%% of the time"), "max": 100}},
             "series": [{"label": _("Uptime"), "axis": "y",
                         "data": [_percent(s.uptime_share) for s in known]},
                        {"label": _("Connected"), "axis": "y",
                         "data": [_percent(s.connected_share) for s in known]}]}
    return render_template("owner/report_uptime.html", report=report, chart=chart,
                           tab="uptime", **_picked(page.picked))


@bp.get("/reports/reliability")
def reports_reliability():
    page = reliability.reliability_page(runtime().db, viewer(), _asked())
    return render_template("owner/report_reliability.html", report=page.report,
                           tab="reliability", causes=reliability.EXCLUSION_CAUSES,
                           nevi_threshold=reliability.NEVI_THRESHOLD,
                           uk_threshold=reliability.UK_THRESHOLD, **_picked(page.picked))


@bp.get("/reports/reliability.csv")
def reports_reliability_csv():
    page = reliability.reliability_page(runtime().db, viewer(), _asked())
    period = page.report.period
    name = f"voltspot-reliability-{period.first_day}-{period.last_day}.csv"
    return Response(reliability.as_csv(reliability.csv_rows(page.report),
                                       csv_format(request.args)),
                    mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _back() -> str:
    """The report page the form came from (only ever a reliability report page)."""
    back = request.form.get("back", "")
    home = url_for("owner.reports_reliability")
    return back if back.startswith(home + "?") or back == home else home


def _moment(name: str) -> datetime:
    """A UTC instant from the form (as the page wrote it: ISO 8601 with offset)."""
    try:
        moment = datetime.fromisoformat(request.form.get(name, ""))
    except ValueError:
        raise InvalidInput(N_("The outage's times are not readable; reload the report.")) from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))


@bp.post("/reports/reliability/exclusions")
def exclude_outage():
    """The owner excludes an outage from the reliability figures, with a reason."""
    try:
        plug = int(request.form.get("plug", ""))
        reliability.exclude_outage(
            runtime().db, viewer(), request.form.get("station", ""), plug, _moment("start"),
            _moment("end"), request.form.get("cause", ""), request.form.get("reason", ""))
    except ValueError:
        flash(_("The outage was not excluded: reload the report and try again."), "warning")
    except InvalidInput as invalid:
        flash(_("The outage was not excluded: %(why)s", why=translate(invalid)), "warning")
    else:
        flash(_("The outage is excluded; the figures below no longer count it."), "success")
    return redirect(_back(), 303)


@bp.post("/reports/reliability/exclusions/<int:exclusion_id>/remove")
def remove_exclusion(exclusion_id: int):
    reliability.remove_exclusion(runtime().db, viewer(), exclusion_id)
    flash(_("The outage counts again."), "success")
    return redirect(_back(), 303)
