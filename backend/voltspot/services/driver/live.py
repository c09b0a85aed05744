"""Following a session: the live figures, the payment form while the hold waits, and
the driver's stop."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain.availability import station_online
from voltspot.domain.meter import ENERGY_REGISTER, SOC
from voltspot.domain.pricing import Bill, TariffTerms
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, Connector, MeterSample, Station, utcnow
from voltspot.services.charger_control import ChargerControl
from voltspot.services.charging import commands
from voltspot.services.charging.billing import bill_for, frozen_terms
from voltspot.services.charging.commands import StopOutcome
from voltspot.services.driver.spots import PlugView, SiteView, load_site
from voltspot.services.driver.start import PaymentForm, payment_form
from voltspot.services.errors import Conflict, NotFound
from voltspot.services.load.driver import ShareNote, share_note_of
from voltspot.services.messages import N_
from voltspot.services.payments.gateways.base import (
    PaymentGateway,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveSession:
    """Everything the live page and the receipt show. ``terms`` are the prices the session
    was started with (the receipt words its lines by them), ``None`` when it had none."""

    token: str
    status: SessionStatus
    site: SiteView
    plug: PlugView
    online: bool
    energy_wh: int
    power_w: float | None
    soc_percent: float | None
    minutes_to_80: int | None
    started_at: datetime | None
    stopped_at: datetime | None
    requested_at: datetime | None
    plug_in_deadline: datetime | None
    bill: Bill | None
    currency: str | None
    hold_amount: int | None
    amount_captured: int | None
    amount_refunded: int
    refund_reason: str | None
    payment_state: PaymentState
    failure_reason: str | None
    stop_reason: str | None
    notice: str | None
    updated_at: datetime
    terms: TariffTerms | None = None
    # The session's number: the receipt number, by which the owner finds it.
    number: int = 0
    # When the car stopped drawing power while still plugged in (the idle fee counts from
    # here, after the grace minutes); None while charging.
    charging_ended_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def idle_fee_from(self) -> datetime | None:
        """When the idle fee starts (or started) for a car that has stopped charging but is
        still plugged in; None while charging, after the session, or with no idle fee."""
        terms = self.terms
        if (self.charging_ended_at is None or not self.is_open or terms is None
                or not (terms.idle_fee_per_minute
                        or any(w.idle_fee_per_minute for w in terms.windows))):
            return None
        return self.charging_ended_at + timedelta(minutes=terms.idle_grace_minutes)

    @property
    def elapsed(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.stopped_at or self.updated_at) - self.started_at


def _soc_eta(session: Session, charging: ChargingSession, sharing: ShareNote | None
             ) -> int | None:
    """Minutes until 80 %. Where the site shares its power (``sharing``), at the power
    the session is allowed now, with the energy a percent of this battery took in the last
    readings; none while the session is paused (it resumes when there is room). Otherwise,
    or when the meter gives no energy beside the state of charge, at the rate the battery
    has been filling in the last readings."""
    if charging.soc_percent is None or charging.soc_percent >= 80:
        return None
    if sharing is not None and sharing.paused:
        return None
    readings = session.execute(
        select(MeterSample.taken_at, MeterSample.value).where(
            MeterSample.session_id == charging.id, MeterSample.measurand == SOC)
        .order_by(MeterSample.taken_at.desc()).limit(6)).all()
    if len(readings) < 2:
        return None
    (newest_at, newest), (oldest_at, oldest) = readings[0], readings[-1]
    minutes = (newest_at - oldest_at).total_seconds() / 60
    if minutes <= 0 or newest <= oldest:
        return None
    if sharing is not None and sharing.allowed_kw > 0:
        energy = dict(session.execute(
            select(MeterSample.taken_at, MeterSample.value).where(
                MeterSample.session_id == charging.id,
                MeterSample.measurand == ENERGY_REGISTER,
                MeterSample.taken_at.in_([oldest_at, newest_at]))).all())
        if len(energy) == 2 and energy[newest_at] > energy[oldest_at]:
            wh_per_percent = (energy[newest_at] - energy[oldest_at]) / (newest - oldest)
            return max(1, round((80 - newest) * wh_per_percent
                                / (sharing.allowed_kw * 1000) * 60))
    return max(1, round((80 - newest) / ((newest - oldest) / minutes)))


def _sharing(session: Session, charging: ChargingSession) -> ShareNote | None:
    """What load management says about a running session (the site shares its power)."""
    if not charging.status.has_transaction:
        return None
    return share_note_of(session, charging.id)


# A session with its plug (the plug loaded too: the bill reads its power) and its
# station's site and state, in one query.
_AT_ITS_PLUG = (
    select(ChargingSession, Connector, Station.site_id, Station.connected, Station.last_seen_at,
           Station.heartbeat_interval)
    .join(Connector, Connector.id == ChargingSession.connector_pk)
    .join(Station, Station.id == Connector.station_id))


def live_session(db: Database, token: str, remote_start_timeout: int) -> LiveSession:
    """The session behind ``token`` as the driver sees it now; raises :class:`NotFound`."""
    now = utcnow()
    with db.session() as session:
        found = session.execute(_AT_ITS_PLUG.where(ChargingSession.token == token)).first()
        if found is None:
            raise NotFound(N_("This session link is not valid. Check that you opened the whole "
                              "link."))
        charging = found.ChargingSession
        site = load_site(session, found.site_id)
        plug = next(p for p in site.plugs if p.connector_pk == charging.connector_pk)
        online = station_online(found.connected, found.last_seen_at, found.heartbeat_interval,
                                now)
        bill = bill_for(session, charging, now)
        sharing = _sharing(session, charging)
        deadline = (charging.requested_at + timedelta(seconds=remote_start_timeout)
                    if charging.requested_at and charging.transaction_id is None else None)
        return LiveSession(
            token=token, status=SessionStatus(charging.status), site=site, plug=plug,
            online=online, energy_wh=charging.energy_wh,
            power_w=charging.power_w if charging.status.is_open else None,
            soc_percent=charging.soc_percent,
            minutes_to_80=_soc_eta(session, charging, sharing),
            started_at=charging.started_at, stopped_at=charging.stopped_at,
            requested_at=charging.requested_at, plug_in_deadline=deadline, bill=bill,
            currency=charging.currency, hold_amount=charging.hold_amount,
            amount_captured=charging.amount_captured,
            amount_refunded=charging.amount_refunded or 0, refund_reason=charging.refund_reason,
            payment_state=PaymentState(charging.payment_state),
            failure_reason=charging.failure_reason, stop_reason=charging.stop_reason,
            notice=charging.notice or (sharing.sentence if sharing is not None else None),
            updated_at=now, terms=frozen_terms(charging), number=charging.id,
            charging_ended_at=charging.charging_ended_at)


@dataclass(frozen=True)
class SessionPage:
    """The session page: the live session and, while the driver still has to confirm the
    card hold, the payment form."""

    live: LiveSession
    payment: PaymentForm | None


def session_page(db: Database, gateway: PaymentGateway, token: str,
                 remote_start_timeout: int) -> SessionPage:
    """What the session page behind ``token`` shows now; raises :class:`NotFound`."""
    return SessionPage(live_session(db, token, remote_start_timeout),
                       payment_form(db, gateway, token))


def stop_session(db: Database, control: ChargerControl, token: str) -> None:
    """The driver's Stop: a running session is stopped at the charger; one still waiting
    for the car is cancelled and its hold released. Raises :class:`Conflict` when the
    charger cannot be reached (the session keeps running; the driver may unplug)."""
    with db.session() as session:
        session_id = session.scalar(select(ChargingSession.id)
                                    .where(ChargingSession.token == token))
    if session_id is None:
        raise NotFound(N_("This session link is not valid."))
    outcome = commands.stop_session(db, control, session_id,
                                    str(N_("You cancelled before charging started")))
    if outcome is StopOutcome.UNREACHABLE:
        raise Conflict(N_("We could not reach the charger to stop it. Unplug your car to end "
                          "the session; you pay only for the energy delivered."))
    if outcome is StopOutcome.REFUSED:
        raise Conflict(N_("The charger refused to stop. Unplug your car to end the session; "
                          "you pay only for the energy delivered."))
