"""The report picker shared by every report page: the viewer's sites, the reporting
time zone, and the period and bucket asked for (falling back to the last 30 days, with
the reason, when the asked period cannot be made)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from voltspot.models import Site, utcnow
from voltspot.services.errors import InvalidInput
from voltspot.services.messages import N_
from voltspot.services.owner.accounts import Viewer, scope_sites
from voltspot.services.reports.periods import (
    BUCKETS,
    PRESETS,
    Period,
    default_bucket,
    make_period,
)


@dataclass(frozen=True)
class SiteChoice:
    id: int
    name: str
    timezone: str


def site_choices(session: Session, viewer: Viewer) -> list[SiteChoice]:
    """The viewer's sites by name, for pickers."""
    rows = session.execute(scope_sites(viewer, select(Site.id, Site.name, Site.timezone))
                           .order_by(Site.name)).all()
    return [SiteChoice(*row) for row in rows]


def reporting_timezone(sites: list[SiteChoice], site_id: int | None = None) -> str:
    """The chosen site's time zone, else the first site's, else UTC."""
    for site in sites:
        if site.id == site_id:
            return site.timezone
    return sites[0].timezone if sites else "UTC"


@dataclass(frozen=True)
class ReportAsk:
    """What a report page was asked for, as parsed from its query: a site (None: every
    site), a preset ("7", "30", "90" or "custom"), the days of a custom period, and a
    bucket unit (None or unknown: the period's default)."""

    site_id: int | None = None
    preset: str = "30"
    first_day: date | None = None
    last_day: date | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Picked:
    """The site, period and bucket a report is drawn for. ``problem`` says why the asked
    period was replaced by the last 30 days; ``args`` is the query that asks for this
    again (for links between the report pages)."""

    sites: list[SiteChoice]
    site_id: int | None
    period: Period
    unit: str
    problem: str | None
    args: dict[str, str | int]


def pick(session: Session, viewer: Viewer, ask: ReportAsk) -> Picked:
    """The site, period and bucket for ``ask``. A site that is not the viewer's is ignored;
    days that differ from the chosen preset's make a custom period; a period that cannot
    be made falls back to the last 30 days, with the reason."""
    sites = site_choices(session, viewer)
    site_id = ask.site_id if ask.site_id in {site.id for site in sites} else None
    timezone = reporting_timezone(sites, site_id)
    now = utcnow()
    first_day, last_day = ask.first_day, ask.last_day
    problem = None
    try:
        period = make_period(timezone, now, ask.preset, first_day, last_day)
        if ask.preset in PRESETS and first_day and last_day and (
                (first_day, last_day) != (period.first_day, period.last_day)):
            period = make_period(timezone, now, "custom", first_day, last_day)
    except InvalidInput as error:
        problem = N_("%(problem)s. Showing the last 30 days.",
                     problem=error.args[0] if error.args else str(error))
        period = make_period(timezone, now)
    unit = ask.unit if ask.unit in BUCKETS else default_bucket(period)
    args: dict[str, str | int] = {"period": period.preset, "by": unit}
    if period.preset == "custom":
        args.update({"from": period.first_day.isoformat(), "to": period.last_day.isoformat()})
    if site_id is not None:
        args["site"] = site_id
    return Picked(sites, site_id, period, unit, problem, args)
