"""Prices: the owner's tariffs, the editor with its live preview and example session,
and assigning a tariff to sites and plugs."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from voltspot.runtime import runtime
from voltspot.services.errors import InvalidInput
from voltspot.services.forms import INVALID_STATUS, FormInvalid
from voltspot.services.owner import tariff_form
from voltspot.services.owner import tariffs as owner_tariffs
from voltspot.services.owner.stickers import viewer_stale_stickers
from voltspot.services.owner.tariff_form import FROZEN_PRICE_RULE
from voltspot.services.owner.tariff_preview import ExampleForm, preview
from voltspot.web.i18n import translate
from voltspot.web.owner import bp, viewer
from voltspot.web.templating import htmx

PREVIEW_TARGET = "tariff-preview"
WINDOWS_TARGET = "tariff-windows"


def _fragment_for(target: str) -> bool:
    # A boosted navigation is an htmx request too, but it wants the whole page.
    return bool(htmx) and not htmx.boosted and htmx.target == target


def _saved_message(name: str) -> str:
    return _("Saved “%(price)s”.", price=name) + " " + translate(FROZEN_PRICE_RULE)


@bp.get("/tariffs")
def tariffs():
    rows = owner_tariffs.list_tariffs(runtime().db, viewer())
    return render_template("owner/tariffs.html", tariffs=rows, rule=FROZEN_PRICE_RULE,
                           stale_stickers=viewer_stale_stickers(runtime().db, viewer()))


def _render_editor(editor: owner_tariffs.Editor, status: int = 200):
    return render_template("owner/tariff_edit.html", editor=editor,
                           currencies=tariff_form.CURRENCIES,
                           signs=tariff_form.CURRENCY_SIGNS,
                           weekdays=tariff_form.WEEKDAYS,
                           rule=FROZEN_PRICE_RULE), status


@bp.route("/tariffs/new", methods=["GET", "POST"], defaults={"tariff_id": None})
@bp.route("/tariffs/<int:tariff_id>", methods=["GET", "POST"])
def tariff_edit(tariff_id: int | None):
    form = tariff_form.form_from_data(request.form) if request.method == "POST" else None
    example = ExampleForm.from_data(request.form)
    db = runtime().db
    if form is not None:
        try:
            saved = owner_tariffs.save_tariff(db, viewer(), tariff_id, form)
        except FormInvalid:
            pass  # the form now carries its errors; the editor shows them
        else:
            flash(_saved_message(saved.name), "success")
            if tariff_id is None:
                return redirect(url_for("owner.tariff_assign", tariff_id=saved.id), 303)
            return redirect(url_for("owner.tariffs"), 303)
    editor = owner_tariffs.tariff_editor(db, viewer(), tariff_id, form, example)
    return _render_editor(editor, INVALID_STATUS if form is not None else 200)


@bp.post("/tariffs/preview")
def tariff_preview():
    """The live preview of the editor's prices; without htmx, the editor page with it."""
    form = tariff_form.form_from_data(request.form)
    example = ExampleForm.from_data(request.form)
    if _fragment_for(PREVIEW_TARGET):
        return render_template("owner/_tariff_preview.html",
                               preview=preview(form, example))
    tariff_id = request.form.get("tariff_id", type=int)
    editor = owner_tariffs.tariff_editor(runtime().db, viewer(), tariff_id, form, example)
    return _render_editor(editor)


@bp.post("/tariffs/windows")
def tariff_windows():
    """Add (``window_action=add``) or remove (``window_action=remove-N``) a time window
    row; htmx gets the rows, anything else the editor page."""
    form = tariff_form.form_from_data(request.form)
    action = request.form.get("window_action", "")
    if action == "add":
        form.add_window()
    elif action.startswith("remove-") and action.removeprefix("remove-").isdigit():
        form.remove_window(int(action.removeprefix("remove-")))
    if _fragment_for(WINDOWS_TARGET):
        return render_template("owner/_tariff_windows.html", form=form,
                               weekdays=tariff_form.WEEKDAYS)
    tariff_id = request.form.get("tariff_id", type=int)
    editor = owner_tariffs.tariff_editor(runtime().db, viewer(), tariff_id, form)
    return _render_editor(editor)


@bp.route("/tariffs/<int:tariff_id>/assign", methods=["GET", "POST"])
def tariff_assign(tariff_id: int):
    error, status = None, 200
    db = runtime().db
    if request.method == "POST":
        try:
            changed = owner_tariffs.assign_tariff(
                db, viewer(), tariff_id,
                site_ids=request.form.getlist("site", type=int),
                connector_ids=request.form.getlist("connector", type=int))
        except InvalidInput as refused:
            error, status = translate(refused), INVALID_STATUS
        else:
            said = _("1 more plug uses this price.") if changed == 1 else _(
                "%(count)s more plugs use this price.", count=changed)
            flash(f"{said} {translate(FROZEN_PRICE_RULE)}", "success")
            return redirect(url_for("owner.tariff_assign", tariff_id=tariff_id), 303)
    view = owner_tariffs.assignment(db, viewer(), tariff_id)
    return render_template("owner/tariff_assign.html", assignment=view, error=error,
                           rule=FROZEN_PRICE_RULE,
                           stale_stickers=viewer_stale_stickers(db, viewer())), status
