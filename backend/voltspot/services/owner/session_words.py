"""Session facts in an owner's words, not the protocol's: its state, how it was started,
why it stopped, and who charged (a card holder, a roaming partner's driver, or "App
driver" for the one-off tags the driver app and the owner page hand to chargers). Pure
lookups."""

from __future__ import annotations

from voltspot.domain.statuses import SessionStatus
from voltspot.services.messages import N_

STATUS_WORDS = {
    SessionStatus.CREATED: N_("Waiting"), SessionStatus.AUTHORISED: N_("Waiting for the car"),
    SessionStatus.STARTING: N_("Starting"), SessionStatus.CHARGING: N_("Charging"),
    SessionStatus.SUSPENDED: N_("Paused"), SessionStatus.FINISHING: N_("Finishing"),
    SessionStatus.COMPLETED: N_("Done"), SessionStatus.FAILED: N_("Did not start"),
}
# The status pill's tone for each state (see _status_pill.html).
STATUS_TONES = {
    SessionStatus.CHARGING: "in-use", SessionStatus.SUSPENDED: "in-use",
    SessionStatus.FINISHING: "in-use", SessionStatus.STARTING: "in-use",
    SessionStatus.COMPLETED: "free", SessionStatus.FAILED: "out-of-order",
}
ORIGIN_WORDS = {"remote": N_("Remotely (owner page or API)"), "charger": N_("At the charger"),
                "driver": N_("In the driver app"), "ocpi": N_("By a roaming partner")}
# OCPP 1.6 StopTransaction reasons and OCPP 2.0.1 stoppedReason values.
STOP_WORDS = {
    "EVDisconnected": N_("Car unplugged"), "Local": N_("Stopped at the charger"),
    "Remote": N_("Stopped remotely"), "EmergencyStop": N_("Emergency stop"),
    "HardReset": N_("Charger restarted"), "SoftReset": N_("Charger restarted"),
    "Reboot": N_("Charger restarted"), "PowerLoss": N_("Power cut"), "Other": N_("Other reason"),
    "UnlockCommand": N_("Plug unlocked remotely"), "DeAuthorized": N_("Card refused"),
    "EnergyLimitReached": N_("Energy limit reached"), "TimeLimitReached": N_("Time limit reached"),
    "SOCLimitReached": N_("Battery limit reached"), "StoppedByEV": N_("Car stopped it"),
    "EVDeparted": N_("Car left"), "GroundFault": N_("Ground fault"), "OvercurrentFault":
    N_("Overcurrent"), "PowerQuality": N_("Power quality problem"), "Timeout": N_("Timed out"),
    "ImmediateReset": N_("Charger restarted"), "MasterPass": N_("Master card"),
    "LocalOutOfCredit": N_("Out of credit"), "ReqEnergyTransfer": N_("Car asked to stop"),
}
# How a roaming partner's driver was let in (OCPI AuthMethod).
ROAMING_AUTH_WORDS = {"AUTH_REQUEST": N_("The partner, asked at the charger"),
                      "COMMAND": N_("The partner's app (remote start)"),
                      "WHITELIST": N_("The partner's list of cards")}
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
        return N_("%(partner)s driver (roaming)", partner=roaming_partner)
    if not id_tag:
        return "—"
    if holder_name:
        return holder_name
    if is_app_tag(id_tag):
        return N_("App driver")
    return N_("Card %(number)s", number=id_tag)


def roaming_auth_words(auth_method: str) -> str:
    return ROAMING_AUTH_WORDS.get(auth_method, auth_method)
