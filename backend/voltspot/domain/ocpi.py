"""OCPI 2.2.1 vocabulary for Voltspot's own things: EVSE statuses, connector standards and
power, countries, and tariffs as OCPI TariffElements (see the "OCPI mapping" section of
:mod:`voltspot.domain.pricing`). Pure functions, no database."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from voltspot.domain.pricing import TariffTerms, TimeBasis, minor_digits, price_summary
from voltspot.domain.statuses import ConnectorStatus, ConnectorType, SessionStatus

_EVSE_STATUS = {
    ConnectorStatus.AVAILABLE: "AVAILABLE",
    ConnectorStatus.PREPARING: "CHARGING",
    ConnectorStatus.CHARGING: "CHARGING",
    ConnectorStatus.SUSPENDED_EV: "CHARGING",
    ConnectorStatus.SUSPENDED_EVSE: "CHARGING",
    # The car is still on the plug after charging: nobody else can use it.
    ConnectorStatus.FINISHING: "BLOCKED",
    ConnectorStatus.RESERVED: "RESERVED",
    ConnectorStatus.UNAVAILABLE: "INOPERATIVE",
    ConnectorStatus.FAULTED: "OUTOFORDER",
    ConnectorStatus.UNKNOWN: "UNKNOWN",
}


def evse_status(status: ConnectorStatus | None, online: bool) -> str:
    """The OCPI EVSE status of a plug; a station that is not connected is UNKNOWN (what
    it last said may no longer be true)."""
    if not online or status is None:
        return "UNKNOWN"
    return _EVSE_STATUS.get(status, "UNKNOWN")


# Connector type → (standard, format, power type).
_CONNECTORS = {
    ConnectorType.TYPE2: ("IEC_62196_T2", "SOCKET", "AC_3_PHASE"),
    ConnectorType.CCS2: ("IEC_62196_T2_COMBO", "CABLE", "DC"),
    ConnectorType.CHADEMO: ("CHADEMO", "CABLE", "DC"),
    ConnectorType.TYPE1: ("IEC_62196_T1", "CABLE", "AC_1_PHASE"),
    ConnectorType.SCHUKO: ("DOMESTIC_F", "SOCKET", "AC_1_PHASE"),
}
# Nominal voltage per power type (line-to-line for three phases, a typical DC maximum).
_VOLTAGE = {"AC_1_PHASE": 230, "AC_3_PHASE": 400, "DC": 920}


def connector_fields(connector_type: ConnectorType, max_power_w: int) -> dict[str, Any]:
    """``standard``, ``format``, ``power_type``, ``max_voltage``, ``max_amperage`` and
    ``max_electric_power`` of an OCPI Connector."""
    standard, fmt, power_type = _CONNECTORS.get(connector_type,
                                                ("IEC_62196_T2", "SOCKET", "AC_3_PHASE"))
    voltage = _VOLTAGE[power_type]
    divisor = voltage * (3 ** 0.5) if power_type == "AC_3_PHASE" else voltage
    return {"standard": standard, "format": fmt, "power_type": power_type,
            "max_voltage": voltage, "max_amperage": max(1, round(max_power_w / divisor)),
            "max_electric_power": max_power_w}


_ALPHA3 = {
    "AT": "AUT", "BE": "BEL", "BG": "BGR", "CH": "CHE", "CY": "CYP", "CZ": "CZE",
    "DE": "DEU", "DK": "DNK", "EE": "EST", "ES": "ESP", "FI": "FIN", "FR": "FRA",
    "GB": "GBR", "GR": "GRC", "HR": "HRV", "HU": "HUN", "IE": "IRL", "IS": "ISL",
    "IT": "ITA", "LI": "LIE", "LT": "LTU", "LU": "LUX", "LV": "LVA", "MT": "MLT",
    "NL": "NLD", "NO": "NOR", "PL": "POL", "PT": "PRT", "RO": "ROU", "SE": "SWE",
    "SI": "SVN", "SK": "SVK", "UA": "UKR", "US": "USA", "CA": "CAN", "AU": "AUS",
    "NZ": "NZL", "UK": "GBR",
}


def alpha3(country: str) -> str:
    """ISO 3166-1 alpha-3 for a site's alpha-2 country (OCPI Location.country). Raises
    :class:`ValueError` for a country not in the table."""
    try:
        return _ALPHA3[country.upper()]
    except KeyError:
        raise ValueError(f"no ISO 3166-1 alpha-3 code known for {country!r}") from None


_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")


def opening_times(text: str) -> dict[str, Any] | None:
    """OCPI Hours for a site's opening hours: "24/7", or one daily "08:00-20:00"; None
    when the text says something else (the field is then left out: unknown)."""
    if text.strip().lower() in ("24/7", "24h", "always"):
        return {"twentyfourseven": True}
    match = _HOURS.match(text)
    if not match:
        return None
    start = f"{int(match[1]):02d}:{match[2]}"
    end = f"{int(match[3]):02d}:{match[4]}"
    return {"twentyfourseven": False, "regular_hours": [
        {"weekday": day, "period_begin": start, "period_end": end} for day in range(1, 8)]}


_WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_FOUR_PLACES = Decimal("0.0001")


def _excl_vat(amount_major: Decimal, terms: TariffTerms) -> float:
    rate = Decimal(terms.vat_rate_basis_points) / Decimal(10000)
    return float((amount_major / (1 + rate)).quantize(_FOUR_PLACES, ROUND_HALF_UP))


def unit_price_major(price_centi_minor: int, currency: str) -> Decimal:
    """A unit price in 1/100 minor units as a decimal of the major unit (3900 → 0.39)."""
    return Decimal(price_centi_minor).scaleb(-2 - minor_digits(currency))


def money_major(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-minor_digits(currency))


def price(amount_minor: int, terms: TariffTerms) -> dict[str, float]:
    """An OCPI Price (``excl_vat``, ``incl_vat``) for an amount in minor units, VAT
    included as all Voltspot amounts are."""
    incl = money_major(amount_minor, terms.currency)
    return {"excl_vat": _excl_vat(incl, terms), "incl_vat": float(incl)}


def _components(terms: TariffTerms, energy: int | None, per_minute: int | None,
                idle: int | None, session_fee: int | None) -> list[dict[str, Any]]:
    vat = terms.vat_rate_basis_points / 100
    currency = terms.currency
    components: list[dict[str, Any]] = []

    def add(kind: str, amount: Decimal) -> None:
        components.append({"type": kind, "price": _excl_vat(amount, terms), "vat": vat,
                           "step_size": 1})

    if energy:
        add("ENERGY", unit_price_major(energy, currency))
    if per_minute:
        add("TIME", unit_price_major(per_minute, currency) * 60)
    parking = Decimal(0)
    if per_minute and terms.time_price_basis == TimeBasis.CONNECTION:
        parking += unit_price_major(per_minute, currency) * 60
    if idle:
        parking += unit_price_major(idle, currency) * 60
    if parking:
        add("PARKING_TIME", parking)
    if session_fee:
        add("FLAT", money_major(session_fee, currency))
    return components


def tariff_elements(terms: TariffTerms) -> list[dict[str, Any]]:
    """The terms as OCPI TariffElements: one per price window (restricted to its days
    and times, carrying only the prices it overrides), then the base prices. OCPI takes,
    per dimension, the first element that applies, as :func:`~voltspot.domain.pricing.
    price_session` does. A tariff that charges nothing is one FLAT element of 0."""
    elements = []
    for window in terms.windows:
        restrictions: dict[str, Any] = {}
        if len(window.days) < 7:
            restrictions["day_of_week"] = [_WEEKDAYS[d] for d in sorted(window.days)]
        if window.start != window.end:
            restrictions["start_time"] = f"{window.start:%H:%M}"
            restrictions["end_time"] = f"{window.end:%H:%M}"
        components = _components(terms, window.energy_price_per_kwh,
                                 window.time_price_per_minute, window.idle_fee_per_minute,
                                 None)
        if components:
            elements.append({"price_components": components, "restrictions": restrictions})
    base = _components(terms, terms.energy_price_per_kwh, terms.time_price_per_minute,
                       terms.idle_fee_per_minute, terms.session_fee)
    if base or not elements:
        elements.append({"price_components": base or [
            {"type": "FLAT", "price": 0, "vat": terms.vat_rate_basis_points / 100,
             "step_size": 1}]})
    return elements


def tariff_alt_text(terms: TariffTerms) -> list[dict[str, str]]:
    """The prices in words, as the plug page shows them (grace period and idle cap
    included, which OCPI has no field for)."""
    return [{"language": "en", "text": "; ".join(price_summary(terms))}]


_SESSION_STATUS = {
    SessionStatus.CREATED: "PENDING",
    SessionStatus.AUTHORISED: "PENDING",
    SessionStatus.STARTING: "PENDING",
    SessionStatus.CHARGING: "ACTIVE",
    SessionStatus.SUSPENDED: "ACTIVE",
    SessionStatus.FINISHING: "ACTIVE",
    SessionStatus.COMPLETED: "COMPLETED",
    SessionStatus.FAILED: "INVALID",
}


def session_status(status: SessionStatus) -> str:
    """The OCPI SessionStatus of a charging session's state."""
    return _SESSION_STATUS[status]
