"""QR stickers for a site's plugs (or one station's): what each sticker says and its QR
code, laid out on A4 sheets for printing and as an SVG file per sheet.

A sticker carries the URL of the plug page (``/c/<EVSE id with - for *>``) as a QR code
made by segno (SVG, no Pillow), the EVSE id in text under it so a driver can type it,
the price summary in AFIR order with VAT, and the site's help phone."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import segno
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from voltspot.db import Database
from voltspot.domain.pricing import TariffTerms, price_summary
from voltspot.models import Connector, Site, Station, StickerPrint, Tariff
from voltspot.services.charging.billing import terms_of
from voltspot.services.errors import InvalidInput
from voltspot.services.messages import N_
from voltspot.services.owner.accounts import Viewer, owned_site, owned_station, scope_sites

# An A4 sheet (210 × 297 mm) with 10 mm margins holds 2 × 3 stickers of 95 × 92 mm.
PAGE_MM = (210, 297)
MARGIN_MM = 10
COLUMNS, ROWS = 2, 3
PER_SHEET = COLUMNS * ROWS
STICKER_MM = ((PAGE_MM[0] - 2 * MARGIN_MM) / COLUMNS, (PAGE_MM[1] - 2 * MARGIN_MM) / ROWS)
QR_MM = 42
PRICE_WRAP = 46  # characters per price line on the SVG sheet, where text does not wrap


def qr_svg(url: str) -> str:
    """segno's inline SVG of the QR code for ``url``: black on white, the standard quiet
    zone, error correction M (a scuffed sticker still scans), sized by its container."""
    return segno.make_qr(url, error="m").svg_inline(
        scale=1, border=4, omitsize=True, dark="#000", light="#fff", svgclass="vs-qr",
        lineclass=None)


@dataclass(frozen=True)
class Sticker:
    """One plug's sticker. ``url`` is exactly what ``qr`` encodes."""

    evse_id: str
    url: str
    qr: str
    plug_label: str
    price_lines: list[str]
    help_phone: str
    # The plug and its prices as facts, for the sticker in another language than English.
    plug_number: int = 0
    plug_kind: str = ""
    max_power_kw: float = 0.0
    terms: TariffTerms | None = None

    @property
    def priced(self) -> bool:
        return bool(self.price_lines)

    def wrapped_price_lines(self, width: int = PRICE_WRAP) -> list[str]:
        """The price lines broken to fit a sticker's width (for the SVG sheet)."""
        return wrapped(self.price_lines, width)


def wrapped(lines: list[str], width: int = PRICE_WRAP) -> list[str]:
    """``lines`` broken to fit a sticker's width (the SVG sheet's text does not wrap)."""
    return [part for line in lines
            for part in textwrap.wrap(line, width, break_on_hyphens=False)]


@dataclass(frozen=True)
class PlacedSticker:
    """A sticker at its place on an SVG sheet, in millimetres from the top left."""

    x: float
    y: float
    width: float
    height: float
    sticker: Sticker

    @property
    def centre(self) -> float:
        return self.x + self.width / 2

    @property
    def qr_at(self) -> str:
        """The QR code as an SVG element sized and placed inside the sticker."""
        left = self.x + (self.width - QR_MM) / 2
        top = self.y + 11
        return self.sticker.qr.replace(
            "<svg ", f'<svg x="{left:g}" y="{top:g}" width="{QR_MM}" height="{QR_MM}" ', 1)

    @property
    def price_rows(self) -> tuple[float, list[tuple[float, str]]]:
        """The font size and the (baseline, text) of each price line, closer together and
        smaller when a price has many lines, so all fit above the help line."""
        return self.rows_of(self.sticker.price_lines)

    def rows_of(self, price_lines: list[str]) -> tuple[float, list[tuple[float, str]]]:
        """:attr:`price_rows` for ``price_lines`` (the prices in the reader's language)."""
        lines = wrapped(price_lines) or [N_("Scan the code for the price.")]
        top, bottom = self.y + 70, self.y + self.height - 9
        step = min(3.8, (bottom - top) / max(len(lines) - 1, 1))
        return round(min(3.1, step * 0.85), 2), [(round(top + i * step, 2), line)
                                                 for i, line in enumerate(lines)]


@dataclass(frozen=True)
class StickerSheet:
    """The stickers of one site, or of one station (``station`` set)."""

    site_id: int
    site_name: str
    station: str | None
    stickers: list[Sticker]
    skipped: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.site_name} · {self.station}" if self.station else self.site_name

    @property
    def sheets(self) -> list[list[Sticker]]:
        """The stickers by printed page, ``PER_SHEET`` to a page."""
        return [self.stickers[i:i + PER_SHEET]
                for i in range(0, len(self.stickers), PER_SHEET)]

    @property
    def unpriced(self) -> list[str]:
        return [sticker.evse_id for sticker in self.stickers if not sticker.priced]

    def placed(self, number: int) -> list[PlacedSticker]:
        """Sheet ``number`` (from 1) laid out for the SVG file; raises
        :class:`InvalidInput` for a sheet that does not exist."""
        if not 1 <= number <= len(self.sheets):
            raise InvalidInput(N_("There is no sheet %(number)s; this sheet set has "
                                  "%(count)s.", number=number, count=len(self.sheets)))
        width, height = STICKER_MM
        return [PlacedSticker(MARGIN_MM + (i % COLUMNS) * width,
                              MARGIN_MM + (i // COLUMNS) * height, width, height, sticker)
                for i, sticker in enumerate(self.sheets[number - 1])]


def sticker_sheet(db: Database, viewer: Viewer, plug_url: Callable[[str], str], *,
                  site_id: int | None = None,
                  charge_point_id: str | None = None) -> StickerSheet:
    """The stickers for every plug of one of the viewer's sites, or of one station.

    ``plug_url`` turns an EVSE id into the public URL of its plug page. Plugs without an
    EVSE id cannot have a sticker and are listed in ``skipped``. Raises
    :class:`NotFound` for a site or station that is not the viewer's, and
    :class:`InvalidInput` when neither is given or the station has no site.
    """
    with db.session() as session:
        if charge_point_id is not None:
            station = owned_station(session, viewer, charge_point_id)
            if station.site is None:
                raise InvalidInput(N_("%(station)s is not on a site yet; adopt it onto a site "
                                      "to print its stickers.", station=charge_point_id))
            site, stations = station.site, [station]
        elif site_id is not None:
            site = owned_site(session, viewer, site_id)
            stations = session.scalars(
                select(Station).where(Station.site_id == site.id)
                .options(selectinload(Station.connectors))
                .order_by(Station.charge_point_id)).all()
        else:
            raise InvalidInput(N_("Choose a site or a station to print stickers for."))
        return _sheet(session, site, stations, plug_url, station=charge_point_id)


def _sheet(session: Session, site: Site, stations: list[Station],
           plug_url: Callable[[str], str], station: str | None) -> StickerSheet:
    connectors = [c for s in stations for c in s.connectors]
    tariff_ids = {c.tariff_id for c in connectors if c.tariff_id}
    tariffs = {t.id: t for t in session.scalars(select(Tariff).where(Tariff.id.in_(tariff_ids)))}
    stickers, skipped = [], []
    for connector in connectors:
        if connector.evse_id is None:
            skipped.append(N_("%(station)s plug %(number)s",
                              station=connector.station.charge_point_id,
                              number=connector.connector_id))
            continue
        tariff = tariffs.get(connector.tariff_id)
        url = plug_url(connector.evse_id)
        stickers.append(Sticker(
            evse_id=connector.evse_id, url=url, qr=qr_svg(url),
            plug_label=(f"Plug {connector.connector_id} · {connector.connector_type} · "
                        f"{connector.max_power_w / 1000:g} kW"),
            price_lines=price_summary(terms_of(tariff, site)) if tariff else [],
            help_phone=site.help_phone, plug_number=connector.connector_id,
            plug_kind=str(connector.connector_type), max_power_kw=connector.max_power_w / 1000,
            terms=terms_of(tariff, site) if tariff else None))
    return StickerSheet(site.id, site.name, station, stickers, skipped)


# --- Printed stickers and prices that changed since ------------------------------------

def record_printed(db: Database, viewer: Viewer, plug_url: Callable[[str], str], *,
                   site_id: int | None = None, charge_point_id: str | None = None) -> int:
    """Record that the sheet of one of the viewer's sites (or stations) was printed now:
    each sticker's plug with the price lines it shows. Returns how many stickers.
    Raises as :func:`sticker_sheet`."""
    sheet = sticker_sheet(db, viewer, plug_url, site_id=site_id,
                          charge_point_id=charge_point_id)
    with db.session() as session:
        pks = dict(session.execute(select(Connector.evse_id, Connector.id).where(
            Connector.evse_id.in_([s.evse_id for s in sheet.stickers]))).all())
        for sticker in sheet.stickers:
            session.add(StickerPrint(connector_pk=pks[sticker.evse_id],
                                     price_lines=list(sticker.price_lines)))
    return len(sheet.stickers)


@dataclass(frozen=True)
class StaleStickers:
    """A site's printed stickers that show a price its plugs no longer have."""

    site_id: int
    site_name: str
    evse_ids: list[str]
    printed_at: datetime


def stale_stickers(session: Session, station_ids: Sequence[int]) -> list[StaleStickers]:
    """Per site of these stations, the plugs whose last printed sticker shows other price
    lines than the plug has now (in the caller's transaction), by site name."""
    if not station_ids:
        return []
    latest = (select(StickerPrint.connector_pk, func.max(StickerPrint.id).label("id"))
              .group_by(StickerPrint.connector_pk).subquery())
    rows = session.execute(
        select(Connector, StickerPrint.price_lines, StickerPrint.printed_at)
        .join(latest, latest.c.connector_pk == Connector.id)
        .join(StickerPrint, StickerPrint.id == latest.c.id)
        .where(Connector.station_id.in_(list(station_ids)))
        .options(selectinload(Connector.station).selectinload(Station.site))).all()
    tariff_ids = {c.tariff_id for c, _, _ in rows if c.tariff_id}
    tariffs = {t.id: t for t in session.scalars(select(Tariff).where(Tariff.id.in_(tariff_ids)))}
    stale: dict[int, StaleStickers] = {}
    for connector, printed_lines, printed_at in rows:
        site = connector.station.site
        if site is None or connector.evse_id is None:
            continue
        tariff = tariffs.get(connector.tariff_id)
        now_lines = price_summary(terms_of(tariff, site)) if tariff else []
        if list(printed_lines) == now_lines:
            continue
        entry = stale.setdefault(site.id, StaleStickers(site.id, site.name, [], printed_at))
        entry.evse_ids.append(connector.evse_id)
    return sorted(stale.values(), key=lambda s: s.site_name)


def viewer_stale_stickers(db: Database, viewer: Viewer) -> list[StaleStickers]:
    """:func:`stale_stickers` for every station of the viewer's sites."""
    with db.session() as session:
        ids = session.scalars(scope_sites(viewer, select(Station.id).join(
            Site, Station.site_id == Site.id))).all()
        return stale_stickers(session, ids)
