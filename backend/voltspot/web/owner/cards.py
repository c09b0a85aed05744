"""Drivers and their RFID cards: register, block and unblock, expiry, each card's sessions,
and the list with its filters and CSV export."""

from __future__ import annotations

import csv
import io

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from voltspot.domain.spreadsheet import safe_cell
from voltspot.runtime import runtime
from voltspot.services.forms import INVALID_STATUS, FormInvalid
from voltspot.services.owner import cards
from voltspot.web.owner import bp, viewer
from voltspot.web.templating import htmx


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def _filters() -> tuple[cards.CardState, str]:
    try:
        state = cards.CardState(request.args.get("state", "all"))
    except ValueError:
        state = cards.CardState.ALL
    return state, request.args.get("q", "").strip()


@bp.get("/cards", endpoint="cards")
def cards_list():
    state, query = _filters()
    listing = cards.list_cards(runtime().db, viewer(), state=state, query=query,
                               page=_page_number())
    context = {"listing": listing, "state": state, "query": query, "states": cards.CardState}
    if htmx and htmx.target == "card-list":
        return render_template("owner/_card_list.html", **context)
    return render_template("owner/cards.html", **context)


@bp.get("/cards.csv")
def cards_csv() -> Response:
    state, query = _filters()
    rows = cards.all_cards(runtime().db, viewer(), state=state, query=query)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id_tag", "holder_name", "note", "status", "valid_until", "billing",
                     "sessions", "energy_kwh"])
    for row in rows:
        writer.writerow([safe_cell(row.id_tag), safe_cell(row.holder_name),
                         safe_cell(row.note), row.status,
                         row.expires_on.isoformat() if row.expires_on else "", row.billing,
                         row.sessions, f"{row.energy_wh / 1000:.3f}"])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="rfid-cards.csv"'})


def _card_form(template: str, status: int, **context):
    return render_template(template, billings=list(cards.Billing), **context), status


@bp.get("/cards/new")
def new_card():
    return _card_form("owner/card_new.html", 200, form={}, errors={})


@bp.post("/cards")
def create_card():
    try:
        card = cards.register_card(runtime().db, viewer(), request.form.get("id_tag", ""),
                                   cards.details_from_form(request.form))
    except FormInvalid as invalid:
        return _card_form("owner/card_new.html", INVALID_STATUS, form=request.form,
                          errors=invalid.errors)
    flash(_("Card %(number)s is registered. Chargers accept it from its next tap.",
            number=card.id_tag), "success")
    return redirect(url_for("owner.card", card_id=card.id), 303)


def _card_page(card_id: int, *, form=None, errors=None, status: int = 200):
    page = cards.card_page(runtime().db, viewer(), card_id, page=_page_number())
    if htmx and htmx.target == "card-sessions":
        return render_template("owner/_card_sessions.html", page=page)
    return _card_form("owner/card.html", status, page=page, form=form, errors=errors or {})


@bp.get("/cards/<int:card_id>")
def card(card_id: int):
    return _card_page(card_id)


@bp.post("/cards/<int:card_id>")
def update_card(card_id: int):
    try:
        cards.update_card(runtime().db, viewer(), card_id, cards.details_from_form(request.form))
    except FormInvalid as invalid:
        return _card_page(card_id, form=request.form, errors=invalid.errors,
                          status=INVALID_STATUS)
    flash(_("Saved. Chargers use the new expiry date from the card's next tap."), "success")
    return redirect(url_for("owner.card", card_id=card_id), 303)


def _set_blocked(card_id: int, blocked: bool):
    row = cards.set_blocked(runtime().db, viewer(), card_id, blocked)
    if htmx and htmx.target == f"card-{card_id}":
        return render_template("owner/_card_row.html", row=row)
    number = row.id_tag
    flash(_("Card %(number)s is blocked: chargers refuse it from its next tap.", number=number)
          if blocked else _("Card %(number)s is unblocked and can charge again.", number=number),
          "success")
    return redirect(url_for("owner.card", card_id=card_id), 303)


@bp.post("/cards/<int:card_id>/block")
def block_card(card_id: int):
    return _set_blocked(card_id, True)


@bp.post("/cards/<int:card_id>/unblock")
def unblock_card(card_id: int):
    return _set_blocked(card_id, False)
