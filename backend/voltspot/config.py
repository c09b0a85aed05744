"""Settings, read only from ``VOLTSPOT_*`` (and ``STRIPE_*``) environment variables.

A wrong value raises :class:`ConfigError` whose message names the variable; the CLI prints
that one line and exits, never a traceback.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

INSTANCE_DIR = Path(os.environ.get("VOLTSPOT_INSTANCE_DIR", Path.cwd() / "instance"))


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the environment variable."""


def _development_secret_key() -> str:
    # Kept in instance/ so owners stay signed in across restarts and workers of a
    # development server; production must set VOLTSPOT_SECRET_KEY.
    path = INSTANCE_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        # Readable by its owner only: whoever reads it can sign in as any owner.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker wrote it first
            return path.read_text().strip()
        with os.fdopen(descriptor, "w") as file:
            file.write(key)
        return key


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'voltspot.db'}"


@dataclass(frozen=True)
class Settings:
    """Every setting the application reads, with safe defaults for a single small server."""

    env: str = "development"
    database_url: str = field(default_factory=_default_database_url)
    secret_key: str = ""
    api_token: str = ""
    redis_url: str = ""
    # Several installations (or test runs) can share one Redis under different prefixes.
    redis_prefix: str = "voltspot:"
    # How long a process that died still appears to hold its chargers and its jobs.
    presence_ttl: float = 10.0
    # WebSocket pings to chargers: one silent for an interval is pinged, and one that has
    # not answered by the next round is half-open: it is closed and its station goes offline.
    ocpp_ping_interval: float = 30.0
    public_url: str = "http://127.0.0.1:5000"
    accept_unknown_stations: bool = False
    heartbeat_interval: int = 300
    meter_sample_interval: int = 60
    ocpp_response_timeout: float = 30.0
    remote_start_timeout: int = 120
    ocpp_max_frame_bytes: int = 65536
    ocpp_log_frames_per_station: int = 500
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    owner_session_hours: int = 12
    owner_idle_minutes: int = 60
    oidc_allowed_domains: str = ""
    max_pending_stations: int = 50
    driver_starts_per_minute: int = 6
    # Reverse proxies in front that set X-Forwarded-For/-Proto (0: clients connect directly).
    proxies: int = 0
    stripe_secret_key: str = ""
    stripe_publishable_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""
    hold_margin_percent: int = 10
    housekeeping_interval: float = 2.0
    # Seconds between load-management rounds of every site (a site with news goes sooner).
    load_interval: float = 15.0
    # OCPI: who Voltspot is to roaming partners, and how long an eMSP gets to answer a
    # real-time authorisation of an RFID tag we do not know.
    ocpi_country_code: str = "NL"
    ocpi_party_id: str = "VSP"
    ocpi_business_name: str = "Voltspot"
    ocpi_authorize_timeout: float = 2.0
    # Web Push: who push services may contact about our notifications (the VAPID "sub":
    # a mailto: address or an https: page); empty means the public URL when it is https.
    push_contact: str = ""
    # Drivers' "report a problem" forms accepted per client address and hour.
    driver_reports_per_hour: int = 5
    # The find-a-spot map's tiles: a URL template ({z}/{x}/{y}, optional {s}) and the
    # attribution their provider asks for; an empty template shows the list only.
    # OpenStreetMap's public servers forbid heavy use: set your provider's in production.
    map_tiles: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_attribution: str = "© OpenStreetMap contributors"
    # Drivers' accounts (optional): sign-in links are emailed through this SMTP server;
    # without a host (the demo) the link is written to the log instead.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "Voltspot <no-reply@localhost>"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    # How long an emailed sign-in link works (it works once), and how many links one email
    # address and one client address may ask for per hour.
    driver_link_minutes: int = 15
    driver_link_emails_per_address: int = 3
    driver_link_emails_per_client: int = 10
    driver_account_days: int = 180

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def stripe_enabled(self) -> bool:
        return bool(self.stripe_secret_key)

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def oidc_domains(self) -> frozenset[str]:
        """The email domains whose provider identities become owners without an admin's
        approval (``VOLTSPOT_OIDC_ALLOWED_DOMAINS``, comma-separated)."""
        return frozenset(part.strip().lower().lstrip("@")
                         for part in self.oidc_allowed_domains.split(",") if part.strip())

    @property
    def ocpp_url(self) -> str:
        """The WebSocket base URL chargers are configured with (``…/ocpp``)."""
        base = self.public_url.rstrip("/")
        if base.startswith("https://"):
            base = "wss://" + base.removeprefix("https://")
        elif base.startswith("http://"):
            base = "ws://" + base.removeprefix("http://")
        return base + "/ocpp"


_ENV_NAMES = {
    "stripe_secret_key": "STRIPE_SECRET_KEY",
    "stripe_publishable_key": "STRIPE_PUBLISHABLE_KEY",
    "stripe_webhook_secret": "STRIPE_WEBHOOK_SECRET",
}


def env_name(setting: str) -> str:
    """The environment variable that carries ``setting``."""
    return _ENV_NAMES.get(setting, "VOLTSPOT_" + setting.upper())


def _parse(name: str, kind: type, raw: str):
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{name} must be true or false, not {raw!r}")
    if kind is int or kind is float:
        try:
            value = kind(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, not {raw!r}") from None
        if value <= 0:
            raise ConfigError(f"{name} must be greater than zero, not {raw!r}")
        return value
    return raw


def _check_public_url(url: str) -> None:
    parsed = urlsplit(url)
    try:
        parsed.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parsed = parsed._replace(netloc="")
    if (parsed.scheme not in ("http", "https") or not parsed.hostname
            or parsed.query or parsed.fragment or parsed.username):
        raise ConfigError("VOLTSPOT_PUBLIC_URL must be the server's address, like "
                          f"https://charge.example.org, not {url!r}")


def load_settings(overrides: Mapping[str, object] | None = None,
                  environ: Mapping[str, str] | None = None, *,
                  need_secret: bool = True) -> Settings:
    """Build :class:`Settings` from the environment, then apply ``overrides`` (tests, CLI).

    Raises :class:`ConfigError` naming the variable when a value is invalid, or when a
    production deployment has no ``VOLTSPOT_SECRET_KEY``. ``need_secret`` False (commands
    that only use the database) leaves an unset secret key empty: no development key file
    is made (nor an ``instance/`` folder wherever the command ran).
    """
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(Settings):
        name = env_name(f.name)
        if name in environ:
            kind = {"bool": bool, "int": int, "float": float}.get(str(f.type), str)
            values[f.name] = _parse(name, kind, environ[name])
    for key, value in (overrides or {}).items():
        if key not in {f.name for f in fields(Settings)}:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = value
    settings = Settings(**values)
    if not settings.database_url.startswith(("sqlite:", "postgresql")):
        raise ConfigError(
            "VOLTSPOT_DATABASE_URL must start with sqlite:// or postgresql://, "
            f"not {settings.database_url.split(':', 1)[0]!r}"
        )
    _check_public_url(settings.public_url)
    if settings.env not in {"development", "production", "test"}:
        raise ConfigError("VOLTSPOT_ENV must be development, production or test")
    stripe = [settings.stripe_secret_key, settings.stripe_publishable_key,
              settings.stripe_webhook_secret]
    if any(stripe) and not all(stripe):
        missing = [env_name(n) for n, v in zip(
            ("stripe_secret_key", "stripe_publishable_key", "stripe_webhook_secret"), stripe,
            strict=True) if not v]
        raise ConfigError(f"{', '.join(missing)} must be set too for card payments with Stripe")
    if not settings.secret_key and need_secret:
        if settings.is_production:
            raise ConfigError("VOLTSPOT_SECRET_KEY is required in production; set it to a long "
                              "random string")
        settings = Settings(**{**values, "secret_key": _development_secret_key()})
    return settings
