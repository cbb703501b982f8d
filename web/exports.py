"""Tables as downloads: CSV for tools, XLSX for spreadsheet users.

CSV: comma-separated (RFC 4180), numbers with a full stop, UTF-8 with a BOM. The comma
is what scripts, LibreOffice and the SMS report's CSV use; a Belgian Excel expects a
semicolon when a file is double-clicked, so the pages offer the XLSX next to it: typed
numbers, no separator or decimal-mark question at all.

Cells that a spreadsheet would read as a formula (=, +, -, @ at the start of a text)
get a leading apostrophe: a service named "=HYPERLINK(…)" stays text. Callers pass
aggregate figures only: these files leave the application, no personal data goes in.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A CSV download (UTF-8 with a BOM, so spreadsheets read the accents right)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_safe(str(cell)) for cell in header])
    for row in rows:
        writer.writerow([_safe(cell) for cell in row])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers=_attachment(filename))


def xlsx_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "Data"
) -> Response:
    """An XLSX download: a bold, frozen header row and typed cells."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]  # Excel's limit for a sheet name
    sheet.append([_safe(str(cell)) for cell in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(str(cell)) for cell in header]
    for row in rows:
        values = [_safe(cell) for cell in row]
        sheet.append(values)
        widths = [max(width, len(str(value))) for width, value in zip(widths, values, strict=False)]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 50)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return Response(out.getvalue(), mimetype=XLSX_MIMETYPE, headers=_attachment(filename))
