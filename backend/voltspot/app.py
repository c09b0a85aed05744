"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from flask import Flask, jsonify

from voltspot.config import load_settings
from voltspot.ocpp.connection import ReadByTheConnection
from voltspot.runtime import Runtime

PACKAGE = Path(__file__).resolve().parent
REPOSITORY = PACKAGE.parents[1]


def web_folders() -> tuple[Path, Path]:
    """The templates and static folders: the repository's ``pwa/templates`` and ``static``
    when run from a checkout (or an editable install), else the copies a built distribution
    carries inside the package (see setup.py); so any working directory finds them."""
    if (REPOSITORY / "pwa" / "templates").is_dir():
        return REPOSITORY / "pwa" / "templates", REPOSITORY / "static"
    return PACKAGE / "templates", PACKAGE / "static"


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the application from the environment, with ``config`` overriding settings
    (tests pass a mapping). Raises :class:`~voltspot.config.ConfigError` for bad settings."""
    settings = load_settings(config)
    templates, static = web_folders()
    app = Flask(__name__, template_folder=str(templates), static_folder=str(static))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.owner_session_hours),
        SOCK_SERVER_OPTIONS={
            # The gateway narrows each charger's offer to its choice (see PROTOCOLS).
            "subprotocols": ["ocpp2.0.1", "ocpp1.6"],
            "max_message_size": settings.ocpp_max_frame_bytes,
            # Each connection reads its own socket and the registry pings the silent ones
            # (OcppConnection.keep_alive): no reader thread or ping timer per socket.
            "thread_class": ReadByTheConnection,
        },
        JSON_SORT_KEYS=False,
    )
    app.extensions["voltspot"] = Runtime(settings)
    logging.getLogger("voltspot").setLevel(logging.INFO)

    from voltspot.ocpp.gateway import bp as ocpp_bp
    from voltspot.web.api import bp as api_bp
    from voltspot.web.auth import bp as auth_bp
    from voltspot.web.auth import init_oidc
    from voltspot.web.compression import init_compression
    from voltspot.web.driver import bp as driver_bp
    from voltspot.web.i18n import init_i18n
    from voltspot.web.live import bp as live_bp
    from voltspot.web.meter import bp as meter_bp
    from voltspot.web.ocpi import bp as ocpi_bp
    from voltspot.web.owner import bp as owner_bp
    from voltspot.web.push import init_push
    from voltspot.web.pwa import bp as pwa_bp
    from voltspot.web.security import init_security
    from voltspot.web.templating import init_templating
    from voltspot.web.webhooks import bp as webhooks_bp

    init_templating(app, demo_payments=app.extensions["voltspot"].payments.is_demo)
    init_compression(app)
    init_i18n(app)
    init_security(app)
    app.register_blueprint(ocpp_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(pwa_bp)
    app.register_blueprint(driver_bp)
    app.register_blueprint(live_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(owner_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(meter_bp)
    app.register_blueprint(ocpi_bp)
    init_oidc(app)
    init_push(app)
    from voltspot.web.account import init_accounts

    init_accounts(app)

    @app.get("/healthz")
    def health():
        return jsonify(status="ok")

    return app
