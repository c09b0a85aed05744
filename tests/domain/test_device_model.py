"""What a 2.0.1 charger is told at boot so its sessions can be billed."""

from voltspot.domain.device_model import UPDATED_MEASURAND_CHOICES, sampling_to_set


def test_a_charger_with_empty_sampling_settings_gets_all_three():
    wanted = sampling_to_set({"TxUpdatedMeasurands": "", "TxUpdatedInterval": "0",
                              "TxEndedMeasurands": ""}, 60)
    assert wanted == {"TxUpdatedMeasurands": list(UPDATED_MEASURAND_CHOICES),
                      "TxUpdatedInterval": ["60"],
                      "TxEndedMeasurands": ["Energy.Active.Import.Register"]}


def test_a_charger_its_installer_configured_is_left_alone():
    assert sampling_to_set({"TxUpdatedMeasurands": "Energy.Active.Import.Register",
                            "TxUpdatedInterval": "300",
                            "TxEndedMeasurands": "Energy.Active.Import.Register"}, 60) == {}


def test_settings_the_charger_did_not_report_are_set():
    assert set(sampling_to_set({}, 30)) == {"TxUpdatedMeasurands", "TxUpdatedInterval",
                                            "TxEndedMeasurands"}


def test_the_fullest_measurand_list_is_offered_first_and_energy_alone_last():
    assert UPDATED_MEASURAND_CHOICES[0].split(",")[0] == "Energy.Active.Import.Register"
    assert UPDATED_MEASURAND_CHOICES[-1] == "Energy.Active.Import.Register"
