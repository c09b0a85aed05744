"""What a live page listens to: the stations whose changes it shows.

Live pages subscribe to the "something changed" events of stations
(:func:`voltspot.cluster.events.station_topic`) and read their state again when one
comes; these functions say which stations a page covers.
"""

from __future__ import annotations

from sqlalchemy import select

from voltspot.db import Database
from voltspot.models import ChargingSession, Site, Station
from voltspot.services.errors import NotFound
from voltspot.services.owner.accounts import Viewer, scope_sites


def session_station(db: Database, token: str) -> str:
    """The charge point id of the station of the driver's session behind ``token``;
    raises :class:`NotFound` for a token of no session."""
    with db.session() as session:
        charge_point_id = session.scalar(
            select(Station.charge_point_id)
            .join(ChargingSession, ChargingSession.station_id == Station.id)
            .where(ChargingSession.token == token))
    if charge_point_id is None:
        raise NotFound("This session link is not valid. Check that you opened the whole link.")
    return charge_point_id


def viewer_stations(db: Database, viewer: Viewer) -> list[str]:
    """The charge point ids of every station on the viewer's live board."""
    with db.session() as session:
        return list(session.scalars(scope_sites(
            viewer, select(Station.charge_point_id).join(Site, Station.site_id == Site.id))))
