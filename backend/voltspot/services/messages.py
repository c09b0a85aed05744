"""Words for a person, written by a service in English and put into the reader's language
at the edge. Services stay free of Flask: they build a :class:`Message` with :func:`N_`
(whose first argument ``pybabel extract`` collects into the catalogs) and raise it in a
:class:`~voltspot.services.errors.ServiceError` or return it; the web layer translates it
(``voltspot.web.i18n.translate``). A message *is* its English text (a ``str``), so a log
line, the CLI, the API, an OCPP answer or a comparison in a test read the English.

A message stored in the database (a session's failure reason) is stored as its English
text; the web layer looks that text up in the catalog, so a reason without parameters is
shown in the reader's language. One with parameters is kept with them by :func:`stored`
and read back by :func:`restored` where the service that stored it reads it, so it too is
shown in the reader's language. :func:`as_data` and :func:`from_data` carry a message to
another process (a routed command's error).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def _english(value: Any) -> Any:
    # Whole kilowatts read "22", not "22.0", as f"{value:g}" writes them.
    return format(value, "g") if isinstance(value, float) else value


class Message(str):
    """The English text of a message; ``text`` is its catalog msgid with ``%(name)s``
    placeholders and ``params`` fill them (a parameter may itself be a :class:`Message`,
    translated on its own)."""

    text: str
    params: Mapping[str, Any]

    def __new__(cls, text: str, params: Mapping[str, Any] | None = None) -> Message:
        params = dict(params or {})
        english = text % {name: _english(value) for name, value in params.items()} \
            if params else text
        message = super().__new__(cls, english)
        message.text = text
        message.params = params
        return message


def N_(text: str, **params: Any) -> Message:
    """A message to translate later: ``N_("Try plug %(number)s.", number=2)``."""
    return Message(text, params)


def as_data(message: Message | str) -> dict[str, Any] | str:
    """``message`` as JSON-able data (a plain string stays as it is); :func:`from_data`
    reads it back."""
    if not isinstance(message, Message):
        return str(message)
    data: dict[str, Any] = {"message": message.text}
    if message.params:
        data["params"] = {name: as_data(value) if isinstance(value, Message) else value
                          for name, value in message.params.items()}
    return data


def from_data(data: Any) -> Any:
    """The message :func:`as_data` made (anything else is returned as it is)."""
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        return data
    params = data.get("params") or {}
    if not isinstance(params, dict):
        return data
    return Message(data["message"], {name: from_data(value) for name, value in params.items()})


_STORED = '{"message":'


def stored(message: Message | str, limit: int) -> str:
    """Text to keep in a column of ``limit`` characters: a message with parameters as data
    (its English could not be translated when read), any other as its text; the English
    cut to ``limit`` when the data would not fit."""
    if isinstance(message, Message) and message.params:
        try:
            text = json.dumps(as_data(message), ensure_ascii=False, separators=(",", ":"))
        except TypeError:  # a parameter that is no JSON value: kept in English
            text = ""
        if text and len(text) <= limit:
            return text
    return str(message)[:limit]


def restored(text: str | None) -> Message | str | None:
    """The message :func:`stored` kept (its text when it is not stored data)."""
    if text is None or not text.startswith(_STORED):
        return text
    try:
        message = from_data(json.loads(text))
    except ValueError:
        return text
    return message if isinstance(message, Message) else text
