"""What a 2.0.1 charger must be told so its transactions can be billed.

Many 2.0.1 chargers ship with no sampled measurands configured and then send no meter
values at all; the CSMS sets them at boot when the charger reports none.
"""

from __future__ import annotations

SAMPLED_DATA_CTRLR = "SampledDataCtrlr"
TX_UPDATED_MEASURANDS = "TxUpdatedMeasurands"
TX_UPDATED_INTERVAL = "TxUpdatedInterval"
TX_ENDED_MEASURANDS = "TxEndedMeasurands"
TX_STARTED_MEASURANDS = "TxStartedMeasurands"
SAMPLING_VARIABLES = (TX_UPDATED_MEASURANDS, TX_UPDATED_INTERVAL, TX_ENDED_MEASURANDS,
                      TX_STARTED_MEASURANDS)

# What billing and the driver's live view use, best first: a charger that rejects the
# full list (no SoC on AC chargers, say) is offered the shorter ones in turn.
UPDATED_MEASURAND_CHOICES = (
    "Energy.Active.Import.Register,Power.Active.Import,SoC",
    "Energy.Active.Import.Register,Power.Active.Import",
    "Energy.Active.Import.Register",
)
ENDED_MEASURANDS = "Energy.Active.Import.Register"


def _empty(value: str | None) -> bool:
    return value is None or not value.strip()


def sampling_to_set(current: dict[str, str | None], interval_s: int) -> dict[str, list[str]]:
    """The SampledDataCtrlr variables to set, each with the values to try in order.

    ``current`` maps each of :data:`SAMPLING_VARIABLES` to the charger's value, or None
    when it did not report one (UnknownVariable, rejected). Only empty ones are set: a
    charger configured by its installer keeps its configuration. TxStartedMeasurands
    (the start reading in the Started event; without it some chargers send the start
    reading only with Ended) is set when the charger reports it empty.
    """
    wanted: dict[str, list[str]] = {}
    if _empty(current.get(TX_UPDATED_MEASURANDS)):
        wanted[TX_UPDATED_MEASURANDS] = list(UPDATED_MEASURAND_CHOICES)
    interval = (current.get(TX_UPDATED_INTERVAL) or "").strip()
    if not interval.isdigit() or int(interval) == 0:
        wanted[TX_UPDATED_INTERVAL] = [str(interval_s)]
    if _empty(current.get(TX_ENDED_MEASURANDS)):
        wanted[TX_ENDED_MEASURANDS] = [ENDED_MEASURANDS]
    if TX_STARTED_MEASURANDS in current and _empty(current[TX_STARTED_MEASURANDS]):
        wanted[TX_STARTED_MEASURANDS] = [ENDED_MEASURANDS]
    return wanted
