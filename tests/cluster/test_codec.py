"""What crosses between processes comes back as the same values and errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from voltspot.cluster import codec
from voltspot.domain.protocol import OcppVersion
from voltspot.domain.statuses import Direction
from voltspot.services.charger_control import (
    ChargerError,
    NoAnswer,
    Setting,
    SettingsRead,
    StartOutcome,
    StationOffline,
)
from voltspot.services.messages import Message


def test_dataclasses_enums_times_and_tuples_come_back_equal():
    value = {"answer": StartOutcome(True, "Accepted", {"status": "Accepted"}, "tx-1"),
             "settings": SettingsRead(True, "Accepted", {}, (Setting("HeartbeatInterval", "60",
                                                                     False),), ("Nope",)),
             "version": OcppVersion.V201, "direction": Direction.IN,
             "at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
             "after": timedelta(seconds=90), "pair": (1, "a"), "list": [None, 1.5]}
    assert codec.loads(codec.dumps(value)) == value


def test_a_charger_error_keeps_its_type_message_and_code():
    error = codec.loads(codec.dumps(ChargerError("CP1", "Reset", "NotSupported", "no")))
    assert isinstance(error, ChargerError)
    assert str(error) == "station CP1 answered Reset with NotSupported: no"
    assert (error.code, error.description) == ("NotSupported", "no")


def test_a_no_answer_keeps_the_station():
    error = codec.loads(codec.dumps(NoAnswer("CP1", "Reset", 30)))
    assert isinstance(error, NoAnswer) and error.charge_point_id == "CP1"


def test_a_type_outside_voltspot_services_is_never_rebuilt():
    with pytest.raises(codec.CodecError, match="refusing to rebuild"):
        codec.loads('{"__type__": "subprocess:Popen", "fields": {"args": "ls"}}')


def test_a_value_that_cannot_be_sent_is_refused_before_sending():
    with pytest.raises(codec.CodecError):
        codec.dumps({"socket": object()})


def test_a_routed_error_keeps_its_message_so_the_page_can_translate_it():
    error = codec.loads(codec.dumps(StationOffline("CP1")))
    said = error.args[0]
    assert isinstance(said, Message) and said.text == "station %(station)s is offline"
    assert said.params == {"station": "CP1"} and str(error) == "station CP1 is offline"
