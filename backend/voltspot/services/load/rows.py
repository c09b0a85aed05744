"""The load-management rows every station and plug gets on first need.

The owner's form, a load round and reading a charger's abilities may each be first to need
a station's or plug's row, in different threads or processes; each insert therefore yields
to a row another wrote at the same moment instead of failing its transaction.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from voltspot.db import insert_unless_present
from voltspot.models import PlugLoad, StationLoadSettings


def station_load_settings(session: Session, station_id: int) -> StationLoadSettings:
    """``station_id``'s load settings, created with the defaults when it has none."""
    found = session.get(StationLoadSettings, station_id)
    if found is None:
        session.execute(insert_unless_present(session, StationLoadSettings),
                        [{"station_id": station_id}])
        found = session.get(StationLoadSettings, station_id)
    assert found is not None
    return found


def plug_load(session: Session, connector_pk: int, site_id: int | None) -> PlugLoad:
    """The load row of plug ``connector_pk``, created (priority 0) when it has none."""
    found = session.get(PlugLoad, connector_pk)
    if found is None:
        session.execute(insert_unless_present(session, PlugLoad),
                        [{"connector_pk": connector_pk, "site_id": site_id}])
        found = session.get(PlugLoad, connector_pk)
    assert found is not None
    return found
