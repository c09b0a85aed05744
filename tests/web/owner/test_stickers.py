"""QR stickers: one per plug with the plug page's QR code, the EVSE id, the price and the
help phone; an A4 print page; an SVG file per sheet; only the owner's sites and stations."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import pytest
import segno

from tests.factories import make_site, make_tariff
from tests.support.owner import csrf_of
from voltspot.domain.evse_ids import url_safe
from voltspot.models import Connector, Tariff
from voltspot.runtime import runtime
from voltspot.services.owner.accounts import Viewer
from voltspot.services.owner.stickers import sticker_sheet

STICKER = re.compile(r'<article class="vs-sticker" data-evse="([^"]+)">(.*?)</article>', re.S)
QR_PATH = re.compile(r'<path stroke="#000" d="([^"]+)"')


def dark_modules(path: str) -> set[tuple[int, int]]:
    """The (row, column) of every dark module a segno SVG path draws: an absolute move,
    then horizontal strokes ``hN`` and relative moves ``mDX DY`` along module rows."""
    tokens = re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path)
    x = y = 0.0
    dark = set()
    for command, first, second in tokens:
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            for column in range(int(x), int(x + float(first))):
                dark.add((int(y), column))
            x += float(first)
    return dark


def segno_modules(url: str, border: int = 4) -> set[tuple[int, int]]:
    """The dark modules of segno's QR code for ``url``, placed inside the quiet zone."""
    matrix = segno.make_qr(url, error="m").matrix
    return {(row + border, column + border)
            for row, line in enumerate(matrix) for column, bit in enumerate(line) if bit}


def plug_url(app, evse_id: str) -> str:
    return f"{runtime(app).settings.public_url.rstrip('/')}/c/{url_safe(evse_id)}"


@pytest.fixture
def site(db, owner):
    site = make_site(db, owner.id, stations=2, plugs=2, help_phone="+31 20 555 0101")
    tariff_id = make_tariff(db, owner.id)
    with db.session() as session:
        for pk in site.connector_ids:
            session.get(Connector, pk).tariff_id = tariff_id
    return site


def test_a_site_has_one_sticker_per_plug_with_its_evse_id(signed_in, site):
    page = signed_in.get(f"/owner/stickers?site={site.id}").get_data(as_text=True)
    assert [evse for evse, _ in STICKER.findall(page)] == site.evse_ids


def test_a_sticker_shows_the_price_in_afir_order_and_the_help_phone(signed_in, site):
    page = signed_in.get(f"/owner/stickers?site={site.id}").get_data(as_text=True)
    _, sticker = STICKER.findall(page)[0]
    assert re.search(r"€0.39/kWh.*€0.35 per session.*incl. 21% VAT", sticker, re.S)
    assert "Help: +31 20 555 0101" in sticker


def test_the_evse_id_is_written_under_the_qr_code(signed_in, site):
    page = signed_in.get(f"/owner/stickers?site={site.id}").get_data(as_text=True)
    _, sticker = STICKER.findall(page)[0]
    assert sticker.index("</svg>") < sticker.index(f'vs-sticker-evse">{site.evse_ids[0]}<')


def test_the_sticker_qr_code_encodes_the_public_plug_page_url(app, db, owner, site):
    sheet = sticker_sheet(db, Viewer(owner.id, False), lambda evse: plug_url(app, evse),
                          site_id=site.id)
    sticker = sheet.stickers[0]
    assert sticker.url == plug_url(app, site.evse_ids[0])
    assert dark_modules(QR_PATH.search(sticker.qr).group(1)) == segno_modules(sticker.url)


def test_the_printed_qr_code_is_segnos_code_for_the_plug_page(signed_in, app, site):
    page = signed_in.get(f"/owner/stickers?site={site.id}").get_data(as_text=True)
    evse, sticker = STICKER.findall(page)[1]
    url = plug_url(app, evse)
    assert f'aria-label="QR code for {url}"' in sticker
    assert dark_modules(QR_PATH.search(sticker).group(1)) == segno_modules(url)


def test_the_url_in_the_qr_code_opens_the_plug_page(app, site):
    path = plug_url(app, site.evse_ids[0]).removeprefix(
        runtime(app).settings.public_url.rstrip("/"))
    page = app.test_client().get(path)
    assert page.status_code == 200
    assert site.evse_ids[0] in page.get_data(as_text=True)


def test_the_print_page_is_a4_with_a_page_break_after_each_sheet(signed_in, db, owner):
    site = make_site(db, owner.id, stations=1, plugs=7)
    page = signed_in.get(f"/owner/stickers?site={site.id}").get_data(as_text=True)
    assert re.search(r"@page\s*\{\s*size:\s*A4;", page)
    assert "break-after: page" in page
    sheets = re.findall(r'<section class="vs-sheet"', page)
    assert len(sheets) == 2
    assert len(STICKER.findall(page)) == 7


def test_printing_hides_the_owner_page_around_the_sheets(signed_in, site):
    page = signed_in.get(f"/owner/stickers?site={site.id}").get_data(as_text=True)
    print_css = re.search(r"@media print \{(.*?)\n  \}", page, re.S).group(1)
    assert ".vs-sidebar" in print_css and ".vs-header" in print_css


def test_a_stations_stickers_are_only_its_own_plugs(signed_in, site):
    station = site.charge_point_ids[1]
    page = signed_in.get(f"/owner/stickers?station={station}").get_data(as_text=True)
    assert [evse for evse, _ in STICKER.findall(page)] == site.evse_ids[2:]


def test_a_plug_without_a_price_is_named_before_printing(signed_in, db, owner):
    site = make_site(db, owner.id, plugs=1)
    page = signed_in.get(f"/owner/stickers?site={site.id}").get_data(as_text=True)
    assert f"These plugs have no price yet, so drivers cannot start them from a phone: " \
           f"{site.evse_ids[0]}" in page


def test_the_sticker_page_without_a_choice_offers_the_owners_sites(signed_in, site):
    page = signed_in.get("/owner/stickers").get_data(as_text=True)
    assert f'href="/owner/stickers?site={site.id}"' in page


def test_a_sheet_downloads_as_an_a4_svg_file(signed_in, site):
    response = signed_in.get(f"/owner/stickers.svg?site={site.id}")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    root = ET.fromstring(response.get_data())
    assert (root.get("width"), root.get("height")) == ("210mm", "297mm")


def test_the_svg_sheet_has_each_plugs_qr_code_evse_id_and_price(signed_in, app, site):
    svg = signed_in.get(f"/owner/stickers.svg?site={site.id}").get_data(as_text=True)
    root = ET.fromstring(svg)
    namespace = "{http://www.w3.org/2000/svg}"
    groups = root.findall(f"{namespace}g")
    assert [group.get("data-evse") for group in groups] == site.evse_ids
    first = groups[0]
    texts = [text.text for text in first.iter(f"{namespace}text")]
    assert site.evse_ids[0] in texts and "€0.39/kWh" in texts
    assert "Help: +31 20 555 0101" in texts
    path = first.find(f"{namespace}svg/{namespace}path[@stroke='#000']").get("d")
    assert dark_modules(path) == segno_modules(plug_url(app, site.evse_ids[0]))


def test_a_sheet_past_the_last_is_not_found(signed_in, site):
    assert signed_in.get(f"/owner/stickers.svg?site={site.id}&sheet=2").status_code == 404


@pytest.mark.parametrize("path", ["/owner/stickers?site={site}", "/owner/stickers?station={cp}",
                                  "/owner/stickers.svg?site={site}",
                                  "/owner/stickers.svg?station={cp}"])
def test_another_owners_site_or_station_has_no_stickers(signed_in, db, other_owner, path):
    theirs = make_site(db, other_owner.id)
    response = signed_in.get(path.format(site=theirs.id, cp=theirs.charge_point_ids[0]))
    assert response.status_code == 404
    assert theirs.evse_ids[0] not in response.get_data(as_text=True)


def test_another_owners_sites_are_not_offered(signed_in, db, other_owner):
    theirs = make_site(db, other_owner.id)
    assert theirs.name not in signed_in.get("/owner/stickers").get_data(as_text=True)


# --- Printed stickers that a price change makes stale ----------------------------------


def print_sheet(client, site) -> None:
    response = client.post("/owner/stickers/printed",
                           data={"site": str(site.id), "csrf_token": csrf_of(client)})
    assert response.status_code == 303


def test_a_printed_sheet_is_up_to_date_until_the_price_changes(signed_in, db, site):
    print_sheet(signed_in, site)
    assert 'data-testid="stale-stickers"' not in signed_in.get("/owner/tariffs").get_data(
        as_text=True)
    with db.session() as session:
        tariff_id = session.get(Connector, site.connector_ids[0]).tariff_id
        session.get(Tariff, tariff_id).energy_price_per_kwh = 4500
    for path in ("/owner/tariffs", "/owner/"):
        page = html.unescape(signed_in.get(path).get_data(as_text=True))
        assert f"4 printed stickers at {site.name} now show an old price" in page, path
        assert all(evse in page for evse in site.evse_ids)
        assert f'href="/owner/stickers?site={site.id}"' in page
    print_sheet(signed_in, site)
    for path in ("/owner/tariffs", "/owner/"):
        page = signed_in.get(path).get_data(as_text=True)
        assert "show an old price" not in page, path


def test_only_the_plugs_whose_price_changed_are_named(signed_in, db, owner, site):
    print_sheet(signed_in, site)
    other = make_tariff(db, owner.id, energy_price_per_kwh=2900)
    with db.session() as session:
        session.get(Connector, site.connector_ids[1]).tariff_id = other
    page = html.unescape(signed_in.get("/owner/tariffs").get_data(as_text=True))
    notice = page[page.index('data-testid="stale-stickers"'):]
    notice = notice[:notice.index("</div>")]
    assert f"1 printed sticker at {site.name} now shows an old price" in notice
    assert site.evse_ids[1] in notice and site.evse_ids[0] not in notice
