"""A session's price: the terms frozen on it at creation and its bill from meter readings.

The same :func:`bill_for` gives the live cost while charging and the receipt at the end.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from voltspot.domain.meter import ENERGY_REGISTER, UNKNOWN_PLUG_POWER_W, billable_points
from voltspot.domain.pricing import Bill, PriceWindow, TariffTerms, Usage, price_session
from voltspot.models import ChargingSession, MeterSample, Site, Tariff


def terms_of(tariff: Tariff, site: Site | Row | None) -> TariffTerms:
    """The tariff as pricing terms, in the site's time zone (``site`` may be a row with
    the site's ``timezone`` column)."""
    return _terms(
        tariff.currency, tariff.vat_rate_basis_points, tariff.energy_price_per_kwh,
        tariff.time_price_per_minute, tariff.time_price_basis, tariff.session_fee,
        tariff.idle_fee_per_minute, tariff.idle_grace_minutes, tariff.idle_fee_cap,
        tariff.hold_amount, json.dumps(tariff.windows or [], sort_keys=True),
        site.timezone if site else "UTC")


# Terms are values: the same tariff row makes equal terms, and building them checks every
# price. A list of spots makes dozens per request, so each is built once.
@functools.lru_cache(maxsize=4096)
def _terms(currency: str, vat_rate_basis_points: int, energy_price_per_kwh: int,
           time_price_per_minute: int, time_price_basis: str, session_fee: int,
           idle_fee_per_minute: int, idle_grace_minutes: int, idle_fee_cap: int | None,
           hold_amount: int, windows_json: str, timezone: str) -> TariffTerms:
    return TariffTerms(
        currency=currency, vat_rate_basis_points=vat_rate_basis_points,
        energy_price_per_kwh=energy_price_per_kwh, time_price_per_minute=time_price_per_minute,
        time_price_basis=time_price_basis, session_fee=session_fee,
        idle_fee_per_minute=idle_fee_per_minute, idle_grace_minutes=idle_grace_minutes,
        idle_fee_cap=idle_fee_cap, hold_amount=hold_amount,
        windows=tuple(PriceWindow.from_dict(w) for w in json.loads(windows_json)),
        timezone=timezone)


def frozen_terms(charging: ChargingSession) -> TariffTerms | None:
    """The terms the session was started with, or None for a session without a price
    (a charger-started session on a plug with no tariff)."""
    return TariffTerms.from_dict(charging.price) if charging.price else None


def bill_for(session: Session, charging: ChargingSession, now: datetime) -> Bill | None:
    """The session's bill at ``now`` (live) or at its end; None when it has no price or
    has not started charging."""
    terms = frozen_terms(charging)
    if terms is None or charging.started_at is None or charging.meter_start_wh is None:
        return None
    readings = session.execute(
        select(MeterSample.taken_at, MeterSample.value).where(
            MeterSample.session_id == charging.id,
            MeterSample.measurand == ENERGY_REGISTER,
            MeterSample.phase.is_(None))).all()
    points = [(charging.started_at, float(charging.meter_start_wh))]
    points += [(at, value) for at, value in readings if at >= charging.started_at]
    if charging.stopped_at is not None and charging.meter_stop_wh is not None:
        points.append((charging.stopped_at, float(charging.meter_stop_wh)))
    return price_session(terms, Usage(
        points=billable_points(points, plug_power_w(charging)),
        charging_ended_at=charging.charging_ended_at,
        unplugged_at=charging.stopped_at, now=None if charging.stopped_at else now))


def plug_power_w(charging: ChargingSession) -> float:
    """The most power the session's plug delivers (the model's default for a session
    not yet on a plug)."""
    connector = charging.connector
    return connector.max_power_w if connector is not None else UNKNOWN_PLUG_POWER_W


def bill_as_json(bill: Bill) -> dict[str, Any]:
    """The bill in the form kept on a finished session (JSON-safe)."""
    data = asdict(bill)
    for line in data["lines"]:
        line["kind"] = str(line["kind"])
        line["quantity"] = str(line["quantity"])
    return data
