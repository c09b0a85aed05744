"""The top bar's search: one box for a station id, a plug's EVSE id, an RFID card number
or a session by its receipt number (the session number; its payment reference or its
receipt link's token also work), across the viewer's sites only."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy import func, or_, select

from voltspot.db import Database
from voltspot.models import ChargingSession, Connector, IdToken, Site, Station
from voltspot.services.messages import N_
from voltspot.services.owner.accounts import Viewer, scope_sites
from voltspot.services.owner.facts import Moment

MAX_HITS = 20
SHORTEST = 2


@dataclass(frozen=True)
class SearchHit:
    """One thing found: ``kind`` (station, plug, card, session), what to call it, a line
    about it, and where it lives (``station``: charge point id; ``card_id``;
    ``session_id``). ``exact``: it is exactly what was typed (a whole id or number),
    not only a part of it."""

    kind: str
    label: str
    detail: str
    station: str | None = None
    card_id: int | None = None
    session_id: int | None = None
    exact: bool = False


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(db: Database, viewer: Viewer, query: str) -> list[SearchHit]:
    """What ``query`` (trimmed; at least two characters, or a receipt number) names
    among the viewer's stations, plugs, cards and sessions; exact matches first, at most
    :data:`MAX_HITS`.
    Case does not matter, and an EVSE id may be typed with ``-`` for ``*``."""
    text = " ".join(query.split())
    number = re.fullmatch(r"#?(\d{1,12})", text)
    if len(text) < SHORTEST and not number:
        return []
    pattern = _like(text.upper())
    evse_pattern = _like(text.upper().replace("-", "*"))
    hits: list[SearchHit] = []
    with db.session() as session:
        stations = session.execute(scope_sites(viewer, select(
            Station.charge_point_id, Site.name).join(Site, Station.site_id == Site.id))
            .where(func.upper(Station.charge_point_id).like(pattern, escape="\\"))
            .order_by(Station.charge_point_id).limit(MAX_HITS)).all()
        hits += [SearchHit("station", cp, N_("Station at %(site)s", site=site), station=cp)
                 for cp, site in stations]
        plugs = session.execute(scope_sites(viewer, select(
            Connector.evse_id, Connector.connector_id, Station.charge_point_id, Site.name)
            .join(Station, Connector.station_id == Station.id)
            .join(Site, Station.site_id == Site.id))
            .where(func.upper(Connector.evse_id).like(evse_pattern, escape="\\"))
            .order_by(Connector.evse_id).limit(MAX_HITS)).all()
        hits += [SearchHit("plug", evse, N_("Plug %(number)s of %(station)s at %(site)s",
                                              number=number, station=cp, site=site),
                           station=cp)
                 for evse, number, cp, site in plugs]
        cards = select(IdToken.id, IdToken.id_tag, IdToken.holder_name).where(
            func.upper(IdToken.id_tag).like(pattern, escape="\\"))
        if not viewer.is_admin:
            cards = cards.where(IdToken.owner_id == viewer.owner_id)
        hits += [SearchHit("card", tag, holder or N_("RFID card"), card_id=card_id)
                 for card_id, tag, holder in session.execute(
                     cards.order_by(IdToken.id_tag).limit(MAX_HITS)).all()]
        wanted = [ChargingSession.payment_reference == text, ChargingSession.token == text]
        if number:
            wanted.append(ChargingSession.id == int(number.group(1)))
        found = session.execute(scope_sites(viewer, select(
            ChargingSession.id, Station.charge_point_id, ChargingSession.connector_id,
            ChargingSession.created_at, Site.name)
            .join(Station, ChargingSession.station_id == Station.id)
            .join(Site, Station.site_id == Site.id)).where(or_(*wanted))
            .order_by(ChargingSession.id.desc()).limit(MAX_HITS)).all()
        hits += [SearchHit("session", N_("Session %(number)s", number=session_id),
                           N_("%(station)s plug %(number)s at %(site)s, %(day)s", station=cp,
                              number=plug or "—", site=site, day=Moment(created, "%d %b %Y")),
                           session_id=session_id)
                 for session_id, cp, plug, created, site in found]
    typed = text.upper().replace("-", "*")
    hits = [replace(hit, exact=hit.label.upper().replace("-", "*") == typed
                    or (number is not None and hit.session_id == int(number.group(1)))
                    or (hit.kind == "session" and not number))
            for hit in hits]
    hits.sort(key=lambda hit: not hit.exact)
    return hits[:MAX_HITS]
