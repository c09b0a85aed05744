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
from voltspot.services.messages import N_
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
    message = sentences.get(outcome.status) or N_("The station answered “%(answer)s”.",
                                                  answer=outcome.status or N_("nothing"))
    return ActionReply(outcome.accepted, message, outcome.answer)


def _plug_number(form: Mapping[str, str], plugs: list[int], *, whole_station: bool) -> int:
    text = _text(form, "connector")
    number = int(text) if re.fullmatch(r"\d{1,10}", text) else None
    if number is None or (number not in plugs and not (whole_station and number == 0)):
        raise InvalidInput(N_("Choose one of this station's plugs: %(plugs)s.",
                              plugs=", ".join(str(n) for n in plugs)))
    return number


def _plug_or_every(form: Mapping[str, str], plugs: list[int]) -> int | None:
    if _text(form, "connector") in ("", "all"):
        return None
    return _plug_number(form, plugs, whole_station=True)


def _reset(form: Mapping[str, str], _plugs: list[int]) -> tuple[Intent, Describe]:
    word = _text(form, "type").lower()
    if word not in ("soft", "hard"):
        raise InvalidInput(N_("Choose a soft restart (the station finishes what it is doing "
                              "first) or a hard one (at once)."))
    return (lambda control, cp: control.reset(cp, hard=word == "hard"),
            lambda outcome: _said(outcome, {
                "Accepted": N_("The station accepted the soft restart; it is back in a "
                               "minute or two.") if word == "soft" else
                N_("The station accepted the hard restart; it is back in a minute or two."),
                "Scheduled": N_("The station restarts as soon as the charging on it has ended."),
                "Rejected": N_("The station refused to restart. Try again later, or restart it "
                               "at the station itself."),
            }))


def _unlock(form: Mapping[str, str], plugs: list[int]) -> tuple[Intent, Describe]:
    number = _plug_number(form, plugs, whole_station=False)
    return (lambda control, cp: control.unlock(cp, number),
            lambda outcome: _said(outcome, {
                "Unlocked": N_("Plug %(number)s is unlocked; the cable can be taken out now.",
                               number=number),
                "UnlockFailed": N_("Plug %(number)s did not unlock. Check that nothing pulls on "
                                   "the cable, then try again.", number=number),
                "NotSupported": N_("Plug %(number)s has no lock the station can open remotely.",
                                   number=number),
                "OngoingAuthorizedTransaction": N_(
                    "Plug %(number)s stays locked: a session is running on it. Stop the "
                    "session first.", number=number),
                "UnknownConnector": N_("The station does not know plug %(number)s.",
                                       number=number),
            }))


def _availability(form: Mapping[str, str], plugs: list[int]) -> tuple[Intent, Describe]:
    number = _plug_number(form, plugs, whole_station=True)
    wanted = _text(form, "availability")
    if wanted not in ("available", "unavailable"):
        raise InvalidInput(N_("Choose whether the plug should be available or unavailable."))
    on = wanted == "available"
    if number == 0:
        sentences = {
            "Accepted": N_("The whole station is now available.") if on
            else N_("The whole station is now unavailable."),
            "Scheduled": N_("The whole station becomes available when the session on it ends.")
            if on else N_("The whole station becomes unavailable when the session on it ends."),
            "Rejected": N_("The station refused to make the whole station available.") if on
            else N_("The station refused to make the whole station unavailable."),
        }
    else:
        sentences = {
            "Accepted": N_("Plug %(number)s is now available.", number=number) if on
            else N_("Plug %(number)s is now unavailable.", number=number),
            "Scheduled": N_("Plug %(number)s becomes available when the session on it ends.",
                            number=number) if on else
            N_("Plug %(number)s becomes unavailable when the session on it ends.",
               number=number),
            "Rejected": N_("The station refused to make plug %(number)s available.",
                           number=number) if on else
            N_("The station refused to make plug %(number)s unavailable.", number=number),
        }
    return (lambda control, cp: control.set_availability(cp, number or None,
                                                         operative=wanted == "available"),
            lambda outcome: _said(outcome, sentences))


def _trigger_status(form: Mapping[str, str], plugs: list[int]) -> tuple[Intent, Describe]:
    number = _plug_or_every(form, plugs)
    if number is None:
        accepted = N_("The station will report the status of its plugs in a moment; this page "
                      "shows it as it arrives.")
    elif number == 0:
        accepted = N_("The station will report the status of the whole station in a moment; "
                      "this page shows it as it arrives.")
    else:
        accepted = N_("The station will report the status of plug %(number)s in a moment; "
                      "this page shows it as it arrives.", number=number)
    return (lambda control, cp: control.trigger_status_report(cp, number),
            lambda outcome: _said(outcome, {
                "Accepted": accepted,
                "Rejected": N_("The station refused to send a status report now. Try again "
                               "later."),
                "NotImplemented": N_("This station cannot send a status report on request."),
            }))


def _settings_reply(outcome: SettingsRead) -> ActionReply:
    if outcome.by_report:
        return _said(outcome, {
            "Accepted": N_("The station is sending all its settings; they appear under “Device "
                           "model” on this page in a moment."),
            "Rejected": N_("The station refused to send its settings now. Try again later."),
            "NotSupported": N_("This station cannot send its settings on request."),
            "EmptyResultSet": N_("The station has no settings to report."),
        })
    count = len(outcome.settings)
    message = N_("The station sent 1 setting.") if count == 1 else N_(
        "The station sent %(count)s settings.", count=count)
    if outcome.unknown:
        message = N_("%(sent)s It does not know %(keys)s.", sent=message,
                     keys=", ".join(outcome.unknown))
    return ActionReply(True, message, outcome.answer, outcome.settings, outcome.unknown)


def _get_configuration(form: Mapping[str, str], _plugs: list[int]
                       ) -> tuple[Intent, Describe]:
    keys = [key for key in re.split(r"[\s,;]+", str(form.get("keys", ""))) if key]
    if any(len(key) > 100 for key in keys):
        raise InvalidInput(N_("A setting's name is at most 100 characters."))
    return lambda control, cp: control.read_settings(cp, keys or None), _settings_reply


def _change_configuration(form: Mapping[str, str], _plugs: list[int]
                          ) -> tuple[Intent, Describe]:
    key = _text(form, "key")
    value = str(form.get("value", "")).strip()
    if not 1 <= len(key) <= 50:
        raise InvalidInput(N_("Write the name of the setting to change (at most 50 "
                              "characters), such as HeartbeatInterval."))
    if len(value) > 500:
        raise InvalidInput(N_("A setting's value is at most 500 characters."))
    missing = N_("The station has no setting called %(key)s.", key=key)
    return (lambda control, cp: control.change_setting(cp, key, value),
            lambda outcome: _said(outcome, {
                "Accepted": N_("%(key)s is now %(value)s.", key=key, value=value),
                "RebootRequired": N_("%(key)s is saved as %(value)s; it takes effect after a "
                                     "restart.", key=key, value=value),
                "Rejected": N_("The station refused to set %(key)s to %(value)s: the setting "
                               "may be read-only, or the value out of range.", key=key,
                               value=value),
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
        return ActionReply(False, N_("%(station)s is offline, so it did not get this. Check that "
                                     "it has power and a network connection, then try again.",
                                     station=charge_point_id))
    except NoAnswer as error:
        log.warning("%s", error)
        return ActionReply(False, N_("%(station)s did not answer in time. It may be busy or on a "
                                     "weak connection; try again in a minute.",
                                     station=charge_point_id))
    except ChargerError as error:
        log.warning("%s", error)
        said = f"{error.code}: {error.description}" if error.description else error.code
        return ActionReply(False, N_("%(station)s could not do this; it answered “%(answer)s”.",
                                     station=charge_point_id, answer=said))
    except UnknownCommand as error:
        log.warning("%s: %s refused before sending: %s", charge_point_id, action, error)
        return ActionReply(False, N_("%(station)s does not accept this request (%(why)s).",
                                     station=charge_point_id, why=str(error)))
    log.info("%s: %s answered %s", charge_point_id, action, outcome.answer)
    return describe(outcome)
