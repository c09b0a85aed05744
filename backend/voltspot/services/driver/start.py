"""Starting a session: the card hold first, then the charger is asked (recording the
intent before each outside call, so a crash loses nothing)."""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voltspot.db import Database
from voltspot.domain.availability import Availability
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, Connector
from voltspot.services.charger_control import ChargerControl, ChargerError, ChargerUnreachable
from voltspot.services.charging import lifecycle
from voltspot.services.charging.commands import ask_to_start
from voltspot.services.driver.plugs import PlugPage, PlugUnavailable, load_plug_page
from voltspot.services.errors import NotFound
from voltspot.services.messages import N_, Message
from voltspot.services.payments.gateways.base import (
    HoldState,
    PaymentDeclined,
    PaymentGateway,
    PaymentUnavailable,
)

log = logging.getLogger(__name__)


def new_id_tag() -> str:
    """The idTag a driver's session uses at the charger (OCPP 1.6: at most 20 characters)."""
    return "VS" + secrets.token_hex(9).upper()


def start_session(db: Database, gateway: PaymentGateway, control: ChargerControl,
                  evse_text: str, start_key: str) -> str:
    """Start charging at a plug for a driver; returns the session token.

    ``start_key`` comes with the page the driver tapped on: the same key again (a double
    tap, a retried request) returns the same session. Raises :class:`PlugUnavailable`
    before any hold when the plug is offline, out of order or taken (a second phone), and
    :class:`PaymentDeclined` when the hold fails. A charger that rejects or does not answer
    the start leaves the session failed with the hold released; the page says so.
    """
    if not 8 <= len(start_key) <= 64:
        raise PlugUnavailable(N_("This page is out of date. Reload it and tap Start again."))
    with db.session() as session:
        existing = session.scalar(select(ChargingSession.token).where(
            ChargingSession.start_key == start_key))
        if existing:
            return existing
        page = load_plug_page(session, evse_text)
        _check_startable(page)
        connector = session.get(Connector, page.plug.connector_pk)
        terms = page.plug.terms
        charging = lifecycle.new_session(
            session, station_id=connector.station_id,
            connector_pk=connector.id, connector_id=connector.connector_id,
            id_tag=new_id_tag(), status=SessionStatus.CREATED, origin="driver",
            tariff_id=connector.tariff_id, price=terms.to_dict(), currency=terms.currency,
            hold_amount=terms.hold_amount, start_key=start_key,
            claimed_connector_pk=connector.id, payment_state=PaymentState.AUTHORISING)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            return _taken_or_same(db, start_key)
        token, session_id = charging.token, charging.id
        description = f"Charging at {page.site.name}, {page.plug.evse_id}"
        metadata = {"session_token": token, "evse_id": page.plug.evse_id}
    try:
        hold = gateway.hold(terms.hold_amount, terms.currency, description,
                            idempotency_key=f"hold-{token}", metadata=metadata)
    except (PaymentDeclined, PaymentUnavailable) as refused:
        with db.session() as session:
            lifecycle.hold_refused(session.get(ChargingSession, session_id), str(refused))
        raise
    with db.session() as session:
        lifecycle.hold_placed(session.get(ChargingSession, session_id), hold.reference,
                              hold.confirmed)
    if hold.confirmed:
        ask_charger(db, control, session_id)
    return token


@dataclass(frozen=True)
class PaymentForm:
    """What the payment page needs for the driver to confirm the card hold."""

    publishable_key: str
    client_secret: str
    amount: int
    currency: str


def payment_form(db: Database, gateway: PaymentGateway, token: str) -> PaymentForm | None:
    """The form for a session waiting for the driver to confirm its hold, else None."""
    with db.session() as session:
        charging = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
        if (charging is None or charging.payment_state != PaymentState.AUTHORISING
                or not charging.payment_reference or gateway.publishable_key is None):
            return None
        reference, amount, currency = (charging.payment_reference, charging.hold_amount,
                                       charging.currency)
    secret = gateway.client_secret(reference)
    if secret is None:
        return None
    return PaymentForm(gateway.publishable_key, secret, amount, currency)


def confirm_hold(db: Database, gateway: PaymentGateway, control: ChargerControl | None,
                 token: str) -> None:
    """The driver says they confirmed the hold on the payment page, or the provider's
    webhook says so: ask the provider for the truth and, once the money is held, start
    the charger. Safe to call any number of times, in any order: only the first call that
    sees the hold starts the charger. ``control`` None: this process holds no charger
    connections (the command line), so it only records the hold and leaves the start to
    the server (see :func:`voltspot.services.payments.reconcile.start_confirmed`)."""
    with db.session() as session:
        charging = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
        if charging is None:
            raise NotFound(N_("This session link is not valid."))
        if charging.payment_state != PaymentState.AUTHORISING or not charging.payment_reference:
            return
        reference, session_id = charging.payment_reference, charging.id
    state = gateway.hold_state(reference)
    if state == HoldState.PENDING:
        return
    held = state == HoldState.HELD
    with db.session() as session:
        won = lifecycle.record_hold_outcome(session, session_id, held)
    if won and held and control is not None:
        ask_charger(db, control, session_id)


def ask_charger(db: Database, control: ChargerControl, session_id: int) -> None:
    """Move an authorised session to starting and send the remote start (once)."""
    with db.session() as session:
        started = lifecycle.claim_start(session, session_id)
        token = session.get(ChargingSession, session_id).token
    if not started:
        return
    with contextlib.suppress(ChargerUnreachable, ChargerError):
        # A refusal or silence has failed the session; its page tells the driver.
        ask_to_start(db, control, token)


def _what_next(page: PlugPage) -> Message:
    """Another free plug of the site, named by its number and EVSE id (a site may have
    several "Plug 1"s), and the help number when the site has one."""
    phone = page.site.help_phone
    others = [p for p in page.site.plugs if p.availability == Availability.FREE
              and p.terms and p.connector_pk != page.plug.connector_pk]
    if others and phone:
        return N_("Try plug %(number)s (%(evse)s) or call %(phone)s.", number=others[0].number,
                  evse=others[0].evse_id, phone=phone)
    if others:
        return N_("Try plug %(number)s (%(evse)s).", number=others[0].number,
                  evse=others[0].evse_id)
    if phone:
        return N_("Please try again later or call %(phone)s.", phone=phone)
    return N_("Please try again later.")


def _check_startable(page: PlugPage) -> None:
    what_next = _what_next(page)
    if page.plug.terms is None:
        raise PlugUnavailable(N_("This plug has no price set yet, so it cannot be started from "
                                 "a phone. %(next)s", next=what_next))
    availability = page.plug.availability
    if availability == Availability.OFFLINE:
        raise PlugUnavailable(N_("This charger is offline, so we did not hold anything on your "
                                 "card. %(next)s", next=what_next))
    if availability == Availability.OUT_OF_ORDER:
        raise PlugUnavailable(N_("This plug is out of order, so we did not hold anything on "
                                 "your card. %(next)s", next=what_next))
    if availability == Availability.IN_USE:
        raise PlugUnavailable(N_("Someone else is using this plug right now, so we did not "
                                 "hold anything on your card. %(next)s", next=what_next))


def _taken_or_same(db: Database, start_key: str) -> str:
    with db.session() as session:
        existing = session.scalar(select(ChargingSession.token).where(
            ChargingSession.start_key == start_key))
    if existing:
        return existing
    raise PlugUnavailable(N_("Someone else has just started this plug, so we did not hold "
                             "anything on your card. Please pick another plug."))


