"""OCPP-J framing and schema validation, shared by every protocol version.

Uses the ``ocpp`` library's message classes and JSON schemas, with our own mapping from
schema failures to the CallError codes each version names (OCPP 1.6 spells two of them
differently from 2.0.1).
"""

from __future__ import annotations

import decimal
import functools
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError as SchemaError
from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import (
    FormatViolationError,
    NotSupportedError,
    OccurrenceConstraintViolationError,
    OCPPError,
    PropertyConstraintViolationError,
    TypeConstraintViolationError,
)
from ocpp.exceptions import (
    NotImplementedError as OcppNotImplemented,
)
from ocpp.messages import Call, CallError, CallResult, MessageType
from ocpp.messages import _DecimalEncoder as _LibraryEncoder

import ocpp
from voltspot.domain.protocol import OcppVersion

# OCPP 1.6 messages whose float fields need decimal parsing to pass the 1.6 schemas
# (multipleOf 0.1), as the library validates them: (message type, action).
_DECIMAL_MESSAGES_16 = {(MessageType.Call, "SetChargingProfile"),
                        (MessageType.Call, "RemoteStartTransaction"),
                        (MessageType.CallResult, "GetCompositeSchedule")}

_SCHEMA_DIR = Path(ocpp.__file__).parent


def _schema_actions(version: OcppVersion) -> frozenset[str]:
    folder = _SCHEMA_DIR / ("v" + version.replace(".", "")) / "schemas"
    names = {p.stem for p in folder.glob("*.json")}
    actions = {n.removesuffix("Request") for n in names if not n.endswith("Response")}
    return frozenset(actions)


_ACTIONS = {version: _schema_actions(version) for version in OcppVersion}


class RpcFrameworkError(OCPPError):
    """Not a valid OCPP-J RPC frame (2.0.1 ``RpcFrameworkError``; 1.6 ``ProtocolError``)."""

    code = "RpcFrameworkError"
    default_description = "the frame is not a valid OCPP-J RPC message"


class NotAnRpcFrame(RpcFrameworkError):
    """Not an OCPP-J frame at all: a binary frame, or a message type id that is not an
    integer (2.0.1 ``RpcFrameworkError``; 1.6, whose ProtocolError means "incomplete",
    ``FormationViolation``)."""

    code_16 = "FormationViolation"


class MessageTypeNotSupported(OCPPError):
    """A message type id OCPP-J does not have (2.0.1 ``MessageTypeNotSupported``; 1.6,
    which has no such code, ``PropertyConstraintViolation``)."""

    code = "MessageTypeNotSupported"
    default_description = "unknown message type"


def error_code(error: OCPPError, version: OcppVersion) -> str:
    """The CallError code for ``error`` as ``version`` spells it."""
    if version == OcppVersion.V16:
        if isinstance(error, NotAnRpcFrame):
            return error.code_16
        return {"FormatViolation": "FormationViolation",
                "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
                "RpcFrameworkError": "ProtocolError",
                "MessageTypeNotSupported": "PropertyConstraintViolation"}.get(
                    error.code, error.code)
    return {"FormationViolation": "FormatViolation",
            "OccurenceConstraintViolation": "OccurrenceConstraintViolation"}.get(
                error.code, error.code)


# Deeper than any OCPP payload nests (2.0.1's deepest, with customData, is under 10):
# anything deeper is refused before recursive code (schema checks, key conversion) sees it.
MAX_DEPTH = 32

# OCPP integers are 32-bit (1.6 and 2.0.1 alike); larger ones would overflow the columns.
INT32_MIN, INT32_MAX = -2**31, 2**31 - 1


class _NotJson(ValueError):
    """NaN or Infinity: Python's json reads them, JSON has no such numbers."""


class _TooLarge(ValueError):
    """A JSON number beyond what a double holds (read as infinity otherwise)."""


def _refuse_constant(name: str) -> float:
    raise _NotJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _TooLarge(f"{text[:40]} does not fit a double")
    return number


# One decoder for every frame: ``json.loads`` with these options builds a new one per call
# (a tenth of the cost of reading a MeterValues).
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def _loads(text: str) -> Any:
    return _DECODER.decode(text)


def parse_frame(text: str | bytes) -> Call | CallResult | CallError:
    """Parse one frame; raises an :class:`OCPPError` saying why it is not OCPP-J.

    Refused: binary frames and message type ids that are not integers (:class:`NotAnRpcFrame`),
    NaN and Infinity (FormatViolation), nesting deeper than :data:`MAX_DEPTH`
    (FormatViolation), numbers beyond a double, strings holding NUL or lone surrogates
    (PropertyConstraintViolation: no database column holds them)."""
    if isinstance(text, bytes):
        raise NotAnRpcFrame(description="OCPP-J frames are text frames, not binary")
    try:
        message = _loads(text)
    except _NotJson as error:
        raise FormatViolationError(description=str(error)) from None
    except _TooLarge as error:
        raise PropertyConstraintViolationError(description=str(error)) from None
    except RecursionError:
        raise FormatViolationError(
            description=f"the frame nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise FormatViolationError(description="frame is not valid JSON") from None
    # A frame cannot nest deeper than it has opening brackets (counting those inside
    # strings only overestimates): most frames need no walk at all.
    if text.count("[") + text.count("{") > MAX_DEPTH and _too_deep(message):
        raise FormatViolationError(
            description=f"the frame nests deeper than {MAX_DEPTH} levels")
    if not isinstance(message, list) or not message:
        raise RpcFrameworkError(description="an OCPP-J frame is a JSON array")
    kind = message[0]
    if type(kind) is not int:
        raise NotAnRpcFrame(description=f"the message type id {kind!r:.40} is not an integer")
    shapes = {MessageType.Call: (Call, 4), MessageType.CallResult: (CallResult, 3),
              MessageType.CallError: (CallError, 5)}
    if kind not in shapes:
        raise MessageTypeNotSupported(description=f"unknown message type {kind!r}")
    cls, length = shapes[kind]
    if len(message) != length and not (kind == MessageType.CallError and len(message) == 4):
        raise RpcFrameworkError(description=f"message type {kind} needs {length} elements")
    if not isinstance(message[1], str) or not 1 <= len(message[1]) <= 36:
        raise RpcFrameworkError(
            description="the message id must be a string of 1 to 36 characters")
    if kind == MessageType.Call:
        if not isinstance(message[2], str):
            raise RpcFrameworkError(description="the action must be a string")
        if not isinstance(message[3], dict):
            raise FormatViolationError(description="the payload must be a JSON object")
    if kind == MessageType.CallResult and not isinstance(message[2], dict):
        raise FormatViolationError(description="the payload must be a JSON object")
    if "\\u" in text:
        _check_strings(message)
    return cls(*message[1:])


# The library's own encoder (Decimal as a number), built once rather than per answer.
_ENCODER = _LibraryEncoder(separators=(",", ":"))


def call_result_json(unique_id: str, payload: dict[str, Any]) -> str:
    """The CALLRESULT frame answering ``unique_id``, as the library's
    ``CallResult.to_json`` writes it."""
    return _ENCODER.encode([MessageType.CallResult, unique_id, payload])


def _too_deep(value: Any) -> bool:
    # Iterative, so that the check itself cannot run out of stack.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth > MAX_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in item
                         if isinstance(child, (list, dict)))
    return False


def _check_strings(value: Any) -> None:
    """Only escapes (``\\u0000``, ``\\ud800``) bring these into a frame: UTF-8 text cannot
    carry a lone surrogate and JSON refuses raw control characters in strings."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise PropertyConstraintViolationError(
                    description="strings must not contain NUL characters")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise PropertyConstraintViolationError(
                    description="strings must not contain lone surrogates") from None


# The start of a CALL whose id is readable even if the rest of the frame is not.
_CALL_START = re.compile(r'\s*\[\s*[0-9.]+\s*,\s*"([^"\\]+)"')


def unique_id_of(text: str | bytes) -> str:
    """The message id of a frame we could not parse, whole, when one can be read (so that
    the charger can pair the error with its call); else ``"-1"``, as OCPP-J 2.0.1 says."""
    if not isinstance(text, str):
        return "-1"
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        start = _CALL_START.match(text)
        return start.group(1) if start else "-1"
    if isinstance(message, list) and len(message) > 1 and isinstance(message[1], str) \
            and message[1]:
        return message[1]
    return "-1"


def check_action(action: str, version: OcppVersion, handled: frozenset[str]) -> None:
    """Raise NotImplemented for an action ``version`` does not have, NotSupported for one
    it has but we do not handle."""
    if action in handled:
        return
    if action in _ACTIONS[version]:
        raise NotSupportedError(description=f"{action} is not supported by this CSMS")
    raise OcppNotImplemented(description=f"{action} is not an OCPP {version} action")


def validate(message_type_id: int, action: str, payload: dict[str, Any],
             version: OcppVersion) -> None:
    """Check ``payload`` against the version's JSON schema; raise the matching
    :class:`OCPPError` (TypeConstraint, OccurrenceConstraint, PropertyConstraint or
    FormatViolation) when it does not fit.

    Timestamps and URIs are not format-checked here: handlers parse them, leniently.
    """
    if version == OcppVersion.V16 and (message_type_id, action) in _DECIMAL_MESSAGES_16:
        _validate_decimal(message_type_id, action, payload, version)
        return
    try:
        _compiled(message_type_id, action, version)(payload)
    except fastjsonschema.JsonSchemaValueException as error:
        message = error.message.removeprefix("data.")
        if message.startswith("data "):
            message = "payload " + message.removeprefix("data ")
        if error.rule != "required":
            message += f" (got {repr(error.value)[:80]})"
        raise _schema_error(error.rule, message) from None


@functools.lru_cache(maxsize=512)
def _compiled(message_type_id: int, action: str, version: OcppVersion):
    # The library's schemas, compiled to Python: about 18 times faster than jsonschema's
    # interpreter on MeterValues, which every charger sends every few seconds.
    schema = _bounded(_schema(message_type_id, action, version, float))
    return fastjsonschema.compile(schema, formats=_LENIENT_FORMATS)


@functools.lru_cache(maxsize=64)
def _decimal_validator(message_type_id: int, action: str, version: OcppVersion
                       ) -> Draft4Validator:
    return Draft4Validator(_schema(message_type_id, action, version, decimal.Decimal))


def _schema(message_type_id: int, action: str, version: OcppVersion,
            parse_float: Callable[[str], Any]) -> dict[str, Any]:
    """The library's JSON schema file for the message, read afresh. Not through the
    library's ``get_validator``: its cache keeps the first parse of a schema whatever
    ``parse_float`` later callers ask for, so a float schema read here would break the
    library's own decimal validation (a simulated charger in this process) and the
    reverse (Decimal / float raises TypeError)."""
    name = action
    if message_type_id == MessageType.CallResult:
        name += "Response"
    elif version != OcppVersion.V16:
        name += "Request"
    path = _SCHEMA_DIR / ("v" + version.replace(".", "")) / "schemas" / f"{name}.json"
    # The 2.0.1 schema files start with a byte order mark.
    with open(path, encoding="utf-8-sig") as schema_file:
        return json.load(schema_file, parse_float=parse_float)


def _bounded(schema: Any) -> Any:
    """``schema`` with every integer field limited to 32 bits, as OCPP defines its
    integers: a larger number is the charger's error, not the database's."""
    if isinstance(schema, dict):
        if schema.get("type") == "integer":
            schema.setdefault("minimum", INT32_MIN)
            schema.setdefault("maximum", INT32_MAX)
        for value in schema.values():
            _bounded(value)
    elif isinstance(schema, list):
        for value in schema:
            _bounded(value)
    return schema


_LENIENT_FORMATS = {"date-time": lambda _: True, "uri": lambda _: True}


def _validate_decimal(message_type_id: int, action: str, payload: dict[str, Any],
                      version: OcppVersion) -> None:
    # 1.6 charging profiles carry multipleOf 0.1, which binary floats fail; the library
    # validates these few actions with decimals, and so do we.
    validator = _decimal_validator(message_type_id, action, version)
    try:
        validator.validate(json.loads(json.dumps(payload), parse_float=decimal.Decimal))
    except SchemaError as error:
        where = "/".join(str(p) for p in error.absolute_path) or "payload"
        raise _schema_error(error.validator, f"{where}: {error.message}") from None


def _schema_error(rule: str | None, cause: str) -> OCPPError:
    if rule in ("type", "maxLength"):
        return TypeConstraintViolationError(description=cause)
    if rule == "required":
        return OccurrenceConstraintViolationError(description=cause)
    if rule == "additionalProperties":
        return FormatViolationError(description=cause)
    return PropertyConstraintViolationError(description=cause)


@functools.lru_cache(maxsize=4096)
def _snake(key: str) -> str:
    # The ocpp library's own rule, cached: its regexes cost more than the rest of routing,
    # and the same few hundred keys arrive in every frame.
    (converted,) = camel_to_snake_case({key: None})
    return converted


def snake_case_keys(data: Any) -> Any:
    """``data`` with every object key in snake_case, recursively (payloads to handlers);
    2.0.1 ``customData`` (vendor extensions, allowed in every object) is left out."""
    if isinstance(data, dict):
        return {_snake(key): snake_case_keys(value) for key, value in data.items()
                if key != "customData"}
    if isinstance(data, list):
        return [snake_case_keys(value) for value in data]
    return data


def call_of(message: object) -> tuple[str, dict[str, Any]]:
    """The action and camelCase payload of one of the library's typed ``call.*``
    dataclasses (the action is the class's name, as the library's own ChargePoint does)."""
    payload = remove_nones(snake_to_camel_case(serialize_as_dict(message)))
    return type(message).__name__, payload
