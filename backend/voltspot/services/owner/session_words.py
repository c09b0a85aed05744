"""Session facts in an owner's words, not the protocol's: its state, how it was started,
why it stopped, and who charged (a card holder, a roaming partner's driver, or "App
driver" for the one-off tags the driver app and the owner page hand to chargers). Pure
lookups."""

from __future__ import annotations

from voltspot.domain.statuses import SessionStatus

STATUS_WORDS = {
    SessionStatus.CREATED: "Waiting", SessionStatus.AUTHORISED: "Waiting for the car",
    SessionStatus.STARTING: "Starting", SessionStatus.CHARGING: "Charging",
    SessionStatus.SUSPENDED: "Paused", SessionStatus.FINISHING: "Finishing",
    SessionStatus.COMPLETED: "Done", SessionStatus.FAILED: "Did not start",
}
# The status pill's tone for each state (see _status_pill.html).
STATUS_TONES = {
    SessionStatus.CHARGING: "in-use", SessionStatus.SUSPENDED: "in-use",
    SessionStatus.FINISHING: "in-use", SessionStatus.STARTING: "in-use",
    SessionStatus.COMPLETED: "free", SessionStatus.FAILED: "out-of-order",
}
ORIGIN_WORDS = {"remote": "Remotely (owner page or API)", "charger": "At the charger",
                "driver": "In the driver app", "ocpi": "By a roaming partner"}
# OCPP 1.6 StopTransaction reasons and OCPP 2.0.1 stoppedReason values.
STOP_WORDS = {
    "EVDisconnected": "Car unplugged", "Local": "Stopped at the charger",
    "Remote": "Stopped remotely", "EmergencyStop": "Emergency stop",
    "HardReset": "Charger restarted", "SoftReset": "Charger restarted",
    "Reboot": "Charger restarted", "PowerLoss": "Power cut", "Other": "Other reason",
    "UnlockCommand": "Plug unlocked remotely", "DeAuthorized": "Card refused",
    "EnergyLimitReached": "Energy limit reached", "TimeLimitReached": "Time limit reached",
    "SOCLimitReached": "Battery limit reached", "StoppedByEV": "Car stopped it",
    "EVDeparted": "Car left", "GroundFault": "Ground fault", "OvercurrentFault":
    "Overcurrent", "PowerQuality": "Power quality problem", "Timeout": "Timed out",
    "ImmediateReset": "Charger restarted", "MasterPass": "Master card",
    "LocalOutOfCredit": "Out of credit", "ReqEnergyTransfer": "Car asked to stop",
}
# How a roaming partner's driver was let in (OCPI AuthMethod).
ROAMING_AUTH_WORDS = {"AUTH_REQUEST": "The partner, asked at the charger",
                      "COMMAND": "The partner's app (remote start)",
                      "WHITELIST": "The partner's list of cards"}
# Tags Voltspot itself hands to chargers for sessions without a card (driver.new_id_tag).
APP_TAG_PREFIX = "VS"
APP_TAG_LENGTH = 20


def status_words(status: str) -> str:
    return STATUS_WORDS.get(status, str(status).capitalize())


def status_tone(status: str) -> str:
    return STATUS_TONES.get(status, "unknown")


def stop_words(reason: str | None) -> str:
    """A stop reason in words; a reason we do not know (a failure's own sentence, a
    vendor's word) as it is."""
    if not reason:
        return ""
    return STOP_WORDS.get(reason, reason)


def origin_words(origin: str | None) -> str:
    return ORIGIN_WORDS.get(origin or "", (origin or "").capitalize())


def is_app_tag(id_tag: str | None) -> bool:
    """True for a one-off tag of Voltspot's own (no card: the driver app or an owner's
    start without a card)."""
    return bool(id_tag) and len(id_tag) == APP_TAG_LENGTH and id_tag.startswith(
        APP_TAG_PREFIX) and id_tag[2:].isalnum() and id_tag[2:].upper() == id_tag[2:]


def who(id_tag: str | None, holder_name: str | None, roaming_partner: str | None = None
        ) -> str:
    """Who charged: a roaming partner's driver by the partner's name, the card's holder
    (or its number when it has no name), "App driver" for a tag of our own, "—" for
    nobody."""
    if roaming_partner:
        return f"{roaming_partner} driver (roaming)"
    if not id_tag:
        return "—"
    if holder_name:
        return holder_name
    if is_app_tag(id_tag):
        return "App driver"
    return f"Card {id_tag}"


def roaming_auth_words(auth_method: str) -> str:
    return ROAMING_AUTH_WORDS.get(auth_method, auth_method)
