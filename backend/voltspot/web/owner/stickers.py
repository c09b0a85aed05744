"""QR stickers: a printable A4 page of a site's (or a station's) plug stickers, and each
sheet as an SVG file."""

from __future__ import annotations

import re

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from voltspot.domain.evse_ids import url_safe
from voltspot.runtime import runtime
from voltspot.services.errors import InvalidInput
from voltspot.services.owner import stickers as sticker_service
from voltspot.web.i18n import translate
from voltspot.web.owner import bp, viewer


def plug_url(evse_id: str) -> str:
    """The public URL a sticker's QR code opens: the plug page at the configured public
    address (not the host the owner happens to browse from)."""
    path = url_for("driver.plug", evse=url_safe(evse_id))
    return runtime().settings.public_url.rstrip("/") + path


def _sheet() -> sticker_service.StickerSheet:
    return sticker_service.sticker_sheet(
        runtime().db, viewer(), plug_url, site_id=request.args.get("site", type=int),
        charge_point_id=request.args.get("station") or None)


def _page(sheet: sticker_service.StickerSheet | None, error: str | None = None,
          status: int = 200):
    return render_template("owner/stickers.html", sheet=sheet, error=error,
                           sheet_size=sticker_service.PER_SHEET), status


@bp.get("/stickers")
def stickers():
    if request.args.get("site") is None and not request.args.get("station"):
        return _page(None)
    try:
        sheet = _sheet()
    except InvalidInput as problem:
        return _page(None, translate(problem), 422)
    return _page(sheet)


@bp.get("/stickers.svg")
def stickers_svg():
    number = request.args.get("sheet", 1, type=int)
    try:
        sheet = _sheet()
        placed = sheet.placed(number)
    except InvalidInput:
        abort(404)
    body = render_template("owner/stickers_sheet.svg.html", sheet=sheet, placed=placed,
                           number=number, page=sticker_service.PAGE_MM)
    name = re.sub(r"[^a-z0-9]+", "-", sheet.title.lower()).strip("-") or "site"
    return Response(body, mimetype="image/svg+xml", headers={
        "Content-Disposition": f'attachment; filename="stickers-{name}-{number}.svg"'})


@bp.post("/stickers/printed")
def stickers_printed():
    """The owner prints the sheet: remember the price each sticker shows, so a later
    price change can say which printed stickers went out of date."""
    try:
        count = sticker_service.record_printed(
            runtime().db, viewer(), plug_url, site_id=request.form.get("site", type=int),
            charge_point_id=request.form.get("station") or None)
    except InvalidInput as problem:
        flash(translate(problem), "warning")
        return redirect(url_for("owner.stickers"), 303)
    if request.headers.get("X-Voltspot-Print") != "1":
        flash(_("%(count)s stickers are noted as printed. Print this page with your browser "
                "(Ctrl+P or ⌘P).", count=count), "success")
    station = request.form.get("station") or None
    return redirect(url_for("owner.stickers", site=None if station else
                            request.form.get("site", type=int), station=station), 303)
