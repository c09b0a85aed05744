"""Cells for CSV files that owners open in a spreadsheet."""

from __future__ import annotations

# A cell starting with one of these is run as a formula by spreadsheets (OWASP "CSV
# injection"); tab and carriage return can hide such a start.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str | None) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text: a leading ``'`` when it would
    start a formula ("" for None)."""
    text = text or ""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
