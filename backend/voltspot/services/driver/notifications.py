"""Telling drivers when it matters, by Web Push: the installation's VAPID keys, the
devices that asked to be told about a session, and the notices queued for them and sent.

Nothing here runs on the OCPP path. A once-only job (see :func:`push_loop`) looks at the
sessions someone subscribed to, queues the notices that became due
(:func:`queue_due`, rules in :mod:`voltspot.domain.notifications`) and sends what is queued
(:func:`send_due`), each notice once per device; the stop at the card hold queues its own
notice in the payment job's transaction (:func:`queue_notice`). A push service that
answers 404 or 410 has forgotten the subscription: it is removed. Other failures are
retried with backoff until the notice is stale.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, literal, select, update
from sqlalchemy.orm import Session

from voltspot.db import Database, insert_unless_present
from voltspot.domain.notifications import (
    STALE_AFTER,
    NoticeKind,
    SessionFacts,
    due_notices,
    idle_minutes_left,
    retry_delay,
)
from voltspot.models import ChargingSession, Site, Station, utcnow
from voltspot.models.push import PushKeys, PushNotice, PushSubscription
from voltspot.services.charging.billing import bill_for, frozen_terms
from voltspot.services.errors import Conflict, InvalidInput, NotFound
from voltspot.services.messages import N_

log = logging.getLogger(__name__)

_KEYS_ROW = 1
# A session's devices: a phone or two, not a list someone fills to make us send.
MAX_DEVICES_PER_SESSION = 5
# Subscriptions of sessions that ended longer ago than this are forgotten.
FORGET_AFTER = timedelta(days=1)
# How long a push service keeps a notice for a phone that is off (seconds, the TTL header).
NOTICE_TTL = int(STALE_AFTER.total_seconds())
_SENT = {200, 201, 202}
_GONE = {404, 410}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the VAPID key pair ------------------------------------------------------------------

@dataclass(frozen=True)
class VapidKeys:
    """The installation's VAPID key pair: the private key as PEM, the public key as the
    browser's ``applicationServerKey`` wants it (uncompressed point, base64url)."""

    private_key_pem: str
    public_key: str


def vapid_keys(db: Database) -> VapidKeys:
    """The installation's VAPID key pair, made on the first call and kept in the database
    for good (every process of a cluster reads the same pair; of several making it at once,
    one's is kept)."""
    with db.session() as session:
        row = session.get(PushKeys, _KEYS_ROW)
        if row is not None:
            return VapidKeys(row.private_key_pem, row.public_key)
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = _b64url(private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    with db.session() as session:
        session.execute(insert_unless_present(session, PushKeys).values(
            id=_KEYS_ROW, private_key_pem=pem, public_key=public, created_at=utcnow()))
    with db.session() as session:
        row = session.get(PushKeys, _KEYS_ROW)
        if row.public_key == public:
            log.info("made the installation's Web Push (VAPID) key pair")
        return VapidKeys(row.private_key_pem, row.public_key)


def vapid_subject(contact: str, public_url: str) -> str:
    """The VAPID ``sub`` claim: the configured contact, else the public URL when it is
    https, else a mailto: address push services accept (a development server)."""
    if contact:
        return contact
    if public_url.startswith("https://"):
        return public_url.rstrip("/")
    return "mailto:operator@localhost"


# --- subscriptions -----------------------------------------------------------------------

def _started_session(session: Session, token: str) -> ChargingSession:
    charging = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
    if charging is None:
        raise NotFound(N_("This session link is not valid. Check that you opened the whole "
                          "link."))
    if not charging.status.is_open:
        raise Conflict(N_("This session has ended, so there is nothing more to tell you."))
    if not charging.status.has_transaction:
        raise Conflict(N_("You can ask to be told once charging has started."))
    return charging


def _local_host(host: str) -> bool:
    """Whether ``host`` names this machine or a private network: never a push service,
    and not a place a stranger's subscription may make the server post to."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def _check_subscription(endpoint: str, p256dh: str, auth: str, allow_http: bool) -> None:
    parts = urlsplit(endpoint)
    usable = parts.scheme == "https" or (allow_http and parts.scheme == "http")
    if not usable or not parts.hostname or len(endpoint) > 1000 \
            or (not allow_http and _local_host(parts.hostname)):
        raise InvalidInput(N_("Your browser gave no usable push address."))
    try:
        key, secret = _unb64url(p256dh), _unb64url(auth)
    except (binascii.Error, ValueError):
        raise InvalidInput(N_("Your browser gave no usable push keys.")) from None
    if len(key) != 65 or key[0] != 4 or len(secret) != 16:
        raise InvalidInput(N_("Your browser gave no usable push keys."))


def subscribe(db: Database, token: str, *, endpoint: str, p256dh: str, auth: str,
              language: str, allow_http: bool = False) -> None:
    """Tell this device (its Push API subscription) when the session behind ``token``
    needs the driver, in ``language``. Only once charging has started; the same device
    again updates its keys and language. ``allow_http``: accept a plain-http endpoint
    (tests; browsers' push services are all https), and one on this machine or a private
    network (refused otherwise). Raises :class:`NotFound`,
    :class:`Conflict` (not started, ended, too many devices) or :class:`InvalidInput`."""
    _check_subscription(endpoint, p256dh, auth, allow_http)
    with db.session() as session:
        charging = _started_session(session, token)
        existing = session.scalar(select(PushSubscription).where(
            PushSubscription.session_id == charging.id, PushSubscription.endpoint == endpoint))
        if existing is not None:
            existing.p256dh, existing.auth, existing.language = p256dh, auth, language
            return
        devices = session.scalars(select(PushSubscription.id).where(
            PushSubscription.session_id == charging.id)).all()
        if len(devices) >= MAX_DEVICES_PER_SESSION:
            raise Conflict(N_("Enough devices are told about this session already."))
        session.execute(insert_unless_present(session, PushSubscription).values(
            session_id=charging.id, endpoint=endpoint, p256dh=p256dh, auth=auth,
            language=language, created_at=utcnow()))


def unsubscribe(db: Database, token: str, endpoint: str) -> bool:
    """Stop telling the device of ``endpoint`` about the session behind ``token``;
    False when it was not told. Raises :class:`NotFound` for a token of no session."""
    with db.session() as session:
        session_id = session.scalar(select(ChargingSession.id).where(
            ChargingSession.token == token))
        if session_id is None:
            raise NotFound(N_("This session link is not valid."))
        return _forget(session, PushSubscription.session_id == session_id,
                       PushSubscription.endpoint == endpoint) > 0


def _forget(session: Session, *where) -> int:
    """Delete subscriptions and their notices (no reliance on ON DELETE CASCADE: SQLite
    enforces foreign keys only when asked)."""
    ids = session.scalars(select(PushSubscription.id).where(*where)).all()
    if not ids:
        return 0
    session.execute(delete(PushNotice).where(PushNotice.subscription_id.in_(ids)))
    session.execute(delete(PushSubscription).where(PushSubscription.id.in_(ids)))
    return len(ids)


# --- queueing ----------------------------------------------------------------------------

def queue_notice(session: Session, session_id: int, kind: NoticeKind) -> None:
    """Queue ``kind`` for every device told about the session, in the caller's
    transaction (the change that makes it due and the notice commit together)."""
    now = utcnow()
    session.execute(insert_unless_present(session, PushNotice).from_select(
        ["subscription_id", "kind", "created_at", "next_attempt_at", "attempts"],
        select(PushSubscription.id, literal(str(kind)), literal(now, PushNotice.created_at.type),
               literal(now, PushNotice.next_attempt_at.type), literal(0))
        .where(PushSubscription.session_id == session_id)))


def _facts(charging: ChargingSession) -> SessionFacts:
    terms = frozen_terms(charging)
    return SessionFacts(
        ended=not charging.status.is_open, stop_reason=charging.stop_reason,
        car_paused_at=charging.charging_ended_at if charging.status.is_open else None,
        energy_wh=charging.energy_wh,
        idle_fee=bool(terms and terms.idle_fee_per_minute),
        idle_grace=timedelta(minutes=terms.idle_grace_minutes if terms else 0))


def queue_due(db: Database, now: datetime | None = None) -> int:
    """Queue the notices that became due for the sessions devices are told about, each
    kind once per device, and forget the devices of sessions long over; returns how many
    notices were queued."""
    now = now or utcnow()
    queued = 0
    with db.session() as session:
        _forget(session, PushSubscription.id.in_(
            select(PushSubscription.id)
            .join(ChargingSession, ChargingSession.id == PushSubscription.session_id)
            .where(ChargingSession.stopped_at < now - FORGET_AFTER)))
        # Only a paused car or a recent end can make a notice due: sessions still charging
        # (most of them, most of the time) are not read.
        rows = session.execute(
            select(PushSubscription.id, ChargingSession)
            .join(ChargingSession, ChargingSession.id == PushSubscription.session_id)
            .where((ChargingSession.stopped_at.is_(None)
                    & ChargingSession.charging_ended_at.is_not(None))
                   | (ChargingSession.stopped_at > now - STALE_AFTER))).all()
        if not rows:
            return 0
        known = {(subscription_id, kind) for subscription_id, kind in session.execute(
            select(PushNotice.subscription_id, PushNotice.kind).where(
                PushNotice.subscription_id.in_([subscription_id for subscription_id, _ in rows])))}
        for subscription_id, charging in rows:
            for kind in due_notices(_facts(charging), now):
                if (subscription_id, kind) in known:
                    continue
                session.execute(insert_unless_present(session, PushNotice).values(
                    subscription_id=subscription_id, kind=kind, created_at=now,
                    next_attempt_at=now, attempts=0))
                queued += 1
    return queued


# --- sending -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Notice:
    """What a notice says, before it is put into words: ``kind``, in ``language``, about the
    session behind ``token`` at ``site``. Money in minor units of ``currency`` (None when
    unknown); ``idle_fee_per_minute`` in 1/100 of the minor unit."""

    kind: NoticeKind
    language: str
    token: str
    site: str
    energy_wh: int
    cost: int | None
    currency: str | None
    hold_amount: int | None
    idle_fee_per_minute: int
    idle_minutes_left: int


@dataclass(frozen=True)
class PushTarget:
    """Where a notice goes: the Push API subscription (endpoint, p256dh, auth)."""

    endpoint: str
    p256dh: str
    auth: str


class PushUnreachable(Exception):
    """The push service could not be reached (network, timeout)."""


class PushSender(Protocol):
    def send(self, target: PushTarget, payload: str) -> int:
        """Encrypt ``payload`` for ``target`` and post it to its push service; the HTTP
        status it answered. Raises :class:`PushUnreachable`."""
        ...


class WebPushSender:
    """Sends through ``pywebpush``: the payload encrypted for the subscription (RFC 8291,
    aes128gcm), signed with the VAPID key (RFC 8292)."""

    def __init__(self, keys: VapidKeys, subject: str, timeout: float = 10.0) -> None:
        self._vapid = Vapid.from_pem(keys.private_key_pem.encode())
        self._subject = subject
        self._timeout = timeout
        self._http = requests.Session()

    def send(self, target: PushTarget, payload: str) -> int:
        info = {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh,
                                                      "auth": target.auth}}
        try:
            response = webpush(info, data=payload, vapid_private_key=self._vapid,
                               # a fresh dict: pywebpush writes the audience into it
                               vapid_claims={"sub": self._subject}, ttl=NOTICE_TTL,
                               timeout=self._timeout, headers={"Urgency": "high"},
                               requests_session=self._http)
        except WebPushException as error:
            if error.status_code is None:
                raise PushUnreachable(error.message) from error
            return error.status_code
        except requests.RequestException as error:
            raise PushUnreachable(str(error)) from error
        return response.status_code


@dataclass(frozen=True)
class Sent:
    sent: int = 0
    removed: int = 0
    failed: int = 0
    dropped: int = 0


def _notice(session: Session, kind: NoticeKind, language: str, charging: ChargingSession,
            now: datetime) -> Notice:
    terms = frozen_terms(charging)
    bill = bill_for(session, charging, now)
    site = session.scalar(select(Site.name).join(Station, Station.site_id == Site.id)
                          .where(Station.id == charging.station_id))
    return Notice(
        kind=kind, language=language, token=charging.token, site=site or "",
        energy_wh=charging.energy_wh,
        cost=charging.cost if charging.cost is not None else (bill.total if bill else None),
        currency=charging.currency or (terms.currency if terms else None),
        hold_amount=charging.hold_amount,
        idle_fee_per_minute=terms.idle_fee_per_minute if terms else 0,
        idle_minutes_left=idle_minutes_left(_facts(charging), now))


def send_due(db: Database, sender: PushSender, words: Callable[[Notice], str],
             now: datetime | None = None, batch: int = 100) -> Sent:
    """Send the queued notices that are due, oldest first, up to ``batch``: each put into
    words by ``words`` (the payload the service worker shows) and sent by ``sender``
    outside any transaction. A notice older than :data:`STALE_AFTER` is dropped unsent."""
    now = now or utcnow()
    with db.session() as session:
        rows = session.execute(
            select(PushNotice.id, PushNotice.kind, PushNotice.created_at, PushNotice.attempts,
                   PushSubscription, ChargingSession)
            .join(PushSubscription, PushSubscription.id == PushNotice.subscription_id)
            .join(ChargingSession, ChargingSession.id == PushSubscription.session_id)
            .where(PushNotice.done_at.is_(None), PushNotice.next_attempt_at <= now)
            .order_by(PushNotice.id).limit(batch)).all()
        work = [(notice_id, attempts, created_at,
                 PushTarget(device.endpoint, device.p256dh, device.auth), device.id,
                 _notice(session, kind, device.language, charging, now))
                for notice_id, kind, created_at, attempts, device, charging in rows]
    outcome = {"sent": 0, "removed": 0, "failed": 0, "dropped": 0}
    for notice_id, attempts, created_at, target, device_id, notice in work:
        if created_at < now - STALE_AFTER:
            _settle(db, notice_id, now, "not sent in time")
            outcome["dropped"] += 1
            continue
        try:
            status = sender.send(target, words(notice))
            error = None if status in _SENT else f"push service answered {status}"
        except PushUnreachable as unreachable:
            status, error = None, f"push service unreachable: {unreachable}"[:300]
        if status in _SENT:
            _settle(db, notice_id, now, None)
            outcome["sent"] += 1
        elif status in _GONE:
            with db.session() as session:
                _forget(session, PushSubscription.id == device_id)
            log.info("push subscription %s is gone (%s); removed", device_id, status)
            outcome["removed"] += 1
        else:
            with db.session() as session:
                session.execute(update(PushNotice).where(PushNotice.id == notice_id).values(
                    attempts=attempts + 1, next_attempt_at=now + retry_delay(attempts + 1),
                    last_error=error))
            log.warning("push notice %s not sent, will retry: %s", notice_id, error)
            outcome["failed"] += 1
    return Sent(**outcome)


def _settle(db: Database, notice_id: int, now: datetime, error: str | None) -> None:
    with db.session() as session:
        session.execute(update(PushNotice).where(PushNotice.id == notice_id)
                        .values(done_at=now, last_error=error))


def push_round(db: Database, sender: PushSender, words: Callable[[Notice], str]) -> Sent:
    """One round of the push job: queue what became due, send what is queued."""
    queue_due(db)
    return send_due(db, sender, words)


def push_loop(db: Database, sender: PushSender, words: Callable[[Notice], str],
              every_seconds: float, once: Callable[[str, Callable[[], Sent]], object]) -> None:
    """Run :func:`push_round` every ``every_seconds`` for ever, in one process of the
    installation at a time (``once(job, work)``: the cluster's job lock), on a thread of
    its own so a slow push service delays no other job. A failed round is logged and the
    next one tries again."""
    while True:
        time.sleep(every_seconds)
        try:
            once("web-push", lambda: push_round(db, sender, words))
        except Exception:
            log.exception("push round failed; trying again in %s s", every_seconds)


def notice_payload(title: str, body: str, url: str, notice: Notice) -> str:
    """The JSON the service worker shows: title, body, the page a tap opens, and a tag
    (one notification per session and kind on the phone)."""
    return json.dumps({"title": title, "body": body, "url": url,
                       "tag": f"voltspot-{notice.token[:12]}-{notice.kind}"})
