"""The states of stations, connectors, sessions and tokens, as string enums."""

from __future__ import annotations

from enum import StrEnum


class Registration(StrEnum):
    """Whether the operator has let a station in (BootNotification's answer)."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class ConnectorStatus(StrEnum):
    """OCPP 1.6 ChargePointStatus values; 2.0.1 maps onto the same set."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EVSE = "SuspendedEVSE"
    SUSPENDED_EV = "SuspendedEV"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"
    UNKNOWN = "Unknown"


class SessionStatus(StrEnum):
    """One state machine for every way a charging session starts (see DESIGN.md)."""

    CREATED = "created"
    AUTHORISED = "authorised"
    STARTING = "starting"
    CHARGING = "charging"
    SUSPENDED = "suspended"
    FINISHING = "finishing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def is_open(self) -> bool:
        return self not in {SessionStatus.COMPLETED, SessionStatus.FAILED}

    @property
    def has_transaction(self) -> bool:
        return self in {SessionStatus.CHARGING, SessionStatus.SUSPENDED, SessionStatus.FINISHING}


class PaymentState(StrEnum):
    """Where a session's card hold stands. ``to_settle`` / ``to_release`` record the intent
    before the payment provider is called, so a crash in between is repaired later."""

    NONE = "none"
    AUTHORISING = "authorising"
    HELD = "held"
    TO_SETTLE = "to_settle"
    CAPTURED = "captured"
    TO_RELEASE = "to_release"
    RELEASED = "released"
    FAILED = "failed"


class AuthorizationStatus(StrEnum):
    """OCPP 1.6 idTagInfo.status."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


class ConnectorType(StrEnum):
    TYPE2 = "Type 2"
    CCS2 = "CCS"
    CHADEMO = "CHAdeMO"
    TYPE1 = "Type 1"
    SCHUKO = "Schuko"


class Direction(StrEnum):
    """Which way an OCPP frame travelled, seen from the CSMS."""

    IN = "in"
    OUT = "out"


# OCPP 2.0.1 TransactionEvent chargingState → the plug's status in 1.6 words, which the
# rest of Voltspot speaks (2.0.1 connector statuses only say Occupied).
_CHARGING_STATE_STATUS = {
    "Charging": ConnectorStatus.CHARGING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
    "EVConnected": ConnectorStatus.PREPARING,
}

# Plug statuses that say more than 2.0.1's "Occupied" does.
OCCUPIED_STATUSES = frozenset({
    ConnectorStatus.PREPARING, ConnectorStatus.CHARGING, ConnectorStatus.SUSPENDED_EV,
    ConnectorStatus.SUSPENDED_EVSE, ConnectorStatus.FINISHING})


def status_for_charging_state(charging_state: str | None, *, ended: bool
                              ) -> ConnectorStatus | None:
    """The plug status a 2.0.1 transaction event implies, or None when it says nothing
    new. A transaction that ended with the car still there is finishing."""
    if ended:
        return None if charging_state == "Idle" else ConnectorStatus.FINISHING
    return _CHARGING_STATE_STATUS.get(charging_state or "")


def status_for_connector_status(connector_status: str, current: ConnectorStatus
                                ) -> ConnectorStatus:
    """A 2.0.1 StatusNotification's connectorStatus in 1.6 words: "Occupied" keeps a
    detailed in-use status the transaction events set, else it means plugged in."""
    if connector_status == "Occupied":
        return current if current in OCCUPIED_STATUSES else ConnectorStatus.PREPARING
    return ConnectorStatus(connector_status)


def session_status_for_connector(status: ConnectorStatus) -> SessionStatus | None:
    """The session state a connector status implies while a transaction runs, if any."""
    return {
        ConnectorStatus.CHARGING: SessionStatus.CHARGING,
        ConnectorStatus.SUSPENDED_EV: SessionStatus.SUSPENDED,
        ConnectorStatus.SUSPENDED_EVSE: SessionStatus.SUSPENDED,
        ConnectorStatus.FINISHING: SessionStatus.FINISHING,
    }.get(status)


_PLUG_WORDS: dict[ConnectorStatus, tuple[str, str]] = {
    ConnectorStatus.AVAILABLE: ("Free", "free"),
    ConnectorStatus.PREPARING: ("Plugged in", "in-use"),
    ConnectorStatus.CHARGING: ("Charging", "in-use"),
    ConnectorStatus.SUSPENDED_EV: ("Paused by the car", "in-use"),
    ConnectorStatus.SUSPENDED_EVSE: ("Paused by the station", "in-use"),
    ConnectorStatus.FINISHING: ("Finishing", "in-use"),
    ConnectorStatus.RESERVED: ("Reserved", "in-use"),
    ConnectorStatus.UNAVAILABLE: ("Unavailable", "out-of-order"),
    ConnectorStatus.FAULTED: ("Fault", "out-of-order"),
    ConnectorStatus.UNKNOWN: ("Not reported yet", "unknown"),
}


def plug_words(status: ConnectorStatus | None) -> tuple[str, str]:
    """A plug's state in plain words for people, and the tone of its status pill."""
    if status is None:
        return _PLUG_WORDS[ConnectorStatus.UNKNOWN]
    return _PLUG_WORDS.get(status, (str(status), "unknown"))
