"""The live board, the owner page's home, and the actions its alerts offer."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from voltspot.runtime import runtime
from voltspot.services.owner.board import live_board
from voltspot.services.owner.problems import mark_handled
from voltspot.web.owner import bp, viewer
from voltspot.web.templating import htmx


@bp.get("/")
def board():
    view = live_board(runtime().db, viewer())
    if htmx.target == "board":
        return render_template("owner/_board.html", board=view, oob_sidebar=True)
    return render_template("owner/board.html", board=view)


@bp.post("/problems/<int:problem_id>/handled")
def problem_handled(problem_id: int):
    """A driver's problem report is dealt with: it leaves the board."""
    mark_handled(runtime().db, viewer(), problem_id)
    flash(_("The problem is marked as handled."), "success")
    return redirect(url_for("owner.board"), 303)
