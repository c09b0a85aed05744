"""2.0.1 statuses in the words the rest of Voltspot speaks (1.6's)."""

import pytest

from voltspot.domain.statuses import (
    ConnectorStatus,
    status_for_charging_state,
    status_for_connector_status,
)


@pytest.mark.parametrize(("charging_state", "status"), [
    ("Charging", ConnectorStatus.CHARGING),
    ("SuspendedEV", ConnectorStatus.SUSPENDED_EV),
    ("SuspendedEVSE", ConnectorStatus.SUSPENDED_EVSE),
    ("EVConnected", ConnectorStatus.PREPARING),
    ("Idle", None),
    (None, None),
])
def test_a_running_transactions_charging_state_is_the_plugs_status(charging_state, status):
    assert status_for_charging_state(charging_state, ended=False) == status


def test_a_transaction_that_ended_with_the_car_still_there_is_finishing():
    assert status_for_charging_state("EVConnected", ended=True) == ConnectorStatus.FINISHING
    assert status_for_charging_state(None, ended=True) == ConnectorStatus.FINISHING
    assert status_for_charging_state("Idle", ended=True) is None


def test_occupied_keeps_what_the_transaction_said_and_otherwise_means_plugged_in():
    assert status_for_connector_status("Occupied", ConnectorStatus.CHARGING) \
        == ConnectorStatus.CHARGING
    assert status_for_connector_status("Occupied", ConnectorStatus.AVAILABLE) \
        == ConnectorStatus.PREPARING
    assert status_for_connector_status("Faulted", ConnectorStatus.CHARGING) \
        == ConnectorStatus.FAULTED
