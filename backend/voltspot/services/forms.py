"""One way to read and check an HTML form in a service: :class:`FormInvalid` carries one
sentence per wrong field, and the small parsers below turn a field's text into a value or
``None`` (the caller words the sentence, since only it knows what the field is for).

Forms arrive as a plain mapping of field name to text (:class:`FormData` when a field
may repeat); services never see the web framework's request objects. An entry point
answers :class:`FormInvalid` with :data:`INVALID_STATUS` and the form again, its values
kept and each wrong field marked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Protocol

from voltspot.services.errors import InvalidInput

# The one HTTP status for a form that was understood but has wrong values.
INVALID_STATUS = 422


class FormData(Protocol):
    """A submitted form whose fields may repeat (ticked boxes): every field name, one text
    by name, and all the texts of a repeated field. A request's form is one."""

    def __iter__(self) -> Iterator[str]: ...

    def get(self, key: str, default: str = ...) -> str: ...

    def getlist(self, key: str) -> list[str]: ...


class FormInvalid(InvalidInput):
    """Some fields of a form are wrong. ``errors`` maps each wrong field to one sentence;
    ``values`` is the text the form is shown again with (what was typed, when given)."""

    def __init__(self, errors: dict[str, str], values: Mapping[str, str] | None = None
                 ) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors
        self.values: dict[str, str] = dict(values or {})


def text(form: Mapping[str, str], name: str) -> str:
    """A field's text with its runs of whitespace made one space, trimmed ("" if absent)."""
    return " ".join(str(form.get(name, "")).split())


def whole_number(value: str, low: int, high: int) -> int | None:
    """The whole number ``value`` spells, or None unless ``low <= n <= high``."""
    try:
        number = int(value)
    except ValueError:
        return None
    return number if low <= number <= high else None


def decimal(value: str) -> Decimal | None:
    """A finite decimal as typed, a decimal comma allowed ("7,4"); None if it is not one."""
    try:
        number = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def kilowatts(value: str, most: int) -> int | None:
    """Watts from a kW figure as typed ("22", "7,4"); None unless 0 < kW <= ``most``."""
    kw = decimal(value)
    if kw is None or not 0 < kw <= most:
        return None
    return int(kw * 1000)


def coordinate(value: str, limit: int) -> float | None:
    """Degrees from a latitude (``limit`` 90) or longitude (180) as typed; None if it is not
    a number within ``-limit..limit``."""
    degrees = decimal(value)
    if degrees is None or not -limit <= degrees <= limit:
        return None
    return float(degrees)


def choice(value: str, choices: Iterable[str]) -> str | None:
    """``value`` if it is one of ``choices``, else None."""
    return value if value in set(choices) else None
