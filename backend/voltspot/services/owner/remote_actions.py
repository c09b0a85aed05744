"""Remote actions an owner sends to one of their stations from its page (restart, unlock,
availability, status report, read and change settings), each answered in one sentence.

The charger is reached through the :class:`ChargerControl` intents, whatever OCPP
version it speaks; the database transaction is closed while it is asked (DESIGN.md,
convention 3).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from voltspot.db import Database
from voltspot.services.charger_control import (
    ChargerControl,
    ChargerError,
    CommandOutcome,
    NoAnswer,
    Setting,
    SettingsRead,
    StationOffline,
    UnknownCommand,
)
from voltspot.services.errors import InvalidInput, NotFound
from voltspot.services.owner.accounts import Viewer, owned_station

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ActionReply:
    """What came of a remote action, for the owner. ``ok``: the station did what was
    asked; ``message``: one sentence; ``answer``: the charger's own reply, if any."""

    ok: bool
    message: str
    answer: dict[str, Any] | None = None
    keys: tuple[Setting, ...] = ()
    unknown_keys: tuple[str, ...] = ()


REMOTE_ACTIONS = ("reset", "unlock", "availability", "trigger-status", "get-configuration",
                  "change-configuration")

# One intent, ready to send to a station (given the control and the charge point id), and
# how its outcome reads to the owner.
Intent = Callable[[ChargerControl, str], Any]
Describe = Callable[[Any], ActionReply]


def _text(form: Mapping[str, str], name: str) -> str:
    return " ".join(str(form.get(name, "")).split())


def _said(outcome: CommandOutcome, sentences: dict[str, str]) -> ActionReply:
    message = sentences.get(outcome.status,
                            f"The station answered “{outcome.status or 'nothing'}”.")
    return ActionReply(outcome.accepted, message, outcome.answer)


def _plug_number(form: Mapping[str, str], plugs: list[int], *, whole_station: bool) -> int:
    text = _text(form, "connector")
    number = int(text) if re.fullmatch(r"\d{1,10}", text) else None
    if number is None or (number not in plugs and not (whole_station and number == 0)):
        raise InvalidInput("Choose one of this station's plugs: "
                           + ", ".join(str(n) for n in plugs) + ".")
    return number


def _plug_or_every(form: Mapping[str, str], plugs: list[int]) -> int | None:
    if _text(form, "connector") in ("", "all"):
        return None
    return _plug_number(form, plugs, whole_station=True)


def _plug_name(number: int) -> str:
    return "The whole station" if number == 0 else f"Plug {number}"


def _reset(form: Mapping[str, str], _plugs: list[int]) -> tuple[Intent, Describe]:
    word = _text(form, "type").lower()
    if word not in ("soft", "hard"):
        raise InvalidInput("Choose a soft restart (the station finishes what it is doing "
                           "first) or a hard one (at once).")
    return (lambda control, cp: control.reset(cp, hard=word == "hard"),
            lambda outcome: _said(outcome, {
                "Accepted": f"The station accepted the {word} restart; it is back in a "
                            "minute or two.",
                "Scheduled": "The station restarts as soon as the charging on it has ended.",
                "Rejected": "The station refused to restart. Try again later, or restart it "
                            "at the station itself.",
            }))


def _unlock(form: Mapping[str, str], plugs: list[int]) -> tuple[Intent, Describe]:
    number = _plug_number(form, plugs, whole_station=False)
    return (lambda control, cp: control.unlock(cp, number),
            lambda outcome: _said(outcome, {
                "Unlocked": f"Plug {number} is unlocked; the cable can be taken out now.",
                "UnlockFailed": f"Plug {number} did not unlock. Check that nothing pulls on "
                                "the cable, then try again.",
                "NotSupported": f"Plug {number} has no lock the station can open remotely.",
                "OngoingAuthorizedTransaction": f"Plug {number} stays locked: a session is "
                                                "running on it. Stop the session first.",
                "UnknownConnector": f"The station does not know plug {number}.",
            }))


def _availability(form: Mapping[str, str], plugs: list[int]) -> tuple[Intent, Describe]:
    number = _plug_number(form, plugs, whole_station=True)
    wanted = _text(form, "availability")
    if wanted not in ("available", "unavailable"):
        raise InvalidInput("Choose whether the plug should be available or unavailable.")
    name = _plug_name(number)
    return (lambda control, cp: control.set_availability(cp, number or None,
                                                         operative=wanted == "available"),
            lambda outcome: _said(outcome, {
                "Accepted": f"{name} is now {wanted}.",
                "Scheduled": f"{name} becomes {wanted} when the session on it ends.",
                "Rejected": f"The station refused to make {name.lower()} {wanted}.",
            }))


def _trigger_status(form: Mapping[str, str], plugs: list[int]) -> tuple[Intent, Describe]:
    number = _plug_or_every(form, plugs)
    which = "its plugs" if number is None else _plug_name(number).lower()
    return (lambda control, cp: control.trigger_status_report(cp, number),
            lambda outcome: _said(outcome, {
                "Accepted": f"The station will report the status of {which} in a moment; "
                            "this page shows it as it arrives.",
                "Rejected": "The station refused to send a status report now. Try again "
                            "later.",
                "NotImplemented": "This station cannot send a status report on request.",
            }))


def _settings_reply(outcome: SettingsRead) -> ActionReply:
    if outcome.by_report:
        return _said(outcome, {
            "Accepted": "The station is sending all its settings; they appear under “Device "
                        "model” on this page in a moment.",
            "Rejected": "The station refused to send its settings now. Try again later.",
            "NotSupported": "This station cannot send its settings on request.",
            "EmptyResultSet": "The station has no settings to report.",
        })
    count = len(outcome.settings)
    message = f"The station sent {count} setting{'s' if count != 1 else ''}."
    if outcome.unknown:
        message += " It does not know " + ", ".join(outcome.unknown) + "."
    return ActionReply(True, message, outcome.answer, outcome.settings, outcome.unknown)


def _get_configuration(form: Mapping[str, str], _plugs: list[int]
                       ) -> tuple[Intent, Describe]:
    keys = [key for key in re.split(r"[\s,;]+", str(form.get("keys", ""))) if key]
    if any(len(key) > 100 for key in keys):
        raise InvalidInput("A setting's name is at most 100 characters.")
    return lambda control, cp: control.read_settings(cp, keys or None), _settings_reply


def _change_configuration(form: Mapping[str, str], _plugs: list[int]
                          ) -> tuple[Intent, Describe]:
    key = _text(form, "key")
    value = str(form.get("value", "")).strip()
    if not 1 <= len(key) <= 50:
        raise InvalidInput("Write the name of the setting to change (at most 50 characters), "
                           "such as HeartbeatInterval.")
    if len(value) > 500:
        raise InvalidInput("A setting's value is at most 500 characters.")
    missing = f"The station has no setting called {key}."
    return (lambda control, cp: control.change_setting(cp, key, value),
            lambda outcome: _said(outcome, {
                "Accepted": f"{key} is now {value}.",
                "RebootRequired": f"{key} is saved as {value}; it takes effect after a "
                                  "restart.",
                "Rejected": f"The station refused to set {key} to {value}: the setting may "
                            "be read-only, or the value out of range.",
                "NotSupported": missing,
                "UnknownComponent": missing,
                "UnknownVariable": missing,
            }))


_PARSERS: dict[str, Callable[[Mapping[str, str], list[int]], tuple[Intent, Describe]]] = {
    "reset": _reset,
    "unlock": _unlock,
    "availability": _availability,
    "trigger-status": _trigger_status,
    "get-configuration": _get_configuration,
    "change-configuration": _change_configuration,
}


def remote_action(db: Database, control: ChargerControl, viewer: Viewer, charge_point_id: str,
                  action: str, form: Mapping[str, str]) -> ActionReply:
    """Send one of :data:`REMOTE_ACTIONS` to one of the viewer's stations and say in one
    sentence what came of it. The fields of ``form`` depend on the action: ``type``
    (soft/hard) for reset; ``connector`` for unlock, availability (with ``availability``:
    available/unavailable; 0 is the whole station) and trigger-status (empty: every
    plug); ``keys`` (optional) for get-configuration; ``key`` and ``value`` for
    change-configuration.

    A station that is offline, does not answer or answers with an error gives a reply
    with ``ok`` false, never an exception. Raises :class:`NotFound` for another owner's
    station or an unknown action and :class:`InvalidInput` for a bad form (including a
    setting's name the station's OCPP version cannot express).
    """
    parse = _PARSERS.get(action)
    if parse is None:
        raise NotFound("no such action")
    with db.session() as session:
        station = owned_station(session, viewer, charge_point_id)
        plugs = [connector.connector_id for connector in station.connectors]
    intent, describe = parse(form, plugs)
    try:
        outcome = intent(control, charge_point_id)
    except StationOffline:
        log.info("%s: %s not sent: the station is offline", charge_point_id, action)
        return ActionReply(False, f"{charge_point_id} is offline, so it did not get this. Check "
                                  "that it has power and a network connection, then try again.")
    except NoAnswer as error:
        log.warning("%s", error)
        return ActionReply(False, f"{charge_point_id} did not answer in time. It may be busy or "
                                  "on a weak connection; try again in a minute.")
    except ChargerError as error:
        log.warning("%s", error)
        said = f"{error.code}: {error.description}" if error.description else error.code
        return ActionReply(False, f"{charge_point_id} could not do this; it answered “{said}”.")
    except UnknownCommand as error:
        log.warning("%s: %s refused before sending: %s", charge_point_id, action, error)
        return ActionReply(False, f"{charge_point_id} does not accept this request ({error}).")
    log.info("%s: %s answered %s", charge_point_id, action, outcome.answer)
    return describe(outcome)
