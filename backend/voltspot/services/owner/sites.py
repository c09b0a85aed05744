"""Sites as their owner manages them: the site form (checked field by field), creating
and editing a site, and the sites a station may be put on.

Every lookup goes through :mod:`voltspot.services.owner.accounts`, so another owner's site
raises :class:`NotFound`. Each function is one unit of work: it opens and commits its own
transaction and returns plain values, never database rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.models import Site
from voltspot.services import forms
from voltspot.services.forms import FormInvalid
from voltspot.services.messages import N_, Message
from voltspot.services.owner.accounts import Viewer, owned_site, scope_sites
from voltspot.services.owner.reference import COUNTRIES, CURRENCIES, timezones

_PHONE = re.compile(r"^\+?[0-9 ()./-]+$")
# An EU VAT identification number: two letters, then 2 to 13 letters and digits.
_VAT_NUMBER = re.compile(r"^[A-Z]{2}[0-9A-Z+*]{2,13}$")


@dataclass(frozen=True)
class SiteValues:
    """A site form's fields, checked."""

    name: str
    address: str
    city: str
    postal_code: str
    country: str
    latitude: float | None
    longitude: float | None
    opening_hours: str
    help_phone: str
    currency: str
    timezone: str
    # The operator as printed on drivers' receipts.
    legal_name: str = ""
    vat_number: str = ""


SITE_FIELDS = tuple(SiteValues.__dataclass_fields__)


@dataclass(frozen=True, kw_only=True)
class SiteDetails(SiteValues):
    """One site as its owner sees it: its id and the values of its form."""

    id: int


@dataclass(frozen=True)
class SiteOption:
    """A site a station can be put on, for a form's choice."""

    id: int
    name: str


def site_details(site: Site) -> SiteDetails:
    """The read model of a site row."""
    return SiteDetails(**{name: getattr(site, name) for name in SITE_FIELDS}, id=site.id)


def site_form_values(site: SiteValues | None = None) -> dict[str, str]:
    """The text a site form starts with: ``site``'s values, or the defaults for a new one."""
    if site is None:
        return {"name": "", "address": "", "city": "", "postal_code": "", "country": "NL",
                "latitude": "", "longitude": "", "opening_hours": "24/7", "help_phone": "",
                "currency": "EUR", "timezone": "Europe/Amsterdam",
                "legal_name": "", "vat_number": ""}
    values = {name: getattr(site, name) for name in SITE_FIELDS}
    return {name: "" if value is None else str(value) for name, value in values.items()}


def edit_form_values(db: Database, viewer: Viewer, site_id: int) -> dict[str, str]:
    """The edit form's starting text for one of the viewer's sites; raises
    :class:`NotFound`."""
    with db.session() as session:
        return site_form_values(site_details(owned_site(session, viewer, site_id)))


# A coordinate's messages: (not a number, out of range), each a whole sentence to translate.
_COORDINATE_WORDS = {
    "latitude": (N_("Write the latitude as a number of degrees, such as %(example)s."),
                 N_("The latitude must be between %(low)s and %(high)s degrees.")),
    "longitude": (N_("Write the longitude as a number of degrees, such as %(example)s."),
                  N_("The longitude must be between %(low)s and %(high)s degrees.")),
}


def _coordinate(text: str, limit: int, errors: dict[str, str], name: str) -> float | None:
    if not text:
        return None
    not_a_number, out_of_range = _COORDINATE_WORDS[name]
    if forms.decimal(text) is None:
        errors[name] = Message(not_a_number, {"example": Decimal(f"{limit // 2}.37")})
        return None
    value = forms.coordinate(text, limit)
    if value is None:
        errors[name] = Message(out_of_range, {"low": -limit, "high": limit})
    return value


def check_site_form(form: Mapping[str, str]) -> SiteValues:
    """The checked values of a site form; raises :class:`FormInvalid` naming each field
    that is wrong."""
    errors: dict[str, str] = {}

    def text(name: str, label: Message, limit: int, required: str | None = None) -> str:
        value = forms.text(form, name)
        if not value and required:
            errors[name] = required
        elif len(value) > limit:
            errors[name] = N_("%(what)s can be at most %(count)s characters.", what=label,
                              count=limit)
        return value

    name = text("name", N_("The name"), 200, N_("Give the site a name drivers will recognise, "
                "such as the hotel or shop it belongs to."))
    address = text("address", N_("The address"), 300, N_("Write the street and number, so drivers "
                   "can find the site."))
    city = text("city", N_("The town or city"), 120, N_("Write the town or city."))
    postal_code = text("postal_code", N_("The postal code"), 20)
    country = forms.text(form, "country").upper()
    if forms.choice(country, COUNTRIES) is None:
        errors["country"] = N_("Use the two-letter country code, such as NL, DE or BE.")
    latitude = _coordinate(forms.text(form, "latitude"), 90, errors, "latitude")
    longitude = _coordinate(forms.text(form, "longitude"), 180, errors, "longitude")
    if "latitude" not in errors and "longitude" not in errors and (
            (latitude is None) != (longitude is None)):
        missing = "latitude" if latitude is None else "longitude"
        errors[missing] = (N_("Give both latitude and longitude, or leave both empty; drivers' "
                           "maps need the pair."))
    opening_hours = text("opening_hours", N_("The opening hours"), 200,
                         N_("Say when drivers can charge, such as 24/7 or Mon–Sat "
                            "08:00–20:00."))
    help_phone = text("help_phone", N_("The phone number"), 40)
    if help_phone and (not _PHONE.match(help_phone)
                       or sum(c.isdigit() for c in help_phone) < 6):
        errors["help_phone"] = (N_("Write a phone number drivers can call, with the country "
                                "code, such as +31 20 123 4567."))
    currency = forms.text(form, "currency").upper()
    if forms.choice(currency, CURRENCIES) is None:
        errors["currency"] = N_("Use the three-letter currency code of your prices, such as EUR.")
    timezone = forms.text(form, "timezone").replace(" ", "_")
    if forms.choice(timezone, timezones()) is None:
        errors["timezone"] = N_("Choose the site's timezone by its region and city, such as "
                                "Europe/Amsterdam.")
    legal_name = text("legal_name", N_("The legal name"), 200)
    vat_number = forms.text(form, "vat_number").upper().replace(" ", "").replace(".", "")
    if vat_number and not _VAT_NUMBER.match(vat_number):
        errors["vat_number"] = N_("Write the VAT number with its country prefix, such as "
                                  "NL123456789B01.")
    if errors:
        raise FormInvalid(errors, form)
    return SiteValues(name, address, city, postal_code, country, latitude, longitude,
                      opening_hours, help_phone, currency, timezone, legal_name, vat_number)


def _check_name_free(session: Session, name: str, site_id: int | None,
                     form: Mapping[str, str]) -> None:
    taken = select(Site.id).where(Site.name == name)
    if site_id is not None:
        taken = taken.where(Site.id != site_id)
    if session.scalar(taken) is not None:
        raise FormInvalid({"name": N_("There is already a site called “%(name)s”. Give this "
                                      "one another name, for example with its street or town.",
                                      name=name)}, form)


def create_site(db: Database, viewer: Viewer, form: Mapping[str, str]) -> SiteDetails:
    """A new site of the viewer's from a site form; raises :class:`FormInvalid`."""
    values = check_site_form(form)
    with db.session() as session:
        _check_name_free(session, values.name, None, form)
        site = Site(owner_id=viewer.owner_id, **vars(values))
        session.add(site)
        session.flush()
        return site_details(site)


def update_site(db: Database, viewer: Viewer, site_id: int, form: Mapping[str, str]
                ) -> SiteDetails:
    """Save a site form over one of the viewer's sites; raises :class:`NotFound` and
    :class:`FormInvalid`."""
    with db.session() as session:
        site = owned_site(session, viewer, site_id)
        values = check_site_form(form)
        _check_name_free(session, values.name, site.id, form)
        for name, value in vars(values).items():
            setattr(site, name, value)
        session.flush()
        return site_details(site)


def site_options(db: Database, viewer: Viewer) -> list[SiteOption]:
    """The sites the viewer may put stations on, by name."""
    with db.session() as session:
        return [SiteOption(site.id, site.name) for site in session.execute(
            scope_sites(viewer, select(Site.id, Site.name)).order_by(Site.name))]
