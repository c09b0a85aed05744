"""What a driver is told about sharing: the power their session is allowed, how many cars
share the site, and that a paused session resumes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain import load as allocator
from voltspot.models import ChargingSession, PlugLoad, SiteLoadSettings, StationLoadSettings
from voltspot.services.messages import N_


@dataclass(frozen=True)
class ShareNote:
    """The sharing of a driver's session: ``allowed_kw`` (0 when paused), the cars
    sharing the site and one honest sentence for the live page (a
    :class:`~voltspot.services.messages.Message`: English, translated by the web layer)."""

    allowed_kw: float
    cars: int
    paused: bool
    sentence: str


def share_note(db: Database, session_token: str) -> ShareNote | None:
    """The sharing note of the session reached by ``session_token``; None when its site's
    load is not managed or the session has no allocation yet."""
    with db.session() as session:
        charging_id = session.scalar(select(ChargingSession.id).where(
            ChargingSession.token == session_token))
        return None if charging_id is None else share_note_of(session, charging_id)


def share_note_of(session: Session, charging_id: int) -> ShareNote | None:
    """:func:`share_note` inside a unit of work that already has the session's id (the
    driver's live page)."""
    row = session.execute(
        select(PlugLoad, SiteLoadSettings, StationLoadSettings.phases)
        .join(ChargingSession, ChargingSession.id == PlugLoad.session_id)
        .join(SiteLoadSettings, SiteLoadSettings.site_id == PlugLoad.site_id)
        .outerjoin(StationLoadSettings,
                   StationLoadSettings.station_id == ChargingSession.station_id)
        .where(ChargingSession.id == charging_id, SiteLoadSettings.enabled)).first()
    if row is None or row[0].amps is None:
        return None
    load, settings, station_phases = row
    cars = session.scalar(select(func.count()).select_from(PlugLoad).where(
        PlugLoad.site_id == load.site_id, PlugLoad.session_id.is_not(None))) or 1
    phases = min(settings.phases, station_phases or 3)
    allowed_kw = round(allocator.amps_to_kw(load.amps, phases), 1)
    if load.paused:
        sentence = N_("Paused for now: this site shares its power between %(cars)d cars. "
                      "Charging resumes by itself, in turn, as soon as there is room.",
                      cars=cars)
    elif cars > 1:
        sentence = N_("Charging at up to %(kw)s kW — this site shares its power between "
                      "%(cars)d cars.", kw=float(allowed_kw), cars=cars)
    else:
        sentence = N_("Charging at up to %(kw)s kW.", kw=float(allowed_kw))
    return ShareNote(0.0 if load.paused else allowed_kw, cars, load.paused, sentence)
