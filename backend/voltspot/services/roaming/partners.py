"""Roaming partners and the OCPI credentials handshake, in both directions.

Either the partner starts (we make token A, they call our versions with it and POST
their credentials: we answer with token C), or we start (they gave us token A and their
versions URL: we POST our credentials with token B and get their token C). Tokens we
hand out are kept as SHA-256 digests only (see :class:`~voltspot.models.OcpiPartner`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.models import OcpiPartner, utcnow
from voltspot.models.roaming import OfflinePolicy, PartnerState
from voltspot.services.errors import Conflict, InvalidInput, NotFound
from voltspot.services.roaming import client
from voltspot.services.roaming.errors import (
    InvalidParameters,
    MethodNotAllowed,
    OcpiError,
    PartnerUnreachable,
    Unauthorized,
)
from voltspot.services.roaming.identity import VERSION, Identity
from voltspot.services.roaming.sealing import seal, unseal

log = logging.getLogger(__name__)

# The modules we offer, with our role in each (we are a CPO).
MODULES = (("credentials", "SENDER"), ("credentials", "RECEIVER"), ("locations", "SENDER"),
           ("tariffs", "SENDER"), ("sessions", "SENDER"), ("cdrs", "SENDER"),
           ("tokens", "RECEIVER"), ("commands", "RECEIVER"))
# OCPI 2.2.1 modules we do not offer (all but credentials are optional): they are not in
# our endpoints, so a partner that follows the spec never calls them; a call to them all
# the same gets the answer to a resource that does not exist (HTTP 404, OCPI 2000).
NOT_OFFERED = ("chargingprofiles", "hubclientinfo")


class UnsupportedVersion(OcpiError):
    status_code = 3002
    http_status = 400


def new_token() -> str:
    """A credentials token: 256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_candidates(authorization: str | None) -> list[str]:
    """The tokens an ``Authorization: Token …`` header may carry: 2.2 peers send it
    base64-encoded, 2.1.1-era peers as it is; both readings are tried."""
    if not authorization or not authorization.startswith("Token "):
        return []
    raw = authorization.removeprefix("Token ").strip()
    if not raw:
        return []
    candidates = [raw]
    try:
        decoded = base64.b64decode(raw, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return candidates
    if decoded.isprintable() and decoded:
        candidates.insert(0, decoded)
    return candidates


@dataclass(frozen=True)
class Caller:
    """The partner behind a request's token; ``registering`` when it used token A."""

    partner_id: int
    name: str
    state: PartnerState
    registering: bool
    token: str


def authenticate(db: Database, authorization: str | None, *,
                 registration: bool = False) -> Caller:
    """The partner whose token the ``Authorization`` header carries. Token A counts only
    where ``registration`` is True (versions, version details, POST credentials).
    Raises :class:`Unauthorized`."""
    candidates = token_candidates(authorization)
    if not candidates:
        raise Unauthorized("Authorization: Token … is required")
    digests = {digest(token): token for token in candidates}
    with db.session() as session:
        partner = session.scalar(select(OcpiPartner).where(or_(
            OcpiPartner.token_c_digest.in_(digests), OcpiPartner.token_a_digest.in_(digests))))
        if partner is None:
            raise Unauthorized("unknown token")
        if partner.token_c_digest in digests and partner.state != PartnerState.UNREGISTERED:
            return Caller(partner.id, partner.name, partner.state, False,
                          digests[partner.token_c_digest])
        if (registration and partner.token_a_digest in digests
                and partner.state == PartnerState.AWAITING_THEM):
            return Caller(partner.id, partner.name, partner.state, True,
                          digests[partner.token_a_digest])
        raise Unauthorized("this token is not valid for this request")


@dataclass(frozen=True)
class NewPartner:
    """A partner created to register with us: hand them ``token_a`` and ``versions_url``."""

    partner_id: int
    name: str
    token_a: str
    versions_url: str


def add_partner(db: Database, identity: Identity, name: str, *,
                owner_id: int | None = None) -> NewPartner:
    """Create a partner who will register with us, with a fresh token A."""
    name = name.strip()
    if not name:
        raise InvalidInput("a partner needs a name")
    token_a = new_token()
    with db.session() as session:
        _check_name_free(session, name)
        partner = OcpiPartner(name=name, owner_id=owner_id, state=PartnerState.AWAITING_THEM,
                              token_a_digest=digest(token_a), roles=[], endpoints={})
        session.add(partner)
        session.flush()
        return NewPartner(partner.id, partner.name, token_a, identity.versions_url)


def _check_name_free(session: Session, name: str) -> None:
    if session.scalar(select(OcpiPartner.id).where(OcpiPartner.name == name)) is not None:
        raise Conflict(f"there is already a partner called {name!r}")


@dataclass(frozen=True)
class PartnerView:
    """A partner as the owner page and the CLI show it."""

    partner_id: int
    name: str
    state: str
    country_code: str | None
    party_id: str | None
    business_name: str | None
    roles: list[str]
    version: str | None
    versions_url: str | None
    offline_policy: str
    last_push_at: Any
    last_error: str | None
    last_error_at: Any
    registered_at: Any


def view_of(partner: OcpiPartner) -> PartnerView:
    return PartnerView(
        partner.id, partner.name, str(partner.state), partner.country_code, partner.party_id,
        partner.business_name, [r.get("role", "") for r in partner.roles or []],
        partner.version, partner.versions_url, str(partner.offline_policy),
        partner.last_push_at, partner.last_error, partner.last_error_at, partner.registered_at)


def register_with(db: Database, identity: Identity, name: str, versions_url: str,
                  token_a: str, *, owner_id: int | None = None,
                  timeout: float = 10.0) -> PartnerView:
    """Register with a partner that gave us ``token_a`` and its ``versions_url``: read
    its 2.2.1 endpoints, POST our credentials with a new token B and keep the token C
    it answers with. The partner is recorded first, so a failure leaves it on the
    owner page with the reason (in state "registering"); raises
    :class:`PartnerUnreachable` or :class:`UnsupportedVersion` then."""
    name = name.strip()
    if not name or not versions_url.startswith(("http://", "https://")) or not token_a:
        raise InvalidInput("a name, an http(s) versions URL and the partner's token are needed")
    token_b = new_token()
    with db.session() as session:
        _check_name_free(session, name)
        partner = OcpiPartner(name=name, owner_id=owner_id, state=PartnerState.REGISTERING,
                              their_token=seal(identity.secret, token_a),
                              versions_url=versions_url,
                              token_c_digest=digest(token_b), roles=[], endpoints={})
        session.add(partner)
        session.flush()
        partner_id = partner.id
    try:
        version, endpoints = _discover(versions_url, token_a, timeout)
        credentials_url = endpoints.get("credentials", {}).get("RECEIVER") or \
            endpoints.get("credentials", {}).get("SENDER")
        if not credentials_url:
            raise PartnerUnreachable("the partner lists no credentials endpoint")
        answer = client.call("POST", credentials_url, token_a, version=version,
                             body=_our_credentials(identity, token_b), timeout=timeout)
        if not answer.ok or not isinstance(answer.data, dict):
            raise PartnerUnreachable(f"the partner refused our credentials: "
                                     f"{answer.describe()}")
        theirs = _parse_credentials(answer.data)
    except OcpiError as error:
        _record_error(db, partner_id, str(error))
        raise
    with db.session() as session:
        partner = session.get(OcpiPartner, partner_id)
        _apply_credentials(partner, theirs, version, endpoints, identity.secret)
        partner.versions_url = theirs["url"]
        partner.state = PartnerState.REGISTERED
        partner.registered_at = utcnow()
        partner.last_error = None
        return view_of(partner)


def _record_error(db: Database, partner_id: int, message: str) -> None:
    with db.session() as session:
        partner = session.get(OcpiPartner, partner_id)
        partner.last_error = message[:300]
        partner.last_error_at = utcnow()


def _our_credentials(identity: Identity, token: str) -> dict[str, Any]:
    return {"token": token, "url": identity.versions_url,
            "roles": [identity.credentials_role()]}


def _discover(versions_url: str, token: str, timeout: float
              ) -> tuple[str, dict[str, dict[str, str]]]:
    """The partner's 2.2.1 details URL's endpoints, as module → role → URL."""
    answer = client.call("GET", versions_url, token, timeout=timeout)
    if not answer.ok or not isinstance(answer.data, list):
        raise PartnerUnreachable(f"reading the partner's versions failed: {answer.describe()}")
    urls = {item.get("version"): item.get("url") for item in answer.data
            if isinstance(item, dict)}
    if not urls.get(VERSION):
        raise UnsupportedVersion(f"the partner offers OCPI {', '.join(map(str, urls))}, "
                                 f"not {VERSION}")
    answer = client.call("GET", urls[VERSION], token, timeout=timeout)
    if not answer.ok or not isinstance(answer.data, dict):
        raise PartnerUnreachable(f"reading the partner's {VERSION} endpoints failed: "
                                 f"{answer.describe()}")
    endpoints: dict[str, dict[str, str]] = {}
    for item in answer.data.get("endpoints") or []:
        if isinstance(item, dict) and item.get("identifier") and item.get("url"):
            endpoints.setdefault(item["identifier"], {})[item.get("role", "RECEIVER")] = \
                item["url"]
    return VERSION, endpoints


def _parse_credentials(data: Any) -> dict[str, Any]:
    """Check a Credentials object: a token, a URL and at least one role."""
    if not isinstance(data, dict):
        raise InvalidParameters("credentials must be an object")
    token, url, roles = data.get("token"), data.get("url"), data.get("roles")
    if not isinstance(token, str) or not token or len(token) > 64:
        raise InvalidParameters("credentials.token must be 1 to 64 characters")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidParameters("credentials.url must be the partner's versions URL")
    if not isinstance(roles, list) or not roles or not all(
            isinstance(r, dict) and r.get("role") and isinstance(r.get("country_code"), str)
            and isinstance(r.get("party_id"), str) for r in roles):
        raise InvalidParameters("credentials.roles must list roles with role, country_code "
                                "and party_id")
    return data


def _apply_credentials(partner: OcpiPartner, credentials: dict[str, Any], version: str,
                       endpoints: dict[str, dict[str, str]], secret: str) -> None:
    partner.their_token = seal(secret, credentials["token"])
    partner.roles = credentials["roles"]
    main = next((r for r in credentials["roles"] if r.get("role") in ("EMSP", "HUB")),
                credentials["roles"][0])
    partner.country_code = main["country_code"].upper()[:2]
    partner.party_id = main["party_id"].upper()[:3]
    partner.business_name = (main.get("business_details") or {}).get("name")
    partner.version = version
    partner.endpoints = endpoints


@dataclass(frozen=True)
class Credentials:
    """Our Credentials object for the partner, with the token it must use from now on."""

    data: dict[str, Any]


def our_credentials(identity: Identity, caller: Caller) -> Credentials:
    """GET credentials: ours, with the token the caller used (we keep no plaintext)."""
    return Credentials(_our_credentials(identity, caller.token))


def receive_credentials(db: Database, identity: Identity, caller: Caller, method: str,
                        body: Any, *, timeout: float = 10.0) -> Credentials | None:
    """The partner POSTs (registers), PUTs (updates: new token C) or DELETEs
    (unregisters) its credentials. POST and PUT read the partner's endpoints with the
    token it sent before answering, and return our credentials with a new token C;
    DELETE returns None. A call that does not fit the registration's state raises
    :class:`MethodNotAllowed`."""
    registered = caller.state == PartnerState.REGISTERED
    if method == "POST" and (registered or not caller.registering):
        raise MethodNotAllowed("already registered: use PUT to update the credentials")
    if method in ("PUT", "DELETE") and not registered:
        raise MethodNotAllowed("not registered: POST the credentials first")
    if method == "DELETE":
        with db.session() as session:
            partner = session.get(OcpiPartner, caller.partner_id)
            partner.state = PartnerState.UNREGISTERED
            partner.token_c_digest = None
            log.info("OCPI partner %s unregistered", partner.name)
        return None
    theirs = _parse_credentials(body)
    try:
        version, endpoints = _discover(theirs["url"], theirs["token"], timeout)
    except OcpiError as error:
        _record_error(db, caller.partner_id, str(error))
        raise
    token_c = new_token()
    with db.session() as session:
        partner = session.get(OcpiPartner, caller.partner_id)
        _apply_credentials(partner, theirs, version, endpoints, identity.secret)
        partner.versions_url = theirs["url"]
        partner.token_c_digest = digest(token_c)
        partner.token_a_digest = None
        partner.state = PartnerState.REGISTERED
        partner.registered_at = partner.registered_at or utcnow()
        partner.last_error = None
        log.info("OCPI partner %s %s", partner.name,
                 "registered" if method == "POST" else "updated its credentials")
    return Credentials(_our_credentials(identity, token_c))


def list_partners(db: Database, owner_id: int | None = None) -> list[PartnerView]:
    """Every partner (``owner_id`` given: that owner's and the network-wide ones)."""
    with db.session() as session:
        query = select(OcpiPartner).order_by(OcpiPartner.name)
        if owner_id is not None:
            query = query.where(or_(OcpiPartner.owner_id == owner_id,
                                    OcpiPartner.owner_id.is_(None)))
        return [view_of(p) for p in session.scalars(query)]


def set_offline_policy(db: Database, partner_id: int, policy: str) -> PartnerView:
    """Choose what happens to this partner's unknown RFID tags when its real-time
    authorisation does not answer: "refuse" or "seen_valid"."""
    try:
        chosen = OfflinePolicy(policy)
    except ValueError:
        raise InvalidInput("the policy is 'refuse' or 'seen_valid'") from None
    with db.session() as session:
        partner = session.get(OcpiPartner, partner_id)
        if partner is None:
            raise NotFound("no such partner")
        partner.offline_policy = chosen
        return view_of(partner)


def unregister(db: Database, identity: Identity, partner_id: int, *,
               timeout: float = 10.0) -> PartnerView:
    """End the registration from our side: nothing more is pushed, their token C stops
    working, and the partner is told (DELETE on its credentials endpoint; when it cannot
    be reached the registration ends here all the same, and the reason is kept)."""
    with db.session() as session:
        partner = session.get(OcpiPartner, partner_id)
        if partner is None:
            raise NotFound("no such partner")
        was_registered = partner.state == PartnerState.REGISTERED
        partner.state = PartnerState.UNREGISTERED
        partner.token_c_digest = partner.token_a_digest = None
        endpoints = (partner.endpoints or {}).get("credentials", {})
        url = endpoints.get("RECEIVER") or endpoints.get("SENDER")
        sealed, version = partner.their_token, partner.version
    if was_registered and url and sealed:
        try:
            answer = client.call("DELETE", url, unseal(identity.secret, sealed),
                                 version=version, timeout=timeout)
            if not answer.ok:
                _record_error(db, partner_id, f"they answered our goodbye with "
                                              f"{answer.describe()}")
        except OcpiError as error:
            _record_error(db, partner_id, f"they could not be told: {error}")
    with db.session() as session:
        return view_of(session.get(OcpiPartner, partner_id))
