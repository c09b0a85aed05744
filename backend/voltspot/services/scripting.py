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


def _owner_viewer(db: Database, owner_email: str | None) -> tuple[Viewer, str | None]:
    if owner_email is None:
        # The operator's own cards: no owner; an admin sees them on the owner page.
        return OPERATOR, None
    email = owner_email.strip().lower()
    with db.session() as session:
        owner = session.scalar(select(Owner).where(Owner.email == email))
        if owner is None:
            raise NotFound(f"no owner with email {email}")
        return Viewer(owner.id, owner.is_admin), owner.email


def add_card(db: Database, id_tag: str, *, holder_name: str = "", free: bool = False,
             owner_email: str | None = None) -> AddedCard:
    """Register an RFID card that may charge: free (fleet, staff) or listed for an invoice.
    Raises :class:`~voltspot.services.forms.FormInvalid` for a malformed or taken number
    and :class:`NotFound` for an unknown owner."""
    viewer, email = _owner_viewer(db, owner_email)
    billing = cards.Billing.FREE if free else cards.Billing.INVOICE
    card = cards.register_card(db, viewer, id_tag,
                               cards.CardDetails(holder_name=holder_name, billing=billing))
    return AddedCard(card.id_tag, card.holder_name, str(billing), email)


def _one_by_name(session, model, name: str, what: str) -> int:
    found = session.scalars(select(model.id).where(model.name == name)).all()
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
        tariff_id = _one_by_name(session, Tariff, tariff_name, "tariff")
        site_id = _one_by_name(session, Site, site_name, "site")
    changed = tariffs.assign_tariff(db, OPERATOR, tariff_id, site_ids=[site_id])
    return SitePriced(tariff_name, site_name, changed)
