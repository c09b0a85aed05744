"""The serving process's periodic clean-up: remote starts whose car never came,
transactions no stop will come for, 2.0.1 events too old to be replayed, and each
station's bounded frame log, and owners' sign-ins that expired."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session, aliased

from voltspot.db import Database
from voltspot.models import OcppFrame, utcnow
from voltspot.services.charging.lifecycle import close_abandoned, expire_unstarted
from voltspot.services.charging.transactions import forget_old_events
from voltspot.services.owner.signin import forget_expired

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Housekept:
    """What one round did. ``frames_seen_up_to`` is the newest frame id the trim looked
    at: pass it back as ``frames_since`` next round."""

    expired_starts: int
    forgotten_events: int
    trimmed_stations: int
    deleted_frames: int
    frames_seen_up_to: int
    abandoned_sessions: int = 0
    expired_sign_ins: int = 0


def run_housekeeping(db: Database, *, remote_start_timeout: float, frames_per_station: int,
                     frames_since: int = 0, owner_idle: timedelta = timedelta(minutes=60),
                     owner_lifetime: timedelta = timedelta(hours=12)) -> Housekept:
    """Fail remote starts asked for more than ``remote_start_timeout`` seconds ago whose
    car never started, close the transactions no stop will come for
    (:func:`~voltspot.services.charging.lifecycle.close_abandoned`), forget 2.0.1 events
    too old to be replayed, and trim to its ``frames_per_station`` newest the frame log of
    each station that logged a frame with an id above ``frames_since`` (0: every
    station). Each job commits on its own."""
    with db.session() as session:
        expired = expire_unstarted(session, timedelta(seconds=remote_start_timeout))
    if expired:
        log.info("%s remote starts expired without a transaction", expired)
    with db.session() as session:
        abandoned = close_abandoned(session, utcnow())
    with db.session() as session:
        forgotten = forget_old_events(session, utcnow())
    with db.session() as session:
        trimmed, deleted, seen_up_to = _trim_frame_logs(session, frames_per_station,
                                                        frames_since)
    with db.session() as session:
        sign_ins = forget_expired(session, idle=owner_idle, lifetime=owner_lifetime)
    return Housekept(expired, forgotten, trimmed, deleted, seen_up_to, abandoned, sign_ins)


def _trim_frame_logs(session: Session, keep: int, since: int) -> tuple[int, int, int]:
    """Trim the logs of the stations with frames above id ``since``; returns the stations
    looked at, the frames deleted and the newest frame id considered.

    Only stations that logged since the last round can have grown past ``keep``, so the
    work follows the traffic, not the stored history: a range scan on the primary key
    finds them, and for each the index on (charge_point_id, id) finds its ``keep``-th
    newest frame and deletes what lies below it. Two statements a round however many
    stations logged (a fleet logs every minute): the database walks the index, not Python.
    """
    newest = session.scalar(select(func.max(OcppFrame.id)))
    if newest is None or newest <= since:
        return 0, 0, since
    logged = (select(OcppFrame.charge_point_id)
              .where(OcppFrame.id > since, OcppFrame.id <= newest).distinct().subquery())
    frames = OcppFrame.__table__
    if keep <= 0:
        stations = session.scalars(select(logged.c.charge_point_id)).all()
        deleted = session.execute(delete(frames).where(
            frames.c.charge_point_id.in_(select(logged.c.charge_point_id)))).rowcount
        return len(stations), deleted, newest
    theirs = aliased(OcppFrame)
    oldest_kept = (select(theirs.id).where(theirs.charge_point_id == logged.c.charge_point_id)
                   .order_by(theirs.id.desc()).offset(keep - 1).limit(1).scalar_subquery())
    stations = session.execute(select(logged.c.charge_point_id, oldest_kept)).all()
    over = [{"station": charge_point_id, "below": below}
            for charge_point_id, below in stations if below is not None]
    deleted = 0
    if over:
        deleted = session.execute(delete(frames).where(
            frames.c.charge_point_id == bindparam("station"),
            frames.c.id < bindparam("below")), over).rowcount
    return len(stations), deleted, newest
