"""Drivers' "report a problem" messages: recorded against the plug (by its EVSE id, as
printed under the QR code), shown on the owner's live board with the plug and the time
until the owner marks them handled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain.evse_ids import EvseIdError, normalise_evse_id
from voltspot.models import Connector, ProblemReport, Station, utcnow
from voltspot.services.errors import InvalidInput, NotFound
from voltspot.services.messages import N_
from voltspot.services.owner.accounts import Viewer, owned_station

LONGEST_MESSAGE = 1000


@dataclass(frozen=True)
class ReportedProblem:
    """A report as recorded: its id, and the plug it is about."""

    id: int
    charge_point_id: str
    plug_number: int
    evse_id: str


def report_problem(db: Database, evse_id: str, message: str) -> ReportedProblem:
    """Record a driver's problem report about the plug ``evse_id`` (any spelling
    :func:`normalise_evse_id` reads). The message is trimmed and at most
    :data:`LONGEST_MESSAGE` characters. Raises :class:`NotFound` for a code that is not
    one of our plugs and :class:`InvalidInput` for an empty or too long message."""
    text = " ".join(message.split())
    if not text:
        raise InvalidInput(N_("Write what is wrong, for example “the cable is damaged”."))
    if len(text) > LONGEST_MESSAGE:
        raise InvalidInput(N_("Please keep it under %(limit)d characters.",
                              limit=LONGEST_MESSAGE))
    try:
        normal = normalise_evse_id(evse_id)
    except EvseIdError:
        raise NotFound(N_("“%(code)s” is not a charger code.", code=evse_id)) from None
    with db.session() as session:
        connector = session.scalar(select(Connector).where(Connector.evse_id == normal))
        if connector is None:
            raise NotFound(N_("We do not know the charger %(evse)s.", evse=normal))
        report = ProblemReport(station_id=connector.station_id, connector_pk=connector.id,
                               message=text, reported_at=utcnow())
        session.add(report)
        session.flush()
        return ReportedProblem(report.id, connector.station.charge_point_id,
                               connector.connector_id, normal)


@dataclass(frozen=True)
class OpenProblem:
    id: int
    charge_point_id: str
    plug_number: int
    message: str
    reported_at: datetime


def open_problems(session: Session, station_ids: Sequence[int]) -> list[OpenProblem]:
    """The reports on these stations not yet handled, newest first (in the caller's
    transaction: the live board reads them with everything else)."""
    if not station_ids:
        return []
    rows = session.execute(
        select(ProblemReport.id, Station.charge_point_id, Connector.connector_id,
               ProblemReport.message, ProblemReport.reported_at)
        .join(Station, ProblemReport.station_id == Station.id)
        .join(Connector, ProblemReport.connector_pk == Connector.id)
        .where(ProblemReport.station_id.in_(list(station_ids)),
               ProblemReport.handled_at.is_(None))
        .order_by(ProblemReport.reported_at.desc(), ProblemReport.id.desc())).all()
    return [OpenProblem(*row) for row in rows]


def mark_handled(db: Database, viewer: Viewer, problem_id: int) -> None:
    """Mark a report on one of the viewer's stations handled (it leaves the board).
    Raises :class:`NotFound` for another owner's report."""
    with db.session() as session:
        report = session.get(ProblemReport, problem_id)
        if report is None:
            raise NotFound("no such problem report")
        owned_station(session, viewer, session.get(Station, report.station_id).charge_point_id)
        if report.handled_at is None:
            report.handled_at = utcnow()
