"""The OCPP versions Voltspot speaks: one name for each, everywhere a version appears."""

from __future__ import annotations

from enum import StrEnum


class OcppVersion(StrEnum):
    """An OCPP version, valued as the specification writes it ("1.6", "2.0.1")."""

    V16 = "1.6"
    V201 = "2.0.1"

    @property
    def subprotocol(self) -> str:
        """The WebSocket subprotocol a charger offers for this version (``ocpp1.6``)."""
        return f"ocpp{self.value}"
