"""Load step: read a data folder into typed rows, collecting every parse error.

Only per-cell and per-file problems are found here (missing file or column, bad date, number out of
range). Cross-row rules (unknown references, duplicates, due before release) belong to `validate`.
"""

from __future__ import annotations

import csv
import datetime as dt
import tomllib
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
    moved_batch: Annotated[int, Field(ge=0)] = 20_000
    """Replan stability: per batch taken off the pool (set of identical trains) it had in the previous plan."""
    shifted_day: Annotated[int, Field(ge=0)] = 500
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
    """Every table of a data folder, as typed rows in file order."""

    folder: Path
    plants: list[Plant]
    trains: list[Train]
    products: list[Product]
    orders: list[Order]
    qualifications: list[Qualification]
    downtime: list[Downtime]
    changeovers: list[Changeover]
    settings: Settings = field(default_factory=Settings)


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
    header = [h.strip() for h in next(reader)]
    required, optional = _columns(model)
    missing = [c for c in required if c not in header]
    for column in missing:
        errors.append(InputError(name, 1, column, "missing column"))
    if missing:
        return []
    keep = {c: i for i, c in enumerate(header) if c in required or c in optional}
    rows: list[Any] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors.append(InputError(name, number, None, f"{len(cells)} cells but the header has {len(header)}"))
            continue
        values: dict[str, Any] = {"row": number}
        for column, index in keep.items():
            cell = cells[index].strip() if index < len(cells) else ""
            if cell != "":
                values[column] = cell
        try:
            rows.append(model.model_validate(values))
        except ValidationError as exc:
            for error in exc.errors():
                column = str(error["loc"][0]) if error["loc"] else None
                errors.append(InputError(name, number, column, _describe(error)))
    return rows


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


def load_data(folder: Path | str) -> ProblemData:
    """Read every table of a data folder; raise InputErrors listing all problems found."""
    folder = Path(folder)
    errors: list[InputError] = []
    if not folder.is_dir():
        raise InputErrors([InputError(str(folder), None, None, "data folder not found")])
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
    )
