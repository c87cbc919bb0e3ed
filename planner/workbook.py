"""Excel workbooks: a documented input template, a data folder converted to a workbook, and the plan workbook.

Why: planners keep their data in Excel. A workbook with one sheet per table (docs/excel.md) is read by
`planner.load.load_data` through the same cell validation as the CSV folder; this module writes such
workbooks (an empty documented template, or a data folder converted) and `plan.xlsx`, a typed copy of a
finished plan's CSVs for reading and filtering in Excel. openpyxl is used because it writes real .xlsx
(typed cells, comments, data validation, frozen panes, filters) without Excel installed.

Every text cell goes through `planner.safe_cells.text_cell`: a string cell, never a formula, with Excel's
quote prefix on text that begins like a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import tempfile
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from planner.load import (
    SETTINGS_SHEET,
    TABLES,
    ProblemData,
    Settings,
    load_data,
)
from planner.safe_cells import restore, text_cell

# Column documentation of every input table, in model column order; the same text as docs/data.md
# (tests/test_workbook.py compares them, so the two cannot drift apart).
COLUMN_DOCS: dict[str, list[tuple[str, str, str]]] = {
    "plants": [
        ("plant", "text, unique", "plant id, e.g. P5"),
        ("campus", "text", "site or campus (informational)"),
        ("online_from", "date", "first day the plant may run a batch"),
        ("online_until", "date, optional", "the plant runs nothing on or after this day (blank = open-ended)"),
    ],
    "trains": [
        ("train", "text, unique", "train id, e.g. P5-R01"),
        ("plant", "plant id", "the plant it stands in"),
        ("modality", "mAb | ADC | AAV", "what it can run (ADC = a conjugation suite)"),
        ("volume_l", "number > 0", "working volume in litres"),
        ("turnaround_days", "integer ≥ 0", "minimum gap between two batches of the same product (CIP/SIP)"),
        ("changeover_days", "integer ≥ 0",
         "minimum gap between batches of different products, unless changeovers.csv says otherwise"),
    ],
    "products": [
        ("product", "text, unique", "product id"),
        ("client", "text", "owning client"),
        ("modality", "mAb | ADC | AAV", ""),
        ("titer_g_per_l", "number > 0",
         "for ADC: conjugated product per litre of conjugation volume; for AAV: informational"),
        ("yield", "number in (0, 1]", "downstream yield"),
        ("batch_days", "integer > 0", "how long one batch holds a train"),
        ("tech_transfer_days", "integer ≥ 0, optional",
         "lead time before it may run at a plant where it is not qualified; blank = it never runs at an "
         "unqualified plant"),
        ("min_volume_l", "number > 0, optional", "smallest train volume its process is qualified for"),
        ("max_volume_l", "number > 0, optional", "largest train volume its process is qualified for"),
        ("intermediate", "product id, optional (ADC only)",
         "the mAb product it conjugates; blank = the client supplies the intermediate"),
        ("intermediate_kg_per_kg", "number > 0 (ADC with intermediate)",
         "kg of intermediate consumed per kg of conjugate"),
        ("release_days", "integer ≥ 0 (ADC with intermediate)",
         "QC release: minimum days from an intermediate batch's end to the start of a conjugation batch it feeds"),
        ("max_hold_days", "integer ≥ release_days (ADC with intermediate)",
         "maximum days from an intermediate batch's end to the start of a conjugation batch it feeds"),
    ],
    "orders": [
        ("order", "text, unique", "order id"),
        ("client", "text", "must be the product's client"),
        ("product", "product id", ""),
        ("quantity", "number > 0", "kg, or a whole number of batches"),
        ("unit", "kg | batches", "AAV orders are usually in batches"),
        ("release", "date", "no batch of the order starts before this day"),
        ("due", "date ≥ release", "the order is on time when its last (final-step) batch ends on or before this day"),
        ("weight", "number ≥ 0", "penalty per day late (firm orders)"),
        ("firm", "boolean", "firm (binding) or tentative (a deal in negotiation)"),
        ("revenue", "number ≥ 0, optional (default 0)",
         "value of a tentative deal, in thousands of currency units (k$)"),
        ("plant", "plant id, optional",
         "the contract fixes the site of the order's final step (for ADC: the conjugation)"),
    ],
    "qualifications": [
        ("product", "product id", ""),
        ("plant", "plant id", ""),
        ("qualified_from", "date", "the product may run at this plant from this day"),
    ],
    "downtime": [
        ("plant", "plant id", ""),
        ("train", "train id, optional", "blank = the whole plant is down"),
        ("start", "date", "first day down"),
        ("end", "date > start", "first day up again (exclusive)"),
        ("reason", "text", "e.g. shutdown, maintenance"),
    ],
    "changeovers": [
        ("from_product", "product id", ""),
        ("to_product", "product id, ≠ from_product", ""),
        ("days", "integer ≥ 0",
         "changeover between these two products on any train (replaces the train's changeover_days)"),
    ],
}

TABLE_NOTES = {
    "plants": "One row per plant.",
    "trains": "One row per production bioreactor with its seed train.",
    "products": "Output of one batch of product p on train t: volume_l × titer_g_per_l × yield / 1000 kg.",
    "orders": "A tentative deal is accepted whole and on time, or declined. A firm order is always planned as far "
              "as capacity allows; unmet firm quantity is reported.",
    "qualifications": "At a plant without a row the product may run from release + tech_transfer_days "
                      "(never, if blank).",
    "downtime": "",
    "changeovers": "Optional sheet.",
}

SETTINGS_DOCS: dict[str, str] = {
    "horizon.start": "date: first planning day (CLI --start overrides)",
    "horizon.end": "date: exclusive end of the horizon; every batch ends on or before it (CLI --end overrides)",
    "weights.unmet_permille": "integer objective weight per 1/1000 of a firm order's quantity left unmet",
    "weights.late_day": "integer objective weight per (order weight × day late) of a firm order",
    "weights.revenue_k": "integer objective weight per k$ of accepted tentative revenue (subtracted)",
    "weights.changeover_day": "integer objective weight per day of product changeover",
    "weights.moved_batch": "replan stability: per batch taken off the pool (set of identical trains) it had in "
                           "the previous plan",
    "weights.shifted_day": "replan stability: per day a campaign starts earlier or later than in the previous plan",
    "solver.time_limit_s": "seconds of search",
    "solver.workers": "CP-SAT workers; 0 = all cores",
    "solver.seed": "random seed of the search",
    "solver.max_campaigns_per_pool": "parallel campaigns of one order step in one pool of identical trains",
    "solver.max_transfer_options": "pools reachable only by tech transfer offered per order step (the earliest ones)",
}

GENERAL_RULES = [
    "One sheet per table, named like the CSV file of docs/data.md without .csv (plants, trains, products, orders, "
    "qualifications, downtime; changeovers is optional). Sheet names are matched ignoring case; other sheets "
    "(like this one) are ignored.",
    "Row 1 is the header. Column order is free; extra columns are ignored. Rows are numbered as Excel numbers "
    "them: a message 'site.xlsx sheet orders row 7, column due: ...' points at cell row 7.",
    "An empty cell means 'not given'. Dates are date cells (or text YYYY-MM-DD); a date with a time of day is "
    "rejected. Time is counted in whole days; an interval [start, end) has an exclusive end.",
    "Booleans: TRUE/FALSE cells, or text true/false, yes/no, 1/0 (any case).",
    "Numbers are number cells (or text a number parses from). Formulas are read by the result Excel saved "
    "with the file; a formula never calculated (a file written by a script and not saved in Excel) reads as "
    "empty. Excel error values (#N/A, #DIV/0!, ...) are reported as errors.",
    "Settings: the optional 'settings' sheet has columns key and value (and any notes), one dotted key per row, "
    "e.g. horizon.start; a missing key or a blank value keeps the default. It replaces settings.toml.",
    "Check the workbook with: planner validate site.xlsx",
]

_HEADER_COMMENT_AUTHOR = "cdmo-planner"
_DATE_FORMAT = "yyyy-mm-dd"
_LAST_ROW = 1_048_576


# --- small helpers ---------------------------------------------------------------------------------------


def _save_atomically(book: Any, path: Path) -> Path:
    """Save beside the target and rename, so a failed save never leaves a half-written workbook."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        book.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _width(texts: Sequence[str], least: int = 8, most: int = 48) -> float:
    longest = max((len(t) for t in texts), default=0)
    return float(min(most, max(least, longest + 2)))


def _header_style(cell: Any) -> Any:
    from openpyxl.styles import Font, PatternFill

    cell.font = Font(bold=True)
    cell.fill = PatternFill("solid", fgColor="DDEBF7")
    return cell


# --- input workbooks ------------------------------------------------------------------------------------


def _field_spec(info: Any) -> tuple[Any, dict[str, float]]:
    """Base type and numeric bounds of a row model field (Optional and Annotated unwrapped)."""
    annotation, metadata = info.annotation, list(info.metadata)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        for item in extra:
            metadata += getattr(item, "metadata", [item])
    bounds = {
        name: getattr(m, name)
        for m in metadata
        for name in ("gt", "ge", "lt", "le")
        if getattr(m, name, None) is not None
    }
    return annotation, bounds


def _validation(column: str, kind_text: str, annotation: Any, bounds: dict[str, float]) -> Any | None:
    """Excel data validation for a column (a warning only: the loader stays the one authority)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    def make(type_: str, operator: str | None = None, f1: str | None = None, f2: str | None = None) -> Any:
        return DataValidation(
            type=type_, operator=operator, formula1=f1, formula2=f2, allow_blank=True, showErrorMessage=True,
            errorStyle="warning", errorTitle=column, error=f"{column}: {kind_text}",
        )

    if typing.get_origin(annotation) is typing.Literal:
        return make("list", f1='"' + ",".join(typing.get_args(annotation)) + '"')
    if annotation is bool:
        return make("list", f1='"true,false"')
    if annotation is dt.date:
        return make("date", "between", "1", "401768")  # dates the loader accepts (1900-01-01 .. 2999-12-31)
    if annotation in (int, float):
        type_ = "whole" if annotation is int else "decimal"
        low = bounds.get("ge", bounds.get("gt"))
        if annotation is int and "gt" in bounds:
            low = bounds["gt"] + 1
        high = bounds.get("le", bounds.get("lt"))
        if low is not None and high is not None:
            return make(type_, "between", f"{low:g}", f"{high:g}")
        if low is not None:
            operator = "greaterThan" if "gt" in bounds and annotation is float else "greaterThanOrEqual"
            return make(type_, operator, f"{low:g}")
        return make(type_, "between", "-1E+300", "1E+300")
    return None


def _write_value(cell: Any, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        text_cell(cell, "true" if value else "false")
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = _DATE_FORMAT
    elif isinstance(value, int | float):
        cell.value = value
    else:
        text_cell(cell, str(value))


def _write_table_sheet(book: Any, sheet: str, model: type, rows: list[Any]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter

    ws = book.create_sheet(sheet)
    docs = {column: (kind, meaning) for column, kind, meaning in COLUMN_DOCS[sheet]}
    fields = [(name, info) for name, info in model.model_fields.items() if name != "row"]
    for index, (name, info) in enumerate(fields, start=1):
        column = info.alias or name
        kind, meaning = docs[column]
        required = "required" if info.is_required() else "optional, blank = not given"
        cell = _header_style(ws.cell(row=1, column=index, value=column))
        comment = Comment(f"{column} ({required})\n{kind}" + (f"\n{meaning}" if meaning else ""), "")
        comment.author = _HEADER_COMMENT_AUTHOR
        comment.width, comment.height = 320, 110
        cell.comment = comment
        for number, row in enumerate(rows, start=2):
            _write_value(ws.cell(row=number, column=index), getattr(row, name))
        letter = get_column_letter(index)
        texts = [column] + [str(getattr(r, name) or "") for r in rows]
        ws.column_dimensions[letter].width = _width(texts, least=12)
        annotation, bounds = _field_spec(info)
        validation = _validation(column, kind, annotation, bounds)
        if validation is not None:
            validation.add(f"{letter}2:{letter}{_LAST_ROW}")
            ws.add_data_validation(validation)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(fields))}{max(1, len(rows) + 1)}"


def settings_keys(settings: Settings | None = None) -> dict[str, Any]:
    """Every setting as dotted key → value (the defaults when no settings are given), in model order."""
    settings = settings or Settings()
    return {
        f"{section}.{key}": value
        for section in Settings.model_fields
        for key, value in getattr(settings, section).model_dump().items()
    }


def _write_settings_sheet(book: Any, settings: Settings) -> None:
    ws = book.create_sheet(SETTINGS_SHEET)
    for index, title in enumerate(("key", "value", "meaning"), start=1):
        _header_style(ws.cell(row=1, column=index, value=title))
    for number, (dotted, value) in enumerate(settings_keys(settings).items(), start=2):
        text_cell(ws.cell(row=number, column=1), dotted)
        _write_value(ws.cell(row=number, column=2), value)
        text_cell(ws.cell(row=number, column=3), SETTINGS_DOCS.get(dotted, ""))
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 14
    ws.column_dimensions["C"].width = 100
    ws.freeze_panes = "A2"


def _readme_sheet(book: Any) -> None:
    from openpyxl.styles import Alignment, Font

    ws = book.create_sheet("README", 0)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    lines: list[tuple[str, str, str, bool]] = [
        ("CDMO capacity planner — input workbook", "", "", True),
        ("", "", "", False),
    ]
    lines += [("•", rule, "", False) for rule in GENERAL_RULES]
    for sheet, columns in COLUMN_DOCS.items():
        lines += [("", "", "", False), (f"sheet {sheet}", TABLE_NOTES[sheet], "", True)]
        lines += [("column", "type", "meaning", True)]
        lines += [(column, kind, meaning, False) for column, kind, meaning in columns]
    lines += [("", "", "", False), (f"sheet {SETTINGS_SHEET}", "optional; key / value rows", "", True)]
    lines += [("key", "meaning", "", True)]
    lines += [(key, SETTINGS_DOCS.get(key, ""), "", False) for key in settings_keys()]
    for number, (a, b, c, strong) in enumerate(lines, start=1):
        for index, text in enumerate((a, b, c), start=1):
            if text:
                cell = text_cell(ws.cell(row=number, column=index), text)
                cell.alignment = wrap
                if strong:
                    cell.font = bold
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 60
    ws.column_dimensions["C"].width = 90


def _data_book(path: Path, tables: dict[str, list[Any]], settings: Settings) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    _readme_sheet(book)
    for file, (model, _) in TABLES.items():
        _write_table_sheet(book, file.removesuffix(".csv"), model, tables.get(file, []))
    _write_settings_sheet(book, settings)
    book.active = 0
    return _save_atomically(book, path)


def write_template(path: Path | str) -> Path:
    """Write an empty input workbook: a README sheet, each table's header (documented), default settings.

    Loading it gives empty tables and the default settings; a planner fills it in and runs
    `planner validate`.
    """
    return _data_book(Path(path), {}, Settings())


def write_data_workbook(data: Path | str | ProblemData, path: Path | str) -> Path:
    """Write a data set (a CSV data folder, or already loaded tables) as an input workbook with typed cells.

    Loading the workbook gives the same rows and settings (rows renumbered 2, 3, … if the CSV had blank
    lines). A folder is read with `load_data`, so a cell error stops the conversion with InputErrors.
    """
    if not isinstance(data, ProblemData):
        data = load_data(data)
    return _data_book(Path(path), data.tables(), data.settings)


# --- the plan workbook ----------------------------------------------------------------------------------

# Column types of the plan CSVs (docs/data.md, "Plan outputs"): string, int, float, bool or date. A column
# not listed here (added to the export later) is carried as string.
PLAN_TABLES: dict[str, dict[str, str]] = {
    "gantt": {
        "plant": "string", "train": "string", "order": "string", "client": "string", "product": "string",
        "modality": "string", "step": "string", "batch": "int", "kind": "string", "start": "date", "end": "date",
        "kg": "float", "from_product": "string", "note": "string",
    },
    "orders": {
        "order": "string", "client": "string", "product": "string", "firm": "bool", "unit": "string",
        "quantity": "float", "status": "string", "planned_quantity": "float", "unmet_quantity": "float",
        "batches": "int", "intermediate_batches": "int", "completion": "date", "due": "date",
        "days_late": "int", "revenue": "float",
        # a replan's extra columns
        "previous_status": "string", "previous_completion": "date", "completion_shift_days": "int",
        "moved_batches": "int",
    },
    "utilization": {
        "plant": "string", "modality": "string", "quarter": "string", "available_days": "int",
        "busy_days": "int", "changeover_days": "int", "utilization": "float",
    },
}

_NUMBER_FORMATS = {"kg": "0.000", "utilization": "0.00%"}
_BOOLEANS = {"true": True, "false": False}


def _parse(text: str, kind: str) -> Any:
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        return _BOOLEANS[text.lower()]
    if kind == "date":
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    return restore(text)


def read_plan_table(plan_dir: Path | str, table: str) -> tuple[list[str], list[str], list[list[Any]]]:
    """Columns, column types and typed rows of a plan CSV (`gantt`, `orders`, `utilization`).

    An empty cell is None; text is returned as the exporter meant it (`safe_cells.restore`). Raises
    ValueError naming file, row and column when a cell does not parse as its column's type.
    """
    path = Path(plan_dir) / f"{table}.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        columns = [c.strip() for c in next(reader, [])]
        kinds = [PLAN_TABLES[table].get(c, "string") for c in columns]
        rows: list[list[Any]] = []
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            row: list[Any] = []
            for index, (column, kind) in enumerate(zip(columns, kinds, strict=True)):
                text = cells[index] if index < len(cells) else ""
                if kind != "string":
                    text = text.strip()
                if text == "":
                    row.append(None)
                    continue
                try:
                    row.append(_parse(text, kind))
                except (ValueError, KeyError):
                    raise ValueError(f"{path.name} row {number}, column {column}: not a {kind} ({text!r})") from None
            rows.append(row)
    return columns, kinds, rows


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _flatten(v, f"{prefix}.{k}" if prefix else str(k))]
    if isinstance(value, list):
        if not value:
            return [(prefix, None)]
        return [item for i, v in enumerate(value, start=1) for item in _flatten(v, f"{prefix}[{i}]")]
    return [(prefix, value)]


def _plan_sheet(book: Any, title: str, columns: list[str], kinds: list[str], rows: list[list[Any]]) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    ws = book.create_sheet(title)
    for index, (column, kind) in enumerate(zip(columns, kinds, strict=True)):
        if kind == "date":
            width = 12.0
        else:
            width = _width([column] + [str(r[index]) for r in rows if r[index] is not None], least=8, most=40)
        ws.column_dimensions[get_column_letter(index + 1)].width = max(width, len(column) + 4)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(columns)))}{len(rows) + 1}"
    ws.append([_header_style(text_cell(WriteOnlyCell(ws), c)) for c in columns])
    formats = [_NUMBER_FORMATS.get(c) for c in columns]
    for row in rows:
        cells = []
        for value, number_format in zip(row, formats, strict=True):
            cell = WriteOnlyCell(ws)
            if isinstance(value, str):
                text_cell(cell, value)
            elif isinstance(value, dt.date):
                cell.value = value
                cell.number_format = _DATE_FORMAT
            elif value is not None:
                cell.value = value
                if number_format and not isinstance(value, bool):
                    cell.number_format = number_format
            cells.append(cell)
        ws.append(cells)


def _summary_rows(plan_dir: Path) -> list[list[Any]]:
    path = plan_dir / "summary.json"
    if not path.exists():
        return []
    facts = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for key, value in _flatten(facts):
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            value = dt.date.fromisoformat(value)
        rows.append([key, value])
    return rows


def write_plan_workbook(plan_dir: Path | str) -> Path:
    """Write `plan_dir/plan.xlsx` from the plan's CSVs and summary.json: sheets Gantt, Orders, Utilization, Summary.

    Cells are typed (dates are Excel dates, numbers are numbers, firm is TRUE/FALSE, empty is blank), each
    sheet has a frozen header and a filter. Written into `plan_dir` only, so the exporter can call it on its
    temporary folder before the rename.
    """
    from openpyxl import Workbook

    plan_dir = Path(plan_dir)
    book = Workbook(write_only=True)
    for table, title in (("gantt", "Gantt"), ("orders", "Orders"), ("utilization", "Utilization")):
        columns, kinds, rows = read_plan_table(plan_dir, table)
        _plan_sheet(book, title, columns, kinds, rows)
    _plan_sheet(book, "Summary", ["key", "value"], ["string", "string"], _summary_rows(plan_dir))
    return _save_atomically(book, plan_dir / "plan.xlsx")
