"""Tariff maths: bills, examples, price summaries and unit prices."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voltspot.domain.money import NBSP
from voltspot.domain.pricing import (
    PriceWindow,
    TariffDimension,
    TariffTerms,
    TimeBasis,
    Usage,
    estimate,
    format_unit_price,
    price_session,
    price_summary,
    round_half_up,
)

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday
AMSTERDAM = "Europe/Amsterdam"
PROPERTY = settings(max_examples=150, deadline=None)


def terms(**overrides) -> TariffTerms:
    values = {"currency": "EUR", "vat_rate_basis_points": 2100}
    values.update(overrides)
    return TariffTerms(**values)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def charged(points, **times) -> Usage:
    """A usage from ``(minutes after AT, register Wh)`` pairs."""
    return Usage(points=[(AT + minutes(m), wh) for m, wh in points], **times)


def amounts(bill) -> list[tuple[str, str | None, int]]:
    return [(line.kind, line.window, line.amount) for line in bill.lines]


NIGHT = PriceWindow(days=range(7), start=time(22), end=time(6), energy_price_per_kwh=2900,
                    label="Night")

# --- the bill ------------------------------------------------------------------------


def test_energy_is_charged_per_kwh_on_a_line_a_driver_can_read():
    bill = price_session(terms(energy_price_per_kwh=3900), charged([(0, 0), (60, 31200)]))
    (line,) = bill.lines
    assert (line.kind, line.description, line.quantity, line.unit, line.unit_price,
            line.amount) == (TariffDimension.ENERGY, "31.2 kWh × €0.39", Decimal("31.200"),
                             "kWh", 3900, 1217)


def test_a_line_of_exactly_half_a_cent_rounds_up():
    bill = price_session(terms(energy_price_per_kwh=50000), charged([(0, 0), (1, 1)]))
    assert bill.total == 1


def test_a_line_just_under_half_a_cent_rounds_down():
    bill = price_session(terms(energy_price_per_kwh=49999), charged([(0, 0), (1, 1)]))
    assert bill.total == 0


def test_each_line_is_rounded_before_the_lines_are_added_up():
    # 1 Wh at €5/kWh is 0.5 cent and 0.1 min at €0.05/min is 0.5 cent: 1 + 1, not round(1.0).
    bill = price_session(terms(energy_price_per_kwh=50000, time_price_per_minute=500),
                         charged([(0, 0), (0.1, 1)]))
    assert [line.amount for line in bill.lines] == [1, 1]
    assert bill.total == 2


def test_vat_is_the_share_of_the_total_rounded_half_up():
    bill = price_session(terms(session_fee=1000), charged([(0, 0)]))
    assert (bill.total, bill.vat, bill.vat_rate_basis_points) == (1000, 174, 2100)


def test_round_half_up_rounds_halves_away_from_zero():
    assert [round_half_up(Fraction(n, 2)) for n in range(6)] == [0, 1, 1, 2, 2, 3]


def test_charging_time_stops_when_charging_ends():
    bill = price_session(terms(time_price_per_minute=1000),
                         charged([(0, 0), (40, 5000)], charging_ended_at=AT + minutes(30),
                                 unplugged_at=AT + minutes(90)))
    assert bill.lines[0].description == "30 min charging × €0.10"
    assert bill.total == 300


def test_charging_time_runs_to_the_latest_reading_while_charging_goes_on():
    bill = price_session(terms(time_price_per_minute=1000),
                         charged([(0, 0), (25, 5000)], now=AT + minutes(26)))
    assert bill.total == 250


def test_connection_time_runs_until_the_car_is_unplugged():
    bill = price_session(terms(time_price_per_minute=1000, time_price_basis="connection"),
                         charged([(0, 0), (30, 5000)], charging_ended_at=AT + minutes(30),
                                 unplugged_at=AT + minutes(90)))
    assert bill.lines[0].description == "90 min connected × €0.10"
    assert bill.total == 900


def test_connection_time_runs_until_now_while_the_car_is_plugged_in():
    bill = price_session(terms(time_price_per_minute=1000, time_price_basis="connection"),
                         charged([(0, 0), (30, 5000)], charging_ended_at=AT + minutes(30),
                                 now=AT + minutes(45)))
    assert bill.total == 450


def test_no_idle_fee_is_charged_within_the_grace_period():
    bill = price_session(terms(idle_fee_per_minute=1000, idle_grace_minutes=30),
                         charged([(0, 0), (60, 5000)], charging_ended_at=AT + minutes(60),
                                 unplugged_at=AT + minutes(90)))
    assert bill.lines == ()


def test_the_idle_fee_runs_from_the_end_of_the_grace_period_until_unplugged():
    bill = price_session(terms(idle_fee_per_minute=1000, idle_grace_minutes=30),
                         charged([(0, 0), (60, 5000)], charging_ended_at=AT + minutes(60),
                                 unplugged_at=AT + minutes(105)))
    (line,) = bill.lines
    assert (line.kind, line.description, line.amount) == (
        TariffDimension.PARKING_TIME, "15 min idle (after 30 free) × €0.10", 150)


def test_the_idle_fee_stops_at_its_cap():
    bill = price_session(terms(idle_fee_per_minute=1000, idle_fee_cap=2000),
                         charged([(0, 0)], charging_ended_at=AT, unplugged_at=AT + minutes(300)))
    (line,) = bill.lines
    assert (line.description, line.unit_price, line.amount) == (
        "300 min idle, capped at €20.00", None, 2000)


def test_no_idle_fee_is_charged_while_charging_goes_on():
    bill = price_session(terms(idle_fee_per_minute=1000),
                         charged([(0, 0), (60, 5000)], now=AT + minutes(120)))
    assert bill.total == 0


def test_a_session_fee_is_its_own_line():
    bill = price_session(terms(session_fee=35), charged([(0, 0)]))
    assert [(line.kind, line.description, line.amount) for line in bill.lines] == [
        (TariffDimension.FLAT, "Session fee", 35)]


def test_a_register_going_backwards_never_lowers_the_cost():
    steady = price_session(terms(energy_price_per_kwh=3900), charged([(0, 0), (10, 2000)]))
    glitch = price_session(terms(energy_price_per_kwh=3900),
                           charged([(0, 0), (10, 2000), (20, 1500)]))
    assert glitch.total == steady.total


def test_readings_given_out_of_order_are_sorted_by_time():
    usage = charged([(10, 2000), (0, 0)])
    assert [wh for _, wh in usage.points] == [0, 2000]


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError, match="UTC-aware"):
        Usage(points=[(datetime(2026, 1, 1), 0)])


def test_usage_needs_at_least_the_start_reading():
    with pytest.raises(ValueError, match="start reading"):
        Usage(points=[])


def test_energy_reported_twice_at_the_same_instant_is_charged():
    bill = price_session(terms(energy_price_per_kwh=10000), charged([(0, 0), (0, 1000)]))
    assert bill.total == 100


# --- price windows -------------------------------------------------------------------


def test_energy_straddling_a_window_edge_is_split_by_interpolation():
    # 21:00 to 23:00 in Amsterdam (UTC+1): half the time, half the energy, in the night.
    start = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
    usage = Usage(points=[(start, 0), (start + minutes(120), 10000)])
    bill = price_session(terms(energy_price_per_kwh=3900, windows=(NIGHT,), timezone=AMSTERDAM),
                         usage)
    assert [(line.description, line.window, line.amount) for line in bill.lines] == [
        ("5.0 kWh × €0.39", None, 195), ("5.0 kWh × €0.29 (Night)", "Night", 145)]


def test_a_window_that_sets_only_the_energy_price_keeps_the_base_time_price():
    start = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
    bill = price_session(terms(energy_price_per_kwh=3900, time_price_per_minute=100,
                               windows=(NIGHT,)),
                         Usage(points=[(start, 0), (start + minutes(60), 1000)]))
    assert amounts(bill) == [("ENERGY", "Night", 29), ("TIME", None, 60)]


def test_the_first_window_that_sets_a_price_wins():
    late = PriceWindow(start=time(23), end=time(1), energy_price_per_kwh=1000, label="Late")
    start = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
    bill = price_session(terms(energy_price_per_kwh=3900, windows=(NIGHT, late)),
                         Usage(points=[(start, 0), (start + minutes(60), 1000)]))
    assert amounts(bill) == [("ENERGY", "Night", 29)]


def test_a_window_past_midnight_checks_the_weekday_of_each_moment_as_ocpi_does():
    friday_nights = PriceWindow(days={4}, start=time(22), end=time(6),
                                energy_price_per_kwh=0, label="Friday")
    # Friday 22:00 to Saturday 02:00 UTC: only the Friday half is in the window.
    start = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
    bill = price_session(terms(energy_price_per_kwh=3900, windows=(friday_nights,)),
                         Usage(points=[(start, 0), (start + minutes(240), 4000)]))
    assert amounts(bill) == [("ENERGY", None, 78)]


def test_window_times_are_read_in_the_site_time_zone():
    # 21:30 UTC is 22:30 in Amsterdam in November: night there, not in UTC.
    start = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)
    usage = Usage(points=[(start, 0), (start + minutes(20), 1000)])
    night = terms(energy_price_per_kwh=3900, windows=(NIGHT,))
    assert price_session(night, usage).total == 39
    assert price_session(replace_zone(night, AMSTERDAM), usage).total == 29


def replace_zone(tariff: TariffTerms, zone: str) -> TariffTerms:
    return TariffTerms.from_dict({**tariff.to_dict(), "timezone": zone})


def test_a_night_window_on_the_spring_forward_night_counts_real_minutes():
    early = PriceWindow(start=time(0), end=time(6), time_price_per_minute=1000, label="Early")
    zone = ZoneInfo(AMSTERDAM)
    start = datetime(2026, 3, 29, 0, 0, tzinfo=zone).astimezone(UTC)
    end = datetime(2026, 3, 29, 7, 0, tzinfo=zone).astimezone(UTC)
    bill = price_session(terms(windows=(early,), timezone=AMSTERDAM),
                         Usage(points=[(start, 0), (end, 0)]))
    assert [(line.window, line.quantity) for line in bill.lines] == [("Early", Decimal(300))]


def test_a_night_window_on_the_fall_back_night_counts_real_minutes():
    early = PriceWindow(start=time(0), end=time(6), time_price_per_minute=1000, label="Early")
    zone = ZoneInfo(AMSTERDAM)
    start = datetime(2026, 10, 25, 0, 0, tzinfo=zone).astimezone(UTC)
    end = datetime(2026, 10, 25, 7, 0, tzinfo=zone).astimezone(UTC)
    bill = price_session(terms(windows=(early,), timezone=AMSTERDAM),
                         Usage(points=[(start, 0), (end, 0)]))
    assert [(line.window, line.quantity) for line in bill.lines] == [("Early", Decimal(420))]


def test_a_window_visited_on_two_nights_is_one_line():
    start = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    bill = price_session(terms(energy_price_per_kwh=3900, windows=(NIGHT,)),
                         Usage(points=[(start, 0), (start + timedelta(hours=48), 48000)]))
    assert [(line.window, line.quantity) for line in bill.lines] == [
        (None, Decimal("32.000")), ("Night", Decimal("16.000"))]


def test_an_unlabelled_window_is_named_by_its_days_and_times():
    window = PriceWindow(days={0, 1, 2, 3, 4}, start=time(7), end=time(9),
                         energy_price_per_kwh=5000)
    assert window.name == "Mon–Fri 07:00–09:00"


@pytest.mark.parametrize(("days", "text"), [
    ({0, 1, 2, 3, 4}, "Mon–Fri"), ({0, 2}, "Mon, Wed"), ({5, 6, 0}, "Sat–Mon"),
    ({2, 5, 6, 0}, "Wed, Sat–Mon"), (range(7), "Daily"), ({6}, "Sun")])
def test_window_days_are_written_as_runs(days, text):
    assert PriceWindow(days=days, energy_price_per_kwh=0).when == text


# --- examples ------------------------------------------------------------------------


def test_an_example_costs_what_the_same_real_session_costs():
    tariff = terms(energy_price_per_kwh=3900, time_price_per_minute=50, session_fee=35,
                   idle_fee_per_minute=1000, idle_grace_minutes=30)
    real = charged([(0, 0), (45, 20000)], charging_ended_at=AT + minutes(45),
                   unplugged_at=AT + minutes(90))
    assert estimate(tariff, 20000, 45, idle_minutes=45) == price_session(tariff, real)


def test_an_example_without_a_start_uses_the_base_prices():
    tariff = terms(energy_price_per_kwh=3900, windows=(NIGHT,))
    assert estimate(tariff, 10000, 60).total == 390


def test_an_example_with_a_start_uses_the_windows():
    tariff = terms(energy_price_per_kwh=3900, windows=(NIGHT,))
    night = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)
    assert estimate(tariff, 10000, 60, start=night).total == 290


def test_an_example_cannot_use_negative_energy():
    with pytest.raises(ValueError, match="negative"):
        estimate(terms(), -1, 10)


# --- terms ---------------------------------------------------------------------------


def test_terms_refuse_a_negative_price():
    with pytest.raises(ValueError, match="energy_price_per_kwh"):
        terms(energy_price_per_kwh=-1)


def test_terms_refuse_an_unknown_time_basis():
    with pytest.raises(ValueError, match="time_price_basis"):
        terms(time_price_basis="parked")


def test_terms_read_the_time_basis_as_stored_in_the_tariffs_table():
    assert terms(time_price_basis="connection").time_price_basis is TimeBasis.CONNECTION


def test_terms_refuse_an_unknown_time_zone():
    with pytest.raises(ValueError, match="time zone"):
        terms(timezone="Mars/Olympus")


def test_terms_refuse_a_currency_that_is_not_an_iso_code():
    with pytest.raises(ValueError, match="ISO 4217"):
        terms(currency="€")


def test_terms_from_a_dict_refuse_unknown_fields():
    with pytest.raises(ValueError, match="unknown tariff terms fields: surge"):
        TariffTerms.from_dict({**terms().to_dict(), "surge": 2})


def test_a_window_must_set_at_least_one_price():
    with pytest.raises(ValueError, match="at least one price"):
        PriceWindow(start=time(22), end=time(6))


def test_window_times_are_whole_minutes():
    with pytest.raises(ValueError, match="whole local minutes"):
        PriceWindow(start=time(22, 0, 30), energy_price_per_kwh=0)


def test_window_times_in_a_dict_are_written_like_22_00():
    with pytest.raises(ValueError, match="like 22:00"):
        PriceWindow.from_dict({"start": "10pm", "energy_price_per_kwh": 0})


# --- summary and formatting ----------------------------------------------------------


def test_the_demo_tariff_summary_reads_in_afir_order():
    demo = terms(energy_price_per_kwh=3900, session_fee=35, idle_fee_per_minute=1000,
                 idle_grace_minutes=30)
    assert price_summary(demo) == [
        "€0.39/kWh", "€0.35 per session", "€0.10/min idle after 30 min", "incl. 21% VAT"]


def test_the_summary_puts_kwh_then_minute_then_session_then_other_fees():
    every = terms(energy_price_per_kwh=3900, time_price_per_minute=500, session_fee=100,
                  idle_fee_per_minute=1000, idle_fee_cap=2000, windows=(NIGHT,))
    assert price_summary(every) == [
        "€0.39/kWh", "€0.05/min charging", "€1.00 per session",
        "€0.10/min idle (max €20.00)", "Night (Daily 22:00–06:00): €0.29/kWh",
        "incl. 21% VAT"]


def test_the_summary_says_the_time_price_counts_connected_minutes():
    assert price_summary(terms(time_price_per_minute=500, time_price_basis="connection"))[0] \
        == "€0.05/min connected"


def test_the_summary_writes_a_window_without_idle_fee_in_words():
    free_nights = PriceWindow(start=time(22), end=time(6), idle_fee_per_minute=0)
    assert price_summary(terms(idle_fee_per_minute=1000, windows=(free_nights,)))[1] == \
        "Daily 22:00–06:00: no idle fee"


def test_the_summary_of_a_tariff_without_prices_is_free():
    assert price_summary(terms()) == ["Free"]


def test_the_summary_writes_fractional_vat_rates():
    assert price_summary(terms(session_fee=100, vat_rate_basis_points=2550))[-1] == \
        "incl. 25.5% VAT"


@pytest.mark.parametrize(("price", "text"), [
    (3900, "€0.39/kWh"), (3950, "€0.395/kWh"), (3955, "€0.3955/kWh"), (1000, "€0.10/kWh"),
    (0, "€0.00/kWh")])
def test_unit_prices_show_fractions_of_a_cent_only_when_there_are_some(price, text):
    assert format_unit_price(price, "EUR", "kWh") == text


def test_unit_prices_put_a_trailing_symbol_before_the_unit():
    assert format_unit_price(15000, "PLN", "kWh") == f"1.50{NBSP}zł/kWh"


# --- properties ----------------------------------------------------------------------

unit_prices = st.integers(0, 20000)
optional_prices = st.none() | unit_prices
quarter_hours = st.integers(0, 95).map(lambda n: time(n // 4, n % 4 * 15))
zones = st.sampled_from(["UTC", AMSTERDAM, "Europe/London", "America/New_York"])
starts = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31),
                      timezones=st.just(UTC))


@st.composite
def windows(draw) -> PriceWindow:
    prices = draw(st.tuples(optional_prices, optional_prices, optional_prices)
                  .filter(lambda p: p != (None, None, None)))
    return PriceWindow(days=draw(st.frozensets(st.integers(0, 6), min_size=1)),
                       start=draw(quarter_hours), end=draw(quarter_hours),
                       energy_price_per_kwh=prices[0], time_price_per_minute=prices[1],
                       idle_fee_per_minute=prices[2], label=draw(st.sampled_from(["", "A"])))


tariffs = st.builds(
    TariffTerms, currency=st.sampled_from(["EUR", "GBP", "SEK", "CHF"]),
    vat_rate_basis_points=st.integers(0, 2700), energy_price_per_kwh=unit_prices,
    time_price_per_minute=unit_prices, time_price_basis=st.sampled_from(list(TimeBasis)),
    session_fee=st.integers(0, 500), idle_fee_per_minute=unit_prices,
    idle_grace_minutes=st.integers(0, 60), idle_fee_cap=st.none() | st.integers(0, 5000),
    hold_amount=st.integers(0, 10000), windows=st.lists(windows(), max_size=3).map(tuple),
    timezone=zones)
steps = st.lists(st.tuples(st.integers(0, 4 * 3600), st.integers(0, 30000)),
                 min_size=1, max_size=6)


def readings(start: datetime, increments) -> list[tuple[datetime, int]]:
    points, at, wh = [(start, 1000)], start, 1000
    for seconds, energy in increments:
        at, wh = at + timedelta(seconds=seconds), wh + energy
        points.append((at, wh))
    return points


def well_formed(bill) -> bool:
    return bill.total == sum(line.amount for line in bill.lines) and 0 <= bill.vat <= bill.total


@PROPERTY
@given(tariff=tariffs, start=starts, increments=steps)
def test_the_cost_never_decreases_as_readings_arrive(tariff, start, increments):
    points = readings(start, increments)
    bills = [price_session(tariff, Usage(points=points[:n])) for n in range(1, len(points) + 1)]
    assert all(well_formed(bill) for bill in bills)
    totals = [bill.total for bill in bills]
    assert totals == sorted(totals)


@PROPERTY
@given(tariff=tariffs, start=starts, increments=steps,
       between=st.lists(st.integers(0, 5), min_size=1, max_size=4))
def test_a_reading_on_the_straight_line_between_two_readings_changes_no_bill(
        tariff, start, increments, between):
    # Even seconds and Wh: each midpoint is exactly on the line between its neighbours.
    points = readings(start, [(2 * seconds, 2 * energy) for seconds, energy in increments])
    finer = list(points)
    for index in sorted({n % len(points) for n in between}, reverse=True)[:len(points) - 1]:
        if index == len(points) - 1:
            continue
        (t0, e0), (t1, e1) = points[index], points[index + 1]
        finer.insert(index + 1, (t0 + (t1 - t0) / 2, (e0 + e1) // 2))
    assert price_session(tariff, Usage(points=finer)) == price_session(tariff, Usage(points=points))


@PROPERTY
@given(tariff=tariffs, start=starts, increments=steps,
       waits=st.lists(st.integers(0, 6 * 3600), min_size=1, max_size=5))
def test_the_cost_never_decreases_while_the_car_stays_plugged_in(tariff, start, increments,
                                                                 waits):
    points = readings(start, increments)
    ended = points[-1][0]
    totals = [price_session(tariff, Usage(points=points, charging_ended_at=ended,
                                          now=ended + timedelta(seconds=wait))).total
              for wait in sorted(waits)]
    assert totals == sorted(totals)


@PROPERTY
@given(tariff=tariffs, energy=st.integers(0, 100000), more_energy=st.integers(0, 100000),
       charging=st.integers(0, 600), more_charging=st.integers(0, 600),
       idle=st.integers(0, 600), more_idle=st.integers(0, 600))
def test_an_example_never_costs_less_with_more_energy_or_time(
        tariff, energy, more_energy, charging, more_charging, idle, more_idle):
    small = estimate(tariff, energy, charging, idle)
    assert estimate(tariff, energy + more_energy, charging, idle).total >= small.total
    assert estimate(tariff, energy, charging + more_charging, idle).total >= small.total
    assert estimate(tariff, energy, charging, idle + more_idle).total >= small.total


@PROPERTY
@given(zone=zones, day=st.dates(date(2025, 1, 1), date(2027, 12, 31)), entering=st.booleans(),
       energy_before=st.integers(0, 50000), energy_after=st.integers(0, 50000),
       seconds_before=st.integers(1, 6 * 3600), seconds_after=st.integers(1, 6 * 3600),
       base=st.tuples(unit_prices, unit_prices), night=st.tuples(unit_prices, unit_prices),
       fee=st.integers(0, 500))
def test_a_session_split_at_a_window_edge_is_priced_per_window(
        zone, day, entering, energy_before, energy_after, seconds_before, seconds_after,
        base, night, fee):
    window = PriceWindow(start=time(22), end=time(6), energy_price_per_kwh=night[0],
                         time_price_per_minute=night[1], label="Night")
    tariff = TariffTerms(currency="EUR", vat_rate_basis_points=2100, session_fee=fee,
                         energy_price_per_kwh=base[0], time_price_per_minute=base[1],
                         windows=(window,), timezone=zone)
    edge = datetime.combine(day, time(22) if entering else time(6),
                            tzinfo=ZoneInfo(zone)).astimezone(UTC)
    usage = Usage(points=[(edge - timedelta(seconds=seconds_before), 0),
                          (edge, energy_before),
                          (edge + timedelta(seconds=seconds_after), energy_before + energy_after)])
    before, after = (base, night) if entering else (night, base)
    before_name, after_name = (None, "Night") if entering else ("Night", None)
    expected = [
        ("ENERGY", before_name, Fraction(energy_before * before[0], 100000)),
        ("ENERGY", after_name, Fraction(energy_after * after[0], 100000)),
        ("TIME", before_name, Fraction(seconds_before * before[1], 6000)),
        ("TIME", after_name, Fraction(seconds_after * after[1], 6000)),
        ("FLAT", None, Fraction(fee)),
    ]
    lines = [(kind, name, round_half_up(exact)) for kind, name, exact in expected if exact]
    assert sorted(amounts(price_session(tariff, usage)), key=str) == sorted(lines, key=str)


@PROPERTY
@given(tariff=tariffs, start=starts, register=st.integers(0, 10**7))
def test_no_energy_and_no_time_costs_the_session_fee_only(tariff, start, register):
    bill = price_session(tariff, Usage(points=[(start, register), (start, register)],
                                       charging_ended_at=start, unplugged_at=start))
    assert bill.total == tariff.session_fee
    assert [line.kind for line in bill.lines] == (["FLAT"] if tariff.session_fee else [])


@PROPERTY
@given(tariff=tariffs)
def test_terms_survive_the_json_frozen_on_a_session(tariff):
    assert TariffTerms.from_dict(json.loads(json.dumps(tariff.to_dict()))) == tariff
