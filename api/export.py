"""Tables as downloads: CSV (for any tool) and .xlsx (for Excel users), with Dutch column names.

The chart data and the case lists of Systeemleren offer both (`?format=csv` / `?format=xlsx`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

from fastapi.responses import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
# A cell starting with one of these is a formula to a spreadsheet: prefix it so text stays text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def table_response(fmt: str, filename: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Response:
    """The table as a file download named `filename`.csv / .xlsx."""
    if fmt == "csv":
        body, media = _csv(columns, rows), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body, media = _xlsx(filename, columns, rows), XLSX
    else:
        raise ValueError(fmt)
    name = _safe_name(filename) + "." + fmt
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([[_neutral(v) for v in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def _xlsx(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook  # only for this download: keep it out of start-up
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Blad1"
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_neutral(v) for v in row])
    for n, column in enumerate(columns, 1):
        width = max([len(str(column)), *(len(str(row[n - 1] or "")) for row in rows)])
        sheet.column_dimensions[sheet.cell(1, n).column_letter].width = min(width + 2, 80)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _neutral(value: Any) -> Any:
    """Numbers stay numbers; text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "export"
