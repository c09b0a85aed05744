"""Web Push for drivers: the VAPID public key, a session's push subscriptions (the live
page's "Tell me when it's done", static/js/push.js), and the notices put into the
driver's words. The sending itself is a background job of the serving process
(:func:`voltspot.services.driver.notifications.push_loop`), started from
:meth:`voltspot.runtime.Runtime.start_housekeeping`."""

from __future__ import annotations

import functools

from flask import Blueprint, Flask, jsonify, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from voltspot.domain.notifications import NoticeKind
from voltspot.runtime import runtime
from voltspot.services.driver import notifications
from voltspot.services.errors import Conflict, InvalidInput, NotFound
from voltspot.web.i18n import (
    DEFAULT_LANGUAGE,
    FORMAT_LOCALES,
    LANGUAGES,
    current_language,
    money,
    number,
    translate,
    unit_price,
)

bp = Blueprint("push", __name__)


def _problem(error: Exception, status: int):
    return jsonify(error=translate(error)), status


@bp.errorhandler(NotFound)
def _not_found(error: NotFound):
    return _problem(error, 404)


@bp.errorhandler(Conflict)
def _conflict(error: Conflict):
    return _problem(error, 409)


@bp.errorhandler(InvalidInput)
def _invalid(error: InvalidInput):
    return _problem(error, 400)


@bp.get("/push/key")
def public_key():
    """The VAPID public key, as the Push API's ``applicationServerKey`` wants it."""
    return jsonify(publicKey=notifications.vapid_keys(runtime().db).public_key)


def _subscription_fields() -> tuple[str, str, str]:
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    keys = body.get("keys") if isinstance(body.get("keys"), dict) else {}
    values = (body.get("endpoint"), keys.get("p256dh"), keys.get("auth"))
    return tuple(value if isinstance(value, str) else "" for value in values)


@bp.post("/sessions/<token>/push")
def subscribe(token: str):
    """Tell the posted Push API subscription (``endpoint``, ``keys.p256dh``, ``keys.auth``)
    about the session, in the request's language."""
    endpoint, p256dh, auth = _subscription_fields()
    rt = runtime()
    notifications.subscribe(rt.db, token, endpoint=endpoint, p256dh=p256dh, auth=auth,
                            language=current_language(),
                            allow_http=not rt.settings.is_production)
    return jsonify(subscribed=True), 201


@bp.delete("/sessions/<token>/push")
def unsubscribe(token: str):
    """Stop telling the posted subscription (``endpoint``) about the session."""
    endpoint, _p256dh, _auth = _subscription_fields()
    notifications.unsubscribe(runtime().db, token, endpoint)
    return "", 204


def _texts(notice: notifications.Notice) -> tuple[str, str]:
    energy = number(notice.energy_wh / 1000, 1)
    if notice.kind == NoticeKind.CAR_FULL:
        return (_("Charging finished"),
                _("Your car is full at %(site)s: %(energy)s kWh. Unplug when you are ready.",
                  site=notice.site, energy=energy))
    if notice.kind == NoticeKind.IDLE_FEE_SOON:
        fee = unit_price(notice.idle_fee_per_minute, notice.currency or "EUR", "min")
        return (_("Idle fee in %(minutes)d min", minutes=notice.idle_minutes_left),
                _("Charging has finished at %(site)s. Unplug within %(minutes)d min to avoid "
                  "the idle fee of %(fee)s.", site=notice.site,
                  minutes=notice.idle_minutes_left, fee=fee))
    if notice.kind == NoticeKind.STOPPED_AT_HOLD:
        return (_("Charging stopped at your card hold"),
                _("The cost reached %(cost)s, close to the %(hold)s held on your card. Unplug "
                  "your car; you pay only for what you used.",
                  cost=money(notice.cost, notice.currency),
                  hold=money(notice.hold_amount, notice.currency)))
    return (_("The charger stopped your session"),
            _("The charger at %(site)s ended your session after %(energy)s kWh. Your receipt "
              "is in the app.", site=notice.site, energy=energy))


def notice_words(app: Flask, notice: notifications.Notice) -> str:
    """The payload of ``notice`` in the driver's language (the service worker's JSON).

    Built in a request context of its own: the job runs outside any request, and the
    session page's address comes from ``url_for`` like every other."""
    language = notice.language if notice.language in LANGUAGES else DEFAULT_LANGUAGE
    with app.test_request_context("/"), force_locale(FORMAT_LOCALES.get(language, language)):
        title, body = _texts(notice)
        url = url_for("driver.session_page", token=notice.token)
    return notifications.notice_payload(title, body, url, notice)


def init_push(app: Flask) -> None:
    """Register the push views and give the runtime the words of its push job."""
    app.register_blueprint(bp)
    runtime(app).push_words = functools.partial(notice_words, app)
