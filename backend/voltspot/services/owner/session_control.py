"""Starting and stopping a session from the owner page: on a plug of one of the owner's
stations (for one of their cards, or without one: free, no payment), and stopping a
running session from its page.

Both go through the charging services the API and the driver use (a remote start that is
tracked to its transaction: :func:`voltspot.services.charging.commands.remote_start`; the
stop of :func:`voltspot.services.charging.commands.stop_session`), so a session started here
is the same kind of session as one started anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain.availability import station_online
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, IdToken, utcnow
from voltspot.services.charger_control import (
    ChargerControl,
    ChargerError,
    ChargerUnreachable,
    StartRequest,
)
from voltspot.services.charging.commands import StopOutcome, remote_start, stop_session
from voltspot.services.driver.start import new_id_tag
from voltspot.services.errors import Conflict, InvalidInput
from voltspot.services.messages import N_
from voltspot.services.owner.accounts import Viewer, owned_connector, owned_session

# The card choice that starts a session without a card: free, nothing is paid.
NO_CARD = ""


@dataclass(frozen=True)
class CardChoice:
    id_tag: str
    holder_name: str


@dataclass(frozen=True)
class StartForm:
    """What the start page shows: the plug and the cards the session can run on."""

    connector_pk: int
    charge_point_id: str
    plug_number: int
    evse_id: str | None
    online: bool
    running_session_id: int | None
    cards: list[CardChoice]


def _open_session_on(session: Session, connector_pk: int) -> int | None:
    return session.scalar(select(ChargingSession.id).where(
        ChargingSession.connector_pk == connector_pk,
        ChargingSession.status.not_in((SessionStatus.COMPLETED, SessionStatus.FAILED)))
        .order_by(ChargingSession.id.desc()).limit(1))


def start_form(db: Database, viewer: Viewer, connector_pk: int) -> StartForm:
    """The start page of one of the viewer's plugs; raises :class:`NotFound`."""
    with db.session() as session:
        connector = owned_connector(session, viewer, connector_pk)
        station = connector.station
        cards = select(IdToken.id_tag, IdToken.holder_name).where(
            IdToken.blocked.is_(False)).order_by(IdToken.holder_name, IdToken.id_tag)
        if not viewer.is_admin:
            cards = cards.where(IdToken.owner_id == viewer.owner_id)
        return StartForm(
            connector.id, station.charge_point_id, connector.connector_id, connector.evse_id,
            station_online(station.connected, station.last_seen_at,
                           station.heartbeat_interval, utcnow()),
            _open_session_on(session, connector.id),
            [CardChoice(*row) for row in session.execute(cards).all()])


@dataclass(frozen=True)
class StartResult:
    """What came of a start: the session recorded for it (it is failed when the charger
    refused or could not be reached), whether the charger accepted, and one sentence."""

    session_id: int
    accepted: bool
    message: str


def start_on_plug(db: Database, control: ChargerControl, viewer: Viewer, connector_pk: int,
                  form: Mapping[str, str]) -> StartResult:
    """Ask the station to start charging on one of the viewer's plugs, for the card
    ``form["card"]`` (one of the viewer's, not blocked) or, when empty, for a one-off
    tag of our own (the session is free: no card, no payment).

    Raises :class:`NotFound` for another owner's plug, :class:`InvalidInput` for a card
    that is not the viewer's, :class:`Conflict` when a session already runs on the plug.
    A charger that refuses or cannot be reached gives a result with ``accepted`` false
    (the session is recorded as failed), never an exception.
    """
    choice = str(form.get("card", NO_CARD)).strip().upper()
    with db.session() as session:
        connector = owned_connector(session, viewer, connector_pk)
        charge_point_id, number = connector.station.charge_point_id, connector.connector_id
        running = _open_session_on(session, connector.id)
        if running is not None:
            raise Conflict(N_("Plug %(number)s already has session %(session)s on it. Stop "
                              "that one first.", number=number, session=running))
        if choice != NO_CARD:
            card = session.scalar(select(IdToken).where(IdToken.id_tag == choice))
            if card is None or card.blocked or (not viewer.is_admin
                                                and card.owner_id != viewer.owner_id):
                raise InvalidInput(N_("Choose one of your cards that is not blocked, or start "
                                      "without a card."))
    id_tag = choice or new_id_tag()
    try:
        answer = remote_start(db, control, charge_point_id, StartRequest(id_tag, number))
    except ChargerUnreachable:
        answer, message = None, N_("%(station)s could not be reached, so nothing started. "
                                   "Check that it is online, then try again.",
                                   station=charge_point_id)
    except ChargerError as error:
        answer, message = None, N_("%(station)s answered with an error (%(code)s), so "
                                   "nothing started.", station=charge_point_id, code=error.code)
    with db.session() as session:
        # The most recent start on this plug is ours: remote_start recorded it.
        session_id = session.scalar(select(ChargingSession.id).where(
            ChargingSession.connector_pk == connector_pk, ChargingSession.id_tag == id_tag)
            .order_by(ChargingSession.id.desc()).limit(1))
    if answer is None:
        return StartResult(session_id, False, message)
    if answer.get("status") != "Accepted":
        return StartResult(session_id, False, N_(
            "%(station)s refused to start plug %(number)s. Is a car plugged in and the plug "
            "free?", station=charge_point_id, number=number))
    return StartResult(session_id, True, N_("Plug %(number)s is starting. Charging begins "
                                            "when the car is plugged in.", number=number))


def stop_running_session(db: Database, control: ChargerControl, viewer: Viewer,
                         session_id: int) -> str:
    """Stop one of the viewer's sessions at the charger (one still waiting for the car is
    cancelled) and say so in one sentence. Raises :class:`NotFound` for another owner's
    session and :class:`Conflict` when the charger cannot be reached or refuses."""
    with db.session() as session:
        owned_session(session, viewer, session_id)
    outcome = stop_session(
        db, control, session_id, str(N_("The site owner cancelled before charging started")))
    if outcome is StopOutcome.ALREADY_ENDED:
        return N_("This session has already ended.")
    if outcome is StopOutcome.CANCELLED:
        return N_("The session had not started charging; it is cancelled and its hold "
                  "released.")
    if outcome in (StopOutcome.UNREACHABLE, StopOutcome.REFUSED):
        raise Conflict(N_("The station could not be reached or refused to stop, so the "
                          "session goes on. Try again, or unplug the car at the station."))
    return N_("The station was asked to stop; the session ends as soon as it confirms.")


def session_station(db: Database, viewer: Viewer, session_id: int) -> str:
    """The charge point id of one of the viewer's sessions (for its page's live events);
    raises :class:`NotFound` for another owner's session."""
    with db.session() as session:
        return owned_session(session, viewer, session_id).station.charge_point_id
