"""Words for a person, written by a service in English and put into the reader's language
at the edge. Services stay free of Flask: they build a :class:`Message` with :func:`N_`
(whose first argument ``pybabel extract`` collects into the catalogs) and raise it in a
:class:`~voltspot.services.errors.ServiceError` or return it; the web layer translates it
(``voltspot.web.i18n.translate``); anything else (a log line, the CLI, an OCPP answer)
reads ``str(message)``, the English.

A message stored in the database (a session's failure reason) is stored as its English
text; the web layer looks that text up in the catalog, so a reason without parameters is
shown in the driver's language, and one with parameters in English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Message:
    """``text`` is the English and the catalog's msgid, with ``%(name)s`` placeholders that
    ``params`` fill; a parameter may itself be a :class:`Message` (translated on its own)."""

    text: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        if not self.params:
            return self.text
        return self.text % {name: str(value) if isinstance(value, Message) else value
                            for name, value in self.params.items()}


def N_(text: str, **params: Any) -> Message:
    """A message to translate later: ``N_("Try plug %(number)s.", number=2)``."""
    return Message(text, params)
