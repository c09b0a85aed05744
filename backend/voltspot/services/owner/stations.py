"""Remote actions an owner sends to one of their stations, with the charger's answer in
one sentence. (Sites, station pages, station administration and plugs have their own
modules in this package: sites, station_views, station_admin and plugs.)

Every lookup goes through :mod:`voltspot.services.owner.accounts`, so another owner's
station raises :class:`NotFound`. Talking to a charger takes the :class:`Database` and a
:class:`ChargerControl` and keeps the database transaction closed while the charger is
asked (DESIGN.md, convention 3).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from voltspot.db import Database
from voltspot.services.charger_control import (
    ChargerControl,
    ChargerError,
    NoAnswer,
    StationOffline,
    UnknownCommand,
)
from voltspot.services.charging.commands import send_command
from voltspot.services.errors import InvalidInput, NotFound
from voltspot.services.forms import text as _text
from voltspot.services.forms import whole_number as _whole
from voltspot.services.owner.accounts import Viewer, owned_station

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------
# Remote actions


@dataclass(frozen=True)
class ConfigurationKey:
    key: str
    value: str | None
    readonly: bool


@dataclass(frozen=True)
class ActionReply:
    """What came of a remote action, for the owner. ``ok``: the station did what was
    asked; ``message``: one sentence; ``answer``: the charger's own reply, if any."""

    ok: bool
    message: str
    answer: dict[str, Any] | None = None
    keys: tuple[ConfigurationKey, ...] = ()
    unknown_keys: tuple[str, ...] = ()


REMOTE_ACTIONS = ("reset", "unlock", "availability", "trigger-status", "get-configuration",
                  "change-configuration")

Describe = Callable[[dict[str, Any]], ActionReply]


def _said(answer: dict[str, Any], sentences: dict[str, str], ok: tuple[str, ...]) -> ActionReply:
    status = str(answer.get("status", ""))
    message = sentences.get(status, f"The station answered “{status or 'nothing'}”.")
    return ActionReply(status in ok, message, answer)


def _plug_number(form: Mapping[str, str], plugs: list[int], *, whole_station: bool,
                 optional: bool = False) -> int | None:
    text = _text(form, "connector")
    if optional and text in ("", "all"):
        return None
    number = _whole(text, 0, 2**31)
    if number is None or (number not in plugs and not (whole_station and number == 0)):
        raise InvalidInput("Choose one of this station's plugs: "
                           + ", ".join(str(n) for n in plugs) + ".")
    return number


def _plug_name(number: int) -> str:
    return "The whole station" if number == 0 else f"Plug {number}"


def _reset(form: Mapping[str, str], _plugs: list[int], version: str
           ) -> tuple[str, dict[str, Any], Describe]:
    kind = _text(form, "type").capitalize()
    if kind not in ("Soft", "Hard"):
        raise InvalidInput("Choose a soft restart (the station finishes what it is doing "
                           "first) or a hard one (at once).")
    word = kind.lower()
    # 2.0.1 names the same two restarts by when they happen.
    wire = kind if version == "1.6" else {"Soft": "OnIdle", "Hard": "Immediate"}[kind]
    return "Reset", {"type": wire}, lambda answer: _said(answer, {
        "Accepted": f"The station accepted the {word} restart; it is back in a minute or two.",
        "Scheduled": "The station restarts as soon as the charging on it has ended.",
        "Rejected": "The station refused to restart. Try again later, or restart it at the "
                    "station itself.",
    }, ("Accepted", "Scheduled"))


def _unlock(form: Mapping[str, str], plugs: list[int], version: str
            ) -> tuple[str, dict[str, Any], Describe]:
    number = _plug_number(form, plugs, whole_station=False)
    payload = ({"connectorId": number} if version == "1.6"
               else {"evseId": number, "connectorId": 1})
    return "UnlockConnector", payload, lambda answer: _said(answer, {
        "Unlocked": f"Plug {number} is unlocked; the cable can be taken out now.",
        "UnlockFailed": f"Plug {number} did not unlock. Check that nothing pulls on the "
                        "cable, then try again.",
        "NotSupported": f"Plug {number} has no lock the station can open remotely.",
        "OngoingAuthorizedTransaction": f"Plug {number} stays locked: a session is running "
                                        "on it. Stop the session first.",
        "UnknownConnector": f"The station does not know plug {number}.",
    }, ("Unlocked",))


def _availability(form: Mapping[str, str], plugs: list[int], version: str
                  ) -> tuple[str, dict[str, Any], Describe]:
    number = _plug_number(form, plugs, whole_station=True)
    wanted = _text(form, "availability")
    if wanted not in ("available", "unavailable"):
        raise InvalidInput("Choose whether the plug should be available or unavailable.")
    name = _plug_name(number)
    kind = "Operative" if wanted == "available" else "Inoperative"
    if version == "1.6":
        payload: dict[str, Any] = {"connectorId": number, "type": kind}
    else:
        payload = {"operationalStatus": kind, **({"evse": {"id": number}} if number else {})}
    return ("ChangeAvailability", payload,
            lambda answer: _said(answer, {
                "Accepted": f"{name} is now {wanted}.",
                "Scheduled": f"{name} becomes {wanted} when the session on it ends.",
                "Rejected": f"The station refused to make {name.lower()} {wanted}.",
            }, ("Accepted", "Scheduled")))


def _trigger_status(form: Mapping[str, str], plugs: list[int], version: str
                    ) -> tuple[str, dict[str, Any], Describe]:
    number = _plug_number(form, plugs, whole_station=True, optional=True)
    payload: dict[str, Any] = {"requestedMessage": "StatusNotification"}
    if number and version != "1.6":
        payload["evse"] = {"id": number, "connectorId": 1}
    elif number is not None and version == "1.6":
        payload["connectorId"] = number
    which = "its plugs" if number is None else _plug_name(number).lower()
    return "TriggerMessage", payload, lambda answer: _said(answer, {
        "Accepted": f"The station will report the status of {which} in a moment; this page "
                    "shows it as it arrives.",
        "Rejected": "The station refused to send a status report now. Try again later.",
        "NotImplemented": "This station cannot send a status report on request.",
    }, ("Accepted",))


def _configuration_reply(answer: dict[str, Any]) -> ActionReply:
    keys = tuple(ConfigurationKey(str(item.get("key", "")), item.get("value"),
                                  bool(item.get("readonly")))
                 for item in answer.get("configurationKey") or [])
    unknown = tuple(str(key) for key in answer.get("unknownKey") or [])
    message = f"The station sent {len(keys)} setting{'s' if len(keys) != 1 else ''}."
    if unknown:
        message += " It does not know " + ", ".join(unknown) + "."
    return ActionReply(True, message, answer, keys, unknown)


def _variables_reply(answer: dict[str, Any]) -> ActionReply:
    keys, unknown = [], []
    for item in answer.get("getVariableResult") or []:
        name = f"{item['component']['name']}.{item['variable']['name']}"
        if item.get("attributeStatus") == "Accepted":
            keys.append(ConfigurationKey(name, item.get("attributeValue"), False))
        else:
            unknown.append(name)
    message = f"The station sent {len(keys)} setting{'s' if len(keys) != 1 else ''}."
    if unknown:
        message += " It does not know " + ", ".join(unknown) + "."
    return ActionReply(True, message, answer, tuple(keys), tuple(unknown))


def _report_reply(answer: dict[str, Any]) -> ActionReply:
    return _said(answer, {
        "Accepted": "The station is sending all its settings; they appear under “Device "
                    "model” on this page in a moment.",
        "Rejected": "The station refused to send its settings now. Try again later.",
        "NotSupported": "This station cannot send its settings on request.",
        "EmptyResultSet": "The station has no settings to report.",
    }, ("Accepted", "EmptyResultSet"))


def _setting_name(key: str) -> tuple[str, str]:
    """A 2.0.1 setting as the owner writes it: "Component.Variable"."""
    component, _, variable = key.partition(".")
    if not component or not variable:
        raise InvalidInput("Write a 2.0.1 setting as Component.Variable, such as "
                           "OCPPCommCtrlr.HeartbeatInterval.")
    return component, variable


def _get_configuration(form: Mapping[str, str], _plugs: list[int], version: str
                       ) -> tuple[str, dict[str, Any], Describe]:
    keys = [key for key in re.split(r"[\s,;]+", str(form.get("keys", ""))) if key]
    if any(len(key) > 100 for key in keys):
        raise InvalidInput("A setting's name is at most 100 characters.")
    if version == "1.6":
        if any(len(key) > 50 for key in keys):
            raise InvalidInput("A setting's name is at most 50 characters.")
        return "GetConfiguration", ({"key": keys} if keys else {}), _configuration_reply
    if not keys:
        return ("GetBaseReport", {"requestId": secrets.randbelow(2**31),
                                  "reportBase": "ConfigurationInventory"}, _report_reply)
    wanted = [_setting_name(key) for key in keys]
    return "GetVariables", {"getVariableData": [
        {"component": {"name": component}, "variable": {"name": variable}}
        for component, variable in wanted]}, _variables_reply


def _change_configuration(form: Mapping[str, str], _plugs: list[int], version: str
                          ) -> tuple[str, dict[str, Any], Describe]:
    key = _text(form, "key")
    value = str(form.get("value", "")).strip()
    if not 1 <= len(key) <= 50:
        raise InvalidInput("Write the name of the setting to change (at most 50 characters), "
                           "such as HeartbeatInterval.")
    if len(value) > 500:
        raise InvalidInput("A setting's value is at most 500 characters.")
    sentences = {
        "Accepted": f"{key} is now {value}.",
        "RebootRequired": f"{key} is saved as {value}; it takes effect after a restart.",
        "Rejected": f"The station refused to set {key} to {value}: the setting may be "
                    "read-only, or the value out of range.",
        "NotSupported": f"The station has no setting called {key}.",
        "UnknownComponent": f"The station has no setting called {key}.",
        "UnknownVariable": f"The station has no setting called {key}.",
    }
    if version == "1.6":
        return ("ChangeConfiguration", {"key": key, "value": value},
                lambda answer: _said(answer, sentences, ("Accepted", "RebootRequired")))
    component, variable = _setting_name(key)

    def describe(answer: dict[str, Any]) -> ActionReply:
        result = (answer.get("setVariableResult") or [{}])[0]
        return _said({"status": result.get("attributeStatus", "")} | answer, sentences,
                     ("Accepted", "RebootRequired"))
    return "SetVariables", {"setVariableData": [{
        "component": {"name": component}, "variable": {"name": variable},
        "attributeValue": value}]}, describe


_PARSERS: dict[str, Callable[[Mapping[str, str], list[int], str],
                             tuple[str, dict[str, Any], Describe]]] = {
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
    station or an unknown action and :class:`InvalidInput` for a bad form.
    """
    parse = _PARSERS.get(action)
    if parse is None:
        raise NotFound("no such action")
    with db.session() as session:
        station = owned_station(session, viewer, charge_point_id)
        plugs = [connector.connector_id for connector in station.connectors]
    try:
        version = control.version(charge_point_id)
    except StationOffline:
        version = None
    ocpp_action, payload, describe = parse(form, plugs, version or "1.6")
    try:
        if version is None:
            raise StationOffline(charge_point_id)
        answer = send_command(db, control, charge_point_id, ocpp_action, payload)
    except StationOffline:
        log.info("%s: %s not sent: the station is offline", charge_point_id, ocpp_action)
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
        log.warning("%s: %s refused before sending: %s", charge_point_id, ocpp_action, error)
        return ActionReply(False, f"{charge_point_id} does not accept this request ({error}).")
    reply = describe(answer)
    log.info("%s: %s %s answered %s", charge_point_id, ocpp_action, payload, answer)
    return reply
