"""What partners GET from us, the sender: Locations and Tariffs (also the public
open-data feed), and their own roaming Sessions and CDRs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.models import ChargingSession, OcpiCdr, OcpiPartner, OcpiPublished, OcpiSession
from voltspot.services.roaming import objects
from voltspot.services.roaming.errors import UnknownLocation
from voltspot.services.roaming.identity import Identity
from voltspot.services.roaming.paging import Page, Window, page_of
from voltspot.services.roaming.timestamps import parse_ocpi_time


def _stamps(session: Session) -> dict[str, datetime]:
    return {key: at for key, at in session.execute(
        select(OcpiPublished.object_key, OcpiPublished.at))}


def _owner_of(session: Session, partner_id: int | None) -> int | None:
    if partner_id is None:
        return None
    return session.get(OcpiPartner, partner_id).owner_id


def _last_updated(item: dict) -> datetime:
    return parse_ocpi_time(item["last_updated"])


def list_locations(db: Database, identity: Identity, window: Window,
                   partner_id: int | None = None) -> Page:
    """A page of the Locations the partner sees (``partner_id`` None: every published
    site, the open-data feed), filtered on ``last_updated``."""
    with db.session() as session:
        sites = objects.published_sites(session, _owner_of(session, partner_id))
        stamps = _stamps(session)
        locations = [objects.render_location(site, identity, stamps, site.created_at)
                     for site in sites]
    return page_of(locations, window, _last_updated)


def get_location(db: Database, identity: Identity, location_id: str,
                 evse_uid: str | None = None, connector_id: str | None = None,
                 partner_id: int | None = None) -> dict:
    """One Location, one of its EVSEs, or one connector of that EVSE. Raises
    :class:`UnknownLocation`."""
    if not location_id.isdigit():
        raise UnknownLocation(f"unknown location {location_id!r}")
    with db.session() as session:
        sites = objects.published_sites(session, _owner_of(session, partner_id),
                                        site_id=int(location_id))
        if not sites:
            raise UnknownLocation(f"unknown location {location_id!r}")
        location = objects.render_location(sites[0], identity, _stamps(session),
                                           sites[0].created_at)
    if evse_uid is None:
        return location
    evse = next((e for e in location["evses"] if e["uid"] == evse_uid), None)
    if evse is None:
        raise UnknownLocation(f"location {location_id} has no EVSE {evse_uid!r}")
    if connector_id is None:
        return evse
    plug = next((c for c in evse["connectors"] if c["id"] == connector_id), None)
    if plug is None:
        raise UnknownLocation(f"EVSE {evse_uid} has no connector {connector_id!r}")
    return plug


def list_tariffs(db: Database, identity: Identity, window: Window,
                 partner_id: int | None = None) -> Page:
    """A page of the Tariffs on the connectors of the sites the partner sees."""
    with db.session() as session:
        sites = objects.published_sites(session, _owner_of(session, partner_id))
        stamps = _stamps(session)
        tariffs = [objects.render_tariff(tariff, site, identity, stamps, tariff.created_at)
                   for tariff, site in objects.tariffs_of(session, sites)]
    return page_of(tariffs, window, _last_updated)


def list_sessions(db: Database, identity: Identity, window: Window, partner_id: int) -> Page:
    """A page of the partner's roaming Sessions (those with an EVSE), as they stand now;
    ``last_updated`` is their latest change (stop, meter reading, start)."""
    with db.session() as session:
        rows = session.execute(
            select(OcpiSession, ChargingSession)
            .join(ChargingSession, ChargingSession.id == OcpiSession.session_id)
            .where(OcpiSession.partner_id == partner_id, OcpiSession.evse_uid != "")
            .order_by(OcpiSession.session_id)).all()
        found = []
        for roaming, charging in rows:
            changed = max(moment for moment in (charging.created_at, charging.started_at,
                                                charging.last_sample_at, charging.stopped_at)
                          if moment is not None)
            found.append(objects.session_object(charging, roaming, identity, changed))
    return page_of(found, window, _last_updated)


def list_cdrs(db: Database, window: Window, partner_id: int) -> Page:
    """A page of the CDRs of the partner's roaming sessions, oldest first."""
    with db.session() as session:
        cdrs = [cdr.data for cdr in session.scalars(
            select(OcpiCdr).where(OcpiCdr.partner_id == partner_id).order_by(OcpiCdr.id))]
    return page_of(cdrs, window, _last_updated)
