"""Commands routed over the real Redis to the process holding the charger's socket, and
carried out there on a real WebSocket."""

from __future__ import annotations

import time

import pytest

from tests.support.waiting import eventually
from voltspot.cluster import codec
from voltspot.cluster.presence import RedisPresence
from voltspot.cluster.routing import CommandRouter, Intent, RoutedChargerControl, UnknownIntent
from voltspot.services.charger_control import (
    ChargerError,
    NoAnswer,
    StartOutcome,
    StationOffline,
    UnknownCommand,
)

ANSWERS = {
    "RemoteStartTransaction": ("result", {"status": "Accepted"}),
    "Reset": ("error", "NotSupported"),
    "UnlockConnector": ("silent", None),
}


@pytest.fixture
def cluster(make_node, local_sockets):
    """Process A holds charger CP1's socket; process B holds none. Returns (A's sockets,
    B's control, A's control, the charger's end)."""
    holder_sockets, other_sockets = local_sockets(1.0), local_sockets(1.0)
    controls, routers = [], []
    for name, sockets in (("a", holder_sockets), ("b", other_sockets)):
        node = make_node(name)
        presence = RedisPresence(node)
        router = CommandRouter(node, sockets.control, timeout=1.0,
                               on_evicted=presence.check)
        router.start()
        routers.append(router)
        controls.append((presence, RoutedChargerControl(sockets.control, presence, router)))
    (presence_a, control_a), (_, control_b) = controls
    connection, charger = holder_sockets.connect("CP1", ANSWERS)
    presence_a.claim("CP1", connection.connection_id)
    yield holder_sockets, control_b, control_a, charger
    for router in routers:
        router.stop()


def test_a_start_from_another_process_reaches_the_charger_and_returns_its_answer(cluster):
    _, control_b, _, charger = cluster
    answer = control_b.start_charging("CP1", connector_id=1, id_tag="TAG",
                                      remote_start_id=7)
    assert answer == StartOutcome(True, "Accepted", {"status": "Accepted"})
    assert charger.received[-1][2:] == ["RemoteStartTransaction",
                                        {"idTag": "TAG", "connectorId": 1}]


def test_the_holding_process_uses_its_own_socket(cluster):
    _, _, control_a, charger = cluster
    assert control_a.version("CP1") == "1.6"
    assert control_a.send("CP1", "RemoteStartTransaction", {"idTag": "T"}) == {
        "status": "Accepted"}


def test_a_charger_call_error_comes_back_as_the_same_error(cluster):
    _, control_b, _, _ = cluster
    with pytest.raises(ChargerError) as raised:
        control_b.reset("CP1", hard=False)
    assert raised.value.code == "NotSupported"
    assert "CP1 answered Reset with NotSupported" in str(raised.value)


def test_a_charger_that_does_not_answer_is_no_answer_after_the_timeout(cluster):
    _, control_b, _, _ = cluster
    started = time.monotonic()
    with pytest.raises(NoAnswer, match="gave no answer to UnlockConnector in 1 s"):
        control_b.unlock("CP1", 1)
    assert time.monotonic() - started < 4


def test_a_command_the_version_lacks_is_refused_like_a_local_call(cluster):
    _, control_b, _, _ = cluster
    with pytest.raises(UnknownCommand, match="not an OCPP 1.6 command"):
        control_b.send("CP1", "GetVariables", {})


def test_a_station_no_process_holds_is_offline(cluster):
    _, control_b, _, _ = cluster
    with pytest.raises(StationOffline, match="CP9 is offline"):
        control_b.start_charging("CP9", connector_id=None, id_tag="T", remote_start_id=1)


def test_a_station_whose_socket_closed_is_offline_from_every_process(cluster):
    holder_sockets, control_b, _, _ = cluster
    holder_sockets.registry.get("CP1").close()
    with pytest.raises(StationOffline):
        control_b.send("CP1", "RemoteStartTransaction", {"idTag": "T"})


def test_a_holder_that_is_no_longer_serving_makes_the_station_offline(make_node,
                                                                        local_sockets):
    node = make_node("dead")
    presence = RedisPresence(node)
    presence.claim("CP1", "conn")
    other = make_node("b")
    control = RoutedChargerControl(local_sockets().control, RedisPresence(other),
                                   CommandRouter(other, local_sockets().control, 1.0))
    with pytest.raises(StationOffline):
        control.send("CP1", "Reset", {"type": "Soft"})


def test_an_intent_holds_every_argument_by_name():
    intent = Intent.of("start_charging", "CP1", connector_id=None, id_tag="T",
                       remote_start_id=3)
    assert intent == Intent("start_charging", {"charge_point_id": "CP1", "connector_id": None,
                                               "id_tag": "T", "remote_start_id": 3})
    assert Intent.from_json(codec.loads(codec.dumps(intent.to_json()))) == intent


def test_only_charger_control_methods_with_their_arguments_are_intents():
    with pytest.raises(UnknownIntent):
        Intent.of("__init__", "CP1")
    with pytest.raises(UnknownIntent):
        Intent.of("stop_charging", "CP1", "tx", "extra")


def test_a_reconnect_elsewhere_tells_the_old_process_which_closes_its_socket(
        make_node, local_sockets):
    sockets_a = local_sockets()
    node_a, node_b = make_node("a"), make_node("b")
    presence_a, presence_b = RedisPresence(node_a), RedisPresence(node_b)
    router_a = CommandRouter(node_a, sockets_a.control, 1.0, on_evicted=presence_a.check)
    router_b = CommandRouter(node_b, local_sockets().control, 1.0)
    presence_a.on_lost = lambda charge_point_id: sockets_a.registry.get(charge_point_id).close()
    router_a.start()
    try:
        connection, _ = sockets_a.connect("CP1", ANSWERS)
        presence_a.claim("CP1", connection.connection_id)
        previous = presence_b.claim("CP1", "conn-b")
        router_b.evict(previous, "CP1")
        eventually(lambda: connection.closed, seconds=3)
        assert presence_b.holder("CP1") == "b"
    finally:
        router_a.stop()
