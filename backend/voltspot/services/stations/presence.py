"""The stations' connection state in the database, made to agree with cluster presence.

A process that dies (SIGKILL, a lost machine) cannot record that its sockets closed; its
stations stay "connected" in the database. Presence (:mod:`voltspot.cluster.presence`)
knows better within seconds: :func:`sweep_gone` marks them disconnected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from sqlalchemy import select

from voltspot.db import Database
from voltspot.models import Station
from voltspot.services.stations.registry import mark_disconnected

Holders = Callable[[Iterable[str]], Mapping[str, str | None]]


def sweep_gone(db: Database, holders: Holders) -> list[str]:
    """Mark disconnected every station recorded as connected whose socket no process
    holds (``holders`` maps charge point ids to the process holding each, None for
    none); returns their charge point ids.

    A station that reconnects meanwhile keeps its new connection: only the connection
    read here is closed. That relies on a process recording presence before it marks
    the station connected in the database.
    """
    with db.session() as session:
        connected = session.execute(select(Station.charge_point_id, Station.connection_id)
                                    .where(Station.connected.is_(True))).all()
    if not connected:
        return []
    holder_of = holders([charge_point_id for charge_point_id, _ in connected])
    gone = [(charge_point_id, connection_id) for charge_point_id, connection_id in connected
            if holder_of.get(charge_point_id) is None]
    if gone:
        with db.session() as session:
            for charge_point_id, connection_id in gone:
                mark_disconnected(session, charge_point_id, connection_id)
    return [charge_point_id for charge_point_id, _ in gone]
