"""Voltspot's sites, tariffs and sessions as OCPI 2.2.1 objects.

Builders take rows inside the caller's transaction and return JSON-safe dicts. An
object's ``last_updated`` is when its content last changed, as recorded by the change
scan (:mod:`voltspot.services.roaming.outbox`), so the same content always has the same
time and date filters work.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from voltspot.domain import ocpi
from voltspot.domain.pricing import TariffDimension, TariffTerms
from voltspot.domain.statuses import ConnectorType
from voltspot.models import ChargingSession, Connector, Site, Station, Tariff
from voltspot.models.roaming import OcpiPartner, OcpiSession, PartnerState
from voltspot.services.charging.billing import terms_of
from voltspot.services.roaming.identity import Identity
from voltspot.services.roaming.timestamps import ocpi_time

CAPABILITIES = ["REMOTE_START_STOP_CAPABLE", "UNLOCK_CAPABLE", "RFID_READER"]


def digest_of(data: Any) -> str:
    """A stable digest of a JSON-safe object (what "changed" means for the scan)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def location_key(site_id: int) -> str:
    return f"location:{site_id}"


def evse_key(connector_pk: int) -> str:
    return f"evse:{connector_pk}"


def tariff_key(tariff_id: int) -> str:
    return f"tariff:{tariff_id}"


def session_key(session_id: int) -> str:
    return f"session:{session_id}"


def published_sites(session: Session, owner_id: int | None = None,
                    site_id: int | None = None) -> list[Site]:
    """The sites published to roaming that can be (they have coordinates), in id
    order, with stations and connectors loaded; ``owner_id``: only that owner's."""
    query = (select(Site).where(Site.publish_to_roaming.is_(True),
                                Site.latitude.is_not(None), Site.longitude.is_not(None))
             .options(selectinload(Site.stations).selectinload(Station.connectors))
             .order_by(Site.id))
    if owner_id is not None:
        query = query.where(Site.owner_id == owner_id)
    if site_id is not None:
        query = query.where(Site.id == site_id)
    return list(session.scalars(query))


def evses_of(site: Site) -> list[tuple[Station, Connector]]:
    return [(station, connector) for station in sorted(site.stations, key=lambda s: s.id)
            for connector in station.connectors]


def location_content(site: Site, identity: Identity) -> dict[str, Any]:
    """The Location without statuses and times: what a change to the site or its
    stations alters (its digest decides a PUT)."""
    evses = []
    for station, connector in evses_of(site):
        evses.append({
            "uid": str(connector.id),
            "evse_id": connector.evse_id,
            "capabilities": CAPABILITIES,
            "physical_reference": f"{station.charge_point_id} #{connector.connector_id}",
            "connectors": [{
                "id": "1",
                **ocpi.connector_fields(connector.connector_type, connector.max_power_w),
                **({"tariff_ids": [str(connector.tariff_id)]} if connector.tariff_id else {}),
            }],
        })
    location: dict[str, Any] = {
        "country_code": identity.country_code,
        "party_id": identity.party_id,
        "id": str(site.id),
        "publish": True,
        "name": site.name[:255],
        "address": (site.address or site.name)[:45],
        "city": (site.city or "-")[:45],
        "postal_code": site.postal_code[:10] or None,
        "country": ocpi.alpha3(site.country),
        "coordinates": {"latitude": f"{site.latitude:.6f}",
                        "longitude": f"{site.longitude:.6f}"},
        "evses": evses,
        "operator": {"name": identity.name},
        "time_zone": site.timezone,
        "opening_times": ocpi.opening_times(site.opening_hours),
        "charging_when_closed": True,
    }
    if site.help_phone:
        # AFIR asks for a support phone; OCPI 2.2.1 has no field for it but directions.
        location["directions"] = [{"language": "en", "text": f"Help: {site.help_phone}"}]
    return {key: value for key, value in location.items() if value is not None}


def evse_state(station: Station, connector: Connector) -> dict[str, Any]:
    """What the EVSE status PATCH carries (its digest decides a PATCH)."""
    return {"status": ocpi.evse_status(connector.status, station.connected)}


def render_location(site: Site, identity: Identity, stamps: Mapping[str, datetime],
                    fallback: datetime) -> dict[str, Any]:
    """The full Location with statuses and ``last_updated`` times (``stamps``: the
    change scan's times by key; ``fallback`` for objects not scanned yet)."""
    location = location_content(site, identity)
    site_stamp = stamps.get(location_key(site.id), fallback)
    newest = site_stamp
    for evse, (station, connector) in zip(location["evses"], evses_of(site), strict=True):
        stamp = max(site_stamp, stamps.get(evse_key(connector.id), fallback))
        newest = max(newest, stamp)
        evse.update(evse_state(station, connector))
        evse["last_updated"] = ocpi_time(stamp)
        for plug in evse["connectors"]:
            plug["last_updated"] = ocpi_time(site_stamp)
    location["last_updated"] = ocpi_time(newest)
    return location


def tariffs_of(session: Session, sites: Iterable[Site]) -> list[tuple[Tariff, Site]]:
    """The tariffs on the connectors of ``sites``, each with the site whose time zone
    reads its windows (its own site, else the first using it), in id order."""
    using: dict[int, Site] = {}
    for site in sites:
        for _, connector in evses_of(site):
            if connector.tariff_id is not None:
                using.setdefault(connector.tariff_id, site)
    if not using:
        return []
    tariffs = session.scalars(select(Tariff).where(Tariff.id.in_(using))
                              .order_by(Tariff.id)).all()
    by_site = {site.id: site for site in sites}
    return [(tariff, by_site.get(tariff.site_id or -1, using[tariff.id])) for tariff in tariffs]


def tariff_content(tariff_id: int, terms: TariffTerms, identity: Identity) -> dict[str, Any]:
    """An OCPI Tariff for ``terms`` (without ``last_updated``)."""
    return {
        "country_code": identity.country_code,
        "party_id": identity.party_id,
        "id": str(tariff_id),
        "currency": terms.currency,
        "type": "REGULAR",
        "tariff_alt_text": ocpi.tariff_alt_text(terms),
        "elements": ocpi.tariff_elements(terms),
    }


def render_tariff(tariff: Tariff, site: Site, identity: Identity,
                  stamps: Mapping[str, datetime], fallback: datetime) -> dict[str, Any]:
    data = tariff_content(tariff.id, terms_of(tariff, site), identity)
    data["last_updated"] = ocpi_time(stamps.get(tariff_key(tariff.id), fallback))
    return data


def _price(amount_minor: int | None, currency: str, vat_basis_points: int) -> dict[str, float]:
    terms = TariffTerms(currency=currency, vat_rate_basis_points=vat_basis_points)
    return ocpi.price(amount_minor or 0, terms)


def _currency(charging: ChargingSession) -> str:
    if charging.currency:
        return charging.currency
    if charging.price:
        return charging.price["currency"]
    site = charging.station.site
    return site.currency if site else "EUR"


def _vat(charging: ChargingSession) -> int:
    return charging.price.get("vat_rate_basis_points", 0) if charging.price else 0


def price_of(amount_minor: int, charging: ChargingSession) -> dict[str, float]:
    """An amount of the session's currency as an OCPI Price (VAT at the session's rate)."""
    return _price(amount_minor, _currency(charging), _vat(charging))


def session_object(charging: ChargingSession, roaming: OcpiSession, identity: Identity,
                   now: datetime) -> dict[str, Any]:
    """The OCPI Session of a roaming charging session as it stands at ``now``."""
    currency = _currency(charging)
    data: dict[str, Any] = {
        "country_code": identity.country_code,
        "party_id": identity.party_id,
        "id": roaming.ocpi_id,
        "start_date_time": ocpi_time(charging.started_at or charging.created_at),
        "kwh": round(charging.energy_wh / 1000, 3),
        "cdr_token": roaming.cdr_token,
        "auth_method": roaming.auth_method,
        "location_id": roaming.location_id,
        "evse_uid": roaming.evse_uid,
        "connector_id": roaming.connector_id,
        "currency": currency,
        "status": ocpi.session_status(charging.status),
        "last_updated": ocpi_time(now),
    }
    if roaming.authorization_reference:
        data["authorization_reference"] = roaming.authorization_reference
    if charging.stopped_at is not None:
        data["end_date_time"] = ocpi_time(charging.stopped_at)
    if charging.cost is not None:
        data["total_cost"] = _price(charging.cost, currency, _vat(charging))
    return data


def session_progress(charging: ChargingSession, cost: int | None) -> dict[str, Any]:
    """What a session PATCH tells: status, kWh, cost so far (its change decides one)."""
    return {"status": ocpi.session_status(charging.status),
            "kwh": round(charging.energy_wh / 1000, 3), "cost": cost}


def _hours(seconds: float) -> float:
    return round(max(seconds, 0) / 3600, 4)


def cdr_object(charging: ChargingSession, roaming: OcpiSession, site: Site, station: Station,
               connector: Connector | None, cdr_id: str, identity: Identity,
               now: datetime) -> dict[str, Any]:
    """The CDR of a finished roaming session: the tariff as it was when it started (the
    terms frozen on the session), one charging period with its energy, charging time and
    parking time, and the totals of the session's bill."""
    currency = _currency(charging)
    vat = _vat(charging)
    start = charging.started_at or charging.created_at
    end = charging.stopped_at or now
    total_seconds = (end - start).total_seconds()
    charging_end = min(charging.charging_ended_at or end, end)
    charging_seconds = max((charging_end - start).total_seconds(), 0)
    parking_seconds = max(total_seconds - charging_seconds, 0)
    dimensions = [{"type": "ENERGY", "volume": round(charging.energy_wh / 1000, 3)},
                  {"type": "TIME", "volume": _hours(charging_seconds)}]
    if parking_seconds:
        dimensions.append({"type": "PARKING_TIME", "volume": _hours(parking_seconds)})
    plug = ocpi.connector_fields(connector.connector_type, connector.max_power_w) \
        if connector is not None else ocpi.connector_fields(ConnectorType.TYPE2, 22000)
    data: dict[str, Any] = {
        "country_code": identity.country_code,
        "party_id": identity.party_id,
        "id": cdr_id,
        "start_date_time": ocpi_time(start),
        "end_date_time": ocpi_time(end),
        "session_id": roaming.ocpi_id,
        "cdr_token": roaming.cdr_token,
        "auth_method": roaming.auth_method,
        "cdr_location": {
            "id": roaming.location_id,
            "name": site.name[:255],
            "address": (site.address or site.name)[:45],
            "city": (site.city or "-")[:45],
            "postal_code": site.postal_code[:10] or None,
            "country": ocpi.alpha3(site.country),
            "coordinates": {"latitude": f"{site.latitude or 0:.6f}",
                            "longitude": f"{site.longitude or 0:.6f}"},
            "evse_uid": roaming.evse_uid,
            "evse_id": connector.evse_id if connector is not None else roaming.evse_uid,
            "connector_id": roaming.connector_id,
            "connector_standard": plug["standard"],
            "connector_format": plug["format"],
            "connector_power_type": plug["power_type"],
        },
        "currency": currency,
        "charging_periods": [{"start_date_time": ocpi_time(start), "dimensions": dimensions}],
        "total_cost": _price(charging.cost, currency, vat),
        "total_energy": round(charging.energy_wh / 1000, 3),
        "total_time": _hours(total_seconds),
        "total_parking_time": _hours(parking_seconds),
        "last_updated": ocpi_time(now),
    }
    data["cdr_location"] = {k: v for k, v in data["cdr_location"].items() if v is not None}
    if roaming.authorization_reference:
        data["authorization_reference"] = roaming.authorization_reference
    if charging.price:
        terms = TariffTerms.from_dict(charging.price)
        tariff = tariff_content(charging.tariff_id or 0, terms, identity)
        tariff["last_updated"] = ocpi_time(start)
        data["tariffs"] = [tariff]
        data["charging_periods"][0]["tariff_id"] = tariff["id"]
        amounts = _amounts_by_kind(charging.bill)
        for kind, field in ((TariffDimension.ENERGY, "total_energy_cost"),
                            (TariffDimension.TIME, "total_time_cost"),
                            (TariffDimension.FLAT, "total_fixed_cost"),
                            (TariffDimension.PARKING_TIME, "total_parking_cost")):
            if amounts.get(kind):
                data[field] = _price(amounts[kind], currency, vat)
    return data


def _amounts_by_kind(bill: Mapping[str, Any] | None) -> dict[str, int]:
    amounts: dict[str, int] = {}
    for line in (bill or {}).get("lines", []):
        amounts[line["kind"]] = amounts.get(line["kind"], 0) + int(line["amount"])
    return amounts


def registered_partners(session: Session) -> list[OcpiPartner]:
    return list(session.scalars(select(OcpiPartner).where(
        OcpiPartner.state == PartnerState.REGISTERED).order_by(OcpiPartner.id)))


def partners_seeing(partners: Iterable[OcpiPartner], site: Site) -> list[OcpiPartner]:
    """Of ``partners``, those a published site goes to: network-wide partners see every
    site, an owner's partner that owner's sites."""
    return [partner for partner in partners
            if partner.owner_id is None or partner.owner_id == site.owner_id]
