"""The durable outbox of everything Voltspot pushes to roaming partners.

Two halves, both run by the roaming job every couple of seconds:

* :func:`queue_changes` looks for what changed since it last looked (a site or its
  stations, an EVSE's status, a tariff, a roaming session's progress, a session that
  ended) by comparing each object's digest with the one recorded in ``ocpi_published``
  (or the session's ``pushed`` figures), and writes the pushes into ``ocpi_outbox`` in
  the same transaction as the new digest. What changed is in the database, so a crash
  before the scan loses nothing: the next scan sees the difference. No other service
  has to remember to publish.
* :func:`drain` sends what is due, oldest first, one object's pushes strictly in order
  (an item goes only when no older item of its object is unsent), outside any
  transaction, and records each outcome. Failures back off exponentially; a partner
  that cannot be reached is not tried again this round. Items are claimed with a
  conditional update (a lease), so two processes never send the same item at once.

A CDR row is unique per session and its POST is queued in the transaction that creates
it, so there is exactly one CDR and one POST per session. Delivery is at least once:
should the process die after the partner took a push but before the outcome is
recorded, the same object (same id) is sent again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from voltspot.db import Database
from voltspot.domain.statuses import SessionStatus
from voltspot.models import (
    ChargingSession,
    OcpiCdr,
    OcpiOutbox,
    OcpiPartner,
    OcpiPublished,
    OcpiSession,
    Site,
    utcnow,
)
from voltspot.models.roaming import OutboxState, PartnerState
from voltspot.services.charging.billing import bill_for
from voltspot.services.roaming import client, objects
from voltspot.services.roaming.errors import PartnerUnreachable
from voltspot.services.roaming.identity import Identity
from voltspot.services.roaming.sealing import UnreadableToken, unseal
from voltspot.services.roaming.timestamps import ocpi_time

log = logging.getLogger(__name__)

REMOVED = "removed"
COMMAND_RESULT = "command_result"
# Failed roaming starts are looked at for this long (their INVALID status pushed).
FAILED_WATCH = timedelta(hours=1)


def enqueue(session: Session, partner_id: int, object_key: str, module: str, method: str,
            path: str, body: dict[str, Any]) -> None:
    """Owe ``partner_id`` a push, sent after the earlier pushes of ``object_key``.
    ``path`` is below the partner's ``module`` endpoint, or a full URL for a
    command result."""
    session.add(OcpiOutbox(partner_id=partner_id, object_key=object_key, module=module,
                           method=method, path=path, body=body, state=OutboxState.PENDING,
                           next_attempt_at=utcnow()))


def _stamp(session: Session, known: dict[str, OcpiPublished], key: str, digest: str,
           now: datetime) -> None:
    row = known.get(key)
    if row is None:
        row = known[key] = OcpiPublished(object_key=key, digest=digest, at=now)
        session.add(row)
    else:
        row.digest, row.at = digest, now


@dataclass(frozen=True)
class Queued:
    """How many pushes one scan queued."""

    locations: int = 0
    evses: int = 0
    tariffs: int = 0
    sessions: int = 0
    cdrs: int = 0


def queue_changes(db: Database, identity: Identity) -> Queued:
    """Queue a push for everything that changed since the last scan (one transaction)."""
    with db.session() as session:
        now = utcnow()
        known = {row.object_key: row for row in session.scalars(select(OcpiPublished))}
        locations, evses, tariffs = _queue_sites(session, identity, known, now)
        sessions, cdrs = _queue_sessions(session, identity, now)
        return Queued(locations, evses, tariffs, sessions, cdrs)


def _queue_sites(session: Session, identity: Identity, known: dict[str, OcpiPublished],
                 now: datetime) -> tuple[int, int, int]:
    sites = objects.published_sites(session)
    registered = objects.registered_partners(session)
    counts = [0, 0, 0]
    for site in sites:
        partners = objects.partners_seeing(registered, site)
        key = objects.location_key(site.id)
        digest = objects.digest_of(objects.location_content(site, identity))
        if key not in known or known[key].digest != digest:
            _stamp(session, known, key, digest, now)
            for station, connector in objects.evses_of(site):
                _stamp(session, known, objects.evse_key(connector.id),
                       objects.digest_of(objects.evse_state(station, connector)), now)
            stamps = {k: row.at for k, row in known.items()}
            location = objects.render_location(site, identity, stamps, now)
            for partner in partners:
                enqueue(session, partner.id, key, "locations", "PUT",
                        f"{identity.country_code}/{identity.party_id}/{site.id}", location)
                counts[0] += 1
            continue
        for station, connector in objects.evses_of(site):
            state = objects.evse_state(station, connector)
            evse_key = objects.evse_key(connector.id)
            evse_digest = objects.digest_of(state)
            if evse_key in known and known[evse_key].digest == evse_digest:
                continue
            _stamp(session, known, evse_key, evse_digest, now)
            for partner in partners:
                # Keyed on the location: a status never overtakes the location's PUT.
                enqueue(session, partner.id, key, "locations", "PATCH",
                        f"{identity.country_code}/{identity.party_id}/{site.id}/{connector.id}",
                        {**state, "last_updated": ocpi_time(now)})
                counts[1] += 1
    counts[0] += _queue_unpublished(session, identity, known, {s.id for s in sites},
                                    registered, now)
    for tariff, site in objects.tariffs_of(session, sites):
        key = objects.tariff_key(tariff.id)
        content = objects.render_tariff(tariff, site, identity, {}, now)
        digest = objects.digest_of({**content, "last_updated": None})
        if key in known and known[key].digest == digest:
            continue
        _stamp(session, known, key, digest, now)
        for partner in objects.partners_seeing(registered, site):
            enqueue(session, partner.id, key, "tariffs", "PUT",
                    f"{identity.country_code}/{identity.party_id}/{tariff.id}", content)
            counts[2] += 1
    return counts[0], counts[1], counts[2]


def _queue_unpublished(session: Session, identity: Identity, known: dict[str, OcpiPublished],
                       published: set[int], registered: list[OcpiPartner],
                       now: datetime) -> int:
    """A site taken off roaming: its EVSEs are REMOVED for the partners that had it."""
    queued = 0
    for key, row in known.items():
        if not key.startswith("location:") or row.digest == REMOVED:
            continue
        site_id = int(key.split(":")[1])
        if site_id in published:
            continue
        row.digest, row.at = REMOVED, now
        site = session.get(Site, site_id)
        if site is None or site.latitude is None or site.longitude is None:
            continue
        location = objects.render_location(site, identity, {}, now)
        location["publish"] = False
        for evse in location["evses"]:
            evse["status"] = "REMOVED"
        for partner in objects.partners_seeing(registered, site):
            enqueue(session, partner.id, key, "locations", "PUT",
                    f"{identity.country_code}/{identity.party_id}/{site_id}", location)
            queued += 1
    return queued


def _queue_sessions(session: Session, identity: Identity, now: datetime) -> tuple[int, int]:
    """PUT a roaming session the first time, PATCH it when its status, kWh or cost
    moved, and when it has ended create its CDR and queue its POST (same key: after
    the session's last PATCH)."""
    rows = session.execute(
        select(OcpiSession, ChargingSession)
        .join(ChargingSession, ChargingSession.id == OcpiSession.session_id)
        .where(~exists().where(OcpiCdr.session_id == OcpiSession.session_id))
        .where(or_(ChargingSession.status != SessionStatus.FAILED,
                   ChargingSession.created_at > now - FAILED_WATCH))
        .order_by(OcpiSession.session_id)).all()
    sessions = cdrs = 0
    for roaming, charging in rows:
        if not roaming.evse_uid and charging.connector_pk is not None:
            # An RFID session learns its EVSE when the charger starts the transaction.
            roaming.evse_uid = str(charging.connector_pk)
        if not roaming.evse_uid:
            continue
        if roaming.response_url and charging.status == SessionStatus.FAILED:
            # The start failed before its CommandResult was queued (a crash in between).
            enqueue_command_result(session, roaming.partner_id, roaming.response_url,
                                   "FAILED", charging.failure_reason or "the start failed")
            roaming.response_url = None
        if roaming.pushed is None and charging.status == SessionStatus.FAILED:
            # Never began and never told: the CommandResult said so; no INVALID session.
            continue
        bill = bill_for(session, charging, now) if charging.cost is None else None
        cost = charging.cost if charging.cost is not None else (bill.total if bill else None)
        progress = objects.session_progress(charging, cost)
        if roaming.pushed == progress:
            continue
        data = objects.session_object(charging, roaming, identity, now)
        if cost is not None:
            data["total_cost"] = objects.price_of(cost, charging)
        key = objects.session_key(charging.id)
        path = f"{identity.country_code}/{identity.party_id}/{roaming.ocpi_id}"
        if roaming.pushed is None:
            enqueue(session, roaming.partner_id, key, "sessions", "PUT", path, data)
        else:
            patch = {name: data[name] for name in ("status", "kwh", "total_cost",
                                                   "end_date_time", "last_updated")
                     if name in data}
            enqueue(session, roaming.partner_id, key, "sessions", "PATCH", path, patch)
        roaming.pushed = progress
        sessions += 1
        if charging.status == SessionStatus.COMPLETED:
            _create_cdr(session, identity, roaming, charging, now)
            cdrs += 1
    return sessions, cdrs


def _create_cdr(session: Session, identity: Identity, roaming: OcpiSession,
                charging: ChargingSession, now: datetime) -> None:
    station = charging.station
    site = station.site
    cdr_id = f"CDR-{charging.id}"
    data = objects.cdr_object(charging, roaming, site, station, charging.connector, cdr_id,
                              identity, now)
    session.add(OcpiCdr(session_id=charging.id, partner_id=roaming.partner_id,
                        ocpi_id=cdr_id, data=data, created_at=now))
    enqueue(session, roaming.partner_id, objects.session_key(charging.id), "cdrs", "POST", "",
            data)


def enqueue_command_result(session: Session, partner_id: int, response_url: str,
                           result: str, message: str) -> None:
    """Owe the partner the CommandResult of one of its commands (in ``session``)."""
    enqueue(session, partner_id, f"command:{response_url[-48:]}", COMMAND_RESULT, "POST",
            response_url, {"result": result,
                           "message": [{"language": "en", "text": message[:512]}]})


def queue_command_result(db: Database, partner_id: int, response_url: str, result: str,
                         message: str) -> None:
    """Owe the partner the CommandResult of one of its commands."""
    with db.session() as session:
        enqueue_command_result(session, partner_id, response_url, result, message)


@dataclass(frozen=True)
class Drained:
    """What one drain did: pushes acknowledged, to retry later, and given up on."""

    sent: int = 0
    retried: int = 0
    rejected: int = 0


def _backoff(attempts: int, cap: float) -> timedelta:
    return timedelta(seconds=min(cap, 2 ** max(attempts - 1, 0)))


def drain(db: Database, identity: Identity, *, batch: int = 200, timeout: float = 10.0,
          retry_cap: float = 300.0) -> Drained:
    """Send the due pushes of registered partners, each object's in order. An item is
    leased for a little longer than a call may take (a process that dies mid-push leaves
    it to be sent again once the lease runs out)."""
    lease = timeout + 5
    now = utcnow()
    older = aliased(OcpiOutbox)
    with db.session() as session:
        due = session.execute(
            select(OcpiOutbox.id, OcpiOutbox.partner_id, OcpiOutbox.object_key)
            .join(OcpiPartner, OcpiPartner.id == OcpiOutbox.partner_id)
            .where(OcpiOutbox.state == OutboxState.PENDING, OcpiOutbox.next_attempt_at <= now,
                   OcpiPartner.state == PartnerState.REGISTERED)
            # The head of its object's line: nothing older of the same object unsent.
            .where(~exists().where(and_(older.partner_id == OcpiOutbox.partner_id,
                                        older.object_key == OcpiOutbox.object_key,
                                        older.state == OutboxState.PENDING,
                                        older.id < OcpiOutbox.id,
                                        older.next_attempt_at > now)))
            .order_by(OcpiOutbox.id).limit(batch)).all()
    groups: dict[tuple[int, str], list[int]] = {}
    for item_id, partner_id, key in due:
        groups.setdefault((partner_id, key), []).append(item_id)
    sent = retried = rejected = 0
    unreachable: set[int] = set()
    for (partner_id, _key), ids in groups.items():
        if partner_id in unreachable or not _claim(db, ids, now, lease):
            continue
        for position, item_id in enumerate(ids):
            outcome = _send(db, identity, item_id, timeout, retry_cap)
            if outcome == "sent":
                sent += 1
                continue
            if outcome == "rejected":
                rejected += 1
                continue
            retried += 1
            if outcome == "unreachable":
                unreachable.add(partner_id)
            _release(db, ids[position + 1:])
            break
    return Drained(sent, retried, rejected)


def _claim(db: Database, ids: list[int], now: datetime, lease: float) -> bool:
    with db.session() as session:
        claimed = session.execute(
            update(OcpiOutbox).where(OcpiOutbox.id.in_(ids),
                                     OcpiOutbox.state == OutboxState.PENDING,
                                     OcpiOutbox.next_attempt_at <= now)
            .values(next_attempt_at=now + timedelta(seconds=lease))).rowcount
        if claimed != len(ids):
            session.rollback()
            return False
    return True


def _release(db: Database, ids: list[int]) -> None:
    if ids:
        with db.session() as session:
            session.execute(update(OcpiOutbox).where(OcpiOutbox.id.in_(ids))
                            .values(next_attempt_at=utcnow()))


def _target(partner: OcpiPartner, item: OcpiOutbox) -> str | None:
    if item.module == COMMAND_RESULT:
        return item.path
    endpoint = (partner.endpoints or {}).get(item.module, {}).get("RECEIVER")
    if not endpoint:
        return None
    return f"{endpoint.rstrip('/')}/{item.path}" if item.path else endpoint


def _send(db: Database, identity: Identity, item_id: int, timeout: float,
          retry_cap: float) -> str:
    """Send one claimed item: "sent", "rejected", "retry" or "unreachable"."""
    with db.session() as session:
        item = session.get(OcpiOutbox, item_id)
        partner = session.get(OcpiPartner, item.partner_id)
        url = _target(partner, item)
        try:
            token = unseal(identity.secret, partner.their_token)
        except UnreadableToken as error:
            return _record(db, item_id, ok=False, retry=True, retry_cap=retry_cap,
                           error=str(error))
        request = (item.method, url, token, item.body, partner.version,
                   client.Routing(identity.country_code, identity.party_id, partner.country_code,
                                  partner.party_id))
        module = item.module
    if url is None:
        return _record(db, item_id, ok=False, retry=False, retry_cap=retry_cap,
                       error=f"the partner has no {module} receiver endpoint")
    method, url, token, body, version, routing = request
    try:
        answer = client.call(method, url, token, body=body, version=version, routing=routing,
                             timeout=timeout)
    except PartnerUnreachable as error:
        _record(db, item_id, ok=False, retry=True, retry_cap=retry_cap, error=str(error))
        return "unreachable"
    if answer.ok:
        return _record(db, item_id, ok=True, retry=False, retry_cap=retry_cap,
                       location=answer.headers.get("Location"))
    return _record(db, item_id, ok=False, retry=answer.retryable, retry_cap=retry_cap,
                   error=answer.describe())


def _record(db: Database, item_id: int, *, ok: bool, retry: bool, retry_cap: float,
            error: str | None = None, location: str | None = None) -> str:
    now = utcnow()
    with db.session() as session:
        item = session.get(OcpiOutbox, item_id)
        partner = session.get(OcpiPartner, item.partner_id)
        item.attempts += 1
        if ok:
            item.state, item.sent_at, item.last_error = OutboxState.SENT, now, None
            partner.last_push_at = now
            if partner.last_error is not None:
                # The partner is back: what waits for it need not sit out its backoff.
                partner.last_error = None
                session.execute(update(OcpiOutbox).where(
                    OcpiOutbox.partner_id == partner.id,
                    OcpiOutbox.state == OutboxState.PENDING, OcpiOutbox.attempts > 0,
                    OcpiOutbox.next_attempt_at > now).values(next_attempt_at=now))
            if item.module == "cdrs":
                cdr = session.scalar(select(OcpiCdr).where(OcpiCdr.ocpi_id == item.body["id"]))
                if cdr is not None:
                    cdr.acknowledged_at, cdr.partner_url = now, location
            return "sent"
        item.last_error = (error or "")[:300]
        partner.last_error, partner.last_error_at = item.last_error, now
        if retry:
            item.next_attempt_at = now + _backoff(item.attempts, retry_cap)
            log.warning("OCPI push %s %s to %s failed (attempt %s): %s", item.method,
                        item.object_key, partner.name, item.attempts, error)
            return "retry"
        item.state = OutboxState.REJECTED
        log.error("OCPI push %s %s rejected by %s: %s", item.method, item.object_key,
                  partner.name, error)
        return "rejected"


@dataclass(frozen=True)
class Backlog:
    """Per partner: pushes waiting, and the oldest one's age in seconds."""

    pending: int
    oldest_seconds: float | None


def backlog(db: Database) -> dict[int, Backlog]:
    """The unsent pushes of each partner."""
    now = utcnow()
    with db.session() as session:
        rows = session.execute(
            select(OcpiOutbox.partner_id, func.count(), func.min(OcpiOutbox.created_at))
            .where(OcpiOutbox.state == OutboxState.PENDING)
            .group_by(OcpiOutbox.partner_id)).all()
    return {partner_id: Backlog(count, (now - oldest).total_seconds() if oldest else None)
            for partner_id, count, oldest in rows}
