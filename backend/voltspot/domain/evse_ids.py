"""EVSE ids in eMI3 form (``NL*VSP*E1234*1``): parse, format, make URL-safe."""

from __future__ import annotations

import re

_EVSE_ID = re.compile(
    r"^(?P<country>[A-Z]{2})\*?(?P<operator>[A-Z0-9]{3})\*?E(?P<rest>[A-Z0-9*]{1,30})$")


# A run of spaces, stars and dashes (dashes already turned into stars) is one separator.
_SEPARATORS = re.compile(r"[\s*]+")


class EvseIdError(ValueError):
    """Not an EVSE id in eMI3 / ISO 15118 form."""


def normalise_evse_id(text: str) -> str:
    """The canonical ``CC*OOO*E…`` spelling of an EVSE id typed, scanned or taken from a URL.

    Accepts upper or lower case, with or without the ``*`` separators after country and
    operator, the URL-safe form where ``*`` is written as ``-``, and spaces typed for the
    separators (``NL VSP E12 1``). Raises :class:`EvseIdError` when ``text`` is not an EVSE
    id.
    """
    candidate = _SEPARATORS.sub("*", text.strip().upper().replace("-", "*"))
    match = _EVSE_ID.match(candidate)
    if not match:
        raise EvseIdError(f"{text!r} is not an EVSE id like NL*VSP*E1234*1")
    return f"{match['country']}*{match['operator']}*E{match['rest']}"


def make_evse_id(country: str, operator: str, station_number: int | str, connector: int) -> str:
    """An EVSE id for a station's connector, e.g. ``make_evse_id("NL", "VSP", 12, 1)``."""
    return normalise_evse_id(f"{country}*{operator}*E{station_number}*{connector}")


def url_safe(evse_id: str) -> str:
    """The form used in sticker URLs (``/c/NL-VSP-E1234-1``): no characters to escape."""
    return normalise_evse_id(evse_id).replace("*", "-")
