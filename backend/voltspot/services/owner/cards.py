"""Drivers' RFID cards: the idTags an owner registers, blocks and lets expire.

Chargers' Authorize answers from the same table
(:func:`voltspot.services.charging.lifecycle.authorize`),
so a card blocked or expired here is refused at the next tap. Every lookup goes through the
viewer: another owner's card is :class:`NotFound`, as if it did not exist.

Expiry is a date the owner picks: the card is valid through that whole day in the owner's
timezone (their first site's, else UTC) and expires at the midnight that ends it, stored in
UTC in ``IdToken.expires_at``.

Each public function taking the :class:`Database` is one unit of work with its own
transaction, and returns read models (:class:`CardRow`, :class:`CardPage`), never rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain.authorization import card_status
from voltspot.domain.statuses import AuthorizationStatus
from voltspot.models import ChargingSession, IdToken, Site, Station, utcnow
from voltspot.services import forms
from voltspot.services.forms import FormInvalid
from voltspot.services.messages import N_
from voltspot.services.owner.accounts import Viewer, owned_card

MAX_ID_TAG = 20  # OCPP 1.6 IdToken is a CiString20Type
MAX_HOLDER = 120
MAX_NOTE = 300
PAGE_SIZE = 50
LAST_EXPIRY_YEAR = 2099

# People copy a card's UID from a reader or a label with spaces or colons between the
# bytes; chargers send it without them. Hyphens stay: contract ids (eMAIDs) contain them.
_SEPARATORS = re.compile(r"[\s:]+")
_PRINTABLE_ASCII = re.compile(r"^[\x21-\x7e]+$")


class Billing(StrEnum):
    """What happens to a card's sessions: nothing to pay (fleet, staff), or listed for an
    invoice the owner sends themselves (a report; Voltspot charges no one)."""

    FREE = "free"
    INVOICE = "invoice"

    @property
    def label(self) -> str:
        return {"free": N_("Free (fleet or staff)"), "invoice": N_("Invoice later")}[self.value]


class CardState(StrEnum):
    """The list filter: every card, or those in one state at this moment."""

    ALL = "all"
    ACTIVE = "active"
    BLOCKED = "blocked"
    EXPIRED = "expired"


def normalise_id_tag(raw: str) -> str:
    """The canonical form of an idTag as typed: separators between bytes removed,
    upper case (OCPP idTags are case-insensitive). Raises :class:`FormInvalid` for an
    empty tag, one longer than 20 characters, or one with characters a charger cannot
    send."""
    id_tag = _SEPARATORS.sub("", raw).upper()
    if not id_tag:
        raise FormInvalid({"id_tag": N_("Enter the card's number (its idTag).")})
    if not _PRINTABLE_ASCII.match(id_tag):
        raise FormInvalid({"id_tag": N_("A card number uses only letters, digits and "
                                     "punctuation, without accents.")})
    if len(id_tag) > MAX_ID_TAG:
        raise FormInvalid({"id_tag": N_("A card number is at most %(most)s characters; this "
                                        "one has %(count)s.", most=MAX_ID_TAG,
                                        count=len(id_tag))})
    return id_tag


@dataclass(frozen=True)
class CardDetails:
    """What an owner may set on a card besides its number."""

    holder_name: str = ""
    note: str = ""
    expires_on: date | None = None
    billing: str = Billing.FREE

    def checked(self) -> CardDetails:
        """These details trimmed; raises :class:`FormInvalid` for a value too long, an
        expiry past 2099, or a billing that is neither free nor invoice."""
        holder, note = self.holder_name.strip(), self.note.strip()
        errors: dict[str, str] = {}
        if len(holder) > MAX_HOLDER:
            errors["holder_name"] = N_("Keep the name under %(count)s characters.",
                                       count=MAX_HOLDER)
        if len(note) > MAX_NOTE:
            errors["note"] = N_("Keep the note under %(count)s characters.", count=MAX_NOTE)
        if self.expires_on is not None and self.expires_on.year > LAST_EXPIRY_YEAR:
            errors["expires_on"] = N_("Pick a day before %(year)s, or leave it empty for no "
                                      "end.", year=LAST_EXPIRY_YEAR + 1)
        billing = forms.choice(str(self.billing), Billing)
        if billing is None:
            errors["billing"] = N_("Choose free or invoice later.")
        if errors or billing is None:
            raise FormInvalid(errors)
        return CardDetails(holder, note, self.expires_on, Billing(billing))


def details_from_form(form: Mapping[str, str]) -> CardDetails:
    """The card details of a card form (fields ``holder_name``, ``note``, ``expires_on``
    as YYYY-MM-DD or empty, ``billing``), not yet checked; raises :class:`FormInvalid`
    for an expiry that is not a date."""
    raw_expiry = str(form.get("expires_on", "")).strip()
    try:
        expires_on = date.fromisoformat(raw_expiry) if raw_expiry else None
    except ValueError:
        raise FormInvalid({"expires_on": N_("Pick the last day the card may charge, or leave "
                                         "it empty.")}, form) from None
    return CardDetails(holder_name=str(form.get("holder_name", "")),
                       note=str(form.get("note", "")), expires_on=expires_on,
                       billing=str(form.get("billing", Billing.FREE)))


def owner_timezone(session: Session, owner_id: int | None) -> str:
    """The timezone a card's expiry date is read in: its owner's first site's, else UTC."""
    timezone = session.scalar(select(Site.timezone).where(Site.owner_id == owner_id)
                              .order_by(Site.name).limit(1)) if owner_id else None
    return timezone or "UTC"


def expiry_instant(day: date, timezone: str) -> datetime:
    """The moment a card valid through ``day`` expires: the midnight that ends it."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(timezone))


def expiry_day(expires_at: datetime, timezone: str) -> date:
    """The last day a card expiring at ``expires_at`` is valid (inverse of
    :func:`expiry_instant`)."""
    return (expires_at.astimezone(ZoneInfo(timezone)) - timedelta(microseconds=1)).date()


def _apply(card: IdToken, details: CardDetails, timezone: str) -> None:
    card.holder_name, card.note, card.billing = (details.holder_name, details.note,
                                                 str(details.billing))
    card.expires_at = (expiry_instant(details.expires_on, timezone)
                       if details.expires_on else None)


def register_card(db: Database, viewer: Viewer, id_tag: str, details: CardDetails
                  ) -> CardRow:
    """A new card owned by the viewer. Raises :class:`FormInvalid` for a malformed number
    or detail, and for a number already registered (by anyone: a charger must find
    exactly one card for a tag)."""
    errors: dict[str, str] = {}
    try:
        id_tag = normalise_id_tag(id_tag)
    except FormInvalid as wrong:
        errors.update(wrong.errors)
    try:
        details = details.checked()
    except FormInvalid as wrong:
        errors.update(wrong.errors)
    if errors:
        raise FormInvalid(errors)
    taken = FormInvalid({"id_tag": N_("Card %(number)s is already registered. Look it up in "
                                      "the list, or check the number on the card.",
                                      number=id_tag)})
    with db.session() as session:
        if session.scalar(select(IdToken.id).where(IdToken.id_tag == id_tag)) is not None:
            raise taken
        card = IdToken(id_tag=id_tag, owner_id=viewer.owner_id)
        _apply(card, details, owner_timezone(session, viewer.owner_id))
        session.add(card)
        try:
            session.flush()
        except IntegrityError:
            # Registered by someone else since the check above; the transaction rolls back.
            raise taken from None
        return _card_row(session, viewer, card)


def update_card(db: Database, viewer: Viewer, card_id: int, details: CardDetails) -> None:
    """Change a card's holder, note, expiry and billing (its number stays). Raises
    :class:`NotFound` and :class:`FormInvalid`."""
    with db.session() as session:
        card = owned_card(session, viewer, card_id)
        _apply(card, details.checked(), owner_timezone(session, card.owner_id))


def set_blocked(db: Database, viewer: Viewer, card_id: int, blocked: bool) -> CardRow:
    """Block or unblock a card; returns it as the list shows it. Chargers ask at each tap
    (Authorize) and hear the card's state again when a transaction starts, so a blocked
    card is refused from its next use."""
    with db.session() as session:
        card = owned_card(session, viewer, card_id)
        card.blocked = blocked
        session.flush()
        return _card_row(session, viewer, card)


@dataclass(frozen=True)
class CardRow:
    id: int
    id_tag: str
    holder_name: str
    note: str
    status: AuthorizationStatus
    expires_on: date | None
    billing: Billing
    sessions: int
    energy_wh: int


@dataclass(frozen=True)
class CardList:
    rows: list[CardRow]
    counts: dict[CardState, int]
    page: int
    pages: int


def _stations_in_scope(viewer: Viewer) -> Select:
    statement = select(Station.id).join(Site)
    return statement if viewer.is_admin else statement.where(Site.owner_id == viewer.owner_id)


def _cards_in_scope(viewer: Viewer) -> Select:
    statement = select(IdToken)
    return statement if viewer.is_admin else statement.where(IdToken.owner_id == viewer.owner_id)


def _in_state(statement: Select, state: CardState, now: datetime) -> Select:
    expired = IdToken.expires_at.is_not(None) & (IdToken.expires_at <= now)
    if state == CardState.BLOCKED:
        return statement.where(IdToken.blocked.is_(True))
    if state == CardState.EXPIRED:
        return statement.where(IdToken.blocked.is_(False), expired)
    if state == CardState.ACTIVE:
        return statement.where(IdToken.blocked.is_(False), ~expired)
    return statement


def _rows(session: Session, viewer: Viewer, cards: list[IdToken], now: datetime) -> list[CardRow]:
    usage = dict.fromkeys((c.id_tag for c in cards), (0, 0))
    if cards:
        usage.update({tag: (count, energy) for tag, count, energy in session.execute(
            select(ChargingSession.id_tag, func.count(),
                   func.coalesce(func.sum(ChargingSession.energy_wh), 0))
            .where(ChargingSession.id_tag.in_(list(usage)),
                   ChargingSession.station_id.in_(_stations_in_scope(viewer)))
            .group_by(ChargingSession.id_tag))})
    zones = {owner_id: owner_timezone(session, owner_id)
             for owner_id in {c.owner_id for c in cards}}
    return [CardRow(c.id, c.id_tag, c.holder_name, c.note,
                    card_status(c.blocked, c.expires_at, now),
                    expiry_day(c.expires_at, zones[c.owner_id]) if c.expires_at else None,
                    Billing(c.billing), *usage[c.id_tag])
            for c in cards]


def _card_row(session: Session, viewer: Viewer, card: IdToken) -> CardRow:
    """One card as the list shows it."""
    return _rows(session, viewer, [card], utcnow())[0]


def _contains(text: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching ``text`` anywhere."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def _search(statement: Select, query: str) -> Select:
    query = query.strip()
    if not query:
        return statement
    # A number typed with separators, or in lower case, still finds its card.
    return statement.where(or_(
        IdToken.id_tag.like(_contains(_SEPARATORS.sub("", query).upper()), escape="\\"),
        IdToken.holder_name.ilike(_contains(query), escape="\\"),
        IdToken.note.ilike(_contains(query), escape="\\")))


def list_cards(db: Database, viewer: Viewer, *, state: CardState = CardState.ALL,
               query: str = "", page: int = 1, page_size: int = PAGE_SIZE) -> CardList:
    """The viewer's cards in ``state`` matching ``query`` (number, holder or note), by
    holder then number, one page at a time; with how many cards each state has."""
    with db.session() as session:
        return _list_cards(session, viewer, state, query, page, page_size)


def _list_cards(session: Session, viewer: Viewer, state: CardState, query: str, page: int,
                page_size: int) -> CardList:
    now = utcnow()
    base = _search(_cards_in_scope(viewer), query)
    counts = {s: session.scalar(select(func.count()).select_from(
        _in_state(base, s, now).subquery())) for s in CardState}
    total = counts[state]
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    cards = session.scalars(_in_state(base, state, now).order_by(
        IdToken.holder_name, IdToken.id_tag).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return CardList(_rows(session, viewer, list(cards), now), counts, page, pages)


def all_cards(db: Database, viewer: Viewer, *, state: CardState = CardState.ALL,
              query: str = "") -> list[CardRow]:
    """Every card :func:`list_cards` would show, on one list (for CSV export)."""
    now = utcnow()
    with db.session() as session:
        cards = session.scalars(_in_state(_search(_cards_in_scope(viewer), query), state, now)
                                .order_by(IdToken.holder_name, IdToken.id_tag)).all()
        return _rows(session, viewer, list(cards), now)


@dataclass(frozen=True)
class CardSession:
    id: int
    started_at: datetime | None
    stopped_at: datetime | None
    charge_point_id: str
    site_name: str
    timezone: str
    connector_id: int | None
    energy_wh: int
    cost: int | None
    currency: str | None
    status: str


@dataclass(frozen=True)
class CardSessions:
    rows: list[CardSession]
    count: int
    energy_wh: int
    cost: dict[str, int]
    page: int
    pages: int


@dataclass(frozen=True)
class CardPage:
    card: CardRow
    timezone: str
    created_at: datetime
    sessions: CardSessions


def card_page(db: Database, viewer: Viewer, card_id: int, page: int = 1,
              page_size: int = PAGE_SIZE) -> CardPage:
    """A card with its sessions on the viewer's stations (another owner's stations are not
    the viewer's business even when their card was used there), newest first. Raises
    :class:`NotFound`."""
    with db.session() as session:
        return _card_page(session, viewer, card_id, page, page_size)


def _card_page(session: Session, viewer: Viewer, card_id: int, page: int, page_size: int
               ) -> CardPage:
    card = owned_card(session, viewer, card_id)
    mine = (ChargingSession.id_tag == card.id_tag,
            ChargingSession.station_id.in_(_stations_in_scope(viewer)))
    count, energy = session.execute(select(
        func.count(), func.coalesce(func.sum(ChargingSession.energy_wh), 0)).where(*mine)).one()
    cost = dict(session.execute(
        select(ChargingSession.currency, func.sum(ChargingSession.cost))
        .where(*mine, ChargingSession.cost.is_not(None), ChargingSession.currency.is_not(None))
        .group_by(ChargingSession.currency)).all())
    pages = max(1, -(-count // page_size))
    page = min(max(page, 1), pages)
    rows = session.execute(
        select(ChargingSession, Station.charge_point_id, Site.name, Site.timezone)
        .join(Station, ChargingSession.station_id == Station.id).join(Site)
        .where(*mine)
        .order_by(func.coalesce(ChargingSession.started_at, ChargingSession.created_at).desc(),
                  ChargingSession.id.desc())
        .limit(page_size).offset((page - 1) * page_size)).all()
    sessions = CardSessions(
        [CardSession(s.id, s.started_at or s.created_at, s.stopped_at, cp, site, zone,
                     s.connector_id, s.energy_wh, s.cost, s.currency, str(s.status))
         for s, cp, site, zone in rows],
        count, energy, cost, page, pages)
    timezone = owner_timezone(session, card.owner_id)
    return CardPage(_card_row(session, viewer, card), timezone, card.created_at, sessions)
