"""The driver's receipt: the session as it ended, with what a shop receipt carries
besides: its number (the one the owner's search finds), who sold the charge (the site's
legal name and VAT number) and how it was paid."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from voltspot.db import Database
from voltspot.models import ChargingSession, Site, Station
from voltspot.services.driver.live import LiveSession, live_session
from voltspot.services.payments.gateways.base import (
    CardOnFile,
    PaymentGateway,
    PaymentUnavailable,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Receipt:
    """``paid_by_card``: the session had a card hold; ``card``: the card, when the payment
    provider names it (else the receipt says only "card")."""

    live: LiveSession
    legal_name: str
    vat_number: str
    paid_by_card: bool
    card: CardOnFile | None

    @property
    def number(self) -> int:
        return self.live.number


def receipt(db: Database, gateway: PaymentGateway, token: str,
            remote_start_timeout: int) -> Receipt:
    """The receipt of the session behind ``token``; raises :class:`NotFound`. The card is
    named (one call to the provider) once the payment is final; a provider that cannot be
    reached only leaves it unnamed."""
    live = live_session(db, token, remote_start_timeout)
    with db.session() as session:
        legal_name, vat_number, reference = session.execute(
            select(Site.legal_name, Site.vat_number, ChargingSession.payment_reference)
            .join(Station, Station.site_id == Site.id)
            .join(ChargingSession, ChargingSession.station_id == Station.id)
            .where(ChargingSession.token == token)).one()
    card = None
    # Asked once the payment is final: a receipt still settling polls every few seconds.
    if reference and live.hold_amount and live.amount_captured is not None:
        try:
            card = gateway.card(reference)
        except PaymentUnavailable:
            log.warning("receipt %s: the payment provider did not name the card", live.number)
    return Receipt(live, legal_name, vat_number, bool(reference and live.hold_amount), card)
