"""Independent plan checker: re-derive every rule of docs/data.md from the inputs and a written plan.

Why a separate module: the checker must be able to catch bugs in the model and the exporter, so it
shares no code with them. It imports only the loaders and row types of `planner.load`; eligibility,
qualification dates, changeover durations, yields, FIFO intermediate use and KPIs are all derived here
again, straight from the data contract.

Violation message formats (one line each; `{label}` of a batch is `batch {order}/{step}/{n} on {train}`,
of a changeover `changeover {from_product}->{product} on {train}`; dates ISO, intervals `start..end` with
an exclusive end; `R` is a spreadsheet row number, header = row 1):

File level
    ``{file}: file not found`` / ``{file}: cannot read ({err})`` / ``{file}: missing column {col}``
    ``{file} row R, column {col}: text {text!r} is not neutralised (a spreadsheet would run it as a formula)``
    (text cells of the plan CSVs that begin with = + - @ tab or CR must carry a leading `'`, docs/data.md; the
    checker strips that quote again before comparing, re-implemented here rather than imported)
    ``summary.json: not valid JSON ({err})`` / ``summary.json: bad horizon {start|end} {value!r}``
    ``order {o}: unknown product '{p}' in the data`` (data not validated; the order is skipped)
Malformed gantt rows (the row is then left out of every other check)
    ``gantt.csv row R: unknown kind '{kind}'``
    ``gantt.csv row R: bad {start|end} date '{text}'`` / ``gantt.csv row R: end {end} is not after start {start}``
    ``gantt.csv row R: unknown train '{train}'`` / ``... unknown order '{order}'`` / ``... unknown product '{p}'``
    ``gantt.csv row R: unknown step '{step}'`` / ``gantt.csv row R: bad batch number '{text}'``
    ``gantt.csv row R: bad kg '{text}'``
    ``gantt.csv row R: step {step} does not fit order {o} of {modality} product {p}``
    ``gantt.csv row R: step intermediate but product {p} of order {o} has no intermediate (client supplies it)``
    ``gantt.csv row R: product {x} is not {expected} ({what} of order {o})``
    ``gantt.csv row R: order {o} has unknown product '{p}'``
Row consistency
    ``gantt.csv row R: {label} has plant {x}, but train {t} is in plant {p}``
    ``gantt.csv row R: {label} has client {x}, expected {c}`` / ``... has modality {x}, expected {m}``
Rule 1
    ``gantt.csv row R: {label} has kg {got}, expected {exp:.3f} (volume x titer x yield / 1000)``
    ``order {o}: final-step batches yield {planned} {unit}, below quantity {q} {unit}, but orders.csv status is '{s}'``
Rule 2
    ``gantt.csv row R: {label} runs {m} product {p} on a {tm} train``
    ``gantt.csv row R: {label}: train volume {v} L is below min_volume_l {x} of {p}`` (``above max_volume_l``)
    ``gantt.csv row R: {label} starts {d} before plant {P} is online ({online_from})``
    ``gantt.csv row R: {label} ends {d} after plant {P} goes offline ({online_until})``
    ``gantt.csv row R: {label} overlaps downtime {start}..{end} ({reason})`` (changeover rows too, rule 4)
    ``gantt.csv row R: {label} lasts {n} days, but batch_days of {p} is {m}``
Rule 3
    ``gantt.csv row R: {label} starts {d} before order release {release}``
    ``gantt.csv row R: {label} starts {d} before {p} is qualified at {P} ({qualified_from})``
    ``gantt.csv row R: {label} starts {d} before tech transfer of {p} to {P} completes ({date} = release + {n} days)``
    ``gantt.csv row R: {label}: {p} is not qualified at {P} and has no tech transfer``
    ``gantt.csv row R: {label}: order {o} must run its final step at {P}``
    ``gantt.csv row R: {label} starts {d} before horizon start {hs}`` / ``... ends {d} after horizon end {he}``
Rule 4
    ``gantt.csv row R: {label} overlaps {other label} (gantt.csv row R2)``
    ``gantt.csv row R: {label} starts {gap} days after {prev label} (gantt.csv row R2) ends; {turnaround|changeover}
    {a}->{b} needs {n} days``
    ``gantt.csv row R: no changeover row on {t} at {d} between {prev label} (gantt.csv row R2) and {label};
    expected {a}->{b} {d}..{d2}``
    ``gantt.csv row R: {label} lasts {n} days, required {m} after {prev label} (gantt.csv row R2)``
    ``gantt.csv row R: {label} has from_product {x}, expected {a} (product of gantt.csv row R2)``
    ``gantt.csv row R: {label} has product {x}, expected {b} (product of gantt.csv row R2)``
    ``gantt.csv row R: {label} has step {x}, expected {s} (step of gantt.csv row R2)``
    ``gantt.csv row R: {label} does not start at the end of a batch that another batch on {t} follows``
    ``gantt.csv row R: batch number {n} of {o}/{s} is used again (first at gantt.csv row R2)``
    ``gantt.csv row R: {label} should be number {k} of {o}/{s} (numbered by start then train)``
    (numbering of an (order, step) with a malformed batch row is not judged)
    ``gantt.csv row R: downtime on {t} {s}..{e} matches no downtime.csv interval (clipped to the horizon)``
    ``gantt.csv: no downtime row on {t} for downtime.csv row R {s}..{e}``
    (`downtime.csv` is named as the data names it: `site.xlsx sheet downtime` for workbook input)
Rule 5
    ``gantt.csv row R: {label} starts {n} days after {int label} (gantt.csv row R2) ends, more than max_hold_days {m}``
    ``gantt.csv row R: {label} starts {n} days after {int label} (gantt.csv row R2) ends, less than release_days {m}``
    ``order {o}: intermediate batches yield {x:.3f} kg, but {c:.3f} kg conjugate x {r} needs {n:.3f} kg``
Tentative deals
    ``order {o} (tentative): accepted but late: completion {c} is {n} days after due {due} (gantt.csv row R)``
    ``order {o} (tentative): accepted but only {planned} of {q} {unit} planned``
    ``order {o} (tentative): declined but has {n} intermediate batches``
orders.csv (plan output)
    ``orders.csv row R: order {o} column {col} is '{got}', expected '{exp}'``
    ``orders.csv: order {o} is missing`` / ``orders.csv row R: order {o} is not in the input``
    ``orders.csv row R: order {o} appears again (first at orders.csv row R2)``
summary.json
    ``summary.json kpis.{key} is {got!r}, expected {exp}``
utilization.csv (plan output; `{key}` is `{plant}/{modality}/{quarter}`, e.g. `P5/mAb/2027Q3`)
    ``utilization.csv row R: {key} column {col} is '{got}', expected {exp}`` (integers exact, utilization
    within 0.0001)
    ``utilization.csv: {key} is missing`` / ``utilization.csv row R: {key} is not expected (no such plant x
    modality of its trains x quarter of the horizon)``
    ``utilization.csv row R: {key} appears again (first at utilization.csv row R2)``
    (utilization.csv is read only when gantt.csv exists, and its rows are compared only when gantt.csv has every
    needed column)
Replan (with a previous plan, an as-of date and optionally a status file; taken from summary.json `replan`
when not given; a frozen batch is every previous batch that started before the as-of date and is not in the
status file, plus every done/running status row; its dates may differ from batch_days)
    ``frozen batch {o}/{s}/{n} on {t} {start}..{end} ({where}) is missing from gantt.csv or moved``
    ``gantt.csv row R: {label} failed (failed in {status file} row R2) but is still planned at {start}``
    ``gantt.csv row R: {label} starts {d} before the as-of date {as_of} but is not frozen``
    ``{file}: ...`` when the previous plan or status file cannot be read
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from planner.load import Downtime, Order, Plant, ProblemData, Product, Train, load_data

GANTT_COLUMNS = [
    "plant", "train", "order", "client", "product", "modality", "step", "batch", "kind", "start", "end", "kg",
    "from_product", "note",
]
ORDERS_COLUMNS = [
    "order", "client", "product", "firm", "unit", "quantity", "status", "planned_quantity", "unmet_quantity",
    "batches", "intermediate_batches", "completion", "due", "days_late", "revenue",
]
UTILIZATION_COLUMNS = ["plant", "modality", "quarter", "available_days", "busy_days", "changeover_days", "utilization"]
UTIL_TOL = 0.0001
GANTT_NEEDED = {"train", "kind", "start", "end", "order", "step", "batch", "product", "kg", "from_product"}
FINAL_STEP = {"mAb": "mAb", "ADC": "conjugation", "AAV": "AAV"}
STATUS_COLUMNS = ["order", "step", "batch", "train", "start", "end", "state"]
TEXT_COLUMNS = frozenset({
    "plant", "train", "order", "client", "product", "modality", "step", "kind", "from_product", "note", "status",
    "unit", "quarter", "previous_status", "firm",
})
"""Text columns of the plan CSVs (docs/data.md): a cell a spreadsheet would run as a formula has a leading '."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
STEPS = {"mAb", "intermediate", "conjugation", "AAV"}
KINDS = {"batch", "changeover", "downtime"}
EPS = 1e-6
NUM_TOL = 0.001


@dataclass
class CheckReport:
    """Outcome of `check_plan`: every violation found plus the KPIs re-derived from the plan."""

    violations: list[str] = field(default_factory=list)
    kpis: dict[str, float | int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """A plan is valid only when not a single rule is broken."""
        return not self.violations


@dataclass
class _Task:
    """One well-formed gantt row, typed."""

    row: int
    kind: str
    train: Train
    plant_col: str
    start: dt.date
    end: dt.date
    product: str = ""
    order: Order | None = None
    step: str = ""
    number: int = 0
    kg_text: str = ""
    kg: float = 0.0  # re-derived output (rule 1), not the reported value
    from_product: str = ""
    client_col: str = ""
    modality_col: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def label(self) -> str:
        if self.kind == "batch":
            assert self.order is not None
            return f"batch {self.order.order}/{self.step}/{self.number} on {self.train.train}"
        if self.kind == "changeover":
            return f"changeover {self.from_product}->{self.product} on {self.train.train}"
        return f"downtime on {self.train.train}"


def _affects(d: Downtime, train: Train) -> bool:
    return d.train == train.train if d.train else d.plant == train.plant


def _overlaps(a_start: dt.date, a_end: dt.date, b_start: dt.date, b_end: dt.date) -> bool:
    return a_start < b_end and b_start < a_end


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.3f}".rstrip("0").rstrip(".")


def _unquote(text: str) -> str:
    """Text of a plan CSV cell as meant: the exporter puts `'` before text starting with = + - @ tab CR or `'`."""
    return text[1:] if text.startswith("'") and text[1:].startswith((*FORMULA_START, "'")) else text


def _read_csv(
    path: Path, violations: list[str], columns: list[str], *, plan: bool = True, current: bool = True
) -> list[tuple[int, dict[str, str]]] | None:
    """Rows of a CSV as stripped strings, keyed by column; None when the file cannot be used.

    `plan`: a plan CSV, whose text cells are unquoted (`_unquote`); `current`: the plan being checked, where a
    text cell that a spreadsheet would run as a formula is a violation (not for a previous plan).
    """
    name = path.name
    if not path.exists():
        violations.append(f"{name}: file not found")
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        violations.append(f"{name}: cannot read ({exc})")
        return None
    reader = csv.reader(text.splitlines())
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in columns if c not in header]
    for column in missing:
        violations.append(f"{name}: missing column {column}")
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        row: dict[str, str] = {}
        for i, h in enumerate(header):
            cell = cells[i] if i < len(cells) else ""
            if plan and h in TEXT_COLUMNS:
                if current and cell.startswith(FORMULA_START):
                    violations.append(
                        f"{name} row {number}, column {h}: text {cell!r} is not neutralised (a spreadsheet would run "
                        "it as a formula)"
                    )
                cell = _unquote(cell)
            row[h] = cell.strip()
        rows.append((number, row))
    return rows


def _date(text: str) -> dt.date | None:
    """Strict ISO `YYYY-MM-DD` (fromisoformat alone would also take `20270101`)."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _bool(text: str) -> bool | None:
    low = text.strip().lower()
    if low in ("true", "yes", "1"):
        return True
    if low in ("false", "no", "0"):
        return False
    return None


class _Checker:
    """Holds the input indexes and the parsed plan while the rules are checked one by one."""

    def __init__(self, data: ProblemData, horizon: tuple[dt.date, dt.date]):
        self.data = data
        self.hs, self.he = horizon
        self.v: list[str] = []
        self.plants: dict[str, Plant] = {p.plant: p for p in data.plants}
        self.trains: dict[str, Train] = {t.train: t for t in data.trains}
        self.products: dict[str, Product] = {p.product: p for p in data.products}
        self.orders: dict[str, Order] = {o.order: o for o in data.orders}
        self.qualified: dict[tuple[str, str], dt.date] = {}
        for q in data.qualifications:
            key = (q.product, q.plant)
            self.qualified[key] = min(q.qualified_from, self.qualified.get(key, q.qualified_from))
        self.changeover_days: dict[tuple[str, str], int] = {
            (c.from_product, c.to_product): c.days for c in data.changeovers
        }
        self.tasks: list[_Task] = []
        self.actual: set[tuple[str, str, str, dt.date, dt.date]] = set()
        """Replan: batches as they really ran (status file), exempt from the nominal batch length."""
        self.batch_rows = 0
        self.malformed_groups: set[tuple[str, str]] = set()  # (order, step) with a malformed batch row

    # ----- derived input facts -------------------------------------------------------------------------

    def downtime_for(self, train: Train) -> list[Downtime]:
        """Downtime of the train itself or of its whole plant (blank train)."""
        return [d for d in self.data.downtime if _affects(d, train)]

    def gap_required(self, train: Train, prev: str, nxt: str) -> tuple[str, int]:
        """Turnaround for the same product, else changeovers.csv or the train's changeover_days."""
        if prev == nxt:
            return "turnaround", train.turnaround_days
        return "changeover", self.changeover_days.get((prev, nxt), train.changeover_days)

    def final_step(self, order: Order) -> str | None:
        product = self.products.get(order.product)
        return FINAL_STEP[product.modality] if product else None

    # ----- parsing --------------------------------------------------------------------------------------

    def parse_gantt(self, rows: list[tuple[int, dict[str, str]]]) -> None:
        for number, cells in rows:
            task = self._parse_row(number, cells)
            if task is not None:
                self.tasks.append(task)

    def _parse_row(self, r: int, c: dict[str, str]) -> _Task | None:
        get = c.get
        kind = get("kind", "")
        if kind == "batch":
            self.batch_rows += 1
        if kind not in KINDS:
            self.v.append(f"gantt.csv row {r}: unknown kind {kind!r}")
            return None
        bad = False
        dates: dict[str, dt.date] = {}
        for col in ("start", "end"):
            d = _date(get(col, ""))
            if d is None:
                self.v.append(f"gantt.csv row {r}: bad {col} date {get(col, '')!r}")
                bad = True
            else:
                dates[col] = d
        if not bad:
            too_short = dates["end"] < dates["start"] or (kind != "changeover" and dates["end"] == dates["start"])
            if too_short:
                self.v.append(f"gantt.csv row {r}: end {dates['end']} is not after start {dates['start']}")
                bad = True
        train = self.trains.get(get("train", ""))
        if train is None:
            self.v.append(f"gantt.csv row {r}: unknown train {get('train', '')!r}")
            bad = True
        task_kw: dict = {}
        if kind == "batch":
            parsed = self._parse_batch(r, c)
            if parsed is None:
                bad = True
            else:
                task_kw = parsed
        elif kind == "changeover":
            for col in ("product", "from_product"):
                if get(col, "") not in self.products:
                    self.v.append(f"gantt.csv row {r}: unknown product {get(col, '')!r}")
                    bad = True
            task_kw = {"product": get("product", ""), "from_product": get("from_product", ""), "step": get("step", "")}
        if bad:
            if kind == "batch":
                self.malformed_groups.add((get("order", ""), get("step", "")))
            return None
        assert train is not None
        if kind == "batch":  # rule 1: the output the batch must have, whatever the row reports
            task_kw["kg"] = self.products[task_kw["product"]].kg_per_batch(train.volume_l)
        return _Task(row=r, kind=kind, train=train, plant_col=get("plant", ""), start=dates["start"],
                     end=dates["end"], **task_kw)

    def _parse_batch(self, r: int, c: dict[str, str]) -> dict | None:
        get = c.get
        bad = False
        order = self.orders.get(get("order", ""))
        if order is None:
            self.v.append(f"gantt.csv row {r}: unknown order {get('order', '')!r}")
            bad = True
        step = get("step", "")
        if step not in STEPS:
            self.v.append(f"gantt.csv row {r}: unknown step {step!r}")
            bad = True
        number_text = get("batch", "")
        number = int(number_text) if number_text.isdigit() else 0
        if number < 1:
            self.v.append(f"gantt.csv row {r}: bad batch number {number_text!r}")
            bad = True
        kg_text = get("kg", "")
        if _float(kg_text) is None:
            self.v.append(f"gantt.csv row {r}: bad kg {kg_text!r}")
            bad = True
        product = get("product", "")
        if product not in self.products:
            self.v.append(f"gantt.csv row {r}: unknown product {product!r}")
            bad = True
        if bad or order is None:
            return None
        ordered = self.products.get(order.product)
        if ordered is None:
            self.v.append(f"gantt.csv row {r}: order {order.order} has unknown product {order.product!r}")
            return None
        if step == "intermediate":
            if ordered.modality != "ADC":
                self.v.append(
                    f"gantt.csv row {r}: step {step} does not fit order {order.order} of "
                    f"{ordered.modality} product {ordered.product}"
                )
                return None
            if not ordered.intermediate:
                self.v.append(
                    f"gantt.csv row {r}: step intermediate but product {ordered.product} of order {order.order} "
                    "has no intermediate (client supplies it)"
                )
                return None
            expected, what = ordered.intermediate, "the intermediate of the product"
        else:
            if step != FINAL_STEP[ordered.modality]:
                self.v.append(
                    f"gantt.csv row {r}: step {step} does not fit order {order.order} of "
                    f"{ordered.modality} product {ordered.product}"
                )
                return None
            expected, what = ordered.product, "the product"
        if product != expected:
            self.v.append(f"gantt.csv row {r}: product {product} is not {expected} ({what} of order {order.order})")
            return None
        return {
            "order": order, "step": step, "number": number, "product": product, "kg_text": kg_text,
            "client_col": get("client", ""), "modality_col": get("modality", ""),
        }

    # ----- per-task rules -------------------------------------------------------------------------------

    def check_batches(self) -> None:
        for t in self.tasks:
            if t.kind == "batch":
                self._check_batch(t)
            elif t.kind == "changeover":
                self._check_plant_col(t)
                for d in self.downtime_for(t.train):
                    if _overlaps(t.start, t.end, d.start, d.end):
                        self.v.append(
                            f"gantt.csv row {t.row}: {t.label} overlaps downtime {d.start}..{d.end} ({d.reason})"
                        )

    def _check_plant_col(self, t: _Task) -> None:
        if t.plant_col != t.train.plant:
            self.v.append(
                f"gantt.csv row {t.row}: {t.label} has plant {t.plant_col}, but train {t.train.train} is in plant "
                f"{t.train.plant}"
            )

    def _check_batch(self, t: _Task) -> None:
        order = t.order
        assert order is not None
        actual = (order.order, t.step, t.train.train, t.start, t.end) in self.actual
        p = self.products[t.product]
        train, plant_id = t.train, t.train.plant
        row, label = f"gantt.csv row {t.row}", t.label
        self._check_plant_col(t)
        if t.client_col != order.client:
            self.v.append(f"{row}: {label} has client {t.client_col}, expected {order.client}")
        if t.modality_col != p.modality:
            self.v.append(f"{row}: {label} has modality {t.modality_col}, expected {p.modality}")
        # Rule 1
        got = float(t.kg_text)
        if abs(got - t.kg) > NUM_TOL + EPS * abs(t.kg):
            self.v.append(f"{row}: {label} has kg {t.kg_text}, expected {t.kg:.3f} (volume x titer x yield / 1000)")
        if t.days != p.batch_days and not actual:
            self.v.append(f"{row}: {label} lasts {t.days} days, but batch_days of {p.product} is {p.batch_days}")
        # Rule 2 (rule 6 is the modality check for AAV)
        if train.modality != p.modality:
            self.v.append(f"{row}: {label} runs {p.modality} product {p.product} on a {train.modality} train")
        if p.min_volume_l is not None and train.volume_l < p.min_volume_l:
            self.v.append(
                f"{row}: {label}: train volume {_fmt_num(train.volume_l)} L is below min_volume_l "
                f"{_fmt_num(p.min_volume_l)} of {p.product}"
            )
        if p.max_volume_l is not None and train.volume_l > p.max_volume_l:
            self.v.append(
                f"{row}: {label}: train volume {_fmt_num(train.volume_l)} L is above max_volume_l "
                f"{_fmt_num(p.max_volume_l)} of {p.product}"
            )
        plant = self.plants.get(plant_id)
        if plant is not None:
            if t.start < plant.online_from:
                self.v.append(
                    f"{row}: {label} starts {t.start} before plant {plant_id} is online ({plant.online_from})"
                )
            if plant.online_until is not None and t.end > plant.online_until:
                self.v.append(
                    f"{row}: {label} ends {t.end} after plant {plant_id} goes offline ({plant.online_until})"
                )
        for d in self.downtime_for(train):
            if _overlaps(t.start, t.end, d.start, d.end):
                self.v.append(f"{row}: {label} overlaps downtime {d.start}..{d.end} ({d.reason})")
        # Rule 3
        if t.start < order.release:
            self.v.append(f"{row}: {label} starts {t.start} before order release {order.release}")
        qualified_from = self.qualified.get((p.product, plant_id))
        if qualified_from is not None:
            if t.start < qualified_from:
                self.v.append(f"{row}: {label} starts {t.start} before {p.product} is qualified at {plant_id} "
                              f"({qualified_from})")
        elif p.tech_transfer_days is None:
            self.v.append(f"{row}: {label}: {p.product} is not qualified at {plant_id} and has no tech transfer")
        else:
            ready = order.release + dt.timedelta(days=p.tech_transfer_days)
            if t.start < ready:
                self.v.append(
                    f"{row}: {label} starts {t.start} before tech transfer of {p.product} to {plant_id} completes "
                    f"({ready} = release + {p.tech_transfer_days} days)"
                )
        if order.plant and t.step == self.final_step(order) and plant_id != order.plant:
            self.v.append(f"{row}: {label}: order {order.order} must run its final step at {order.plant}")
        if t.start < self.hs:
            self.v.append(f"{row}: {label} starts {t.start} before horizon start {self.hs}")
        if t.end > self.he:
            self.v.append(f"{row}: {label} ends {t.end} after horizon end {self.he}")

    # ----- rule 4: sequences on a train -----------------------------------------------------------------

    def check_trains(self) -> None:
        by_train: dict[str, list[_Task]] = defaultdict(list)
        for t in self.tasks:
            by_train[t.train.train].append(t)
        for tasks in by_train.values():
            self._check_overlaps([t for t in tasks if t.kind != "downtime"])
            self._check_sequence(tasks)

    def _check_overlaps(self, tasks: list[_Task]) -> None:
        active: list[_Task] = []
        for t in sorted(tasks, key=lambda x: (x.start, x.end, x.row)):
            active = [a for a in active if a.end > t.start]
            for a in active:
                if _overlaps(a.start, a.end, t.start, t.end):
                    self.v.append(f"gantt.csv row {t.row}: {t.label} overlaps {a.label} (gantt.csv row {a.row})")
            active.append(t)

    def _check_sequence(self, tasks: list[_Task]) -> None:
        batches = sorted((t for t in tasks if t.kind == "batch"), key=lambda x: (x.start, x.end, x.row))
        changeovers = sorted((t for t in tasks if t.kind == "changeover"), key=lambda x: (x.start, x.row))
        used: set[int] = set()
        for a, b in zip(batches, batches[1:], strict=False):
            if b.start < a.end:
                continue  # already reported as an overlap
            train = a.train
            what, need = self.gap_required(train, a.product, b.product)
            gap = (b.start - a.end).days
            if gap < need:
                self.v.append(
                    f"gantt.csv row {b.row}: {b.label} starts {gap} days after {a.label} (gantt.csv row {a.row}) "
                    f"ends; {what} {a.product}->{b.product} needs {need} days"
                )
            candidates = [c for c in changeovers if c.start == a.end and c.row not in used]
            if not candidates:
                if need > 0:
                    end = a.end + dt.timedelta(days=need)
                    self.v.append(
                        f"gantt.csv row {b.row}: no changeover row on {train.train} at {a.end} between {a.label} "
                        f"(gantt.csv row {a.row}) and {b.label}; expected {a.product}->{b.product} {a.end}..{end}"
                    )
                continue
            c = candidates[0]
            used.add(c.row)
            if c.days != need:
                self.v.append(
                    f"gantt.csv row {c.row}: {c.label} lasts {c.days} days, required {need} after {a.label} "
                    f"(gantt.csv row {a.row})"
                )
            if c.from_product != a.product:
                self.v.append(
                    f"gantt.csv row {c.row}: {c.label} has from_product {c.from_product}, expected {a.product} "
                    f"(product of gantt.csv row {a.row})"
                )
            if c.product != b.product:
                self.v.append(
                    f"gantt.csv row {c.row}: {c.label} has product {c.product}, expected {b.product} "
                    f"(product of gantt.csv row {b.row})"
                )
            if c.step != b.step:
                self.v.append(
                    f"gantt.csv row {c.row}: {c.label} has step {c.step}, expected {b.step} "
                    f"(step of gantt.csv row {b.row})"
                )
        for c in changeovers:
            if c.row not in used:
                self.v.append(
                    f"gantt.csv row {c.row}: {c.label} does not start at the end of a batch that another batch on "
                    f"{c.train.train} follows"
                )

    def check_numbering(self) -> None:
        groups: dict[tuple[str, str], list[_Task]] = defaultdict(list)
        for t in self.tasks:
            if t.kind == "batch":
                assert t.order is not None
                groups[(t.order.order, t.step)].append(t)
        for (order, step), tasks in groups.items():
            if (order, step) in self.malformed_groups:
                continue  # numbering cannot be judged with a row missing; the bad row is reported
            first: dict[int, int] = {}
            duplicate = False
            for t in sorted(tasks, key=lambda x: x.row):
                if t.number in first:
                    duplicate = True
                    self.v.append(
                        f"gantt.csv row {t.row}: batch number {t.number} of {order}/{step} is used again "
                        f"(first at gantt.csv row {first[t.number]})"
                    )
                else:
                    first[t.number] = t.row
            if duplicate:
                continue
            ranked = sorted(tasks, key=lambda x: (x.start, x.train.train, x.row))
            for k, t in enumerate(ranked, start=1):
                if t.number != k:
                    self.v.append(
                        f"gantt.csv row {t.row}: {t.label} should be number {k} of {order}/{step} "
                        "(numbered by start then train)"
                    )

    def check_downtime_rows(self) -> None:
        """Gantt downtime rows must repeat downtime.csv, clipped to the horizon, on every affected train."""
        expected: dict[tuple[str, dt.date, dt.date], Downtime] = {}
        for d in self.data.downtime:
            start, end = max(d.start, self.hs), min(d.end, self.he)
            if start >= end:
                continue
            for train in self.data.trains:
                if _affects(d, train):
                    expected.setdefault((train.train, start, end), d)
        seen: set[tuple[str, dt.date, dt.date]] = set()
        for t in self.tasks:
            if t.kind != "downtime":
                continue
            key = (t.train.train, t.start, t.end)
            if key not in expected:
                self.v.append(
                    f"gantt.csv row {t.row}: downtime on {t.train.train} {t.start}..{t.end} matches no "
                    f"{self.data.where('downtime.csv')} interval (clipped to the horizon)"
                )
            seen.add(key)
        for key, d in expected.items():
            if key not in seen:
                self.v.append(
                    f"gantt.csv: no downtime row on {key[0]} for {self.data.where('downtime.csv')} row {d.row} "
                    f"{key[1]}..{key[2]}"
                )

    # ----- per-order rules ------------------------------------------------------------------------------

    def order_batches(self, order: Order) -> tuple[list[_Task], list[_Task]]:
        """Final-step and intermediate batches of one order."""
        final = self.final_step(order)
        mine = [t for t in self.tasks if t.kind == "batch" and t.order is order]
        return [t for t in mine if t.step == final], [t for t in mine if t.step == "intermediate"]

    def check_intermediate(self, order: Order, final: list[_Task], inter: list[_Task]) -> None:
        """Rule 5: enough intermediate, consumed FIFO, each piece used within its release and hold window."""
        p = self.products.get(order.product)
        if p is None or p.modality != "ADC" or not p.intermediate or not final:
            return
        ratio = p.intermediate_kg_per_kg or 0.0
        conj_kg = sum(t.kg for t in final)
        need = conj_kg * ratio
        have = sum(t.kg for t in inter)
        if have < need - EPS:
            self.v.append(
                f"order {order.order}: intermediate batches yield {have:.3f} kg, but {conj_kg:.3f} kg conjugate x "
                f"{_fmt_num(ratio)} needs {need:.3f} kg"
            )
        release = p.release_days or 0
        hold = p.max_hold_days
        supply = sorted(inter, key=lambda x: (x.end, x.train.train, x.row))
        left = [t.kg for t in supply]
        i = 0
        for c in sorted(final, key=lambda x: (x.start, x.train.train, x.row)):
            want = c.kg * ratio
            while want > EPS and i < len(supply):
                take = min(want, left[i])
                if take > EPS:
                    s = supply[i]
                    waited = (c.start - s.end).days
                    if waited < release:
                        self.v.append(
                            f"gantt.csv row {c.row}: {c.label} starts {waited} days after {s.label} "
                            f"(gantt.csv row {s.row}) ends, less than release_days {release}"
                        )
                    if hold is not None and waited > hold:
                        self.v.append(
                            f"gantt.csv row {c.row}: {c.label} starts {waited} days after {s.label} "
                            f"(gantt.csv row {s.row}) ends, more than max_hold_days {hold}"
                        )
                want -= take
                left[i] -= take
                if left[i] <= EPS:
                    i += 1

    def order_outcome(self, order: Order, final: list[_Task], inter: list[_Task]) -> dict:
        """Every orders.csv value of one order, re-derived from its batches."""
        planned: float = float(len(final)) if order.unit == "batches" else sum(t.kg for t in final)
        last = max(final, key=lambda x: (x.end, x.row)) if final else None
        completion = last.end if last else None
        days_late = max(0, (completion - order.due).days) if completion else 0
        if not final:
            status = "unplanned" if order.firm else "declined"
        elif planned < order.quantity - EPS:
            status = "partial"
        elif days_late > 0:
            status = "late"
        else:
            status = "on_time"
        return {
            "order": order.order, "client": order.client, "product": order.product, "firm": order.firm,
            "unit": order.unit, "quantity": order.quantity, "status": status, "planned_quantity": planned,
            "unmet_quantity": max(0.0, order.quantity - planned), "batches": len(final),
            "intermediate_batches": len(inter), "completion": completion, "due": order.due,
            "days_late": days_late, "revenue": order.revenue, "_last": last,
        }

    def check_order_rules(self, order: Order, out: dict, reported_status: str | None, inter: list[_Task]) -> None:
        unit = order.unit
        planned, q = out["planned_quantity"], order.quantity
        shown = f"{planned:.3f}" if unit == "kg" else _fmt_num(planned)
        if order.firm:
            if out["batches"] and planned < q - EPS and reported_status not in ("partial", "unplanned"):
                self.v.append(
                    f"order {order.order}: final-step batches yield {shown} {unit}, below quantity "
                    f"{_fmt_num(q)} {unit}, but orders.csv status is {reported_status!r}"
                )
            return
        if not out["batches"]:
            if inter:
                self.v.append(f"order {order.order} (tentative): declined but has {len(inter)} intermediate batches")
            return
        if planned < q - EPS:
            self.v.append(f"order {order.order} (tentative): accepted but only {shown} of {_fmt_num(q)} {unit} planned")
        if out["days_late"] > 0:
            self.v.append(
                f"order {order.order} (tentative): accepted but late: completion {out['completion']} is "
                f"{out['days_late']} days after due {order.due} (gantt.csv row {out['_last'].row})"
            )

    def compare_orders_csv(self, rows: list[tuple[int, dict[str, str]]] | None, outcomes: dict[str, dict]) -> None:
        if rows is None:
            return
        first: dict[str, int] = {}
        for r, cells in rows:
            name = cells.get("order", "")
            if name not in outcomes:
                self.v.append(f"orders.csv row {r}: order {name} is not in the input")
                continue
            if name in first:
                self.v.append(f"orders.csv row {r}: order {name} appears again (first at orders.csv row {first[name]})")
                continue
            first[name] = r
            out = outcomes[name]
            for col in ORDERS_COLUMNS[1:]:
                if col not in cells:
                    continue  # reported once as a missing column
                got = cells[col]
                ok, shown = _same(col, got, out[col], out["unit"])
                if not ok:
                    self.v.append(f"orders.csv row {r}: order {name} column {col} is {got!r}, expected {shown!r}")
        for name in outcomes:
            if name not in first:
                self.v.append(f"orders.csv: order {name} is missing")


def _quarters(hs: dt.date, he: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """Calendar quarters overlapping [hs, he), each clipped to it: (label like 2027Q3, start, exclusive end)."""
    out: list[tuple[str, dt.date, dt.date]] = []
    year, q = hs.year, (hs.month - 1) // 3
    while True:
        q_start = dt.date(year, 3 * q + 1, 1)
        if q_start >= he:
            break
        q_end = dt.date(year + 1, 1, 1) if q == 3 else dt.date(year, 3 * q + 4, 1)
        lo, hi = max(q_start, hs), min(q_end, he)
        if lo < hi:
            out.append((f"{year}Q{q + 1}", lo, hi))
        year, q = (year + 1, 0) if q == 3 else (year, q + 1)
    return out


def _inside(start: dt.date, end: dt.date, lo: dt.date, hi: dt.date) -> int:
    """Days of [start, end) inside [lo, hi)."""
    return max(0, (min(end, hi) - max(start, lo)).days)


def _union_days(intervals: list[tuple[dt.date, dt.date]], lo: dt.date, hi: dt.date) -> int:
    """Days of [lo, hi) covered by at least one interval (overlaps count once)."""
    clipped = sorted((max(s, lo), min(e, hi)) for s, e in intervals if max(s, lo) < min(e, hi))
    total, cur_s, cur_e = 0, None, None
    for s, e in clipped:
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += (cur_e - cur_s).days
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += (cur_e - cur_s).days
    return total


def _expected_utilization(checker: _Checker) -> dict[tuple[str, str, str], dict[str, float | int]]:
    """utilization.csv re-derived from the inputs and the well-formed gantt rows (docs/data.md)."""
    quarters = _quarters(checker.hs, checker.he)
    tasks: dict[str, list[_Task]] = defaultdict(list)
    for t in checker.tasks:
        tasks[t.train.train].append(t)
    rows: dict[tuple[str, str, str], dict[str, float | int]] = {}
    for train in sorted(checker.data.trains, key=lambda x: (x.plant, x.modality, x.train)):
        plant = checker.plants.get(train.plant)
        if plant is None:
            continue
        down = [(d.start, d.end) for d in checker.downtime_for(train)]
        for label, q0, q1 in quarters:
            row = rows.setdefault((train.plant, train.modality, label),
                                  {"available_days": 0, "busy_days": 0, "changeover_days": 0})
            on_lo = max(q0, plant.online_from)
            on_hi = q1 if plant.online_until is None else min(q1, plant.online_until)
            if on_lo < on_hi:
                row["available_days"] += (on_hi - on_lo).days - _union_days(down, on_lo, on_hi)
            for t in tasks[train.train]:
                if t.kind == "batch":
                    row["busy_days"] += _inside(t.start, t.end, q0, q1)
                elif t.kind == "changeover":
                    row["changeover_days"] += _inside(t.start, t.end, q0, q1)
    for row in rows.values():
        avail = row["available_days"]
        row["utilization"] = round(row["busy_days"] / avail, 4) if avail else 0.0
    return rows


def _check_utilization(checker: _Checker, rows: list[tuple[int, dict[str, str]]] | None) -> None:
    """Compare utilization.csv with its re-derivation: every cell, and the set of (plant, modality, quarter)."""
    if rows is None:
        return
    expected = _expected_utilization(checker)
    first: dict[tuple[str, str, str], int] = {}
    for r, cells in rows:
        key = (cells.get("plant", ""), cells.get("modality", ""), cells.get("quarter", ""))
        name = "/".join(key)
        if key not in expected:
            checker.v.append(
                f"utilization.csv row {r}: {name} is not expected (no such plant x modality of its trains x "
                "quarter of the horizon)"
            )
            continue
        if key in first:
            checker.v.append(
                f"utilization.csv row {r}: {name} appears again (first at utilization.csv row {first[key]})"
            )
            continue
        first[key] = r
        exp = expected[key]
        for col in UTILIZATION_COLUMNS[3:]:
            if col not in cells:
                continue  # reported once as a missing column
            got = cells[col]
            if col == "utilization":
                value = _float(got)
                ok = value is not None and abs(value - float(exp[col])) <= UTIL_TOL + EPS
                shown = f"{float(exp[col]):.4f}".rstrip("0").rstrip(".")
            else:
                ok = got.lstrip("-").isdigit() and int(got) == exp[col]
                shown = str(exp[col])
            if not ok:
                checker.v.append(f"utilization.csv row {r}: {name} column {col} is {got!r}, expected {shown}")
    for key in expected:
        if key not in first:
            checker.v.append(f"utilization.csv: {'/'.join(key)} is missing")


def _same(col: str, got: str, expected: object, unit: str) -> tuple[bool, str]:
    """Compare one orders.csv cell with its re-derived value; also return the expected text."""
    if isinstance(expected, bool):
        return _bool(got) is expected, "true" if expected else "false"
    if isinstance(expected, dt.date) or (col == "completion" and expected is None):
        text = expected.isoformat() if expected else ""
        return got == text, text
    if isinstance(expected, int | float):
        if col in ("planned_quantity", "unmet_quantity") and unit == "kg":
            text = f"{expected:.3f}"
        else:
            text = _fmt_num(float(expected))
        value = 0.0 if got == "" and col == "revenue" else _float(got)
        return value is not None and abs(value - float(expected)) <= NUM_TOL, text
    return got == str(expected), str(expected)


def _horizon(data: ProblemData, summary: dict, violations: list[str]) -> tuple[dt.date, dt.date]:
    """The plan's horizon from summary.json, else the data's settings."""
    start, end = data.settings.horizon.start, data.settings.horizon.end
    horizon = summary.get("horizon")
    if isinstance(horizon, dict):
        for key in ("start", "end"):
            if key in horizon:
                d = _date(str(horizon[key]))
                if d is None:
                    violations.append(f"summary.json: bad horizon {key} {horizon[key]!r}")
                elif key == "start":
                    start = d
                else:
                    end = d
    return start, end


def _read_summary(plan_dir: Path, violations: list[str]) -> dict:
    path = plan_dir / "summary.json"
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        violations.append(f"summary.json: not valid JSON ({exc})")
        return {}
    return raw if isinstance(raw, dict) else {}


@dataclass
class _Frozen:
    order: str
    step: str
    batch: str
    train: str
    start: dt.date
    end: dt.date
    where: str
    from_status: bool = False


def _replan_inputs(
    summary: dict, previous: Path | None, as_of: dt.date | None, status: Path | None, violations: list[str]
) -> tuple[Path | None, dt.date | None, Path | None]:
    """Explicit arguments win; a replanned plan names its own inputs in summary.json."""
    facts = summary.get("replan")
    if not isinstance(facts, dict):
        return previous, as_of, status
    if as_of is None:
        as_of = _date(str(facts.get("as_of", "")))
        if as_of is None:
            violations.append(f"summary.json: bad replan as_of {facts.get('as_of')!r}")
    if previous is None and facts.get("previous_plan"):
        previous = Path(str(facts["previous_plan"]))
    if status is None and facts.get("status_file"):
        status = Path(str(facts["status_file"]))
    return previous, as_of, status


def _expected_frozen(
    previous: Path | None, as_of: dt.date, status: Path | None, violations: list[str]
) -> tuple[list[_Frozen], list[tuple[int, _Frozen]]]:
    """Re-derive the frozen batches from the previous plan and the status file, and the failed ones."""
    frozen: list[_Frozen] = []
    failed: list[tuple[int, _Frozen]] = []
    listed: set[tuple[str, str, str]] = set()
    if status is not None:
        for r, c in _read_csv(status, violations, STATUS_COLUMNS, plan=False) or []:
            start, end = _date(c.get("start", "")), _date(c.get("end", ""))
            if start is None or end is None:
                violations.append(f"{status.name} row {r}: bad start or end date")
                continue
            key = (c.get("order", ""), c.get("step", ""), c.get("batch", ""))
            listed.add(key)
            item = _Frozen(*key, c.get("train", ""), start, end, f"{c.get('state')} in {status.name} row {r}", True)
            if c.get("state") == "failed":
                failed.append((r, item))
            else:
                frozen.append(item)
    if previous is not None:
        for r, c in _read_csv(previous / "gantt.csv", violations, GANTT_COLUMNS, current=False) or []:
            if c.get("kind") != "batch":
                continue
            start, end = _date(c.get("start", "")), _date(c.get("end", ""))
            key = (c.get("order", ""), c.get("step", ""), c.get("batch", ""))
            if start is None or end is None or start >= as_of or key in listed:
                continue
            frozen.append(_Frozen(*key, c.get("train", ""), start, end, f"started, previous gantt.csv row {r}"))
    return frozen, failed


def _check_replan(checker: _Checker, frozen: list[_Frozen], failed: list[tuple[int, _Frozen]], as_of: dt.date) -> None:
    batches = [t for t in checker.tasks if t.kind == "batch" and t.order is not None]
    have = {(t.order.order, t.step, t.train.train, t.start, t.end) for t in batches if t.order}
    for f in frozen:
        if (f.order, f.step, f.train, f.start, f.end) not in have:
            checker.v.append(
                f"frozen batch {f.order}/{f.step}/{f.batch} on {f.train} {f.start}..{f.end} ({f.where}) is missing "
                "from gantt.csv or moved"
            )
    keep = {(f.order, f.step, f.train, f.start, f.end) for f in frozen}
    gone = {(f.order, f.step, f.train, f.start): f.where for _, f in failed}
    for t in batches:
        assert t.order is not None
        key = (t.order.order, t.step, t.train.train, t.start)
        if key in gone and (*key, t.end) not in keep:
            checker.v.append(f"gantt.csv row {t.row}: {t.label} failed ({gone[key]}) but is still planned at {t.start}")
        elif t.start < as_of and (*key, t.end) not in keep:
            checker.v.append(f"gantt.csv row {t.row}: {t.label} starts {t.start} before the as-of date {as_of} but "
                             "is not frozen")


def check_plan(
    data_dir: Path, plan_dir: Path, *, previous: Path | None = None, as_of: dt.date | None = None,
    status: Path | None = None,
) -> CheckReport:
    """Check a written plan against its inputs, independently of the code that made it.

    Raises `planner.load.InputErrors` if the data folder itself does not load; every problem with the plan
    files is reported as a violation line instead of an exception. A replan is also checked against its
    previous plan and status file: frozen batches unchanged, failed ones gone, nothing else before the as-of.
    """
    data_dir, plan_dir = Path(data_dir), Path(plan_dir)
    data = load_data(data_dir)
    violations: list[str] = []
    summary = _read_summary(plan_dir, violations)
    checker = _Checker(data, _horizon(data, summary, violations))
    checker.v = violations

    gantt_rows = _read_csv(plan_dir / "gantt.csv", violations, GANTT_COLUMNS)
    gantt_usable = gantt_rows is not None
    if gantt_rows and not GANTT_NEEDED.issubset(gantt_rows[0][1]):
        gantt_rows = []  # the missing columns are reported; row-by-row noise would hide them
        gantt_usable = False
    checker.parse_gantt(gantt_rows or [])
    previous, as_of, status = _replan_inputs(summary, previous, as_of, status, violations)
    if as_of is not None:
        frozen, failed = _expected_frozen(previous, as_of, status, violations)
        checker.actual = {(f.order, f.step, f.train, f.start, f.end) for f in frozen if f.from_status}
        _check_replan(checker, frozen, failed, as_of)
    checker.check_batches()
    checker.check_trains()
    checker.check_numbering()
    checker.check_downtime_rows()

    orders_rows = _read_csv(plan_dir / "orders.csv", violations, ORDERS_COLUMNS)
    if orders_rows and "order" not in orders_rows[0][1]:
        orders_rows = []
    reported: dict[str, str] = {}
    for _, cells in orders_rows or []:
        reported.setdefault(cells.get("order", ""), cells.get("status", ""))

    outcomes: dict[str, dict] = {}
    for order in data.orders:
        if order.product not in checker.products:
            violations.append(f"order {order.order}: unknown product {order.product!r} in the data")
            continue
        final, inter = checker.order_batches(order)
        checker.check_intermediate(order, final, inter)
        out = checker.order_outcome(order, final, inter)
        checker.check_order_rules(order, out, reported.get(order.order), inter)
        outcomes[order.order] = out
    checker.compare_orders_csv(orders_rows, outcomes)

    if (plan_dir / "gantt.csv").exists():  # without a gantt there is nothing to re-derive utilization from
        util_rows = _read_csv(plan_dir / "utilization.csv", violations, UTILIZATION_COLUMNS)
        if util_rows and not {"plant", "modality", "quarter"}.issubset(util_rows[0][1]):
            util_rows = None  # the missing key columns are reported
        if gantt_usable:
            _check_utilization(checker, util_rows)

    kpis = _kpis(checker, outcomes)
    claimed = summary.get("kpis")
    if isinstance(claimed, dict):
        for key, value in kpis.items():
            if key not in claimed:
                continue
            got = claimed[key]
            number = got if isinstance(got, int | float) and not isinstance(got, bool) else None
            if number is None or abs(float(number) - float(value)) > NUM_TOL:
                violations.append(f"summary.json kpis.{key} is {got!r}, expected {_fmt_num(float(value))}")
    return CheckReport(violations=violations, kpis=kpis)


def _kpis(checker: _Checker, outcomes: dict[str, dict]) -> dict[str, float | int]:
    """KPIs of summary.json, re-derived; changeover_days counts product changeovers, not turnarounds."""
    firm = [o for o in outcomes.values() if o["firm"]]
    tentative = [o for o in outcomes.values() if not o["firm"] and o["batches"]]
    weight = {o.order: o.weight for o in checker.data.orders}
    changeover_days = 0
    by_train: dict[str, list[_Task]] = defaultdict(list)
    for t in checker.tasks:
        if t.kind == "batch":
            by_train[t.train.train].append(t)
    for tasks in by_train.values():
        tasks.sort(key=lambda x: (x.start, x.end, x.row))
        for a, b in zip(tasks, tasks[1:], strict=False):
            if a.product != b.product:
                changeover_days += checker.gap_required(a.train, a.product, b.product)[1]
    return {
        "firm_orders": len(firm),
        "firm_on_time": sum(1 for o in firm if o["status"] == "on_time"),
        "weighted_days_late": float(sum(weight[o["order"]] * o["days_late"] for o in firm)),
        "unmet_firm_orders": sum(1 for o in firm if o["status"] in ("partial", "unplanned")),
        "tentative_accepted": len(tentative),
        "revenue_accepted": float(sum(o["revenue"] for o in tentative)),
        "changeover_days": changeover_days,
        "batches": checker.batch_rows,
    }
