"""The site meter: a meter or energy manager posts the building's other load, so the cars
share only what is left. Authenticated by a key per site, shown to the owner once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from voltspot.db import Database
from voltspot.domain import load as allocator
from voltspot.models import SiteLoadSettings, SiteMeterReading, utcnow
from voltspot.services.errors import InvalidInput, NotFound, ServiceError
from voltspot.services.messages import N_
from voltspot.services.owner.accounts import Viewer, owned_site

MAX_READING_AMPS = 4000.0
READINGS_KEPT = timedelta(days=1)


class MeterKeyInvalid(ServiceError):
    """The key a meter presented is not this site's."""


@dataclass(frozen=True)
class MeterStatus:
    """A site's meter as the owner sees it."""

    configured: bool
    last_reading_at: datetime | None
    last_amps: tuple[float, float, float] | None
    max_age_seconds: int
    fallback_amps: float


def _hash(key: str) -> str:
    # Keys are 256 random bits: a plain digest is enough (no dictionary to defend against).
    return hashlib.sha256(key.encode()).hexdigest()


def new_meter_key(db: Database, viewer: Viewer, site_id: int,
                  form: Mapping[str, str]) -> str:
    """Give the site a new meter key (the old one stops working) and the owner's
    ``fallback_amps`` (other load assumed once readings are ``max_age`` seconds old).
    Returns the key, shown once. Raises :class:`InvalidInput` when the site has no limit."""
    with db.session() as session:
        site = owned_site(session, viewer, site_id)
        settings = session.get(SiteLoadSettings, site.id)
        if settings is None:
            raise InvalidInput(N_("set the site's connection limit first"))
        try:
            fallback = float(form.get("fallback_amps") or settings.meter_fallback_amps)
            max_age = int(form.get("max_age") or settings.meter_max_age_seconds)
        except ValueError:
            raise InvalidInput(N_("the fallback and the age must be numbers")) from None
        if not 0 <= fallback <= settings.limit_amps or not 10 <= max_age <= 3600:
            raise InvalidInput(N_("the fallback is between 0 A and the site's limit, the age "
                                  "between 10 and 3600 seconds"))
        key = secrets.token_urlsafe(32)
        settings.meter_key_hash = _hash(key)
        settings.meter_fallback_amps = fallback
        settings.meter_max_age_seconds = max_age
        return key


def meter_status(db: Database, viewer: Viewer, site_id: int) -> MeterStatus:
    with db.session() as session:
        site = owned_site(session, viewer, site_id)
        settings = session.get(SiteLoadSettings, site.id)
        if settings is None:
            return MeterStatus(False, None, None, 120, 0.0)
        last = session.scalar(select(SiteMeterReading).where(
            SiteMeterReading.site_id == site.id)
            .order_by(SiteMeterReading.taken_at.desc()).limit(1))
        return MeterStatus(
            settings.meter_key_hash is not None, last.taken_at if last else None,
            (last.l1_amps, last.l2_amps, last.l3_amps) if last else None,
            settings.meter_max_age_seconds, settings.meter_fallback_amps)


def record_reading(db: Database, site_id: int, key: str, reading: Mapping[str, object]
                   ) -> int:
    """Store a meter's reading of the building's other load: ``l1``, ``l2``, ``l3`` in
    amps, or ``kw`` (spread evenly over the site's phases). Returns the site id (for the
    caller to have its load recomputed). Raises :class:`MeterKeyInvalid`,
    :class:`NotFound` and :class:`InvalidInput`."""
    with db.session() as session:
        settings = session.get(SiteLoadSettings, site_id)
        if settings is None:
            raise NotFound("this site's load is not managed")
        if settings.meter_key_hash is None or not hmac.compare_digest(
                settings.meter_key_hash, _hash(key)):
            raise MeterKeyInvalid("not this site's meter key")
        try:
            if "kw" in reading:
                per_phase = allocator.kw_to_amps(float(reading["kw"]),  # type: ignore[arg-type]
                                                 settings.phases)
                amps = tuple(per_phase if n < settings.phases else 0.0 for n in range(3))
            else:
                amps = tuple(float(reading.get(name, 0.0))  # type: ignore[arg-type]
                             for name in ("l1", "l2", "l3"))
        except (TypeError, ValueError):
            raise InvalidInput("send l1, l2 and l3 in amps, or kw, as numbers") from None
        if any(not 0 <= value <= MAX_READING_AMPS for value in amps):
            raise InvalidInput(f"each phase is between 0 and {MAX_READING_AMPS:g} A")
        now = utcnow()
        session.add(SiteMeterReading(site_id=site_id, taken_at=now, l1_amps=amps[0],
                                     l2_amps=amps[1], l3_amps=amps[2]))
        # Only the latest reading counts; a day is kept for looking back.
        session.execute(delete(SiteMeterReading).where(
            SiteMeterReading.site_id == site_id, SiteMeterReading.taken_at < now - READINGS_KEPT))
        return site_id
