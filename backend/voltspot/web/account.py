"""Drivers' optional accounts: sign in with an emailed link (or a passkey), keep sessions
and favourite sites across devices, download or delete everything kept.

A signed-in driver's browser carries the ``voltspot_driver`` cookie (a random token the
server keeps a digest of), separate from the owner page's session cookie: signing in or out
on one never touches the other. Forms carry the CSRF token of :mod:`voltspot.web.csrf`.
Asking for a link is limited per email address and per client address (429 with
``Retry-After``)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from voltspot.cluster.node import RedisNode
from voltspot.cluster.throttles import rate_limit
from voltspot.runtime import runtime
from voltspot.services.accounts import library, passkeys, signin
from voltspot.services.accounts.mail import Mail, MailUnavailable, mailer_for
from voltspot.services.accounts.receipts import send_due_receipts
from voltspot.services.errors import Conflict, InvalidInput, NotFound, ServiceError
from voltspot.web.account_mail import receipt_writer
from voltspot.web.csrf import protect
from voltspot.web.i18n import current_language, page_is_translated, translate
from voltspot.web.security import client_address, now, public_url

bp = Blueprint("account", __name__, url_prefix="/account")

COOKIE = "voltspot_driver"
HOUR = 3600
# The challenge of a passkey ceremony waits in the signed session cookie this long.
CHALLENGE_KEY = "driver_passkey_challenge"
CHALLENGE_SECONDS = 300


class AccountThrottles:
    """Sign-in emails per email address and per client address, per hour; shared by every
    process through Redis when ``node`` is given."""

    def __init__(self, node: RedisNode | None, per_address: int, per_client: int) -> None:
        self.per_address = rate_limit(node, "driver-link-address", per_address, HOUR)
        self.per_client = rate_limit(node, "driver-link-client", per_client, HOUR)


def _throttles() -> AccountThrottles:
    return current_app.extensions["voltspot.account_throttles"]


def _mailer():
    return current_app.extensions["voltspot.mailer"]


def _lifetime() -> timedelta:
    return timedelta(days=runtime().settings.driver_account_days)


def current_account() -> signin.Account | None:
    """The driver account this browser is signed in to, or None (a Jinja global)."""
    if "driver_account" not in g:
        browser = request.cookies.get(COOKIE)
        account = signin.signed_in_account(
            runtime().db, browser, lifetime=_lifetime()) if browser else None
        if account is not None and page_is_translated() \
                and account.language != current_language():
            # Emails (receipts) follow the language the driver reads the app in.
            signin.set_language(runtime().db, account.id, current_language())
        g.driver_account = account
    return g.driver_account


def favourite_ids() -> set[int]:
    """The signed-in driver's favourite site ids (empty when not signed in; a Jinja
    global for the stars)."""
    account = current_account()
    if account is None:
        return set()
    if "driver_favourites" not in g:
        g.driver_favourites = library.favourite_ids(runtime().db, account.id)
    return g.driver_favourites


def favourite_sites():
    """The signed-in driver's favourite sites, for find-a-spot (a Jinja global)."""
    account = current_account()
    return library.favourite_sites(runtime().db, account.id) if account else []


def account_sessions():
    """The signed-in driver's sessions for "My sessions" (a Jinja global)."""
    account = current_account()
    return library.kept_sessions(runtime().db, account.id) if account else []


def keep_started_session(token: str) -> None:
    """A session this browser just started: a signed-in driver's account keeps it."""
    account = current_account()
    if account is not None:
        signin.keep_session(runtime().db, account.id, token)


def _signed_in(response: Response, browser: str) -> Response:
    """``response`` setting this browser's sign-in cookie to ``browser``; an earlier
    sign-in of the browser ends for good (one account at a time)."""
    previous = request.cookies.get(COOKIE)
    if previous:
        signin.sign_out(runtime().db, previous)
    response.set_cookie(COOKIE, browser, max_age=int(_lifetime().total_seconds()),
                        httponly=True, samesite="Lax", secure=runtime().settings.is_production)
    return response


@bp.before_request
def check_csrf() -> None:
    protect()


@bp.after_request
def personal(response: Response) -> Response:
    # A driver's own page: no shared or back-button cache keeps it.
    response.headers["Cache-Control"] = "no-store"
    return response


def _device_sessions() -> list[str]:
    raw = request.form.get("device_sessions", "")
    return [token for token in raw.split() if token][:signin.MAX_DEVICE_SESSIONS]


def _sign_in_page(error: str | None = None, email: str = "", status: int = 200):
    return render_template("driver/account/sign_in.html", error=error, email=email), status


@bp.get("")
def account_page():
    account = current_account()
    if account is None:
        return _sign_in_page()
    return _account_page(account)


def _account_page(account: signin.Account, status: int = 200, **context):
    return render_template("driver/account/account.html", account=account,
                           favourites=favourite_sites(),
                           passkeys=passkeys.passkeys(runtime().db, account.id),
                           **context), status


def write_sign_in_mail(email: str, link: str) -> Mail:
    """The sign-in email, in the request's language."""
    minutes = runtime().settings.driver_link_minutes
    text = "\n\n".join([
        _("Hello,"),
        _("Follow this link to sign in to Voltspot. It works once, for %(minutes)s minutes:",
          minutes=minutes),
        link,
        _("If you did not ask to sign in, ignore this email: nothing happens without the "
          "link."),
    ]) + "\n"
    return Mail(to=email, subject=_("Your Voltspot sign-in link"), text=text)


@bp.post("/sign-in")
def ask_for_link():
    raw = request.form.get("email", "")
    try:
        email = signin.normalise_email(raw)
    except InvalidInput as problem:
        return _sign_in_page(translate(problem), raw[:254], 400)
    limits, moment = _throttles(), now()
    wait = limits.per_client.hit(client_address(), moment) or \
        limits.per_address.hit(email, moment)
    if wait:
        minutes = max(1, -(-wait // 60))
        body, status = _sign_in_page(
            _("Too many sign-in emails were asked for. Wait %(minutes)s minutes and try "
              "again.", minutes=minutes), email, 429)
        return body, status, {"Retry-After": str(wait)}
    settings = runtime().settings
    try:
        signin.send_sign_in_link(
            runtime().db, _mailer(), email, minutes=settings.driver_link_minutes,
            link_for=lambda token: public_url(url_for("account.link", token=token)),
            write=write_sign_in_mail)
    except MailUnavailable as error:
        current_app.logger.warning("sign-in email to %s not sent: %s", email, error)
        return _sign_in_page(_("We could not send the email just now. Try again in a few "
                               "minutes."), email, 503)
    return render_template("driver/account/check_email.html", email=email,
                           minutes=settings.driver_link_minutes)


@bp.get("/link/<token>")
def link(token: str):
    """The emailed link opens a page whose button signs in: mail scanners that open links
    do not use it up, and the device's sessions go along with the button."""
    email = signin.link_email(runtime().db, token)
    if email is None:
        return _link_refused()
    return render_template("driver/account/confirm.html", email=email, token=token)


def _link_refused():
    minutes = runtime().settings.driver_link_minutes
    return _sign_in_page(_("This sign-in link has expired or was used already. Ask for a new "
                           "one below; it works once, for %(minutes)s minutes.",
                           minutes=minutes), status=410)


@bp.post("/link/<token>")
def follow_link(token: str) -> Response:
    settings = runtime().settings
    try:
        browser, _account = signin.follow_link(
            runtime().db, token, language=current_language(),
            device_sessions=_device_sessions(), minutes=settings.driver_link_minutes)
    except Conflict:
        return _link_refused()
    return _signed_in(redirect(url_for("account.account_page"), 303), browser)


@bp.post("/sign-out")
def sign_out() -> Response:
    browser = request.cookies.get(COOKIE)
    if browser:
        signin.sign_out(runtime().db, browser)
    response = redirect(url_for("account.account_page"), 303)
    response.delete_cookie(COOKIE, httponly=True, samesite="Lax")
    return response


def _local(target: str | None, fallback: str) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") \
        else fallback


@bp.post("/favourites/<int:site_id>")
def favourite(site_id: int) -> Response:
    back = _local(request.form.get("next"), url_for("driver.site", site_id=site_id))
    account = current_account()
    if account is None:
        return redirect(url_for("account.account_page"), 303)
    try:
        library.set_favourite(runtime().db, account.id, site_id,
                              request.form.get("favourite") == "1")
    except NotFound as missing:
        return render_template("driver/not_found.html", message=translate(missing)), 404
    return redirect(back, 303)


@bp.get("/data.json")
def download() -> Response:
    account = current_account()
    if account is None:
        return redirect(url_for("account.account_page"), 303)
    data = library.export_data(runtime().db, account.id)
    return Response(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                    mimetype="application/json", headers={
                        "Content-Disposition": 'attachment; filename="voltspot-my-data.json"'})


@bp.post("/delete")
def delete() -> Response:
    account = current_account()
    if account is None:
        return redirect(url_for("account.account_page"), 303)
    if request.form.get("confirm") != "yes":
        return _account_page(account, 400, delete_error=_(
            "Tick the box to confirm that the account is to be deleted."))
    library.delete_account(runtime().db, account.id)
    response = redirect(url_for("account.deleted"), 303)
    response.delete_cookie(COOKIE, httponly=True, samesite="Lax")
    return response


@bp.get("/deleted")
def deleted():
    return render_template("driver/account/deleted.html")


def _relying_party() -> passkeys.RelyingParty:
    return passkeys.RelyingParty.for_public_url(runtime().settings.public_url)


def _begin(purpose: str, ceremony: passkeys.Ceremony) -> Response:
    session[CHALLENGE_KEY] = {"purpose": purpose, "at": time.time(),
                              "challenge": ceremony.challenge.hex()}
    return Response(ceremony.options_json, mimetype="application/json")


def _challenge(purpose: str) -> bytes | None:
    """The waiting challenge of a ``purpose`` ceremony, used up by asking."""
    kept = session.pop(CHALLENGE_KEY, None)
    if not kept or kept.get("purpose") != purpose \
            or time.time() - kept.get("at", 0) > CHALLENGE_SECONDS:
        return None
    return bytes.fromhex(kept["challenge"])


def _refused(message: str, status: int = 400) -> tuple[Response, int]:
    return jsonify(error=message), status


def _credential() -> str:
    body = request.get_json(silent=True) or {}
    return json.dumps(body.get("credential") or {})


@bp.post("/passkeys/options")
def passkey_options():
    account = current_account()
    if account is None:
        return _refused(_("Sign in first, then add a passkey."), 401)
    return _begin("register", passkeys.registration(runtime().db, account.id,
                                                    _relying_party()))


@bp.post("/passkeys")
def add_passkey():
    account = current_account()
    challenge = _challenge("register")
    if account is None or challenge is None:
        return _refused(_("This took too long. Try again."))
    try:
        passkeys.register(runtime().db, account.id, _credential(), challenge,
                          _relying_party())
    except ServiceError as problem:
        return _refused(translate(problem))
    return jsonify(next=url_for("account.account_page")), 201


@bp.post("/passkeys/<int:passkey_id>/delete")
def remove_passkey(passkey_id: int) -> Response:
    account = current_account()
    if account is not None:
        passkeys.remove(runtime().db, account.id, passkey_id)
    return redirect(url_for("account.account_page"), 303)


@bp.post("/passkey-sign-in/options")
def passkey_sign_in_options():
    return _begin("sign-in", passkeys.authentication(_relying_party()))


@bp.post("/passkey-sign-in")
def passkey_sign_in():
    challenge = _challenge("sign-in")
    if challenge is None:
        return _refused(_("This took too long. Try again."))
    try:
        account_id = passkeys.sign_in(runtime().db, _credential(), challenge,
                                      _relying_party())
    except Conflict as problem:
        return _refused(translate(problem), 401)
    body = request.get_json(silent=True) or {}
    tokens = [t for t in body.get("device_sessions") or [] if isinstance(t, str)]
    browser = signin.sign_in_account(runtime().db, account_id, language=current_language(),
                                     device_sessions=tokens[:signin.MAX_DEVICE_SESSIONS])
    return _signed_in(jsonify(next=url_for("account.account_page")), browser)


# Stale sign-ins and links are deleted this often (a housekeeping round is seconds).
TIDY_SECONDS = 3600


def every(seconds: float, job):
    """``job`` run at most once per ``seconds`` however often the result is called (the
    first call runs it)."""
    last = [float("-inf")]

    def maybe() -> None:
        if time.monotonic() - last[0] >= seconds:
            last[0] = time.monotonic()
            job()

    return maybe


def init_accounts(app: Flask) -> None:
    """Register the accounts blueprint, its throttles, the mailer and the Jinja globals
    ``driver_account``, ``favourite_ids``, ``favourite_sites`` and ``account_sessions``."""
    settings = runtime(app).settings
    app.extensions["voltspot.account_throttles"] = AccountThrottles(
        runtime(app).cluster.node, settings.driver_link_emails_per_address,
        settings.driver_link_emails_per_client)
    app.extensions["voltspot.mailer"] = mailer_for(settings)
    app.jinja_env.globals.update(driver_account=current_account, favourite_ids=favourite_ids,
                                 favourite_sites=favourite_sites,
                                 account_sessions=account_sessions)
    app.register_blueprint(bp)
    mailer, write, db = app.extensions["voltspot.mailer"], receipt_writer(app), runtime(app).db
    runtime(app).round_jobs["receipt-emails"] = lambda: send_due_receipts(db, mailer, write)
    lifetime = timedelta(days=settings.driver_account_days)
    runtime(app).round_jobs["driver-sign-ins"] = every(
        TIDY_SECONDS, lambda: signin.forget_stale(db, lifetime=lifetime))
