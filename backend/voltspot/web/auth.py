"""Owner sign-in: a local account (email + password) or any OpenID Connect provider
(Authlib, discovery URL, PKCE).

The session cookie carries a sign-in token the server checks on every request (see
:mod:`voltspot.services.owner.signin`): signing out or staying idle ends it for good. Password
sign-in is throttled per account and per client address (429 with ``Retry-After``)."""

from __future__ import annotations

import time
from datetime import timedelta

from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from voltspot.runtime import runtime
from voltspot.services.messages import N_
from voltspot.services.owner import signin
from voltspot.services.owner.accounts import Viewer
from voltspot.web.csrf import csrf_token, protect
from voltspot.web.i18n import translate
from voltspot.web.security import client_address, now, throttles

bp = Blueprint("auth", __name__, url_prefix="/owner")

SESSION_TOKEN = "sign_in"
SESSION_SINCE = "signed_in_at"
SESSION_BY_PASSWORD = "by_password"
SESSION_LINKING = "oidc_link"

WRONG = N_("That email and password do not match an owner account. Check them and try again.")
OIDC_REFUSALS = {
    signin.OidcRefusal.AWAITING_APPROVAL:
        N_("Your account is waiting for an administrator to let you in. Ask them to approve "
           "it, then sign in again."),
    signin.OidcRefusal.REFUSED:
        N_("An administrator did not let this account in. Ask them if you think this is a "
           "mistake."),
    signin.OidcRefusal.EMAIL_TAKEN:
        N_("An owner account already uses this email. Sign in with its password, then link "
           "your provider from the account menu."),
    signin.OidcRefusal.LINKED_ELSEWHERE:
        N_("This provider identity already belongs to another owner account."),
}


def init_oidc(app) -> None:
    """Register the OIDC provider when one is configured. Each app gets its own Authlib
    registry: a shared one keeps the first app's client (issuer, id, secret) for all."""
    settings = runtime(app).settings
    app.jinja_env.globals["oidc_link_offered"] = oidc_link_offered
    oauth = OAuth(app)
    if settings.oidc_enabled:
        oauth.register(
            "provider", server_metadata_url=settings.oidc_issuer.rstrip("/")
            + "/.well-known/openid-configuration",
            client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"})


def oidc_link_offered() -> bool:
    """Whether the owner page offers "Link sign-in provider" (a Jinja global): a provider is
    configured and this browser signed in with the account's password."""
    return runtime().settings.oidc_enabled and bool(session.get(SESSION_BY_PASSWORD))


def _provider():
    """This app's registered OIDC client (see :func:`init_oidc`)."""
    return current_app.extensions["authlib.integrations.flask_client"].provider


def current_viewer() -> Viewer | None:
    """The signed-in owner for this request, or None (also when the sign-in ended: signed
    out, idle too long, or older than the session lifetime)."""
    if "viewer" in g:
        return g.viewer
    token = session.get(SESSION_TOKEN)
    settings = runtime().settings
    lifetime = timedelta(hours=settings.owner_session_hours)
    viewer = None
    if token and time.time() - session.get(SESSION_SINCE, 0) < lifetime.total_seconds():
        viewer = signin.viewer(runtime().db, token,
                               idle=timedelta(minutes=settings.owner_idle_minutes),
                               lifetime=lifetime)
    g.viewer = viewer
    return viewer


def _sign_in(owner_id: int, *, by_password: bool) -> Response:
    next_url = session.get("next_url") or url_for("owner.board")
    previous = session.get(SESSION_TOKEN)
    if previous:
        signin.end(runtime().db, previous)
    session.clear()
    session.permanent = True
    session[SESSION_TOKEN] = signin.begin(runtime().db, owner_id)
    session[SESSION_SINCE] = time.time()
    session[SESSION_BY_PASSWORD] = by_password
    return redirect(next_url if next_url.startswith("/owner/") or next_url == "/owner"
                    else url_for("owner.board"))


@bp.before_request
def check_csrf() -> None:
    protect()


def _login_page(email: str = "", status: int = 200):
    return render_template("owner/login.html", oidc=runtime().settings.oidc_enabled,
                           email=email), status


@bp.get("/login")
def login():
    return _login_page(request.args.get("email", ""))


@bp.post("/login")
def login_with_password():
    email = request.form.get("email", "")
    limits, moment = throttles(), now()
    account, address = "email:" + email.strip().lower(), "address:" + client_address()
    wait = max(limits.sign_in_account.retry_after(account, moment),
               limits.sign_in_address.retry_after(address, moment))
    if wait:
        flash(_("Too many attempts to sign in. Wait %(seconds)s seconds and try again.",
                seconds=wait), "danger")
        body, status = _login_page(email, 429)
        return body, status, {"Retry-After": str(wait)}
    owner_id = signin.sign_in_with_password(runtime().db, email,
                                            request.form.get("password", ""))
    if owner_id is None:
        limits.sign_in_account.failed(account, moment)
        limits.sign_in_address.failed(address, moment)
        flash(translate(WRONG), "danger")
        return _login_page(email, 401)
    limits.sign_in_account.succeeded(account)
    return _sign_in(owner_id, by_password=True)


@bp.get("/login/oidc")
def login_oidc():
    if not runtime().settings.oidc_enabled:
        return redirect(url_for("auth.login"))
    session.pop(SESSION_LINKING, None)
    return _provider().authorize_redirect(url_for("auth.oidc_callback", _external=True))


@bp.post("/account/link-oidc")
def link_oidc():
    """Attach a provider identity to the signed-in account: only from a browser signed in
    with the account's password."""
    if not runtime().settings.oidc_enabled:
        return redirect(url_for("owner.board"))
    viewer = current_viewer()
    if viewer is None or not session.get(SESSION_BY_PASSWORD):
        flash(_("Sign in with your password to link a provider to your account."), "danger")
        return redirect(url_for("auth.login"))
    session[SESSION_LINKING] = viewer.owner_id
    return _provider().authorize_redirect(url_for("auth.oidc_callback", _external=True))


@bp.get("/auth/callback")
def oidc_callback():
    settings = runtime().settings
    if not settings.oidc_enabled:
        return redirect(url_for("auth.login"))
    try:
        token = _provider().authorize_access_token()
    except Exception as error:  # noqa: BLE001 - any provider failure ends the same way
        current_app.logger.warning("OIDC sign-in failed: %s", error)
        flash(_("Signing in with your provider did not work. Try again."), "danger")
        return redirect(url_for("auth.login"))
    claims = token.get("userinfo") or {}
    email = claims.get("email") if claims.get("email_verified") is True else None
    linking = session.pop(SESSION_LINKING, None)
    viewer = current_viewer()
    link_to = linking if viewer is not None and viewer.owner_id == linking else None
    outcome = signin.sign_in_with_oidc(runtime().db, claims["iss"], claims["sub"], email,
                                       claims.get("name"),
                                       allowed_domains=settings.oidc_domains,
                                       link_to=link_to)
    if outcome.owner_id is None:
        flash(translate(OIDC_REFUSALS[outcome.refusal]), "danger")
        return redirect(url_for("auth.login"))
    if link_to is not None:
        flash(_("Your provider is linked: you can now sign in with it."), "info")
        return redirect(url_for("owner.board"))
    return _sign_in(outcome.owner_id, by_password=False)


@bp.post("/logout")
def logout() -> Response:
    token = session.get(SESSION_TOKEN)
    if token:
        signin.end(runtime().db, token)
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


__all__ = ["bp", "csrf_token", "current_viewer", "init_oidc"]
