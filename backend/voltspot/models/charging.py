"""Charging sessions, their meter samples, and the RFID / app tokens that start them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voltspot.domain.statuses import AuthorizationStatus, PaymentState, SessionStatus
from voltspot.models.base import Base, utcnow
from voltspot.models.sites import Connector, Station


class IdToken(Base):
    """An RFID card (or other idTag) the CSMS answers Authorize for. ``id_tag`` is stored
    in capitals (OCPP idTags are case-insensitive; lookups upper-case the tag)."""

    __tablename__ = "id_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"), index=True)
    id_tag: Mapped[str] = mapped_column(String(36), unique=True)
    holder_name: Mapped[str] = mapped_column(String(120), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    parent_id_tag: Mapped[str | None] = mapped_column(String(36))
    blocked: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[datetime | None]
    billing: Mapped[str] = mapped_column(String(16), default="free")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChargingSession(Base):
    """One charging session, whichever way it started (QR code, RFID, API, offline).

    ``transaction_id`` is set (equal to ``id``) once the charger has started a transaction
    for the session, whatever its OCPP version; ``charger_transaction_id`` is the id the
    charger uses for it on the wire (1.6: ``str(transaction_id)``, which the CSMS assigns;
    2.0.1: the string the charger chose). ``token`` is the unguessable handle drivers and
    API clients use.
    """

    __tablename__ = "charging_sessions"
    __table_args__ = (
        Index("ix_charging_sessions_station_status", "station_id", "status"),
        # The owner's sessions table and reports (see bench/owner_reports.py).
        Index("ix_charging_sessions_created", "created_at", "id"),
        Index("ix_charging_sessions_station_created", "station_id", "created_at"),
        Index("ix_charging_sessions_id_tag_created", "id_tag", "created_at"),
        Index("ix_charging_sessions_started", "started_at"),
        Index("ix_charging_sessions_station_started", "station_id", "started_at"),
        # Payment upkeep looks for the sessions whose payment is open every few seconds
        # (migration 0016; partial on PostgreSQL).
        Index("ix_charging_sessions_payment_open", "payment_state",
              postgresql_where=text("payment_state IN "
                                    "('authorising', 'held', 'to_settle', 'to_release')")),
        UniqueConstraint("station_id", "charger_transaction_id",
                         name="uq_charging_sessions_station_charger_transaction"),
        # The sessions open on a plug, which every status and start looks for (migration
        # 0023): it matches those queries so exactly that the planner takes it even
        # without statistics (a reconnect storm fills the table faster than they come),
        # where it took the open sessions by start time and read all of them.
        Index("ix_charging_sessions_open_plug", "station_id", "connector_id",
              postgresql_where=text("stopped_at IS NULL"),
              sqlite_where=text("stopped_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(43), unique=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    connector_pk: Mapped[int | None] = mapped_column(ForeignKey("connectors.id"))
    connector_id: Mapped[int | None]
    transaction_id: Mapped[int | None] = mapped_column(unique=True)
    charger_transaction_id: Mapped[str | None] = mapped_column(String(36))
    # 2.0.1: which connector of the EVSE (``connector_id``) the car is on, when the EVSE
    # has several (a DC charger's CCS and CHAdeMO).
    evse_connector_id: Mapped[int | None]
    id_tag: Mapped[str | None] = mapped_column(String(36))
    id_tag_status: Mapped[AuthorizationStatus | None]
    status: Mapped[SessionStatus] = mapped_column(default=SessionStatus.CREATED)
    origin: Mapped[str] = mapped_column(String(16), default="charger")
    tariff_id: Mapped[int | None] = mapped_column(ForeignKey("tariffs.id"))
    price: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    charger_started_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    meter_start_wh: Mapped[int | None]
    meter_stop_wh: Mapped[int | None]
    max_register_wh: Mapped[int | None]
    energy_wh: Mapped[int] = mapped_column(default=0)
    power_w: Mapped[float | None]
    soc_percent: Mapped[float | None]
    last_sample_at: Mapped[datetime | None]
    meter_anomaly: Mapped[str | None] = mapped_column(String(200))
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    reservation_id: Mapped[int | None]
    # Drivers' sessions: the form key that makes a double tap one session, and the
    # connector they hold while open (unique, so two phones cannot both get it).
    start_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    claimed_connector_pk: Mapped[int | None] = mapped_column(unique=True)
    charging_ended_at: Mapped[datetime | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    cost: Mapped[int | None]
    bill: Mapped[dict | None] = mapped_column(JSON)
    payment_state: Mapped[PaymentState] = mapped_column(default=PaymentState.NONE)
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    hold_amount: Mapped[int | None]
    amount_captured: Mapped[int | None]
    amount_refunded: Mapped[int] = mapped_column(default=0)
    refund_reason: Mapped[str | None] = mapped_column(String(300))
    payment_error: Mapped[str | None] = mapped_column(String(300))
    # Why Voltspot itself ended or changed the session, in words for the driver.
    notice: Mapped[str | None] = mapped_column(String(300))

    station: Mapped[Station] = relationship()
    connector: Mapped[Connector | None] = relationship()


class MeterSample(Base):
    """One sampled value, normalised: energy in Wh, power in W, current in A, voltage in V,
    state of charge in percent."""

    __tablename__ = "meter_samples"
    __table_args__ = (
        Index("ix_meter_samples_session_taken", "session_id", "taken_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Not indexed: samples are read by session, and an index here cost every insert a
    # random page. Deleting stations (none today) would want it back.
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("charging_sessions.id"))
    connector_id: Mapped[int]
    taken_at: Mapped[datetime]
    measurand: Mapped[str] = mapped_column(String(48))
    value: Mapped[float]
    unit: Mapped[str] = mapped_column(String(16))
    phase: Mapped[str | None] = mapped_column(String(8))
    context: Mapped[str | None] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(String(16))


class OcppFrame(Base):
    """A bounded per-station log of raw OCPP frames, newest kept, for debugging."""

    __tablename__ = "ocpp_frames"
    __table_args__ = (Index("ix_ocpp_frames_station_id_at", "charge_point_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_point_id: Mapped[str] = mapped_column(String(48))
    direction: Mapped[str] = mapped_column(String(3))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    frame: Mapped[str]


class TransactionEvent(Base):
    """One OCPP 2.0.1 TransactionEvent already processed, by its sequence number: a charger
    replays unacknowledged events after a reconnect, and each must count once."""

    __tablename__ = "transaction_events"
    __table_args__ = (
        UniqueConstraint("station_id", "charger_transaction_id", "seq_no",
                         name="uq_transaction_events_station_transaction_seq"),
        Index("ix_transaction_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    charger_transaction_id: Mapped[str] = mapped_column(String(36))
    seq_no: Mapped[int]
    event_type: Mapped[str] = mapped_column(String(8))
    trigger_reason: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
