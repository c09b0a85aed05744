"""Tokens, we are the receiver: the tokens eMSPs push (PUT/PATCH), read back (GET), and
the authorisation of an RFID tag at our chargers (whitelist, or real-time at the eMSP
with a short timeout and the owner's policy for when it does not answer)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain.authorization import IdTagInfo
from voltspot.domain.statuses import AuthorizationStatus, SessionStatus
from voltspot.models import (
    ChargingSession,
    IdToken,
    OcpiPartner,
    OcpiSession,
    OcpiToken,
    Station,
    utcnow,
)
from voltspot.models.roaming import OfflinePolicy, PartnerState
from voltspot.services.charging import lifecycle
from voltspot.services.roaming import client
from voltspot.services.roaming.errors import InvalidParameters, PartnerUnreachable, UnknownToken
from voltspot.services.roaming.identity import Identity
from voltspot.services.roaming.sealing import UnreadableToken, unseal
from voltspot.services.roaming.timestamps import parse_ocpi_time

log = logging.getLogger(__name__)

TOKEN_TYPES = ("AD_HOC_USER", "APP_USER", "OTHER", "RFID")
WHITELISTS = ("ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER")
_REQUIRED = {"country_code": str, "party_id": str, "uid": str, "type": str,
             "contract_id": str, "issuer": str, "valid": bool, "whitelist": str,
             "last_updated": str}


def charger_id_tag(uid: str) -> str:
    """The idTag a charger gets for an OCPI token uid: the uid itself when it fits OCPP
    1.6's 20 characters, else a stable 20-character stand-in (2.0.1 would take 36, but
    the same session must match whichever version the station speaks)."""
    if len(uid) <= 20:
        return uid
    return "R" + hashlib.sha256(uid.encode()).hexdigest()[:19].upper()


def _check_party(partner: OcpiPartner, country_code: str, party_id: str) -> None:
    """A partner pushes its own parties' objects (a hub any party's)."""
    roles = partner.roles or []
    if any(role.get("role") == "HUB" for role in roles):
        return
    if not any(role.get("country_code", "").upper() == country_code.upper()
               and role.get("party_id", "").upper() == party_id.upper() for role in roles):
        raise InvalidParameters(f"{country_code}/{party_id} is not one of this partner's "
                                f"parties")


def _validated(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidParameters("a Token object is required")
    for name, kind in _REQUIRED.items():
        if not isinstance(data.get(name), kind):
            raise InvalidParameters(f"Token.{name} is required")
    if data["type"] not in TOKEN_TYPES or data["whitelist"] not in WHITELISTS:
        raise InvalidParameters("Token.type or Token.whitelist is not an OCPI value")
    if not 1 <= len(data["uid"]) <= 36 or not 1 <= len(data["contract_id"]) <= 36:
        raise InvalidParameters("Token.uid and Token.contract_id are 1 to 36 characters")
    try:
        parse_ocpi_time(data["last_updated"])
    except ValueError:
        raise InvalidParameters("Token.last_updated is not a date and time") from None
    return data


def _find(session: Session, partner_id: int, country_code: str, party_id: str, uid: str,
          token_type: str) -> OcpiToken | None:
    return session.scalar(select(OcpiToken).where(
        OcpiToken.partner_id == partner_id, OcpiToken.country_code == country_code.upper(),
        OcpiToken.party_id == party_id.upper(), OcpiToken.uid == uid.upper(),
        OcpiToken.type == token_type))


def get_token(db: Database, partner_id: int, country_code: str, party_id: str, uid: str,
              token_type: str = "RFID") -> dict[str, Any]:
    """The Token as we have it. Raises :class:`UnknownToken`."""
    with db.session() as session:
        token = _find(session, partner_id, country_code, party_id, uid, token_type)
        if token is None:
            raise UnknownToken(f"unknown token {uid!r}")
        return token.data


def put_token(db: Database, partner_id: int, country_code: str, party_id: str, uid: str,
              token_type: str, data: Any) -> None:
    """Store (create or replace) a Token the partner pushed. The object must match the
    URL and belong to one of the partner's parties."""
    token_data = _validated(data)
    # country_code, party_id and uid are CiStrings: case does not count.
    if (token_data["country_code"].upper(), token_data["party_id"].upper(),
            token_data["uid"].upper(), token_data["type"]) != (
                country_code.upper(), party_id.upper(), uid.upper(), token_type):
        raise InvalidParameters("the Token's country_code, party_id, uid and type must "
                                "match the URL")
    with db.session() as session:
        _check_party(session.get(OcpiPartner, partner_id), country_code, party_id)
        token = _find(session, partner_id, country_code, party_id, uid, token_type)
        if token is None:
            token = OcpiToken(partner_id=partner_id, country_code=country_code.upper(),
                              party_id=party_id.upper(), uid=uid.upper(), type=token_type)
            session.add(token)
        _apply(token, token_data)


def patch_token(db: Database, partner_id: int, country_code: str, party_id: str, uid: str,
                token_type: str, changes: Any) -> None:
    """Change some fields of a Token we have (``last_updated`` is required). Raises
    :class:`UnknownToken`."""
    if not isinstance(changes, dict) or not isinstance(changes.get("last_updated"), str):
        raise InvalidParameters("a PATCH carries last_updated")
    if {"uid", "country_code", "party_id", "type"} & set(changes):
        raise InvalidParameters("a PATCH cannot change uid, country_code, party_id or type")
    with db.session() as session:
        token = _find(session, partner_id, country_code, party_id, uid, token_type)
        if token is None:
            raise UnknownToken(f"unknown token {uid!r}")
        _apply(token, _validated({**token.data, **changes}))


def _apply(token: OcpiToken, data: dict[str, Any]) -> None:
    token.data = data
    token.contract_id = data["contract_id"]
    token.valid = data["valid"]
    token.whitelist = data["whitelist"]
    token.last_updated = parse_ocpi_time(data["last_updated"])
    if token.valid:
        token.seen_valid_at = utcnow()


@dataclass(frozen=True)
class _Candidate:
    partner_id: int
    partner_name: str
    url: str | None
    their_token: str | None
    version: str | None
    routing: client.Routing
    policy: OfflinePolicy
    token: dict[str, Any] | None
    whitelist: str | None
    valid: bool | None
    seen_valid: bool


def authorize_tag(db: Database, identity: Identity, charge_point_id: str, id_tag: str, *,
                  timeout: float = 2.0) -> IdTagInfo:
    """Answer a charger's Authorize: our own cards first
    (:func:`voltspot.services.charging.lifecycle.authorize`); a tag no card of ours has
    is a roaming partner's RFID token. A pushed token whitelisted ALWAYS is accepted
    here; otherwise each eMSP that may know it is asked in real time (at most
    ``timeout`` seconds in all), and when none answers the partner's offline policy
    decides (refuse, or accept a token it said was valid before). An accepted roaming tag
    opens an authorised roaming session on the station, which the transaction the
    charger starts next joins."""
    with db.session() as session:
        local = lifecycle.authorize(session, charge_point_id, id_tag)
        if local.accepted or _is_our_card(session, id_tag):
            return local
        station = session.scalar(select(Station).where(
            Station.charge_point_id == charge_point_id))
        candidates = _candidates(session, identity, station, id_tag)
        location_id = str(station.site_id) if station.site_id else None
        evse_uids = [str(c.id) for c in station.connectors]
    if not candidates or location_id is None:
        return local
    deadline = utcnow().timestamp() + timeout
    for candidate in candidates:
        if candidate.valid is False:
            continue
        if candidate.whitelist == "ALWAYS" and candidate.valid:
            return _open(db, charge_point_id, id_tag, candidate, candidate.token, "WHITELIST",
                         None)
        left = deadline - utcnow().timestamp()
        answer = _ask(candidate, id_tag, location_id, evse_uids, max(left, 0.2))
        if answer is None:
            if (candidate.policy == OfflinePolicy.SEEN_VALID and candidate.seen_valid) or \
                    (candidate.whitelist == "ALLOWED_OFFLINE" and candidate.valid):
                log.info("%s: eMSP %s did not answer for tag %s; accepted as seen valid",
                         charge_point_id, candidate.partner_name, id_tag)
                return _open(db, charge_point_id, id_tag, candidate, candidate.token,
                             "WHITELIST", None)
            continue
        if answer.get("allowed") == "ALLOWED":
            token = answer.get("token") if isinstance(answer.get("token"), dict) else None
            _remember_valid(db, candidate.partner_id, id_tag)
            return _open(db, charge_point_id, id_tag, candidate, token or candidate.token,
                         "AUTH_REQUEST", answer.get("authorization_reference"))
        if answer.get("allowed") in ("BLOCKED", "EXPIRED"):
            return IdTagInfo(AuthorizationStatus(answer["allowed"].capitalize()))
    return local


def _is_our_card(session: Session, id_tag: str) -> bool:
    return session.scalar(select(IdToken.id).where(
        IdToken.id_tag == id_tag.strip().upper())) is not None


def _candidates(session: Session, identity: Identity, station: Station | None,
                id_tag: str) -> list[_Candidate]:
    """The registered partners that may know the tag: those that pushed it first, then
    the other eMSPs that see the site and offer real-time authorisation."""
    if station is None or station.site is None or not station.site.publish_to_roaming:
        return []
    owner_id = station.site.owner_id
    query = select(OcpiPartner).where(OcpiPartner.state == PartnerState.REGISTERED)
    query = query.where(OcpiPartner.owner_id.is_(None) if owner_id is None else or_(
        OcpiPartner.owner_id.is_(None), OcpiPartner.owner_id == owner_id))
    pushed = {token.partner_id: token for token in session.scalars(select(OcpiToken).where(
        OcpiToken.uid == id_tag.strip().upper(), OcpiToken.type == "RFID"))}
    found = []
    for partner in session.scalars(query.order_by(OcpiPartner.id)):
        token = pushed.get(partner.id)
        sender = (partner.endpoints or {}).get("tokens", {}).get("SENDER")
        found.append(_Candidate(
            partner.id, partner.name, sender, _their_token(identity, partner), partner.version,
            client.Routing(identity.country_code, identity.party_id, partner.country_code,
                           partner.party_id),
            partner.offline_policy, token.data if token else None,
            token.whitelist if token else None, token.valid if token else None,
            bool(token and token.seen_valid_at)))
    return sorted(found, key=lambda c: c.token is None)


def _their_token(identity: Identity, partner: OcpiPartner) -> str | None:
    if partner.their_token is None:
        return None
    try:
        return unseal(identity.secret, partner.their_token)
    except UnreadableToken as error:
        log.error("cannot ask %s about tags: %s", partner.name, error)
        return None


def _ask(candidate: _Candidate, id_tag: str, location_id: str, evse_uids: list[str],
         timeout: float) -> dict[str, Any] | None:
    """The eMSP's AuthorizationInfo, or None when it did not answer usefully in time."""
    if not candidate.url or not candidate.their_token:
        return None
    uid = candidate.token["uid"] if candidate.token else id_tag
    try:
        answer = client.call("POST", f"{candidate.url.rstrip('/')}/{uid}/authorize",
                             candidate.their_token, version=candidate.version,
                             routing=candidate.routing, timeout=timeout,
                             params={"type": "RFID"},
                             body={"location_id": location_id, "evse_uids": evse_uids})
    except PartnerUnreachable as error:
        log.warning("real-time authorisation at %s failed: %s", candidate.partner_name, error)
        return None
    if answer.ok and isinstance(answer.data, dict):
        return answer.data
    if answer.status_code == 2004:
        return {"allowed": "NOT_ALLOWED"}
    return None


def _remember_valid(db: Database, partner_id: int, id_tag: str) -> None:
    with db.session() as session:
        for token in session.scalars(select(OcpiToken).where(
                OcpiToken.partner_id == partner_id,
                OcpiToken.uid == id_tag.strip().upper())):
            token.seen_valid_at = utcnow()


def cdr_token_of(token: dict[str, Any] | None, uid: str, candidate_party: tuple[str, str]
                 ) -> dict[str, Any]:
    """The CdrToken of a session: from the Token when we have it."""
    if token:
        return {"uid": token.get("uid", uid), "type": token.get("type", "RFID"),
                "contract_id": token.get("contract_id", uid),
                "country_code": token.get("country_code", candidate_party[0]),
                "party_id": token.get("party_id", candidate_party[1])}
    return {"uid": uid, "type": "RFID", "contract_id": uid, "country_code": candidate_party[0],
            "party_id": candidate_party[1]}


def _open(db: Database, charge_point_id: str, id_tag: str, candidate: _Candidate,
          token: dict[str, Any] | None, auth_method: str,
          authorization_reference: str | None) -> IdTagInfo:
    """Open a starting roaming session for the tag on the station; the charger's
    StartTransaction joins it (as it joins a remote start)."""
    with db.session() as session:
        station = session.scalar(select(Station).where(
            Station.charge_point_id == charge_point_id))
        if lifecycle.starting_session(session, station, id_tag, None) is None:
            partner = session.get(OcpiPartner, candidate.partner_id)
            open_roaming_session(
                session, station, connector=None, id_tag=id_tag, partner=partner,
                cdr_token=cdr_token_of(token, id_tag, (partner.country_code or "",
                                                       partner.party_id or "")),
                auth_method=auth_method, authorization_reference=authorization_reference,
                response_url=None)
    return IdTagInfo(AuthorizationStatus.ACCEPTED)


def open_roaming_session(session: Session, station: Station, *, connector: Any, id_tag: str,
                         partner: OcpiPartner, cdr_token: dict[str, Any], auth_method: str,
                         authorization_reference: str | None,
                         response_url: str | None) -> ChargingSession:
    """Record a roaming charging session, starting (``connector`` None: the charger
    picks), and its OCPI side. No card hold: the eMSP pays. Raises
    :class:`sqlalchemy.exc.IntegrityError` when the connector is already claimed by
    another open session."""
    now = utcnow()
    plug = {} if connector is None else {
        "connector_id": connector.connector_id, "connector_pk": connector.id,
        "tariff_id": connector.tariff_id, "claimed_connector_pk": connector.id}
    charging = lifecycle.new_session(
        session, status=SessionStatus.STARTING, station_id=station.id, id_tag=id_tag,
        origin="ocpi", requested_at=now, **plug)
    session.flush()
    session.add(OcpiSession(
        session_id=charging.id, partner_id=partner.id, ocpi_id=str(charging.id),
        cdr_token=cdr_token, auth_method=auth_method,
        authorization_reference=authorization_reference,
        location_id=str(station.site_id), evse_uid=str(connector.id) if connector else "",
        connector_id="1", response_url=response_url, created_at=now))
    session.flush()
    return charging
