"""The load-management rows every station and plug gets on first need.

The owner's form, a load round and reading a charger's abilities may each be first to need
a station's or plug's row, in different threads or processes; each insert therefore yields
to a row another wrote at the same moment instead of failing its transaction.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from voltspot.db import insert_unless_present
from voltspot.models import PlugLoad, SiteLoadSettings, Station, StationLoadSettings


def tree_changed(session: Session, *, site_id: int | None = None,
                 station_id: int | None = None) -> None:
    """Say that the load tree of ``site_id`` (or of ``station_id``'s site) changed: its
    circuits or a station's load settings. Every writer of those calls this in the same
    transaction, so the load loop's copy of the tree is reloaded at its next round."""
    which = (SiteLoadSettings.site_id == site_id if site_id is not None
             else SiteLoadSettings.site_id == select(Station.site_id)
             .where(Station.id == station_id).scalar_subquery())
    session.execute(update(SiteLoadSettings).where(which)
                    .values(tree_version=SiteLoadSettings.tree_version + 1)
                    .execution_options(synchronize_session=False))


def station_load_settings(session: Session, station_id: int) -> StationLoadSettings:
    """``station_id``'s load settings, created with the defaults when it has none."""
    found = session.get(StationLoadSettings, station_id)
    if found is None:
        session.execute(insert_unless_present(session, StationLoadSettings),
                        [{"station_id": station_id}])
        tree_changed(session, station_id=station_id)
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
