"""What a driver's live page says where the site shares its power: the time to 80 % at
the power the session is allowed, and that a paused session resumes."""

from __future__ import annotations

from datetime import timedelta

from tests.support.load import T0, make_load_site, offline_control, start_charging
from tests.support.server import own_database
from voltspot.domain.meter import ENERGY_REGISTER, SOC
from voltspot.models import ChargingSession, MeterSample
from voltspot.services.driver.live import live_session
from voltspot.services.load.allocation import recompute_site

# A database of its own: the worker's shared live server runs the load job on the shared
# one, and would take rounds of this module's sites as its own.
database_url, db = own_database("load_driver")


def _readings(db, charging_id: int, readings: list[tuple[int, float, float]]) -> str:
    """Meter values of the session: (minutes after T0, state of charge, energy register
    in Wh), each pair in one frame as chargers send them. Returns the session's token."""
    with db.session() as session:
        charging = session.get(ChargingSession, charging_id)
        for minutes, soc, energy in readings:
            at = T0 + timedelta(minutes=minutes)
            for measurand, value, unit in ((SOC, soc, "Percent"), (ENERGY_REGISTER, energy, "Wh")):
                session.add(MeterSample(
                    station_id=charging.station_id, session_id=charging.id,
                    connector_id=charging.connector_id, taken_at=at, measurand=measurand,
                    value=value, unit=unit))
        charging.soc_percent = readings[-1][1]
        return charging.token


def test_the_time_to_80_percent_is_at_the_power_the_session_is_allowed(db):
    site_id, plugs = make_load_site(db, amps=16)
    first = start_charging(db, plugs[0], 30)
    start_charging(db, plugs[2], 20)
    recompute_site(db, offline_control(), site_id, now=T0)
    # A 75 kWh battery (750 Wh a percent) that filled 10 % in half an hour while the car
    # had the site alone: at that rate 80 % would be 90 min away. Now the two cars share
    # 16 A: 8 A on three phases, 5.5 kW, and the 22.5 kWh left take about 245 min.
    token = _readings(db, first, [(-30, 40, 10_000), (0, 50, 17_500)])
    live = live_session(db, token, 120)
    assert live.minutes_to_80 == 245
    assert "shares its power between 2 cars" in live.notice


def test_a_paused_session_has_no_time_to_80_percent_and_says_it_resumes(db):
    site_id, plugs = make_load_site(db, amps=16)
    start_charging(db, plugs[0], 30)
    start_charging(db, plugs[2], 20)
    newest = start_charging(db, plugs[1], 10)
    recompute_site(db, offline_control(), site_id, now=T0)
    token = _readings(db, newest, [(-30, 40, 10_000), (0, 50, 17_500)])
    live = live_session(db, token, 120)
    assert live.minutes_to_80 is None
    assert live.notice.startswith("Paused for now") and "resumes by itself" in live.notice


def test_without_load_management_the_time_to_80_percent_follows_the_recent_rate(db):
    _, plugs = make_load_site(db, amps=16)
    alone = start_charging(db, plugs[0], 30)
    # No round yet: Voltspot has not shared anything, so nothing is known but the rate.
    token = _readings(db, alone, [(-30, 40, 10_000), (0, 50, 17_500)])
    assert live_session(db, token, 120).minutes_to_80 == 90
