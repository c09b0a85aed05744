"""The driver app: find a spot, the plug page a sticker opens, start, live session, stop,
receipt. Every URL is a full page; htmx requests get the fragment that changes."""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from voltspot.domain.evse_ids import EvseIdError, normalise_evse_id, url_safe
from voltspot.runtime import runtime
from voltspot.services.driver import live, plugs
from voltspot.services.driver import receipt as receipts
from voltspot.services.driver import spots as finding
from voltspot.services.driver import start as starting
from voltspot.services.errors import Conflict, InvalidInput, NotFound
from voltspot.services.owner import problems
from voltspot.services.payments.gateways.base import PaymentDeclined, PaymentUnavailable
from voltspot.services.payments.reconcile import CLAIM_MINUTES
from voltspot.web.account import keep_started_session
from voltspot.web.csrf import protect
from voltspot.web.i18n import translate
from voltspot.web.security import client_address, now, throttles, too_many
from voltspot.web.templating import htmx

bp = Blueprint("driver", __name__)

CONNECTOR_TYPES = ("Type 2", "CCS", "CHAdeMO")
# Problems shown once on the session page: flashed, never read from the address (a link
# with ?error=… must not put someone else's words on our page).
SESSION_PROBLEM = "session-problem"


@bp.errorhandler(NotFound)
def not_found(error: NotFound):
    return render_template("driver/not_found.html", message=translate(error)), 404


def _float(name: str) -> float | None:
    try:
        return float(request.args[name])
    except (KeyError, ValueError):
        return None


@bp.get("/")
def find_spot():
    lat, lon = _float("lat"), _float("lon")
    near = (lat, lon) if lat is not None and lon is not None else None
    filters = finding.SpotFilters(
        free_only=request.args.get("free") == "1",
        connector_type=request.args.get("type") if request.args.get("type") in CONNECTOR_TYPES
        else None,
        min_power_kw=_float("min_kw"))
    query = request.args.get("q", "")[:100]
    spots = finding.find_spots(runtime().db, near=near, query=query, filters=filters)
    settings = runtime().settings
    context = dict(spots=spots, query=query, filters=filters, near=near,
                   connector_types=CONNECTOR_TYPES, map_tiles=settings.map_tiles,
                   map_attribution=settings.map_attribution)
    if htmx and htmx.target == "spots":
        return render_template("driver/_spots.html", **context)
    return render_template("driver/find_spot.html", **context)


@bp.get("/sites/<int:site_id>")
def site(site_id: int):
    view = finding.site_view(runtime().db, site_id)
    return render_template("driver/site.html", site=view)


def _plug_page(evse: str, error: str | None = None, status: int = 200):
    page = plugs.plug_page(runtime().db, evse)
    return render_template("driver/plug.html", page=page, error=error,
                           start_key=secrets.token_urlsafe(16)), status


@bp.get("/c/<evse>")
def plug(evse: str):
    try:
        canonical = url_safe(evse)
    except EvseIdError:
        canonical = evse
    if canonical != evse:
        return redirect(url_for("driver.plug", evse=canonical), 301)
    return _plug_page(evse)


@bp.post("/c/<evse>/start")
def start(evse: str):
    rt = runtime()
    wait = throttles().starts.hit(client_address(), now())
    if wait:
        return too_many(wait, "Too many starts from this device. Wait a minute and try again.")
    try:
        token = starting.start_session(rt.db, rt.payments, rt.control, evse,
                                     request.form.get("start_key", ""))
    except (plugs.PlugUnavailable, PaymentDeclined, PaymentUnavailable) as refused:
        body, status = _plug_page(evse, error=translate(refused), status=409)
        # The address bar shows the plug page again, not the form's POST address.
        return body, status, {"HX-Replace-Url": url_for("driver.plug", evse=evse)}
    keep_started_session(token)
    return redirect(url_for("driver.session_page", token=token), 303)


@bp.get("/scan")
def scan():
    code = request.args.get("code", "").strip()
    error = None
    if code:
        candidate = code.rsplit("/c/", 1)[-1]
        try:
            return redirect(url_for("driver.plug", evse=url_safe(normalise_evse_id(candidate))))
        except EvseIdError:
            error = _("“%(code)s” is not a charger code. It looks like NL*VSP*E12*1 and is "
                      "printed under the QR code.", code=candidate)
    return render_template("driver/scan.html", code=code, error=error)


def _live(token: str) -> live.LiveSession:
    rt = runtime()
    return live.live_session(rt.db, token, rt.settings.remote_start_timeout)


@bp.get("/sessions/<token>")
def session_page(token: str):
    rt = runtime()
    if htmx.target == "live":
        return render_template("driver/_session_live.html", live=_live(token))
    page = live.session_page(rt.db, rt.payments, token, rt.settings.remote_start_timeout)
    problems = get_flashed_messages(category_filter=[SESSION_PROBLEM])
    return render_template("driver/session.html", live=page.live, payment=page.payment,
                           error=problems[0] if problems else None,
                           claim_minutes=CLAIM_MINUTES)


@bp.get("/sessions/<token>/paid")
def paid(token: str) -> Response:
    """Where the payment page returns after the driver confirmed the hold; the provider is
    asked whether the money is really held before the charger is started."""
    rt = runtime()
    try:
        starting.confirm_hold(rt.db, rt.payments, rt.control, token)
    except PaymentUnavailable as problem:
        flash(translate(problem), SESSION_PROBLEM)
    return redirect(url_for("driver.session_page", token=token), 303)


@bp.post("/sessions/<token>/stop")
def stop(token: str) -> Response:
    rt = runtime()
    try:
        live.stop_session(rt.db, rt.control, token)
    except Conflict as problem:
        flash(translate(problem), SESSION_PROBLEM)
    return redirect(url_for("driver.session_page", token=token), 303)


@bp.get("/sessions/<token>/receipt")
def receipt(token: str):
    rt = runtime()
    bill = receipts.receipt(rt.db, rt.payments, token, rt.settings.remote_start_timeout)
    if bill.live.is_open:
        abort(redirect(url_for("driver.session_page", token=token)))
    return render_template("driver/receipt.html", live=bill.live, receipt=bill)


def _report_form(evse: str, message: str = "", error: str | None = None, status: int = 200):
    page = plugs.plug_page(runtime().db, evse)
    return render_template("driver/report.html", page=page, message=message, error=error,
                           longest=problems.LONGEST_MESSAGE), status


@bp.get("/c/<evse>/problem")
def report_form(evse: str):
    return _report_form(evse)


@bp.post("/c/<evse>/problem")
def report(evse: str):
    """A driver's "report a problem": it reaches the owner's live board as an alert."""
    protect()
    message = request.form.get("message", "")
    wait = throttles().reports.hit(client_address(), now())
    if wait:
        return _report_form(evse, message, _("You have sent several reports already. Please "
                                             "wait an hour, or call the help number."), 429)
    try:
        problems.report_problem(runtime().db, evse, message)
    except InvalidInput as invalid:
        return _report_form(evse, message, translate(invalid), 400)
    return render_template("driver/reported.html", page=plugs.plug_page(runtime().db, evse))


@bp.get("/my-sessions")
def my_sessions():
    return render_template("driver/my_sessions.html")
