"""Words for a person, written by a service in English and put into the reader's language
at the edge. Services stay free of Flask: they build a :class:`Message` with :func:`N_`
(whose first argument ``pybabel extract`` collects into the catalogs) and raise it in a
:class:`~voltspot.services.errors.ServiceError` or return it; the web layer translates it
(``voltspot.web.i18n.translate``). A message *is* its English text (a ``str``), so a log
line, the CLI, the API, an OCPP answer or a comparison in a test read the English.

A message stored in the database (a session's failure reason) is stored as its English
text; the web layer looks that text up in the catalog, so a reason without parameters is
shown in the driver's language, and one with parameters in English.
"""

from __future__ import annotations

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
