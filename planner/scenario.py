"""What-if scenarios: a YAML file of changes applied, in memory, to a copy of a data folder.

A scenario names a base data folder (or .xlsx workbook) and a list of changes (plant online dates, trains
added, removed, retimed or converted, demand scaled, deals added, product parameters, downtime,
qualifications, objective weights). `load_scenario` applies them in order to a deep copy of the base tables
and validates the result; `write_data` writes any `ProblemData` back as a data folder in the contract of docs/data.md.

The file is parsed with `yaml.safe_load` only: plain YAML data, never a tag that builds Python objects.
Every problem is reported as an `InputError` naming the scenario file and the key path of the bad value
(`changes[3].scale_demand.factor`); `changes[i]` counts from 0. Rows created by a scenario carry row 0.
See docs/scenarios.md.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from planner.load import (
    TABLES,
    WORKBOOK_SUFFIXES,
    Downtime,
    InputError,
    InputErrors,
    Order,
    ProblemData,
    Qualification,
    Settings,
    Weights,
    load_data,
    read_table,
)
from planner.validate import _order_errors, validate

MODALITIES = ("mAb", "ADC", "AAV")
TOP_KEYS = ("name", "base", "changes")
ORDER_RULES = ("error", "unrestrict", "remove")
MAX_DAYS = 36500


@dataclass
class Scenario:
    """A loaded scenario: its name, file, base data folder or workbook and the changed, validated tables."""

    name: str
    path: Path
    base: Path
    data: ProblemData


class _Bad(Exception):
    """A value of the wrong type or out of range; the message completes `column: ...`."""


# --- value parsers: YAML value -> typed value, or _Bad with a message ---------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Bad(f"expected text (got {value!r})")
    text = str(value).strip()
    if not text:
        raise _Bad("expected text (got an empty value)")
    return text


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise _Bad(f"expected a date YYYY-MM-DD without a time (got {value.isoformat()!r})")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise _Bad(f"expected a date YYYY-MM-DD ({exc}; got {value!r})") from None
    raise _Bad(f"expected a date YYYY-MM-DD (got {value!r})")


def _optional_date(value: Any) -> dt.date | None:
    return None if value is None else _date(value)


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _positive(value: Any) -> float:
    if not _is_number(value) or value <= 0:
        raise _Bad(f"expected a number > 0 (got {value!r})")
    return float(value)


def _optional_positive(value: Any) -> float | None:
    return None if value is None else _positive(value)


def _fraction(value: Any) -> float:
    if not _is_number(value) or not 0 < value <= 1:
        raise _Bad(f"expected a number in (0, 1] (got {value!r})")
    return float(value)


def _whole(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _Bad(f"expected a whole number from {low} to {high} (got {value!r})")
        return value

    return parse


def _optional_days(value: Any) -> int | None:
    return None if value is None else _whole(0, MAX_DAYS)(value)


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in choices:
            raise _Bad(f"expected one of {', '.join(choices)} (got {value!r})")
        return value

    return parse


def _text_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise _Bad(f"expected a non-empty list (got {value!r})")
    return [_text(v) for v in value]


_days = _whole(0, MAX_DAYS)
_positive_days = _whole(1, MAX_DAYS)
_weight = _whole(0, 10**15)


# --- application context -------------------------------------------------------------------------------


@dataclass
class _Context:
    data: ProblemData
    file: str
    folder: Path
    errors: list[InputError] = field(default_factory=list)

    def error(self, column: str, message: str) -> None:
        self.errors.append(InputError(self.file, None, column, message))

    def plant(self, name: str, column: str) -> bool:
        if any(p.plant == name for p in self.data.plants):
            return True
        self.error(column, f"unknown plant {name!r}")
        return False

    def train(self, name: str, column: str):
        for t in self.data.trains:
            if t.train == name:
                return t
        self.error(column, f"unknown train {name!r}")
        return None

    def product(self, name: str, column: str):
        for p in self.data.products:
            if p.product == name:
                return p
        self.error(column, f"unknown product {name!r}")
        return None


Change = dict[str, Any]
Where = Callable[[str], str]


def _plant_online(ctx: _Context, c: Change, at: Where) -> None:
    if not ctx.plant(c["plant"], at("plant")):
        return
    update = {k: c[k] for k in ("online_from", "online_until") if k in c}
    ctx.data.plants = [p.model_copy(update=update) if p.plant == c["plant"] else p for p in ctx.data.plants]


def _remove_plant(ctx: _Context, c: Change, at: Where) -> None:
    plant = c["plant"]
    if not ctx.plant(plant, at("plant")):
        return
    rule = c.get("orders", "error")
    contracted = [o.order for o in ctx.data.orders if o.plant == plant]
    if contracted and rule == "error":
        ctx.error(
            at("plant"),
            f"plant {plant!r} is the contracted site of order(s) {', '.join(contracted)}; "
            "add `orders: unrestrict` (clear their plant) or `orders: remove` (drop them)",
        )
        return
    d = ctx.data
    d.plants = [p for p in d.plants if p.plant != plant]
    d.trains = [t for t in d.trains if t.plant != plant]
    d.qualifications = [q for q in d.qualifications if q.plant != plant]
    d.downtime = [x for x in d.downtime if x.plant != plant]
    if rule == "unrestrict":
        d.orders = [o.model_copy(update={"plant": None}) if o.plant == plant else o for o in d.orders]
    elif rule == "remove":
        d.orders = [o for o in d.orders if o.plant != plant]


def _add_trains(ctx: _Context, c: Change, at: Where) -> None:
    like = ctx.train(c["like"], at("like"))
    plant = c.get("plant", like.plant if like else None)
    if plant is None or not ctx.plant(plant, at("plant")) or like is None:
        return
    used = {t.train for t in ctx.data.trains}
    new, n = [], 0
    while len(new) < c["count"]:
        n += 1
        train_id = f"{like.train}+{n}"
        if train_id not in used:
            new.append(like.model_copy(update={"train": train_id, "plant": plant, "row": 0}))
    trains = ctx.data.trains
    last = max((i for i, t in enumerate(trains) if t.plant == plant), default=len(trains) - 1)
    ctx.data.trains = trains[: last + 1] + new + trains[last + 1 :]


def _remove_trains(ctx: _Context, c: Change, at: Where) -> None:
    names = c["trains"]
    found = [ctx.train(name, f"{at('trains')}[{i}]") for i, name in enumerate(names)]
    if None in found:
        return
    gone = set(names)
    ctx.data.trains = [t for t in ctx.data.trains if t.train not in gone]
    ctx.data.downtime = [x for x in ctx.data.downtime if x.train not in gone]


def _update_train(ctx: _Context, c: Change, at: Where) -> None:
    if ctx.train(c["train"], at("train")) is None:
        return
    update = {k: v for k, v in c.items() if k != "train"}
    ctx.data.trains = [t.model_copy(update=update) if t.train == c["train"] else t for t in ctx.data.trains]


def _scale_demand(ctx: _Context, c: Change, at: Where) -> None:
    selectors = [k for k in ("modality", "client", "product", "order") if k in c]
    if len(selectors) > 1:
        ctx.error(at(""), f"give at most one selector of modality, client, product, order (got {', '.join(selectors)})")
        return
    modality = {p.product: p.modality for p in ctx.data.products}
    match: Callable[[Order], bool] = lambda o: True  # noqa: E731
    if selectors:
        key = selectors[0]
        value = c[key]
        if key == "client":
            clients = {p.client for p in ctx.data.products} | {o.client for o in ctx.data.orders}
            if value not in clients:
                ctx.error(at(key), f"unknown client {value!r}")
                return
        elif key == "product" and ctx.product(value, at(key)) is None:
            return
        elif key == "order" and not any(o.order == value for o in ctx.data.orders):
            ctx.error(at(key), f"unknown order {value!r}")
            return
        if key == "modality":
            match = lambda o: modality.get(o.product) == value  # noqa: E731
        else:
            match = lambda o: getattr(o, key) == value  # noqa: E731
    if not any(match(o) for o in ctx.data.orders):
        ctx.error(at(selectors[0] if selectors else ""), "matches no order")
        return
    factor = c["factor"]
    scaled = []
    for o in ctx.data.orders:
        if match(o):
            if o.unit == "batches":
                quantity = float(math.ceil(round(o.quantity * factor, 9)))
            else:
                quantity = round(o.quantity * factor, 6)
            if quantity <= 0:
                ctx.error(at("factor"), f"order {o.order}: quantity {o.quantity:g} x {factor:g} rounds to 0")
                return
            o = o.model_copy(update={"quantity": quantity})
        scaled.append(o)
    ctx.data.orders = scaled


def _add_orders(ctx: _Context, c: Change, at: Where) -> None:
    given = c["file"]
    folder = ctx.folder.resolve()
    path = (ctx.folder / given).resolve()
    if not path.is_relative_to(folder):
        ctx.error(at("file"), f"path outside the scenario's folder: {given!r}")
        return
    if not path.is_file():
        ctx.error(at("file"), f"file not found: {given!r}")
        return
    errors: list[InputError] = []
    rows: list[Order] = read_table(path, Order, errors)
    products = {p.product: p for p in ctx.data.products}
    plants = {p.plant for p in ctx.data.plants}
    existing = {o.order for o in ctx.data.orders}
    seen: set[str] = set()
    for o in rows:
        if o.order in existing:
            errors.append(InputError(path.name, o.row, "order", f"order {o.order!r} already exists in the data"))
        elif o.order in seen:
            errors.append(InputError(path.name, o.row, "order", f"duplicate order {o.order!r}"))
        seen.add(o.order)
        errors += [InputError(path.name, e.row, e.column, e.message) for e in _order_errors(o, products, plants)]
    if not rows and not errors:
        errors.append(InputError(path.name, None, None, "no orders in the file"))
    if errors:
        ctx.errors += errors
        return
    ctx.data.orders = ctx.data.orders + [o.model_copy(update={"row": 0}) for o in rows]


PRODUCT_KEYS = {
    "titer_g_per_l": "titer_g_per_l",
    "yield": "yield_",
    "batch_days": "batch_days",
    "tech_transfer_days": "tech_transfer_days",
    "min_volume_l": "min_volume_l",
    "max_volume_l": "max_volume_l",
}


def _product(ctx: _Context, c: Change, at: Where) -> None:
    if ctx.product(c["product"], at("product")) is None:
        return
    update = {PRODUCT_KEYS[k]: v for k, v in c.items() if k != "product"}
    ctx.data.products = [
        p.model_copy(update=update) if p.product == c["product"] else p for p in ctx.data.products
    ]


def _add_downtime(ctx: _Context, c: Change, at: Where) -> None:
    ok = ctx.plant(c["plant"], at("plant"))
    train = c.get("train")
    if train is not None:
        found = ctx.train(train, at("train"))
        if found is None:
            ok = False
        elif found.plant != c["plant"]:
            ctx.error(at("train"), f"train {train!r} stands in plant {found.plant!r}, not {c['plant']!r}")
            ok = False
    if c["end"] <= c["start"]:
        ctx.error(at("end"), f"end {c['end']} is not after start {c['start']}")
        ok = False
    if ok:
        row = Downtime(row=0, plant=c["plant"], train=train, start=c["start"], end=c["end"],
                       reason=c.get("reason") or "scenario")
        ctx.data.downtime = ctx.data.downtime + [row]


def _qualify(ctx: _Context, c: Change, at: Where) -> None:
    known_product = ctx.product(c["product"], at("product")) is not None
    if not (ctx.plant(c["plant"], at("plant")) and known_product):
        return
    key = (c["product"], c["plant"])
    rows = ctx.data.qualifications
    if any((q.product, q.plant) == key for q in rows):
        update = {"qualified_from": c["qualified_from"]}
        ctx.data.qualifications = [q.model_copy(update=update) if (q.product, q.plant) == key else q for q in rows]
    else:
        row = Qualification(row=0, product=c["product"], plant=c["plant"], qualified_from=c["qualified_from"])
        ctx.data.qualifications = rows + [row]


def _weights(ctx: _Context, c: Change, at: Where) -> None:
    settings = ctx.data.settings
    ctx.data.settings = settings.model_copy(update={"weights": settings.weights.model_copy(update=c)})


Spec = dict[str, tuple[Callable[[Any], Any], bool]]  # key -> (parser, required)

KINDS: dict[str, tuple[Callable[[_Context, Change, Where], None], Spec, tuple[str, ...]]] = {
    # kind: (apply, keys, at least one of these keys)
    "plant_online": (
        _plant_online,
        {"plant": (_text, True), "online_from": (_date, False), "online_until": (_optional_date, False)},
        ("online_from", "online_until"),
    ),
    "remove_plant": (_remove_plant, {"plant": (_text, True), "orders": (_one_of(ORDER_RULES), False)}, ()),
    "add_trains": (
        _add_trains,
        {"plant": (_text, False), "like": (_text, True), "count": (_whole(1, 1000), True)},
        (),
    ),
    "remove_trains": (_remove_trains, {"trains": (_text_list, True)}, ()),
    "retime_train": (
        _update_train,
        {"train": (_text, True), "turnaround_days": (_days, False), "changeover_days": (_days, False)},
        ("turnaround_days", "changeover_days"),
    ),
    "convert_train": (
        _update_train,
        {"train": (_text, True), "modality": (_one_of(MODALITIES), False), "volume_l": (_positive, False)},
        ("modality", "volume_l"),
    ),
    "scale_demand": (
        _scale_demand,
        {
            "factor": (_positive, True),
            "modality": (_one_of(MODALITIES), False),
            "client": (_text, False),
            "product": (_text, False),
            "order": (_text, False),
        },
        (),
    ),
    "add_orders": (_add_orders, {"file": (_text, True)}, ()),
    "product": (
        _product,
        {
            "product": (_text, True),
            "titer_g_per_l": (_positive, False),
            "yield": (_fraction, False),
            "batch_days": (_positive_days, False),
            "tech_transfer_days": (_optional_days, False),
            "min_volume_l": (_optional_positive, False),
            "max_volume_l": (_optional_positive, False),
        },
        tuple(PRODUCT_KEYS),
    ),
    "add_downtime": (
        _add_downtime,
        {
            "plant": (_text, True),
            "train": (_optional_text, False),
            "start": (_date, True),
            "end": (_date, True),
            "reason": (_optional_text, False),
        },
        (),
    ),
    "qualify": (
        _qualify,
        {"product": (_text, True), "plant": (_text, True), "qualified_from": (_date, True)},
        (),
    ),
    "weights": (_weights, {k: (_weight, False) for k in Weights.model_fields}, tuple(Weights.model_fields)),
}


def _kind_of(value: Any) -> str:
    return {dict: "a mapping", list: "a list", type(None): "nothing"}.get(type(value), repr(value))


def _parse_change(ctx: _Context, index: int, item: Any) -> None:
    """Check one change's shape and types, then apply it (references are checked while applying)."""
    where = f"changes[{index}]"
    if not isinstance(item, dict) or len(item) != 1:
        ctx.error(where, f"a change is a mapping with one key, the change kind (got {_kind_of(item)})")
        return
    [(kind, body)] = item.items()
    if kind not in KINDS:
        ctx.error(where, f"unknown change kind {kind!r}; known kinds: {', '.join(KINDS)}")
        return
    apply, spec, one_of = KINDS[kind]
    where = f"{where}.{kind}"
    if not isinstance(body, dict):
        ctx.error(where, f"expected a mapping of keys {', '.join(spec)} (got {_kind_of(body)})")
        return
    before = len(ctx.errors)
    change: Change = {}
    for key, value in body.items():
        if key not in spec:
            ctx.error(f"{where}.{key}", f"unknown key; allowed keys: {', '.join(spec)}")
            continue
        try:
            change[key] = spec[key][0](value)
        except _Bad as exc:
            ctx.error(f"{where}.{key}", str(exc))
    for key, (_, required) in spec.items():
        if required and key not in body:
            ctx.error(f"{where}.{key}", "a value is required")
    if one_of and not any(k in body for k in one_of):
        ctx.error(where, f"give at least one of {', '.join(one_of)}")
    if len(ctx.errors) == before:
        apply(ctx, change, lambda key: f"{where}.{key}" if key else where)


def _yaml_error(exc: Exception, text: str) -> str:
    """A YAML problem in words, with its line."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        if isinstance(exc, yaml.constructor.ConstructorError):
            return f"YAML tag not allowed{where}: {problem} (a scenario holds plain YAML data only)"
        return f"YAML syntax error{where}: {problem}"
    # PyYAML turns a date-like scalar into a date and raises ValueError for an impossible one (2027-02-30).
    for number, line in enumerate(text.splitlines(), start=1):
        for token in re.findall(r"\b\d{4}-\d{1,2}-\d{1,2}\b", line):
            year, month, day = (int(p) for p in token.split("-"))
            try:
                dt.date(year, month, day)
            except ValueError as bad:
                return f"invalid date {token!r} at line {number}: {bad}"
    return f"YAML error: {exc}"


def _read_yaml(path: Path, errors: list[InputError]) -> Any:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        errors.append(InputError(name, None, None, f"scenario file not found: {path}"))
        return None
    except UnicodeDecodeError as exc:
        errors.append(InputError(name, None, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
        return None
    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        errors.append(InputError(name, None, None, _yaml_error(exc, text)))
        return None


def load_scenario(path: Path | str) -> Scenario:
    """Read a scenario file, apply its changes to a deep copy of its base data and validate the result.

    Raises InputErrors with every problem found: in the scenario file (file = its name, column = the key
    path), in an `add_orders` CSV (its own file, row, column), in the base folder, or in the changed tables
    (validate's errors, naming the base tables).
    """
    path = Path(path)
    name = path.name
    errors: list[InputError] = []
    raw = _read_yaml(path, errors)
    if errors:
        raise InputErrors(errors)
    if not isinstance(raw, dict):
        got = "an empty file" if raw is None else _kind_of(raw)
        raise InputErrors([InputError(name, None, None, f"expected a mapping with keys {', '.join(TOP_KEYS)} "
                                                        f"(got {got})")])
    for key in raw:
        if key not in TOP_KEYS:
            errors.append(InputError(name, None, str(key), f"unknown key; allowed keys: {', '.join(TOP_KEYS)}"))
    title = path.stem
    try:
        if raw.get("name") is not None:
            title = _text(raw["name"])
    except _Bad as exc:
        errors.append(InputError(name, None, "name", str(exc)))
    base = path.parent / ".."
    try:
        if "base" in raw:
            base = path.parent / _text(raw["base"])
    except _Bad as exc:
        errors.append(InputError(name, None, "base", str(exc)))
    else:
        if base.suffix.lower() in WORKBOOK_SUFFIXES and not base.is_dir():
            if not base.is_file():
                errors.append(InputError(name, None, "base", f"data workbook not found: {base.resolve()}"))
        elif not base.is_dir():
            errors.append(InputError(name, None, "base", f"data folder not found: {base.resolve()}"))
    changes = raw.get("changes")
    if "changes" not in raw:
        errors.append(InputError(name, None, "changes", "a value is required (a list of changes; [] for none)"))
    elif not isinstance(changes, list):
        errors.append(InputError(name, None, "changes", f"expected a list of changes (got {_kind_of(changes)})"))
    if errors:
        raise InputErrors(errors)
    base = base.resolve()
    data = copy.deepcopy(load_data(base))
    ctx = _Context(data=data, file=name, folder=path.parent)
    for index, item in enumerate(changes):
        _parse_change(ctx, index, item)
    if ctx.errors:
        raise InputErrors(ctx.errors)
    problems = validate(ctx.data)
    if problems:
        raise InputErrors(problems)
    return Scenario(name=title, path=path, base=base, data=ctx.data)


# --- writing a data folder -----------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _toml_value(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)  # 60.0, inf: valid TOML floats
    return str(value)


def settings_toml(settings: Settings) -> str:
    """settings.toml text holding every setting explicitly."""
    lines: list[str] = []
    for section in ("horizon", "weights", "solver"):
        lines.append(f"[{section}]")
        for key, value in getattr(settings, section).model_dump().items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def write_data(data: ProblemData, folder: Path | str) -> None:
    """Write every table as a CSV of the data contract, plus settings.toml, into `folder` (created).

    `load_data(folder)` then reads the same rows (renumbered 2, 3, … as in any CSV) and settings.
    Existing files of those names are replaced; other files in the folder are left alone.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for file, rows in data.tables().items():
        model, _ = TABLES[file]
        fields = [(name, info.alias or name) for name, info in model.model_fields.items() if name != "row"]
        with (folder / file).open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow([column for _, column in fields])
            for row in rows:
                writer.writerow([_cell(getattr(row, name)) for name, _ in fields])
    (folder / "settings.toml").write_text(settings_toml(data.settings), encoding="utf-8")
