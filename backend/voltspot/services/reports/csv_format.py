"""How a CSV export is written for the spreadsheet that opens it: the separator, the
decimal mark and a UTF-8 byte order mark. Spreadsheets set to a European locale (Excel,
LibreOffice in de/fr/nl/...) read ``;`` as the separator and ``,`` as the decimal mark,
and Excel needs the BOM to read UTF-8 (€, ü) at all; the default is plain CSV
(RFC 4180: comma, decimal point, no BOM)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

SEPARATORS = {"comma": ",", "semicolon": ";", "tab": "\t"}
BOM = "\ufeff"
# A plain decimal number as the exports write them ("12.345", "-0.50").
_DECIMAL = re.compile(r"-?\d+\.\d+")


@dataclass(frozen=True)
class CsvFormat:
    separator: str = ","
    decimal_comma: bool = False
    bom: bool = False

    def number(self, text: str) -> str:
        """A decimal number written with this format's decimal mark."""
        return text.replace(".", ",") if self.decimal_comma and _DECIMAL.fullmatch(text) \
            else text

    def row(self, cells: Sequence[object], numeric: Collection[int]) -> list[str]:
        """The cells as text, those at the ``numeric`` positions with this format's
        decimal mark (text cells such as a card number stay as they are)."""
        return [self.number(str(cell)) if i in numeric else str(cell)
                for i, cell in enumerate(cells)]

    def writer(self, buffer: io.StringIO):
        return csv.writer(buffer, delimiter=self.separator)

    def text(self, rows: Iterable[Sequence[object]], numeric: Collection[int]) -> str:
        """The whole file: the BOM (when asked for), then the rows (see :meth:`row`)."""
        buffer = io.StringIO()
        if self.bom:
            buffer.write(BOM)
        writer = self.writer(buffer)
        for cells in rows:
            writer.writerow(self.row(cells, numeric))
        return buffer.getvalue()

    def as_args(self) -> dict[str, str]:
        """The query arguments that ask for this format again."""
        name = next(k for k, v in SEPARATORS.items() if v == self.separator)
        return {"sep": name, "decimal": "comma" if self.decimal_comma else "point",
                "bom": "1" if self.bom else "0"}


EUROPEAN = CsvFormat(";", True, True)


def csv_format(args: Mapping[str, str]) -> CsvFormat:
    """The format a query asks for: ``sep`` (comma, semicolon, tab), ``decimal`` (point,
    comma) and ``bom`` (1 or 0; on by default once either of the others is given). A
    decimal comma with a comma separator would make numbers two cells, so it brings the
    semicolon with it. Unknown values leave the default."""
    separator = SEPARATORS.get(args.get("sep", ""), ",")
    decimal_comma = args.get("decimal") == "comma"
    if decimal_comma and separator == ",":
        separator = ";"
    asked = "sep" in args or "decimal" in args
    bom = args.get("bom", "1" if asked else "0") == "1"
    return CsvFormat(separator, decimal_comma, bom)
