"""The live board, the owner page's home."""

from __future__ import annotations

from flask import render_template

from voltspot.runtime import runtime
from voltspot.services.owner.board import live_board
from voltspot.web.owner import bp, viewer
from voltspot.web.templating import htmx


@bp.get("/")
def board():
    view = live_board(runtime().db, viewer())
    if htmx.target == "board":
        return render_template("owner/_board.html", board=view, oob_sidebar=True)
    return render_template("owner/board.html", board=view)
