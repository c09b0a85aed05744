"""The OCPP 2.0.1 device model of a simulated charging station: components, variables,
their values and characteristics, and the answers to GetVariables, SetVariables and
GetBaseReport built from them.

Values are strings, as on the wire. Components and variables are matched by name and
instance, and a component also by its EVSE and connector (``evse`` / ``connector``).
Payload pieces are plain dicts with snake_case keys, the shape the ``ocpp`` library turns
into camelCase JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ocpp.v201.enums import (
    AttributeEnumType,
    DataEnumType,
    GetVariableStatusEnumType,
    MutabilityEnumType,
    ReportBaseEnumType,
    SetVariableStatusEnumType,
)

Validator = Callable[[str], bool]


def is_integer(minimum: int = 0) -> Validator:
    def valid(value: str) -> bool:
        text = value.strip()
        return text.lstrip("-").isdigit() and int(text) >= minimum
    return valid


def is_boolean(value: str) -> bool:
    return value.strip().lower() in ("true", "false")


def is_option(options: Iterable[str]) -> Validator:
    allowed = set(options)

    def valid(value: str) -> bool:
        return value.strip() in allowed
    return valid


def is_member_list(members: Iterable[str], *, at_least: int = 0,
                   at_most: int | None = None) -> Validator:
    """A comma-separated list of distinct ``members`` (empty allowed unless ``at_least``)."""
    allowed = set(members)

    def valid(value: str) -> bool:
        items = split_list(value)
        return (set(items) <= allowed and len(set(items)) == len(items)
                and len(items) >= at_least and (at_most is None or len(items) <= at_most))
    return valid


def split_list(value: str) -> list[str]:
    """The items of a comma-separated list value, without blanks."""
    return [item.strip() for item in value.split(",") if item.strip()]


def _any_string(value: str) -> bool:
    return True


@dataclass(frozen=True)
class ComponentKey:
    """A component as OCPP names it: ``name``, optional ``instance``, optional EVSE and
    connector (a station-wide component has neither)."""

    name: str
    instance: str | None = None
    evse: int | None = None
    connector: int | None = None

    @classmethod
    def from_payload(cls, component: dict[str, Any]) -> ComponentKey:
        """From a ComponentType the library decoded (snake_case keys)."""
        evse = component.get("evse") or {}
        return cls(component["name"], component.get("instance"), evse.get("id"),
                   evse.get("connector_id"))

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"name": self.name}
        if self.instance is not None:
            payload["instance"] = self.instance
        if self.evse is not None:
            payload["evse"] = {"id": self.evse}
            if self.connector is not None:
                payload["evse"]["connector_id"] = self.connector
        return payload


@dataclass
class Variable:
    """One variable's Actual attribute and its characteristics."""

    component: ComponentKey
    name: str
    value: str
    data_type: DataEnumType
    mutability: MutabilityEnumType = MutabilityEnumType.read_write
    instance: str | None = None
    unit: str | None = None
    values_list: str | None = None
    max_limit: float | None = None
    valid: Validator = field(default=_any_string)

    @property
    def writable(self) -> bool:
        return self.mutability != MutabilityEnumType.read_only

    def variable_payload(self) -> dict[str, Any]:
        payload = {"name": self.name}
        if self.instance is not None:
            payload["instance"] = self.instance
        return payload

    def report_data(self) -> dict[str, Any]:
        """This variable as a ReportDataType entry of NotifyReport."""
        characteristics: dict[str, Any] = {"data_type": self.data_type,
                                           "supports_monitoring": False}
        if self.unit is not None:
            characteristics["unit"] = self.unit
        if self.values_list is not None:
            characteristics["values_list"] = self.values_list
        if self.max_limit is not None:
            characteristics["max_limit"] = self.max_limit
        return {
            "component": self.component.to_payload(),
            "variable": self.variable_payload(),
            "variable_attribute": [{"type": AttributeEnumType.actual, "value": self.value,
                                    "mutability": self.mutability, "persistent": True,
                                    "constant": self.mutability == MutabilityEnumType.read_only}],
            "variable_characteristics": characteristics,
        }


# Variables that describe a component's state rather than configure it: what a
# SummaryInventory report lists.
_SUMMARY_VARIABLES = {"AvailabilityState", "Available", "Problem"}


class DeviceModel:
    """The station's components and variables, readable and writable as OCPP allows."""

    def __init__(self, variables: Iterable[Variable]) -> None:
        self._variables: dict[tuple[ComponentKey, str, str | None], Variable] = {}
        for variable in variables:
            self._variables[(variable.component, variable.name, variable.instance)] = variable
        self._components = {key[0] for key in self._variables}

    def __iter__(self) -> Iterator[Variable]:
        return iter(self._variables.values())

    def find(self, component: ComponentKey, name: str,
             instance: str | None = None) -> Variable | None:
        return self._variables.get((component, name, instance))

    def value(self, component: str, name: str, instance: str | None = None, *,
              evse: int | None = None, connector: int | None = None) -> str:
        """The Actual value of a variable that must exist (KeyError otherwise)."""
        return self._variables[(ComponentKey(component, evse=evse, connector=connector),
                                name, instance)].value

    def update(self, component: str, name: str, value: str, instance: str | None = None, *,
               evse: int | None = None, connector: int | None = None) -> None:
        """Set a variable's value from inside the station (read-only ones too)."""
        self._variables[(ComponentKey(component, evse=evse, connector=connector),
                         name, instance)].value = value

    def _lookup(self, component: dict[str, Any], variable: dict[str, Any]
                ) -> tuple[Variable | None, str | None]:
        key = ComponentKey.from_payload(component)
        if key not in self._components:
            return None, "UnknownComponent"
        found = self.find(key, variable["name"], variable.get("instance"))
        return found, None if found else "UnknownVariable"

    def get_variable(self, request: dict[str, Any]) -> dict[str, Any]:
        """The GetVariableResultType answering one GetVariableDataType."""
        component, variable = request["component"], request["variable"]
        attribute_type = request.get("attribute_type", AttributeEnumType.actual)
        result: dict[str, Any] = {"component": component, "variable": variable,
                                  "attribute_type": attribute_type}
        found, missing = self._lookup(component, variable)
        if found is None:
            result["attribute_status"] = GetVariableStatusEnumType(missing)
        elif attribute_type != AttributeEnumType.actual:
            result["attribute_status"] = GetVariableStatusEnumType.not_supported_attribute_type
        elif found.mutability == MutabilityEnumType.write_only:
            result["attribute_status"] = GetVariableStatusEnumType.rejected
        else:
            result["attribute_status"] = GetVariableStatusEnumType.accepted
            result["attribute_value"] = found.value
        return result

    def set_variable(self, request: dict[str, Any]) -> dict[str, Any]:
        """The SetVariableResultType answering one SetVariableDataType, applying the value
        when it is accepted (valid for its type, on a writable Actual attribute)."""
        component, variable = request["component"], request["variable"]
        attribute_type = request.get("attribute_type", AttributeEnumType.actual)
        result: dict[str, Any] = {"component": component, "variable": variable,
                                  "attribute_type": attribute_type}
        found, missing = self._lookup(component, variable)
        if found is None:
            result["attribute_status"] = SetVariableStatusEnumType(missing)
        elif attribute_type != AttributeEnumType.actual:
            result["attribute_status"] = SetVariableStatusEnumType.not_supported_attribute_type
        elif not found.writable or not found.valid(request["attribute_value"]):
            result["attribute_status"] = SetVariableStatusEnumType.rejected
        else:
            found.value = _normalised(found, request["attribute_value"])
            result["attribute_status"] = SetVariableStatusEnumType.accepted
        return result

    def report(self, base: ReportBaseEnumType) -> list[dict[str, Any]]:
        """ReportDataType entries for a GetBaseReport of kind ``base``: everything
        (FullInventory), the writable variables (ConfigurationInventory) or the components'
        availability (SummaryInventory)."""
        if base == ReportBaseEnumType.configuration_inventory:
            chosen = [v for v in self if v.writable]
        elif base == ReportBaseEnumType.summary_inventory:
            chosen = [v for v in self if v.name in _SUMMARY_VARIABLES]
        else:
            chosen = list(self)
        return [variable.report_data() for variable in chosen]


def _normalised(variable: Variable, value: str) -> str:
    if variable.data_type == DataEnumType.boolean:
        return value.strip().lower()
    if variable.data_type in (DataEnumType.member_list, DataEnumType.sequence_list):
        return ",".join(split_list(value))
    return value.strip() if variable.data_type != DataEnumType.string else value
