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
import io
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

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


# Upper bounds keep every number the model derives (grams, batches, days, objective terms) inside the
# solver's 64-bit integers and every date computation inside Python's calendar; each is far above any real
# site (the largest bioreactors hold ~25,000 L, titers stay below 20 g/L, orders below a few tonnes).
MAX_DAYS = 36_500
"""Durations in days (100 years); also the longest planning horizon."""
MAX_VOLUME_L = 1_000_000
MAX_TITER_G_PER_L = 1_000
"""A litre of product solution holds at most about a kilogram."""
MAX_QUANTITY = 1_000_000
"""kg or batches of one order."""
MAX_RATIO = 1_000
"""kg of intermediate per kg of conjugate."""
MAX_ORDER_WEIGHT = 1_000_000
MAX_REVENUE_K = 1_000_000_000
MAX_OBJECTIVE_WEIGHT = 1_000_000_000
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2999, 12, 31)
"""Every input date lies in [FIRST_DATE, LAST_DATE]: far enough from the calendar's ends (year 1, 9999) that
adding any duration of the data contract stays a valid date."""

PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Days = Annotated[int, Field(ge=0, le=MAX_DAYS)]
PositiveDays = Annotated[int, Field(gt=0, le=MAX_DAYS)]
Volume = Annotated[float, Field(gt=0, le=MAX_VOLUME_L, allow_inf_nan=False)]
Titer = Annotated[float, Field(gt=0, le=MAX_TITER_G_PER_L, allow_inf_nan=False)]
Quantity = Annotated[float, Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False)]
Ratio = Annotated[float, Field(gt=0, le=MAX_RATIO, allow_inf_nan=False)]
OrderWeight = Annotated[float, Field(ge=0, le=MAX_ORDER_WEIGHT, allow_inf_nan=False)]
Revenue = Annotated[float, Field(ge=0, le=MAX_REVENUE_K, allow_inf_nan=False)]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: object) -> object:
    """Only ISO dates: pydantic would read a number (`2027`, an Excel serial `46388`) as Unix seconds (1970)."""
    if (isinstance(value, str) and not _ISO_DATE.match(value.strip())) or isinstance(value, int | float):
        raise PydanticCustomError("date_format", "Input should be a date YYYY-MM-DD")
    return value


def _date_in_range(value: dt.date) -> dt.date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise PydanticCustomError("date_range", f"Input should be a date from {FIRST_DATE} to {LAST_DATE}")
    return value


Date = Annotated[dt.date, BeforeValidator(_iso_date), AfterValidator(_date_in_range)]
Text = Annotated[str, Field(min_length=1)]
ObjectiveWeight = Annotated[int, Field(ge=0, le=MAX_OBJECTIVE_WEIGHT)]
MAX_TIME_LIMIT_S = 10_000_000
MAX_WORKERS = 1_024
MAX_SEED = 2**31 - 1
"""CP-SAT's random_seed is a 32-bit integer."""


class Plant(_Row):
    plant: Text
    campus: str = ""
    online_from: Date
    online_until: Date | None = None


class Train(_Row):
    train: Text
    plant: Text
    modality: Modality
    volume_l: Volume
    turnaround_days: Days
    changeover_days: Days


class Product(_Row):
    product: Text
    client: Text
    modality: Modality
    titer_g_per_l: Titer
    yield_: Annotated[float, Field(gt=0, le=1, alias="yield", allow_inf_nan=False)]
    batch_days: PositiveDays
    tech_transfer_days: Days | None = None
    min_volume_l: Volume | None = None
    max_volume_l: Volume | None = None
    intermediate: str | None = None
    intermediate_kg_per_kg: Ratio | None = None
    release_days: Days | None = None
    max_hold_days: Days | None = None

    def kg_per_batch(self, volume_l: float) -> float:
        """Rule 1: output of one batch on a train of this working volume."""
        return volume_l * self.titer_g_per_l * self.yield_ / 1000.0


class Order(_Row):
    order: Text
    client: Text
    product: Text
    quantity: Quantity
    unit: Unit
    release: Date
    due: Date
    weight: OrderWeight
    firm: bool
    revenue: Revenue = 0.0
    plant: str | None = None


class Qualification(_Row):
    product: Text
    plant: Text
    qualified_from: Date


class Downtime(_Row):
    plant: Text
    train: str | None = None
    start: Date
    end: Date
    reason: str = ""


class Changeover(_Row):
    from_product: Text
    to_product: Text
    days: Days


class Horizon(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: Date = dt.date(2027, 1, 1)
    end: Date = dt.date(2029, 1, 1)


class Weights(BaseModel):
    """Objective weights; integers because CP-SAT objectives are integral."""

    model_config = ConfigDict(extra="forbid")
    unmet_permille: ObjectiveWeight = 10_000_000
    late_day: ObjectiveWeight = 1_000
    revenue_k: ObjectiveWeight = 1
    changeover_day: ObjectiveWeight = 10
    moved_batch: ObjectiveWeight = 50_000
    """Replan stability: per batch taken off the pool (set of identical trains) it had in the previous plan."""
    shifted_day: ObjectiveWeight = 5_000
    """Replan stability: per day a campaign starts earlier or later than in the previous plan."""


class SolverSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_limit_s: Annotated[float, Field(gt=0, le=MAX_TIME_LIMIT_S, allow_inf_nan=False)] = 60.0
    workers: Annotated[int, Field(ge=0, le=MAX_WORKERS)] = 0
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 0
    max_campaigns_per_pool: Annotated[int, Field(ge=1, le=50)] = 6
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

    def tables(self) -> dict[str, list[Any]]:
        """Every table's rows by its CSV file name, in the contract's order (for writers of a whole data set)."""
        return {
            "plants.csv": self.plants,
            "trains.csv": self.trains,
            "products.csv": self.products,
            "orders.csv": self.orders,
            "qualifications.csv": self.qualifications,
            "downtime.csv": self.downtime,
            "changeovers.csv": self.changeovers,
        }


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
    got = error["input"]
    shown = got.isoformat() if isinstance(got, dt.date | dt.time) else repr(got)  # TOML dates read as TOML
    return f"{message} (got {shown})"


@dataclass(frozen=True)
class Unreadable:
    """A cell with no text to validate (an Excel error value such as #N/A); reported with its message."""

    message: str


Cell = str | Unreadable


SEPARATORS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def _header_errors(name: str, header: list[str], model: type[_Row]) -> list[InputError]:
    """Missing and repeated columns of a header row; a semicolon- or tab-separated header is said so once."""
    required, optional = _columns(model)
    known = required + optional
    if len(header) == 1 and header[0] not in known:
        for sep, word in SEPARATORS.items():
            if sep in header[0] and any(c in known for c in header[0].split(sep)):
                return [
                    InputError(
                        name, 1, None,
                        f"the header is one cell {_shown(header[0])}: the file is {word}-separated; "
                        "save it comma-separated (CSV UTF-8)",
                    )
                ]
    errors: list[InputError] = []
    for column in required:
        if column not in header:
            near = [h for h in header if h.lower() == column.lower()]
            hint = f" (the header has {near[0]!r}; column names are case-sensitive)" if near else ""
            errors.append(InputError(name, 1, column, "missing column" + hint))
    for column in known:
        places = [i + 1 for i, h in enumerate(header) if h == column]
        if len(places) > 1:
            where = ", ".join(map(str, places))
            errors.append(InputError(name, 1, column, f"duplicate column (header cells {where})"))
    return errors


def _shown(text: str, most: int = 60) -> str:
    return repr(text if len(text) <= most else text[: most - 3] + "...")


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
    header = [h.strip().lstrip("\ufeff").strip() for h in header]  # a second BOM (a file saved twice) is no name
    required, optional = _columns(model)
    problems = _header_errors(name, header, model)
    if problems:
        errors.extend(problems)
        return []
    keep = {c: i for i, c in enumerate(header) if c in required or c in optional}
    result: list[Any] = []
    for number, cells in rows:
        cells = list(cells)
        while cells and isinstance(cells[-1], str) and not cells[-1].strip():
            cells.pop()  # trailing empty cells (a spreadsheet's trailing commas) are no cells
        if not cells:
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


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_BAD_BYTE = re.compile("[\udc80-\udcff]")
SAVE_AS_UTF8 = "save the file as CSV UTF-8"


def _text_problem(text: str, where: str = "the cell") -> str | None:
    """Why a decoded cell is not text (bytes that are not UTF-8, NUL characters); None when it is."""
    bad = _BAD_BYTE.search(text)
    if bad is not None:
        byte = ord(bad.group()) - 0xDC00
        shown = _BAD_BYTE.sub("\ufffd", text)
        return f"not UTF-8 text (byte 0x{byte:02X} in {_shown(shown)}); {SAVE_AS_UTF8}"
    if "\x00" in text:
        return f"NUL character in {where} (a UTF-16 or binary file?); {SAVE_AS_UTF8}"
    return None


def _read_text(path: Path, name: str, errors: list[InputError], save_as: str = SAVE_AS_UTF8) -> str | None:
    """A text file's content, with bytes that are not UTF-8 kept as surrogates for the cell checks to name."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        errors.append(InputError(name, None, None, f"cannot read the file ({exc.strerror or type(exc).__name__})"))
        return None
    if data.startswith(_UTF16_BOMS):
        errors.append(InputError(name, None, None, f"UTF-16 text; {save_as}"))
        return None
    return data.decode("utf-8-sig", errors="surrogateescape")


def read_table(path: Path, model: type[_Row], errors: list[InputError]) -> list[Any]:
    """Parse one CSV into row models; append one InputError per bad cell instead of stopping.

    Rows are the CSV's records (a quoted cell may hold a line break), numbered from 2 like a spreadsheet's.
    A cell whose bytes are not UTF-8 is named with its row and column; a malformed record stops the file.
    """
    name = path.name
    text = _read_text(path, name, errors)
    if text is None:
        return []
    required, _ = _columns(model)
    expected = ", ".join(required)
    if not text.strip():
        errors.append(InputError(name, 1, None, "empty file; expected a header with " + expected))
        return []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[Cell]]] = []
    number = 1
    header: list[str] | None = None
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            reason = str(exc)
            if "field larger than field limit" in reason:
                reason = f"a cell longer than {csv.field_size_limit():,} characters (a quote never closed?)"
            elif "unexpected end of data" in reason:
                reason = "a quoted cell is never closed"
            errors.append(InputError(name, 1 if header is None else number + 1, None, f"not valid CSV: {reason}"))
            return []
        if header is None:
            header = cells
            continue
        number += 1
        records.append((number, [Unreadable(p) if (p := _text_problem(c)) else c for c in cells]))
    if header is None or not any(h.strip() for h in header):
        errors.append(InputError(name, 1, None, "empty header row; the first line must be the header with " + expected))
        return []
    problems = [p for h in header if (p := _text_problem(h, "the header"))]
    if problems:
        errors.append(InputError(name, 1, None, problems[0]))
        return []
    return typed_rows(name, header, records, model, errors)


def read_settings(folder: Path, errors: list[InputError]) -> Settings:
    """Read `settings.toml` (optional); tomllib parses data only, it never runs code."""
    path = folder / "settings.toml"
    if not path.exists():
        return Settings()
    text = _read_text(path, "settings.toml", errors, "save the file as UTF-8")
    if text is None:
        return Settings()
    bad = _BAD_BYTE.search(text) or re.search("\x00", text)
    if bad is not None:
        what = "a NUL character" if bad.group() == "\x00" else f"byte 0x{ord(bad.group()) - 0xDC00:02X}, not UTF-8"
        line = text.count("\n", 0, bad.start()) + 1
        errors.append(InputError("settings.toml", None, None, f"line {line}: {what}; save the file as UTF-8"))
        return Settings()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        errors.append(InputError("settings.toml", None, None, f"not valid TOML: {exc}"))
        return Settings()
    booleans = [
        f"{section}.{key}"
        for section, table in raw.items()
        if isinstance(table, dict)
        for key, value in table.items()
        if isinstance(value, bool)
    ]
    for key in booleans:  # pydantic would read true as 1; no setting is a boolean
        message = f"key {key}: input should be a number or a date, not true or false"
        errors.append(InputError("settings.toml", None, None, message))
    if booleans:
        return Settings()
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            key = ".".join(str(p) for p in error["loc"])
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            elif error["type"] in ("model_type", "dict_type"):
                message = f"should be a table [{key}] of keys (got {error['input']!r})"
            else:
                message = _describe(error)
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
_SHEET_NAMES = {name.removesuffix(".csv") for name in TABLES} | {SETTINGS_SHEET}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""Compound-file signature: Excel 97-2003 .xls, and every password-protected (encrypted) .xlsx."""


def _starts_with(path: Path, signature: bytes) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(len(signature)) == signature
    except OSError:
        return False


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
            reason = _one_line(exc)
            if _starts_with(path, _OLE2):
                reason = "an Excel 97-2003 .xls file or a password-protected workbook; save it as .xlsx, no password"
            message = f"not a readable .xlsx workbook ({reason})"
            raise InputErrors([InputError(book_name, None, None, message)]) from None
        try:
            errors: list[InputError] = []
            titles: dict[str, str] = {}
            for title in book.sheetnames:
                key = title.strip().lower()
                if key in titles and key in _SHEET_NAMES:
                    errors.append(
                        InputError(
                            book_name, None, None,
                            f"sheets {titles[key]!r} and {title!r} both name the {key} table (names match ignoring "
                            "case and surrounding spaces)",
                        )
                    )
                titles.setdefault(key, title)
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
        hint = {
            ".xls": " (an Excel 97-2003 file: save it as .xlsx)",
            ".csv": " (one table: give the folder that holds every table)",
        }.get(path.suffix.lower(), "")
        raise InputErrors([InputError(str(path), None, None, "not a data folder or an .xlsx workbook" + hint)])
    raise InputErrors([InputError(str(path), None, None, "data folder not found")])
