"""Drivers and their RFID cards: register, block and unblock, expiry, each card's sessions,
and the list with its filters and CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import Response, flash, redirect, render_template, request, url_for

from voltspot.domain.spreadsheet import safe_cell
from voltspot.runtime import runtime
from voltspot.services.errors import Conflict
from voltspot.services.owner import cards
from voltspot.web.driver import htmx
from voltspot.web.owner import bp, viewer


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


def _details() -> cards.CardDetails:
    """The form's card details; raises :class:`cards.CardInputError` for a date that is
    not one."""
    raw_expiry = request.form.get("expires_on", "").strip()
    try:
        expires_on = date.fromisoformat(raw_expiry) if raw_expiry else None
    except ValueError:
        raise cards.CardInputError("expires_on", "Pick the last day the card may charge, "
                                                 "or leave it empty.") from None
    return cards.CardDetails(holder_name=request.form.get("holder_name", ""),
                             note=request.form.get("note", ""), expires_on=expires_on,
                             billing=request.form.get("billing", cards.Billing.FREE))


@bp.get("/cards", endpoint="cards")
def cards_list():
    state, query = _filters()
    with runtime().db.session() as session:
        listing = cards.list_cards(session, viewer(), state=state, query=query,
                                   page=_page_number())
    context = {"listing": listing, "state": state, "query": query, "states": cards.CardState}
    if htmx and htmx.target == "card-list":
        return render_template("owner/_card_list.html", **context)
    return render_template("owner/cards.html", **context)


@bp.get("/cards.csv")
def cards_csv() -> Response:
    state, query = _filters()
    with runtime().db.session() as session:
        rows = cards.all_cards(session, viewer(), state=state, query=query)
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
    return _card_form("owner/card_new.html", 200, form={}, error=None)


@bp.post("/cards")
def create_card():
    try:
        details = _details()
        with runtime().db.session() as session:
            card = cards.register_card(session, viewer(), request.form.get("id_tag", ""),
                                       details)
            card_id, id_tag = card.id, card.id_tag
    except cards.CardInputError as problem:
        return _card_form("owner/card_new.html", 400, form=request.form, error=problem)
    except Conflict as problem:
        return _card_form("owner/card_new.html", 409, form=request.form,
                          error=cards.CardInputError("id_tag", str(problem)))
    flash(f"Card {id_tag} is registered. Chargers accept it from its next tap.", "success")
    return redirect(url_for("owner.card", card_id=card_id), 303)


def _card_page(card_id: int, *, form=None, error=None, status: int = 200):
    with runtime().db.session() as session:
        page = cards.card_page(session, viewer(), card_id, page=_page_number())
    if htmx and htmx.target == "card-sessions":
        return render_template("owner/_card_sessions.html", page=page)
    return _card_form("owner/card.html", status, page=page, form=form, error=error)


@bp.get("/cards/<int:card_id>")
def card(card_id: int):
    return _card_page(card_id)


@bp.post("/cards/<int:card_id>")
def update_card(card_id: int):
    try:
        details = _details()
        with runtime().db.session() as session:
            cards.update_card(session, viewer(), card_id, details)
    except cards.CardInputError as problem:
        return _card_page(card_id, form=request.form, error=problem, status=400)
    flash("Saved. Chargers use the new expiry date from the card's next tap.", "success")
    return redirect(url_for("owner.card", card_id=card_id), 303)


def _set_blocked(card_id: int, blocked: bool):
    with runtime().db.session() as session:
        row = cards.card_row(session, viewer(),
                             cards.set_blocked(session, viewer(), card_id, blocked))
    if htmx and htmx.target == f"card-{card_id}":
        return render_template("owner/_card_row.html", row=row)
    flash(f"Card {row.id_tag} is blocked: chargers refuse it from its next tap." if blocked
          else f"Card {row.id_tag} is unblocked and can charge again.", "success")
    return redirect(url_for("owner.card", card_id=card_id), 303)


@bp.post("/cards/<int:card_id>/block")
def block_card(card_id: int):
    return _set_blocked(card_id, True)


@bp.post("/cards/<int:card_id>/unblock")
def unblock_card(card_id: int):
    return _set_blocked(card_id, False)
