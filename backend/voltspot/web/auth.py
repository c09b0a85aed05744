"""Owner sign-in: a local account (email + password) or any OpenID Connect provider
(Authlib, discovery URL, PKCE). The signed-in owner's id lives in the session cookie."""

from __future__ import annotations

import time

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
from werkzeug.wrappers import Response

from voltspot.runtime import runtime
from voltspot.services.owner import signin
from voltspot.services.owner.accounts import Viewer
from voltspot.web.csrf import csrf_token, protect

bp = Blueprint("auth", __name__, url_prefix="/owner")

SESSION_OWNER = "owner_id"
SESSION_SINCE = "signed_in_at"


def init_oidc(app) -> None:
    """Register the OIDC provider when one is configured. Each app gets its own Authlib
    registry: a shared one keeps the first app's client (issuer, id, secret) for all."""
    settings = runtime(app).settings
    oauth = OAuth(app)
    if settings.oidc_enabled:
        oauth.register(
            "provider", server_metadata_url=settings.oidc_issuer.rstrip("/")
            + "/.well-known/openid-configuration",
            client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"})


def _provider():
    """This app's registered OIDC client (see :func:`init_oidc`)."""
    return current_app.extensions["authlib.integrations.flask_client"].provider


def current_viewer() -> Viewer | None:
    """The signed-in owner for this request, or None (also when the session expired)."""
    if "viewer" in g:
        return g.viewer
    owner_id = session.get(SESSION_OWNER)
    since = session.get(SESSION_SINCE, 0)
    hours = runtime().settings.owner_session_hours
    viewer = None
    if owner_id is not None and time.time() - since < hours * 3600:
        viewer = signin.viewer(runtime().db, owner_id)
    g.viewer = viewer
    return viewer


def _sign_in(owner_id: int) -> Response:
    next_url = session.get("next_url") or url_for("owner.board")
    session.clear()
    session.permanent = True
    session[SESSION_OWNER] = owner_id
    session[SESSION_SINCE] = time.time()
    return redirect(next_url if next_url.startswith("/owner") else url_for("owner.board"))


@bp.before_request
def check_csrf() -> None:
    protect()


@bp.get("/login")
def login():
    return render_template("owner/login.html", oidc=runtime().settings.oidc_enabled,
                           email=request.args.get("email", ""))


@bp.post("/login")
def login_with_password():
    email = request.form.get("email", "")
    owner_id = signin.sign_in_with_password(runtime().db, email,
                                            request.form.get("password", ""))
    if owner_id is None:
        flash("That email and password do not match an owner account. Check them and try "
              "again.", "danger")
        return render_template("owner/login.html", oidc=runtime().settings.oidc_enabled,
                               email=email), 401
    return _sign_in(owner_id)


@bp.get("/login/oidc")
def login_oidc():
    if not runtime().settings.oidc_enabled:
        return redirect(url_for("auth.login"))
    return _provider().authorize_redirect(url_for("auth.oidc_callback", _external=True))


@bp.get("/auth/callback")
def oidc_callback():
    if not runtime().settings.oidc_enabled:
        return redirect(url_for("auth.login"))
    try:
        token = _provider().authorize_access_token()
    except Exception as error:  # noqa: BLE001 - any provider failure ends the same way
        current_app.logger.warning("OIDC sign-in failed: %s", error)
        flash("Signing in with your provider did not work. Try again.", "danger")
        return redirect(url_for("auth.login"))
    claims = token.get("userinfo") or {}
    email = claims.get("email") if claims.get("email_verified") is True else None
    owner_id = signin.sign_in_with_oidc(runtime().db, claims["iss"], claims["sub"], email,
                                        claims.get("name"))
    return _sign_in(owner_id)


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


__all__ = ["bp", "csrf_token", "current_viewer", "init_oidc"]
