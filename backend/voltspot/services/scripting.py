"""Setting up from scripts (``voltspot card add``, ``voltspot tariff assign``): what the owner
page does for setting up, as use cases that each open and commit their own transaction and
return plain values. Scripts act as the operator: they see every owner's objects."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from voltspot.db import Database
from voltspot.models import Owner, Site, Tariff
from voltspot.services.errors import InvalidInput, NotFound
from voltspot.services.owner import cards, tariffs
from voltspot.services.owner.accounts import OPERATOR, Viewer


@dataclass(frozen=True)
class AddedCard:
    id_tag: str
    holder_name: str
    billing: str
    owner_email: str | None


def _owner_viewer(session, owner_email: str | None) -> tuple[Viewer, str | None]:
    if owner_email is None:
        # The operator's own cards: no owner; an admin sees them on the owner page.
        return OPERATOR, None
    owner = session.scalar(select(Owner).where(Owner.email == owner_email.strip().lower()))
    if owner is None:
        raise NotFound(f"no owner with email {owner_email.strip().lower()}")
    return Viewer(owner.id, owner.is_admin), owner.email


def add_card(db: Database, id_tag: str, *, holder_name: str = "", free: bool = False,
             owner_email: str | None = None) -> AddedCard:
    """Register an RFID card that may charge: free (fleet, staff) or listed for an invoice.
    Raises :class:`~voltspot.services.errors.InvalidInput` for a malformed number,
    :class:`~voltspot.services.errors.Conflict` when it is registered already and
    :class:`NotFound` for an unknown owner."""
    billing = cards.Billing.FREE if free else cards.Billing.INVOICE
    with db.session() as session:
        viewer, email = _owner_viewer(session, owner_email)
        card = cards.register_card(session, viewer, id_tag,
                                   cards.CardDetails(holder_name=holder_name, billing=billing))
        return AddedCard(card.id_tag, card.holder_name, card.billing, email)


def _one_by_name(session, model, name: str, what: str):
    found = session.scalars(select(model).where(model.name == name)).all()
    if not found:
        raise NotFound(f"no {what} named {name!r}")
    if len(found) > 1:
        raise InvalidInput(f"{len(found)} {what}s are named {name!r}; rename one on the owner "
                           "page first")
    return found[0]


@dataclass(frozen=True)
class SitePriced:
    tariff: str
    site: str
    plugs_changed: int


def assign_tariff_to_site(db: Database, tariff_name: str, site_name: str) -> SitePriced:
    """Put the tariff named ``tariff_name`` on every plug of the site named ``site_name``
    (as the owner page's "Use this price" does). Raises :class:`NotFound` for an unknown
    name and :class:`InvalidInput` for an ambiguous one, a site without plugs, or a site
    charging in another currency."""
    with db.session() as session:
        tariff = _one_by_name(session, Tariff, tariff_name, "tariff")
        site = _one_by_name(session, Site, site_name, "site")
        changed = tariffs.assign_tariff(session, OPERATOR, tariff.id, site_ids=[site.id])
        return SitePriced(tariff.name, site.name, changed)
