"""Reading chargers' answers, the same way for both versions' commands."""

from __future__ import annotations

from typing import Any

from voltspot.services.charger_control import CommandOutcome


def outcome(answer: dict[str, Any], *accepting: str) -> CommandOutcome:
    """The answer's ``status`` as an outcome, accepted when it is one of ``accepting``."""
    status = str(answer.get("status", ""))
    return CommandOutcome(status in accepting, status, answer)


def whole_number(value: Any) -> int | None:
    """A setting's value read as a whole number, or None when it is not one."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
