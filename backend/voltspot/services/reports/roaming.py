"""The roaming share of the overview report: per roaming partner, the sessions its
drivers started in the period on the viewer's stations, their energy and their revenue
(what the partner is billed through its CDRs). Read from the sessions themselves: the
roaming sessions are a small part of all, found through their ``ocpi_sessions`` rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voltspot.models import ChargingSession, OcpiPartner, OcpiSession
from voltspot.services.owner.accounts import Viewer
from voltspot.services.reports.periods import Period
from voltspot.services.reports.sql import at, in_scope
from voltspot.services.reports.totals import billed_cost, billed_currency


@dataclass(frozen=True)
class PartnerFigures:
    """One partner's sessions in the period; revenue per currency in minor units."""

    partner_name: str
    sessions: int = 0
    energy_wh: int = 0
    revenue: dict[str, int] = field(default_factory=dict)


def by_partner(session: Session, viewer: Viewer, period: Period,
               site_id: int | None = None) -> list[PartnerFigures]:
    """The roaming partners whose drivers started sessions in ``period`` on the viewer's
    stations (of ``site_id`` when given), most sessions first."""
    currency = billed_currency()
    rows = session.execute(
        select(OcpiPartner.name, currency, func.count(), func.sum(ChargingSession.energy_wh),
               func.sum(billed_cost()))
        .join(OcpiSession, OcpiSession.session_id == ChargingSession.id)
        .join(OcpiPartner, OcpiPartner.id == OcpiSession.partner_id)
        .where(in_scope(ChargingSession.station_id, viewer, site_id),
               ChargingSession.started_at >= at(period.start),
               ChargingSession.started_at < at(period.end))
        .group_by(OcpiPartner.name, currency)).all()
    counts: dict[str, int] = defaultdict(int)
    energy: dict[str, int] = defaultdict(int)
    revenue: dict[str, dict[str, int]] = defaultdict(dict)
    for name, billed_in, count, energy_wh, cost in rows:
        counts[name] += int(count)
        energy[name] += int(energy_wh or 0)
        if billed_in:
            revenue[name][billed_in] = int(cost)
    return sorted((PartnerFigures(name, counts[name], energy[name], revenue[name])
                   for name in counts), key=lambda f: (-f.sessions, f.partner_name))
