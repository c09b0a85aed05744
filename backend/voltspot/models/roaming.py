"""OCPI 2.2.1 roaming (Voltspot as CPO): partners, the tokens they push, the durable
outbox of everything we push to them, and the CDRs we owe them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voltspot.models.base import Base, StrEnumText, utcnow


class PartnerState(StrEnum):
    """Where the credentials handshake with a partner stands."""

    # We made token A and wait for the partner to call our versions and POST credentials.
    AWAITING_THEM = "awaiting_them"
    # We hold their token A and versions URL and have not finished registering with them.
    REGISTERING = "registering"
    REGISTERED = "registered"
    # Either side ended the registration (DELETE credentials); nothing is pushed.
    UNREGISTERED = "unregistered"


class OfflinePolicy(StrEnum):
    """What to do with an RFID tag of this partner when its real-time authorisation does
    not answer in time."""

    REFUSE = "refuse"
    SEEN_VALID = "seen_valid"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    # Given up on: the partner answered with a client error (4xx / OCPI 2xxx) that a
    # retry cannot fix. Later items of the same object still go.
    REJECTED = "rejected"


class OcpiPartner(Base):
    """Another party we roam with (an eMSP, or a hub), one registration each.

    Tokens we hand out (token A for registration, token C for their calls) are stored as
    SHA-256 digests only: they are random 256-bit strings, so a digest is as good as a
    slow hash, and a database leak does not let anyone call us. The token *they* gave us
    (``their_token``, B or C) must be sent on every call, so it is kept encrypted with a
    key derived from the secret key (:mod:`voltspot.services.roaming.sealing`).
    """

    __tablename__ = "ocpi_partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    state: Mapped[PartnerState] = mapped_column(StrEnumText(PartnerState, 16),
                                                default=PartnerState.AWAITING_THEM)
    country_code: Mapped[str | None] = mapped_column(String(2))
    party_id: Mapped[str | None] = mapped_column(String(3))
    business_name: Mapped[str | None] = mapped_column(String(100))
    roles: Mapped[list] = mapped_column(JSON, default=list)
    token_a_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_c_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    their_token: Mapped[str | None] = mapped_column(String(255))
    versions_url: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[str | None] = mapped_column(String(8))
    # Module identifier → {role: url} of the partner's chosen version.
    endpoints: Mapped[dict] = mapped_column(JSON, default=dict)
    offline_policy: Mapped[OfflinePolicy] = mapped_column(StrEnumText(OfflinePolicy, 16),
                                                          default=OfflinePolicy.REFUSE)
    last_push_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    last_error_at: Mapped[datetime | None]
    registered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OcpiToken(Base):
    """A token an eMSP pushed to us (Tokens module, we receive), as the OCPI object.
    ``uid``, like OCPP idTags, is kept in capitals (a CiString: case does not count).

    ``seen_valid_at`` is the last time the partner told us (push or real-time
    authorisation) that it may charge: the "accept tokens seen valid before" policy.
    """

    __tablename__ = "ocpi_tokens"
    __table_args__ = (UniqueConstraint("partner_id", "uid", "type",
                                       name="uq_ocpi_tokens_partner_uid_type"),
                      Index("ix_ocpi_tokens_uid", "uid"))

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("ocpi_partners.id"))
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    uid: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(16))
    contract_id: Mapped[str] = mapped_column(String(36))
    valid: Mapped[bool]
    whitelist: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict] = mapped_column(JSON)
    last_updated: Mapped[datetime]
    seen_valid_at: Mapped[datetime | None]


class OcpiSession(Base):
    """The roaming side of a charging session (one row per roaming session: a session
    with none is not roaming): whose driver (``partner_id``, who pays), which token, how
    it was authorised, and the command that asked for it (its CommandResult is owed to
    ``response_url``)."""

    __tablename__ = "ocpi_sessions"

    session_id: Mapped[int] = mapped_column(ForeignKey("charging_sessions.id"),
                                            primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("ocpi_partners.id"), index=True)
    ocpi_id: Mapped[str] = mapped_column(String(36), unique=True)
    cdr_token: Mapped[dict] = mapped_column(JSON)
    auth_method: Mapped[str] = mapped_column(String(16))
    authorization_reference: Mapped[str | None] = mapped_column(String(36))
    location_id: Mapped[str] = mapped_column(String(36))
    evse_uid: Mapped[str] = mapped_column(String(36))
    connector_id: Mapped[str] = mapped_column(String(36))
    # START_SESSION: where its CommandResult goes; None once it has been queued.
    response_url: Mapped[str | None] = mapped_column(String(255))
    # What the partner last got (status, kWh, cost), so only changes are pushed.
    pushed: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OcpiCdr(Base):
    """The charge detail record of a finished roaming session; one per session (the
    unique key is what makes "exactly once" hold across processes)."""

    __tablename__ = "ocpi_cdrs"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("charging_sessions.id"), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("ocpi_partners.id"), index=True)
    ocpi_id: Mapped[str] = mapped_column(String(39), unique=True)
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    # Where the eMSP keeps it (the Location header of its answer).
    partner_url: Mapped[str | None] = mapped_column(String(255))


class OcpiOutbox(Base):
    """One push owed to a partner, written in the transaction that made it due.

    ``object_key`` orders the pushes of one object ("location:3", "session:17"): only
    the oldest unsent item of a key may go, so a PATCH never overtakes its PUT and a
    CDR never overtakes the session's last PATCH (same key). Retried with backoff until
    the partner acknowledges it.
    """

    __tablename__ = "ocpi_outbox"
    __table_args__ = (Index("ix_ocpi_outbox_due", "state", "next_attempt_at"),
                      Index("ix_ocpi_outbox_key", "partner_id", "object_key", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("ocpi_partners.id"))
    object_key: Mapped[str] = mapped_column(String(64))
    module: Mapped[str] = mapped_column(String(24))
    method: Mapped[str] = mapped_column(String(8))
    # Below the partner's module endpoint ("NL/VSP/12"), or a full URL (a command's
    # response_url) when ``module`` is "command_result".
    path: Mapped[str] = mapped_column(String(300))
    body: Mapped[dict] = mapped_column(JSON)
    state: Mapped[OutboxState] = mapped_column(StrEnumText(OutboxState, 16),
                                               default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class OcpiPublished(Base):
    """The digest of each object as last queued for the partners ("location:3",
    "evse:17", "tariff:2"): a change is what makes it differ."""

    __tablename__ = "ocpi_published"

    object_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
