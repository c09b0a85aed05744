"""The plug page (what a QR sticker opens): the plug, its status and the full price
before starting."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain.evse_ids import EvseIdError, normalise_evse_id
from voltspot.domain.money import format_money
from voltspot.domain.pricing import TariffTerms
from voltspot.models import Connector
from voltspot.services.driver.spots import PlugView, SiteView, load_site
from voltspot.services.errors import NotFound, ServiceError
from voltspot.services.messages import N_

log = logging.getLogger(__name__)


class PlugUnavailable(ServiceError):
    """The plug cannot start a session now; the message says why and what to do."""


@dataclass(frozen=True)
class PlugPage:
    site: SiteView
    plug: PlugView

    @property
    def hold_text(self) -> str | None:
        return hold_sentence(self.plug.terms) if self.plug.terms else None


def hold_sentence(terms: TariffTerms) -> str:
    """The one sentence that explains the card hold before a driver starts."""
    return (f"We hold {format_money(terms.hold_amount, terms.currency)} on your card and "
            "take only what you use; the rest is released when you stop.")


def _connector_by_evse(session: Session, evse_text: str) -> Connector:
    try:
        evse_id = normalise_evse_id(evse_text)
    except EvseIdError:
        raise NotFound(N_("“%(code)s” is not a charger code. It looks like NL*VSP*E12*1 and "
                          "is printed under the QR code.", code=evse_text)) from None
    connector = session.scalar(select(Connector).where(Connector.evse_id == evse_id))
    if connector is None:
        raise NotFound(N_("We do not know the charger %(evse)s. Check the code under the QR "
                          "code and try again.", evse=evse_id))
    return connector


def plug_page(db: Database, evse_text: str) -> PlugPage:
    """What the sticker's QR code opens: the plug, its state and its full price; raises
    :class:`NotFound` for a code that is not an EVSE id or names no plug we know."""
    with db.session() as session:
        return load_plug_page(session, evse_text)


def load_plug_page(session: Session, evse_text: str) -> PlugPage:
    connector = _connector_by_evse(session, evse_text)
    site = load_site(session, connector.station.site_id)
    plug = next(p for p in site.plugs if p.connector_pk == connector.id)
    return PlugPage(site, plug)


