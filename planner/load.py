"""Load step: read a data folder or an .xlsx workbook into typed rows, collecting every parse error.

Only per-cell and per-file problems are found here (missing file or column, bad date, number out of
range). Cross-row rules (unknown references, duplicates, due before release) belong to `validate`.

A workbook holds one sheet per table (named like the CSV without `.csv`) and an optional `settings` sheet
of dotted keys (docs/excel.md). Its cells are turned into the text a CSV would hold and then go through the
same cell validation as the CSV rows, so both inputs obey one contract and give the same messages, located
as `site.xlsx sheet orders row 3, column due: ...` instead of `orders.csv row 3, column due: ...`.
"""

from __future__ import annotations

import csv
import datetime as dt
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Modality = Literal["mAb", "ADC", "AAV"]
Unit = Literal["kg", "batches"]


@dataclass(frozen=True)
class InputError:
    """One problem in the input, located as a planner would look for it in a spreadsheet."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f", column {self.column}" if self.row is not None else f" column {self.column}"
        return f"{where}: {self.message}"


class InputErrors(Exception):
    """All problems found in an input, reported together so a planner fixes them in one pass."""

    def __init__(self, errors: list[InputError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)
    row: int


PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Days = Annotated[int, Field(ge=0, le=36500)]
PositiveDays = Annotated[int, Field(gt=0, le=36500)]
Text = Annotated[str, Field(min_length=1)]


class Plant(_Row):
    plant: Text
    campus: str = ""
    online_from: dt.date
    online_until: dt.date | None = None


class Train(_Row):
    train: Text
    plant: Text
    modality: Modality
    volume_l: PositiveFloat
    turnaround_days: Days
    changeover_days: Days


class Product(_Row):
    product: Text
    client: Text
    modality: Modality
    titer_g_per_l: PositiveFloat
    yield_: Annotated[float, Field(gt=0, le=1, alias="yield")]
    batch_days: PositiveDays
    tech_transfer_days: Days | None = None
    min_volume_l: PositiveFloat | None = None
    max_volume_l: PositiveFloat | None = None
    intermediate: str | None = None
    intermediate_kg_per_kg: PositiveFloat | None = None
    release_days: Days | None = None
    max_hold_days: Days | None = None

    def kg_per_batch(self, volume_l: float) -> float:
        """Rule 1: output of one batch on a train of this working volume."""
        return volume_l * self.titer_g_per_l * self.yield_ / 1000.0


class Order(_Row):
    order: Text
    client: Text
    product: Text
    quantity: PositiveFloat
    unit: Unit
    release: dt.date
    due: dt.date
    weight: NonNegFloat
    firm: bool
    revenue: NonNegFloat = 0.0
    plant: str | None = None


class Qualification(_Row):
    product: Text
    plant: Text
    qualified_from: dt.date


class Downtime(_Row):
    plant: Text
    train: str | None = None
    start: dt.date
    end: dt.date
    reason: str = ""


class Changeover(_Row):
    from_product: Text
    to_product: Text
    days: Days


class Horizon(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: dt.date = dt.date(2027, 1, 1)
    end: dt.date = dt.date(2029, 1, 1)


class Weights(BaseModel):
    """Objective weights; integers because CP-SAT objectives are integral."""

    model_config = ConfigDict(extra="forbid")
    unmet_permille: Annotated[int, Field(ge=0)] = 10_000_000
    late_day: Annotated[int, Field(ge=0)] = 1_000
    revenue_k: Annotated[int, Field(ge=0)] = 1
    changeover_day: Annotated[int, Field(ge=0)] = 10
    moved_batch: Annotated[int, Field(ge=0)] = 50_000
    """Replan stability: per batch taken off the pool (set of identical trains) it had in the previous plan."""
    shifted_day: Annotated[int, Field(ge=0)] = 5_000
    """Replan stability: per day a campaign starts earlier or later than in the previous plan."""


class SolverSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_limit_s: Annotated[float, Field(gt=0)] = 60.0
    workers: Annotated[int, Field(ge=0)] = 0
    seed: Annotated[int, Field(ge=0)] = 0
    max_campaigns_per_pool: Annotated[int, Field(ge=1, le=50)] = 3
    max_transfer_options: Annotated[int, Field(ge=0, le=1000)] = 6


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    horizon: Horizon = Horizon()
    weights: Weights = Weights()
    solver: SolverSettings = SolverSettings()


@dataclass
class ProblemData:
    """Every table of a data set, as typed rows in file (sheet) order.

    `folder` is where the data came from: the data folder, or the workbook file for workbook input.
    `source` maps a table's CSV name (`orders.csv`, `settings.toml`) to the name messages give it
    (`site.xlsx sheet orders`); tables not in it are named by their CSV name.
    """

    folder: Path
    plants: list[Plant]
    trains: list[Train]
    products: list[Product]
    orders: list[Order]
    qualifications: list[Qualification]
    downtime: list[Downtime]
    changeovers: list[Changeover]
    settings: Settings = field(default_factory=Settings)
    source: dict[str, str] = field(default_factory=dict)

    def where(self, file: str) -> str:
        """Name of a table in messages, so cross-row errors point at the sheet a planner edited."""
        return self.source.get(file, file)


TABLES: dict[str, tuple[type[_Row], bool]] = {
    "plants.csv": (Plant, True),
    "trains.csv": (Train, True),
    "products.csv": (Product, True),
    "orders.csv": (Order, True),
    "qualifications.csv": (Qualification, True),
    "downtime.csv": (Downtime, True),
    "changeovers.csv": (Changeover, False),
}


def _columns(model: type[_Row]) -> tuple[list[str], list[str]]:
    """Required and optional CSV column names of a row model (aliases honoured)."""
    required, optional = [], []
    for name, info in model.model_fields.items():
        if name == "row":
            continue
        column = info.alias or name
        (required if info.is_required() else optional).append(column)
    return required, optional


def _describe(error: dict[str, Any]) -> str:
    message = error["msg"]
    message = message[0].lower() + message[1:]
    if error["type"] == "missing":
        return "a value is required"
    return f"{message} (got {error['input']!r})"


@dataclass(frozen=True)
class Unreadable:
    """A cell with no text to validate (an Excel error value such as #N/A); reported with its message."""

    message: str


Cell = str | Unreadable


def typed_rows(
    name: str,
    header: Sequence[str],
    rows: Iterable[tuple[int, Sequence[Cell]]],
    model: type[_Row],
    errors: list[InputError],
) -> list[Any]:
    """Validate numbered rows of text cells against a row model: the one cell check of CSV and workbook input.

    `name` locates messages (`orders.csv`, `site.xlsx sheet orders`); `header` is the header row (row 1).
    Appends one InputError per bad cell instead of stopping.
    """
    header = [h.strip() for h in header]
    required, optional = _columns(model)
    missing = [c for c in required if c not in header]
    for column in missing:
        errors.append(InputError(name, 1, column, "missing column"))
    if missing:
        return []
    keep = {c: i for i, c in enumerate(header) if c in required or c in optional}
    result: list[Any] = []
    for number, cells in rows:
        if not any(isinstance(c, Unreadable) or c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors.append(InputError(name, number, None, f"{len(cells)} cells but the header has {len(header)}"))
            continue
        values: dict[str, Any] = {"row": number}
        unreadable: set[str] = set()
        for column, index in keep.items():
            cell = cells[index] if index < len(cells) else ""
            if isinstance(cell, Unreadable):
                errors.append(InputError(name, number, column, cell.message))
                unreadable.add(column)
            elif cell.strip() != "":
                values[column] = cell.strip()
        try:
            row = model.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors():
                column = str(error["loc"][0]) if error["loc"] else None
                if column not in unreadable:
                    errors.append(InputError(name, number, column, _describe(error)))
            continue
        if not unreadable:
            result.append(row)
    return result


def read_table(path: Path, model: type[_Row], errors: list[InputError]) -> list[Any]:
    """Parse one CSV into row models; append one InputError per bad cell instead of stopping."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        errors.append(InputError(name, None, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
        return []
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        required, _ = _columns(model)
        errors.append(InputError(name, 1, None, "empty file; expected a header with " + ", ".join(required)))
        return []
    reader = csv.reader(lines)
    header = next(reader)
    return typed_rows(name, header, enumerate(reader, start=2), model, errors)


def read_settings(folder: Path, errors: list[InputError]) -> Settings:
    """Read `settings.toml` (optional); tomllib parses data only, it never runs code."""
    path = folder / "settings.toml"
    if not path.exists():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        errors.append(InputError("settings.toml", None, None, f"not valid TOML: {exc}"))
        return Settings()
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            key = ".".join(str(p) for p in error["loc"])
            message = "unknown key" if error["type"] == "extra_forbidden" else _describe(error)
            errors.append(InputError("settings.toml", None, None, f"key {key}: {message}"))
        return Settings()


def _folder_data(folder: Path) -> ProblemData:
    errors: list[InputError] = []
    tables: dict[str, list[Any]] = {}
    for name, (model, required) in TABLES.items():
        path = folder / name
        if not path.exists():
            if required:
                errors.append(InputError(name, None, None, "file not found"))
            tables[name] = []
            continue
        tables[name] = read_table(path, model, errors)
    settings = read_settings(folder, errors)
    if errors:
        raise InputErrors(errors)
    return _problem(folder, tables, settings, {})


def _problem(folder: Path, tables: dict[str, list[Any]], settings: Settings, source: dict[str, str]) -> ProblemData:
    return ProblemData(
        folder=folder,
        plants=tables["plants.csv"],
        trains=tables["trains.csv"],
        products=tables["products.csv"],
        orders=tables["orders.csv"],
        qualifications=tables["qualifications.csv"],
        downtime=tables["downtime.csv"],
        changeovers=tables["changeovers.csv"],
        settings=settings,
        source=source,
    )


# --- workbook input ------------------------------------------------------------------------------------

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
SETTINGS_SHEET = "settings"


def cell_text(value: object) -> str:
    """The text a CSV cell would hold for a workbook cell value, so both inputs share one validation.

    None → "", a date (or a datetime at midnight) → ISO date, 3.0 → "3", 0.25 → "0.25", TRUE → "true";
    a datetime with a time of day keeps it (`2027-01-01 10:30:00`), which a date column then rejects.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # a cell formatted as a duration: whole days read as a day count
        return str(value.days) if value == dt.timedelta(days=value.days) else str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _sheet_cells(sheet: Any) -> list[list[Cell]]:
    """Every row of a read-only worksheet as text cells, trailing empty cells dropped."""
    sheet.reset_dimensions()  # some writers record a wrong used range; read every row that is there
    rows: list[list[Cell]] = []
    for row in sheet.iter_rows():
        cells: list[Cell] = [
            Unreadable(f"Excel error value {c.value}") if c.data_type == "e" else cell_text(c.value) for c in row
        ]
        while cells and isinstance(cells[-1], str) and not cells[-1].strip():
            cells.pop()
        rows.append(cells)
    return rows


def _sheet_table(name: str, rows: list[list[Cell]], model: type[_Row], errors: list[InputError]) -> list[Any]:
    if not rows or not any(isinstance(c, Unreadable) or c.strip() for c in rows[0]):
        required, _ = _columns(model)
        errors.append(InputError(name, 1, None, "empty sheet; expected a header with " + ", ".join(required)))
        return []
    header = [c if isinstance(c, str) else "" for c in rows[0]]
    return typed_rows(name, header, enumerate(rows[1:], start=2), model, errors)


def _settings_sheet(name: str, rows: list[list[Cell]], errors: list[InputError]) -> Settings:
    """Settings from `key` / `value` rows with dotted keys (`horizon.start`); a blank value keeps the default."""
    if not rows or not any(isinstance(c, Unreadable) or c.strip() for c in rows[0]):
        return Settings()
    header = [c.strip() if isinstance(c, str) else "" for c in rows[0]]
    missing = [c for c in ("key", "value") if c not in header]
    for column in missing:
        errors.append(InputError(name, 1, column, "missing column"))
    if missing:
        return Settings()
    k, v = header.index("key"), header.index("value")
    raw: dict[str, dict[str, str]] = {}
    where: dict[str, int] = {}
    for number, cells in enumerate(rows[1:], start=2):
        key_cell = cells[k] if k < len(cells) else ""
        value = cells[v] if v < len(cells) else ""
        key = key_cell.strip() if isinstance(key_cell, str) else ""
        if isinstance(value, Unreadable):
            errors.append(InputError(name, number, "value", f"key {key}: {value.message}"))
            continue
        value = value.strip()
        if not key:
            if value or isinstance(key_cell, Unreadable):
                errors.append(InputError(name, number, "key", "a key is required for the value in this row"))
            continue
        section, _, field_name = key.partition(".")
        group = Settings.model_fields.get(section)
        if group is None or field_name not in group.annotation.model_fields:  # type: ignore[union-attr]
            errors.append(InputError(name, number, "key", f"unknown key {key!r}"))
            continue
        if key in where:
            errors.append(InputError(name, number, "key", f"duplicate key {key!r} (also in row {where[key]})"))
            continue
        where[key] = number
        if value:
            raw.setdefault(section, {})[field_name] = value
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            key = ".".join(str(p) for p in error["loc"])
            errors.append(InputError(name, where.get(key), "value", f"key {key}: {_describe(error)}"))
        return Settings()


def _workbook_data(path: Path) -> ProblemData:
    """Read the table sheets and the settings sheet of an .xlsx workbook (openpyxl, read-only, cached values)."""
    import warnings

    import openpyxl  # imported here: folder input, the checker and the CLI's start-up do not need it

    book_name = path.name
    with warnings.catch_warnings():
        # openpyxl warns about features it drops on reading (extensions, styles); they do not change values
        warnings.simplefilter("ignore")
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # zipfile, XML and openpyxl errors alike: the file is not a usable workbook
            raise InputErrors(
                [InputError(book_name, None, None, f"not a readable .xlsx workbook ({_one_line(exc)})")]
            ) from None
        try:
            titles = {title.strip().lower(): title for title in book.sheetnames}
            errors: list[InputError] = []
            source: dict[str, str] = {}
            sheets: dict[str, list[list[Cell]] | None] = {}
            for key in [*TABLES, "settings.toml"]:
                wanted = SETTINGS_SHEET if key == "settings.toml" else key.removesuffix(".csv")
                title = titles.get(wanted)
                source[key] = f"{book_name} sheet {title or wanted}"
                if title is None:
                    sheets[key] = None
                    continue
                sheet = book[title]
                if not hasattr(sheet, "iter_rows"):
                    errors.append(InputError(source[key], None, None, "not a worksheet (a chart sheet?)"))
                    sheets[key] = []
                    continue
                try:
                    sheets[key] = _sheet_cells(sheet)
                except Exception as exc:  # a damaged sheet part: report it like any other input problem
                    errors.append(InputError(source[key], None, None, f"unreadable sheet ({_one_line(exc)})"))
                    sheets[key] = []
        finally:
            book.close()
    tables: dict[str, list[Any]] = {}
    for key, (model, required) in TABLES.items():
        rows = sheets[key]
        if rows is None:
            if required:
                errors.append(InputError(source[key], None, None, "sheet not found"))
            tables[key] = []
            continue
        tables[key] = _sheet_table(source[key], rows, model, errors)
    settings_rows = sheets["settings.toml"]
    settings = Settings() if settings_rows is None else _settings_sheet(source["settings.toml"], settings_rows, errors)
    if errors:
        raise InputErrors(errors)
    return _problem(path, tables, settings, source)


def load_data(path: Path | str) -> ProblemData:
    """Read every table of a data folder or an .xlsx workbook; raise InputErrors listing all problems found."""
    path = Path(path)
    if path.is_dir():
        return _folder_data(path)
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        if not path.is_file():
            raise InputErrors([InputError(str(path), None, None, "workbook not found")])
        return _workbook_data(path)
    if path.exists():
        raise InputErrors([InputError(str(path), None, None, "not a data folder or an .xlsx workbook")])
    raise InputErrors([InputError(str(path), None, None, "data folder not found")])
