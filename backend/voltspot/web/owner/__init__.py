"""The owner page under ``/owner``: one blueprint, its views split by subject into the
modules of this package. Every view is for a signed-in owner and sees only their sites
(``g.viewer``; lookups through :mod:`voltspot.services.owner.accounts`)."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, session, url_for

from voltspot.runtime import runtime
from voltspot.services.errors import NotFound
from voltspot.services.owner.sidebar import sidebar_sites
from voltspot.web.auth import current_viewer
from voltspot.web.csrf import protect
from voltspot.web.i18n import translate

bp = Blueprint("owner", __name__, url_prefix="/owner")


@bp.before_request
def require_owner():
    protect()
    if current_viewer() is None:
        if request.method == "GET":
            session["next_url"] = request.full_path.rstrip("?")
        return redirect(url_for("auth.login"))
    return None


@bp.errorhandler(NotFound)
def not_found(error: NotFound):
    return render_template("owner/not_found.html", message=translate(error)), 404


def viewer():
    """The signed-in owner (set by :func:`require_owner`)."""
    return g.viewer


@bp.context_processor
def sidebar() -> dict:
    """The sidebar's sites and stations with their status dots, on every owner page."""
    return {"sidebar_sites": sidebar_sites(runtime().db, g.viewer)} if g.get("viewer") else {}


# Each module below adds its views to ``bp`` when imported; they come last because they
# import ``bp`` and ``viewer`` from here.
from voltspot.web.owner import (  # noqa: E402, F401
    approvals,
    board,
    cards,
    live,
    load,
    reports,
    roaming,
    search,
    sessions,
    stations,
    stickers,
    tariffs,
    words,
)
