"""Pagination and the date filter of OCPI GET list requests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_LIMIT = 100


@dataclass(frozen=True)
class Window:
    """Which part of a list was asked for: ``offset``/``limit`` (limit capped at
    :data:`MAX_LIMIT`), and objects last updated in ``[date_from, date_to)``."""

    offset: int = 0
    limit: int = MAX_LIMIT
    date_from: datetime | None = None
    date_to: datetime | None = None

    def admits(self, last_updated: datetime) -> bool:
        if self.date_from is not None and last_updated < self.date_from:
            return False
        return self.date_to is None or last_updated < self.date_to


@dataclass(frozen=True)
class Page:
    """One page of OCPI objects, the total matching the filter, and the limit used."""

    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.total


def page_of(objects: Sequence[dict[str, Any]], window: Window,
            last_updated: Callable[[dict[str, Any]], datetime]) -> Page:
    """The window's page of ``objects`` (already in a stable order)."""
    matching = [item for item in objects if window.admits(last_updated(item))]
    return Page(matching[window.offset:window.offset + window.limit], len(matching),
                window.offset, window.limit)
