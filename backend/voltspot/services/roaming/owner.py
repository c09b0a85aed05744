"""The owner page's Roaming screen: partners and where each stands, which sites are
published, and the roaming sessions with their CDRs. An owner sees the partners they
added; an admin sees every partner (network-wide ones too) and every site."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from voltspot.db import Database
from voltspot.models import ChargingSession, OcpiCdr, OcpiPartner, OcpiSession, Site, Station
from voltspot.services.errors import NotFound
from voltspot.services.messages import N_, Message
from voltspot.services.owner.accounts import Viewer, owned_site, scope_sites
from voltspot.services.roaming import outbox, partners
from voltspot.services.roaming.identity import Identity

_STATE_WORDS = {
    "awaiting_them": "Waiting for them to register with the token",
    "registering": "Registering with them did not finish",
    "registered": "Connected",
    "unregistered": "Disconnected",
}


@dataclass(frozen=True)
class PartnerRow:
    partner: partners.PartnerView
    state_words: str
    backlog: int
    oldest_waiting_minutes: int | None
    problem: Message | None


@dataclass(frozen=True)
class SiteRow:
    site_id: int
    name: str
    published: bool
    # Why it cannot be published, in words; None when it can.
    blocker: str | None


@dataclass(frozen=True)
class SessionRow:
    session_id: int
    site_name: str
    partner_name: str
    started_at: datetime | None
    stopped_at: datetime | None
    energy_wh: int
    cost: int | None
    currency: str | None
    status: str
    cdr: str


@dataclass(frozen=True)
class RoamingPage:
    partners: list[PartnerRow]
    sites: list[SiteRow]
    sessions: list[SessionRow]
    versions_url: str
    open_data_url: str


def _visible_partners(viewer: Viewer):
    query = select(OcpiPartner).order_by(OcpiPartner.name)
    return query if viewer.is_admin else query.where(OcpiPartner.owner_id == viewer.owner_id)


def _problem(view: partners.PartnerView, backlog: int) -> Message | None:
    if not view.last_error:
        return None
    if backlog == 1:
        return N_("Their last answer was a problem: %(problem)s. 1 update waits and is "
                  "retried automatically.", problem=view.last_error)
    if backlog:
        return N_("Their last answer was a problem: %(problem)s. %(count)s updates wait and "
                  "are retried automatically.", problem=view.last_error, count=backlog)
    return N_("Their last answer was a problem: %(problem)s.", problem=view.last_error)


def roaming_page(db: Database, viewer: Viewer, identity: Identity,
                 sessions_shown: int = 50) -> RoamingPage:
    """Everything the Roaming screen shows, for ``viewer``."""
    waiting = outbox.backlog(db)
    with db.session() as session:
        rows = []
        for partner in session.scalars(_visible_partners(viewer)):
            view = partners.view_of(partner)
            backlog = waiting.get(partner.id)
            count = backlog.pending if backlog else 0
            oldest = int(backlog.oldest_seconds // 60) if backlog and backlog.oldest_seconds \
                is not None else None
            rows.append(PartnerRow(view, _STATE_WORDS.get(view.state, view.state), count,
                                   oldest, _problem(view, count)))
        sites = []
        for site in session.scalars(scope_sites(viewer, select(Site).order_by(Site.name))):
            blocker = None
            if site.latitude is None or site.longitude is None:
                blocker = "Add the site's position first: maps need it."
            sites.append(SiteRow(site.id, site.name, site.publish_to_roaming, blocker))
        query = (select(ChargingSession, OcpiSession, OcpiPartner.name, Site.name, OcpiCdr)
                 .join(OcpiSession, OcpiSession.session_id == ChargingSession.id)
                 .join(OcpiPartner, OcpiPartner.id == OcpiSession.partner_id)
                 .join(Station, Station.id == ChargingSession.station_id)
                 .join(Site, Site.id == Station.site_id)
                 .outerjoin(OcpiCdr, OcpiCdr.session_id == ChargingSession.id)
                 .order_by(ChargingSession.id.desc()).limit(sessions_shown))
        found = []
        for charging, _roaming, partner_name, site_name, cdr in session.execute(
                scope_sites(viewer, query)):
            cdr_words = "—" if cdr is None else (
                "Sent" if cdr.acknowledged_at else "Waiting to be sent")
            found.append(SessionRow(charging.id, site_name, partner_name, charging.started_at,
                                    charging.stopped_at, charging.energy_wh, charging.cost,
                                    charging.currency, str(charging.status), cdr_words))
    return RoamingPage(rows, sites, found, identity.versions_url,
                       identity.base_url + "/open/2.2.1/locations")


def set_site_published(db: Database, viewer: Viewer, site_id: int, publish: bool) -> SiteRow:
    """Publish a site to roaming partners and the open-data feed, or take it off (its
    EVSEs are then pushed as removed). A site without a position cannot be published."""
    with db.session() as session:
        site = owned_site(session, viewer, site_id)
        if publish and (site.latitude is None or site.longitude is None):
            return SiteRow(site.id, site.name, False,
                           "Add the site's position first: maps need it.")
        site.publish_to_roaming = publish
        return SiteRow(site.id, site.name, publish, None)


def _owned_partner(db: Database, viewer: Viewer, partner_id: int) -> None:
    with db.session() as session:
        partner = session.scalar(_visible_partners(viewer).where(OcpiPartner.id == partner_id))
        if partner is None:
            raise NotFound("no such roaming partner")


def add_partner(db: Database, viewer: Viewer, identity: Identity, name: str
                ) -> partners.NewPartner:
    """A partner (of this owner; an admin's is network-wide) who registers with us."""
    return partners.add_partner(db, identity, name,
                                owner_id=None if viewer.is_admin else viewer.owner_id)


def register_with(db: Database, viewer: Viewer, identity: Identity, name: str,
                  versions_url: str, token_a: str) -> partners.PartnerView:
    """Register with a partner who gave us their versions URL and token A."""
    return partners.register_with(db, identity, name, versions_url, token_a,
                                  owner_id=None if viewer.is_admin else viewer.owner_id)


def set_offline_policy(db: Database, viewer: Viewer, partner_id: int, policy: str
                       ) -> partners.PartnerView:
    """The partner's policy for tags it does not answer about in time."""
    _owned_partner(db, viewer, partner_id)
    return partners.set_offline_policy(db, partner_id, policy)


def disconnect(db: Database, viewer: Viewer, identity: Identity, partner_id: int
               ) -> partners.PartnerView:
    """Stop roaming with a partner (see :func:`~voltspot.services.roaming.partners.
    unregister`)."""
    _owned_partner(db, viewer, partner_id)
    return partners.unregister(db, identity, partner_id)
