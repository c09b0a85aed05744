"""JSON for what crosses between processes: intent arguments, their outcomes and the
service errors they raise.

Plain JSON values pass as they are. Dataclasses, enums, datetimes, tuples and
:class:`~voltspot.services.errors.ServiceError` subclasses are tagged with their type and
rebuilt on the other side, but only types defined under :data:`TRUSTED_MODULES`: whoever
can write to Redis must not be able to make a process import or build anything else.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import json
from datetime import date, datetime, timedelta
from typing import Any

from voltspot.services import messages
from voltspot.services.errors import ServiceError
from voltspot.services.messages import Message

TRUSTED_MODULES = ("voltspot.services", "voltspot.domain", "voltspot.cluster")

_TYPE = "__type__"


class CodecError(ValueError):
    """A value that cannot be sent, or a received one that names an untrusted type."""


def _type_name(kind: type) -> str:
    return f"{kind.__module__}:{kind.__qualname__}"


def _trusted_type(name: str) -> type:
    module_name, _, qualname = name.partition(":")
    if not any(module_name == trusted or module_name.startswith(trusted + ".")
               for trusted in TRUSTED_MODULES):
        raise CodecError(f"refusing to rebuild {name}: not a Voltspot service type")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part, None)
    if not isinstance(target, type):
        raise CodecError(f"{name} is not a type")
    return target


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON values, types tagged (see the module docstring)."""
    # Enums first: a StrEnum is also a str and would lose its type.
    if isinstance(value, enum.Enum):
        return {_TYPE: _type_name(type(value)), "value": value.value}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return {_TYPE: "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {_TYPE: "date", "value": value.isoformat()}
    if isinstance(value, timedelta):
        return {_TYPE: "timedelta", "value": value.total_seconds()}
    if isinstance(value, tuple):
        return {_TYPE: "tuple", "value": [to_jsonable(item) for item in value]}
    if isinstance(value, list):
        return [to_jsonable(item) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise CodecError("only mappings with text keys can be sent")
        if _TYPE in value:
            raise CodecError(f"a mapping may not use the key {_TYPE}")
        return {key: to_jsonable(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_TYPE: _type_name(type(value)),
                "fields": {field.name: to_jsonable(getattr(value, field.name))
                           for field in dataclasses.fields(value)}}
    if isinstance(value, ServiceError):
        attributes = {key: to_jsonable(item) for key, item in vars(value).items()
                      if not key.startswith("_")}
        said = value.args[0] if value.args else None
        return {_TYPE: _type_name(type(value)), "error": str(value),
                # The message itself too, so the other process can still translate it.
                "message": messages.as_data(said) if isinstance(said, Message) else None,
                "attributes": attributes}
    raise CodecError(f"cannot send a {type(value).__name__} to another process")


def from_jsonable(value: Any) -> Any:
    """The inverse of :func:`to_jsonable`."""
    if isinstance(value, list):
        return [from_jsonable(item) for item in value]
    if not isinstance(value, dict):
        return value
    if _TYPE not in value:
        return {key: from_jsonable(item) for key, item in value.items()}
    name = value[_TYPE]
    if name == "datetime":
        return datetime.fromisoformat(value["value"])
    if name == "date":
        return date.fromisoformat(value["value"])
    if name == "timedelta":
        return timedelta(seconds=value["value"])
    if name == "tuple":
        return tuple(from_jsonable(item) for item in value["value"])
    kind = _trusted_type(name)
    if issubclass(kind, enum.Enum):
        return kind(value["value"])
    if dataclasses.is_dataclass(kind):
        return kind(**{key: from_jsonable(item) for key, item in value["fields"].items()})
    if issubclass(kind, ServiceError):
        # Service errors take different constructor arguments; rebuilding them without
        # calling __init__ keeps the message and the attributes callers read (code, ...).
        error = kind.__new__(kind)
        said = messages.from_data(value.get("message"))
        Exception.__init__(error, said if isinstance(said, Message) else value["error"])
        for key, item in value["attributes"].items():
            setattr(error, key, from_jsonable(item))
        return error
    raise CodecError(f"{name} cannot be rebuilt")


def dumps(value: Any) -> str:
    """``value`` as a JSON text (see :func:`to_jsonable`)."""
    return json.dumps(to_jsonable(value), separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """The value :func:`dumps` wrote."""
    return from_jsonable(json.loads(text))
