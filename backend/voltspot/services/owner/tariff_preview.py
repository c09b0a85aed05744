"""The tariff editor's live preview: the plug page's price block for the prices being
typed, and an example session priced as a session would be. Pure; no database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from voltspot.domain.pricing import (
    Bill,
    TariffTerms,
    estimate,
    price_summary,
)
from voltspot.services.driver.plugs import hold_sentence
from voltspot.services.messages import N_
from voltspot.services.owner.tariff_form import (
    FIELD_NAMES,
    BadField,
    TariffDraft,
    TariffForm,
    parse_columns,
    time_of_day,
    typed_decimal,
)

MAX_EXAMPLE_KWH = Decimal(1000)
MAX_EXAMPLE_MINUTES = Decimal(7 * 24 * 60)


@dataclass(frozen=True)
class ExampleForm:
    """The "example session" calculator, as typed: energy in kWh, charging minutes, idle
    minutes after charging, and optionally the weekday ("0" = Monday) and time it starts
    (so the time windows apply)."""

    energy_kwh: str = "30"
    minutes: str = "45"
    idle_minutes: str = "20"
    day: str = ""
    start: str = ""

    @classmethod
    def from_data(cls, data: Mapping[str, str]) -> ExampleForm:
        defaults = cls()
        return cls(**{name: data.get(f"example_{name}", getattr(defaults, name)).strip()
                      for name in ("energy_kwh", "minutes", "idle_minutes", "day", "start")})


@dataclass(frozen=True)
class Preview:
    """What drivers would see for the form's prices, and the example session's bill.
    ``lines`` and ``hold_text`` are the plug page's price block; both are ``None`` while
    the form has bad fields (``problems`` lists them)."""

    lines: list[str] | None
    hold_text: str | None
    bill: Bill | None
    hold_amount: int | None
    example: ExampleForm
    example_errors: list[str]
    problems: list[str]
    has_windows: bool
    # The prices themselves, for words in another language than the lines' English.
    terms: TariffTerms | None = None

    @property
    def over_hold(self) -> bool:
        """Whether the example costs more than the hold (the session would stop there)."""
        return bool(self.bill and self.hold_amount is not None
                    and self.bill.total > self.hold_amount)


def preview(form: TariffForm, example: ExampleForm) -> Preview:
    """The plug page's price block for the form's prices (AFIR order, VAT included, the
    hold sentence) and the example session priced by :func:`estimate`."""
    columns, errors = parse_columns(form)
    problems = [message for key, message in errors.items() if key != "name"]
    if problems:
        return Preview(None, None, None, None, example, [], problems, bool(form.windows))
    draft = TariffDraft(columns)
    terms = draft.terms()
    bill, example_errors, start = None, [], None
    try:
        energy = typed_decimal(example.energy_kwh, FIELD_NAMES["example_energy"][0], "30")
        minutes = typed_decimal(example.minutes, FIELD_NAMES["example_minutes"][0], "45")
        idle = typed_decimal(example.idle_minutes or "0", FIELD_NAMES["example_idle"][0],
                             "20")
        if energy > MAX_EXAMPLE_KWH or max(minutes, idle) > MAX_EXAMPLE_MINUTES:
            raise BadField(N_("Keep the example under 1,000 kWh and a week."))
        if example.day:
            start = _example_start(example.day, example.start)
    except BadField as bad:
        example_errors.append(bad.args[0] if bad.args else str(bad))
    else:
        bill = estimate(terms, float(energy * 1000), float(minutes), float(idle), start=start)
    return Preview(price_summary(terms), hold_sentence(terms), bill, terms.hold_amount,
                   example, example_errors, [], bool(terms.windows), terms)


def _example_start(day: str, start: str) -> datetime:
    """A UTC moment on the given weekday and time of a fixed week; the preview's terms
    are in UTC, so local and UTC are the same there."""
    if day not in {str(d) for d in range(7)}:
        raise BadField(N_("Pick the day from the list."))
    moment = time_of_day(start) if start else time(0)
    monday = datetime(2024, 1, 1, tzinfo=UTC)
    return monday + timedelta(days=int(day), hours=moment.hour, minutes=moment.minute)


