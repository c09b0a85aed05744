"""The sessions a group-commit batch of 1.6 MeterValues meters, read ahead in one query;
on SQLite read and written without the ORM: a fleet's meter values come a few hundred a
second, and making each session a mapped object and flushing it cost more than the rest
of storing them (see :func:`load_sessions`)."""

from __future__ import annotations

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.orm import Session, load_only
from sqlalchemy.orm.util import identity_key

from voltspot.db import run_prepared
from voltspot.models import ChargingSession, Connector


def load_sessions(session: Session, transaction_ids: list[int]) -> None:
    """Read what storing meter values needs of the sessions of many transaction ids (our
    transaction ids are the sessions' keys) in one query (a group-commit batch's
    read-ahead for 1.6 MeterValues).

    On SQLite, as :class:`MeteredSession` objects for :func:`metered_session` to find: a
    statement runs in-process, so an update per session costs less than the ORM's
    objects and flush. Elsewhere as mapped sessions, found by key without a query of
    their own: a PostgreSQL statement costs a round trip, and the ORM's flush sends all
    of a batch's updates as one (measured, 1,000 chargers' MeterValues on PostgreSQL:
    1,815 calls/s with an update per session, 2,476 with the flush)."""
    ids = {"ids": list(set(transaction_ids))}
    if session.get_bind().dialect.name != "sqlite":
        # Held in ``session.info``: the identity map keeps unchanged objects only as long
        # as something else refers to them.
        session.info.setdefault(_HELD, []).extend(session.scalars(_METERED_MAPPED, ids))
        return
    found = session.info.setdefault(_METERED, {})
    for row in session.connection().execute(_METERED_ROWS, ids):
        found[row.id] = MeteredSession(session, row)


def metered_session(session: Session, transaction_id: int) -> MeteredSession | None:
    """The session of ``transaction_id`` as :func:`load_sessions` read it, unless this
    batch holds it as a mapped object too (a write before took it up: its changes, not
    yet flushed, are what count); None when not read ahead."""
    metered = session.info.get(_METERED, {}).get(transaction_id)
    if metered is None or session.identity_map.get(identity_key(ChargingSession,
                                                                (transaction_id,))):
        return None
    return metered


# Where :func:`load_sessions` keeps what it read.
_METERED = "voltspot.metered_sessions"
_HELD = "voltspot.sessions_read_ahead"
# What storing meter values reads of a session, and of that what it may change.
_METERED_COLUMNS = (
    "id", "station_id", "transaction_id", "connector_pk", "started_at", "charger_started_at",
    "stopped_at", "meter_start_wh", "max_register_wh", "energy_wh", "power_w",
    "soc_percent", "last_sample_at", "meter_anomaly")
_METERED_CHANGES = ("meter_start_wh", "max_register_wh", "energy_wh", "power_w",
                    "soc_percent", "last_sample_at", "meter_anomaly")
_SESSIONS = ChargingSession.__table__
# Built once: a fleet's meter values trickle in a few a batch, and building the
# statements anew each time cost more than running them.
_METERED_ROWS = select(*(_SESSIONS.c[name] for name in _METERED_COLUMNS)).where(
    _SESSIONS.c.id.in_(bindparam("ids", expanding=True)))
# The same columns as mapped objects (any other column is read when something asks).
_METERED_MAPPED = select(ChargingSession).options(load_only(
    *(getattr(ChargingSession, name) for name in _METERED_COLUMNS))).where(
    ChargingSession.id.in_(bindparam("ids", expanding=True)))
# Written only while the row is as read: another write of the same batch may have changed
# it since (a stop from a charger that did not wait for its meter values' answer).
_STORE_METERED = update(_SESSIONS).where(
    _SESSIONS.c.id == bindparam("metered_id"),
    *(_SESSIONS.c[name].is_not_distinct_from(bindparam("read_" + name))
      for name in _METERED_COLUMNS[1:])).values(
    {name: bindparam(name) for name in _METERED_CHANGES})


class MeteredSession:
    """A session's meter fields as plain attributes named as :class:`ChargingSession`'s
    (what :func:`~voltspot.services.charging.lifecycle.record_meter_values` reads and
    changes); :meth:`store` writes what changed."""

    __slots__ = (*_METERED_COLUMNS, "_session", "_read")

    def __init__(self, session: Session, row: Row) -> None:
        values = dict(zip(_METERED_COLUMNS, row, strict=True))
        for name, value in values.items():
            setattr(self, name, value)
        self._session = session
        # The row as read (or last stored), which the update requires it still to be.
        self._read = {"read_" + name: values[name] for name in _METERED_COLUMNS[1:]}

    @property
    def connector(self) -> Connector | None:
        """The session's plug (see :func:`~voltspot.services.charging.billing.plug_power_w`)."""
        if self.connector_pk is None:
            return None
        return self._session.get(Connector, self.connector_pk)

    def store(self) -> bool:
        """Write the meter fields that changed since read (or last stored), in the
        session's transaction, unless the row has changed since it was read: then write
        nothing and return False (apply the samples to the session as it is now)."""
        changes = {name: getattr(self, name) for name in _METERED_CHANGES}
        if all(self._read["read_" + name] == value for name, value in changes.items()):
            return True
        stored = run_prepared(self._session.connection(), _STORE_METERED, {
            "metered_id": self.id, **self._read, **changes}).rowcount == 1
        if stored:
            self._read.update({"read_" + name: value for name, value in changes.items()})
        return stored
