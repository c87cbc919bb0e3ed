"""Random valid instances of the data contract, the fuzz harness around them, and brute-force optima.

Shared by `tests/test_fuzz.py` (a bounded, derandomized CI run) and `bench/fuzz.py` (a large run):

- **Strategies** (hypothesis): `instances()` draws small instances mixing every feature of docs/data.md —
  kg and batch orders, mAb / ADC (with and without intermediate) / AAV, pools of identical trains, downtime of
  plants and trains, plants coming online and going offline inside the horizon, tentative deals with revenue,
  changeover matrices, qualifications with dates, tech transfer, order plant pinning, volume windows, solver
  settings (campaign slots, transfer pruning), awkward decimals (quantities on exact multiples of a batch, with
  and without sub-gram decimals; many-decimal ratios, titers and yields), horizons that start mid-quarter and
  in a leap year, releases and dues before the horizon. `single_train_instances()` draws the tiniest ones (one
  train, ≤ 3 orders, ≤ 7 batches, no ADC) for the brute force; `adc_pair_instances()` one ADC order with an
  intermediate on a mAb and an ADC train. Every instance is valid by construction (eligibility is repaired
  with a qualification row); `check_instance` reports it if `planner.validate.load_valid` disagrees.
- **Harness**: `check_instance` solves one written instance with CP-SAT and with the greedy baseline through
  `planner.pipeline.run_solve` (the CLI's path), runs the independent checker on each written plan and checks
  the summary against facts re-derived here (objective = weighted terms, bounds at or below the objective, the
  revenue, unmet and lateness terms against orders.csv / gantt.csv). It returns findings instead of raising,
  so the large run can count and save them.
- **Brute force**: `model_optimum` enumerates every plan of the *campaign model's documented semantics*
  (docs/model.md) on one train, `rules_optimum` every plan allowed by *rules 1-6* (docs/data.md) on one
  train; `adc_simple_plan` writes a rule-abiding ADC plan. All are written from the documents, not from
  planner code (see their docstrings), and checked against the hand-computed optima of tests/test_solve.py.
- **Known bugs**: `KNOWN_BUGS` lists the planner bugs this fuzzing found that are not fixed yet, with
  `known_causes` (does an instance's data make it able to trigger one) and `SIGNATURES` (which findings it
  explains); tests fail only on findings no known bug explains.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import math
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

MODALITIES = ("mAb", "ADC", "AAV")
FINAL_STEP = {"mAb": "mAb", "ADC": "conjugation", "AAV": "AAV"}
VOLUMES = {"mAb": (1000, 2000, 500, 5000, 12500, 1500.5), "ADC": (100, 50, 250, 500), "AAV": (200, 50, 500, 2000)}
STARTS = (dt.date(2027, 1, 1), dt.date(2027, 2, 15), dt.date(2027, 11, 20), dt.date(2028, 2, 1))
LONG_AGO = dt.date(2020, 1, 1)
WEIGHTS = {"unmet_permille": 10_000_000, "late_day": 1_000, "revenue_k": 1, "changeover_day": 10}
"""Default objective weights (docs/data.md settings.toml); the strategies never change them."""

COLUMNS = {
    "plants.csv": ["plant", "campus", "online_from", "online_until"],
    "trains.csv": ["train", "plant", "modality", "volume_l", "turnaround_days", "changeover_days"],
    "products.csv": [
        "product", "client", "modality", "titer_g_per_l", "yield", "batch_days", "tech_transfer_days",
        "min_volume_l", "max_volume_l", "intermediate", "intermediate_kg_per_kg", "release_days", "max_hold_days",
    ],
    "orders.csv": [
        "order", "client", "product", "quantity", "unit", "release", "due", "weight", "firm", "revenue", "plant",
    ],
    "qualifications.csv": ["product", "plant", "qualified_from"],
    "downtime.csv": ["plant", "train", "start", "end", "reason"],
    "changeovers.csv": ["from_product", "to_product", "days"],
}


@dataclass
class FuzzInstance:
    """One data set with typed cells (None = blank); `write` turns it into a data folder."""

    start: dt.date
    end: dt.date
    plants: list[dict[str, Any]]
    trains: list[dict[str, Any]]
    products: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    qualifications: list[dict[str, Any]] = field(default_factory=list)
    downtime: list[dict[str, Any]] = field(default_factory=list)
    changeovers: list[dict[str, Any]] | None = None
    solver: dict[str, int] = field(default_factory=dict)

    @property
    def horizon(self) -> int:
        return (self.end - self.start).days

    def day(self, date: dt.date) -> int:
        return (date - self.start).days

    def product(self, name: str) -> dict[str, Any]:
        return next(p for p in self.products if p["product"] == name)

    def plant(self, name: str) -> dict[str, Any]:
        return next(p for p in self.plants if p["plant"] == name)

    def train(self, name: str) -> dict[str, Any]:
        return next(t for t in self.trains if t["train"] == name)

    def tables(self) -> dict[str, list[dict[str, Any]] | None]:
        return {
            "plants.csv": self.plants, "trains.csv": self.trains, "products.csv": self.products,
            "orders.csv": self.orders, "qualifications.csv": self.qualifications, "downtime.csv": self.downtime,
            "changeovers.csv": self.changeovers,
        }

    def write(self, folder: Path) -> Path:
        """Write the data folder (CSV files plus settings.toml); changeovers.csv only when not None."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, rows in self.tables().items():
            if rows is None:
                continue
            with (folder / name).open("w", newline="") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(COLUMNS[name])
                for row in rows:
                    writer.writerow([_cell(row.get(c)) for c in COLUMNS[name]])
        settings = f"[horizon]\nstart = {self.start.isoformat()}\nend = {self.end.isoformat()}\n"
        if self.solver:
            settings += "\n[solver]\n" + "".join(f"{k} = {v}\n" for k, v in sorted(self.solver.items()))
        (folder / "settings.toml").write_text(settings)
        return folder


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


# ----- derived facts of an instance (straight from docs/data.md) ------------------------------------------------


def kg_per_batch(product: dict[str, Any], train: dict[str, Any]) -> float:
    """Rule 1, evaluated in the same float order as the formula `volume_l × titer × yield / 1000`."""
    return float(train["volume_l"]) * float(product["titer_g_per_l"]) * float(product["yield"]) / 1000.0


def credited_grams(kg: float) -> int:
    """Whole grams the campaign model credits a batch with (docs/model.md: "grams, floored"); 1e-9 g absorbs
    float noise such as 5000 × 11.0926 / 1000 × 1000 = 55462.99999999999."""
    return math.floor(kg * 1000 + 1e-9)


def volume_fits(product: dict[str, Any], train: dict[str, Any]) -> bool:
    lo, hi = product.get("min_volume_l"), product.get("max_volume_l")
    v = float(train["volume_l"])
    return (lo is None or v >= lo) and (hi is None or v <= hi)


def fitting_trains(inst: FuzzInstance, product: dict[str, Any], site: str | None = None) -> list[dict[str, Any]]:
    """Trains of the product's modality inside its volume window (optionally only at `site`)."""
    return [
        t for t in inst.trains
        if t["modality"] == product["modality"] and volume_fits(product, t) and (site is None or t["plant"] == site)
    ]


def qualified_from(inst: FuzzInstance, product: str, plant: str) -> dt.date | None:
    dates = [q["qualified_from"] for q in inst.qualifications if q["product"] == product and q["plant"] == plant]
    return min(dates) if dates else None


def downtime_of(inst: FuzzInstance, train: dict[str, Any]) -> list[tuple[int, int]]:
    """Downtime rows affecting a train (its own, or its plant's with a blank train), in days from the start."""
    return [
        (inst.day(d["start"]), inst.day(d["end"]))
        for d in inst.downtime
        if (d["train"] == train["train"] if d["train"] else d["plant"] == train["plant"])
    ]


# ----- strategies -----------------------------------------------------------------------------------------------


def _nasty(nice: Iterable[float], lo: float, hi: float, decimals: int = 4) -> st.SearchStrategy[float]:
    """Mostly round values (shrinks to the first); sometimes an arbitrary one with up to `decimals` decimals."""
    return st.one_of(
        st.sampled_from(list(nice)),
        st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(lambda x: max(lo, round(x, decimals))),
    )


def _date(draw: st.DrawFn, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=draw(st.integers(0, max(0, (hi - lo).days))))


def _product(draw: st.DrawFn, name: str, modality: str, trains: list[dict], mab_products: list[dict]) -> dict:
    """A product whose volume window holds at least one train of its modality (rule 2 stays satisfiable)."""
    days = {"mAb": (2, 20), "ADC": (1, 6), "AAV": (2, 15)}[modality]
    product: dict[str, Any] = {
        "product": name,
        "client": draw(st.sampled_from(["C1", "C2"])),
        "modality": modality,
        "titer_g_per_l": draw(_nasty([2.0, 1.0, 4.0, 2.5, 10.0], 0.1, 12.0)),
        "yield": draw(_nasty([0.5, 1.0, 0.8, 0.65], 0.05, 1.0)),
        "batch_days": draw(st.integers(*days)),
        "tech_transfer_days": draw(st.one_of(st.none(), st.integers(0, 60))),
    }
    volumes = sorted({float(t["volume_l"]) for t in trains if t["modality"] == modality})
    anchor = draw(st.sampled_from(volumes))
    window = draw(st.sampled_from(["none", "none", "min", "max", "both", "exact"]))
    if window in ("min", "both"):
        product["min_volume_l"] = draw(st.sampled_from([anchor, anchor / 2]))
    if window in ("max", "both"):
        product["max_volume_l"] = draw(st.sampled_from([anchor, anchor * 2]))
    if window == "exact":
        product["min_volume_l"] = product["max_volume_l"] = anchor
    if modality == "ADC" and mab_products and draw(st.integers(0, 2)) > 0:
        product["intermediate"] = draw(st.sampled_from(mab_products))["product"]
        # 1.00000005: more decimals than the model's per-mille ratio (tests/fuzz_failures/adc-ratio-rounding)
        product["intermediate_kg_per_kg"] = draw(_nasty([1.25, 1.0, 2.0, 0.8, 3.0, 1.00000005], 0.2, 3.0, decimals=8))
        product["release_days"] = draw(st.integers(0, 10))
        product["max_hold_days"] = product["release_days"] + draw(st.integers(0, 60))
    return product


def _ensure_eligible(draw: st.DrawFn, inst: FuzzInstance, product: dict, site: str | None) -> None:
    """Make the product structurally eligible (validate.py's `_service_errors`) by adding a qualification."""
    trains = fitting_trains(inst, product, site)
    assert trains, f"strategy bug: no train fits {product['product']}"
    plants = sorted({t["plant"] for t in trains})
    if product["tech_transfer_days"] is not None:
        return
    if any(qualified_from(inst, product["product"], p) is not None for p in plants):
        return
    plant = draw(st.sampled_from(plants))
    when = LONG_AGO
    if draw(st.booleans()):
        when = _date(draw, inst.start - dt.timedelta(days=30), inst.end)
    inst.qualifications.append({"product": product["product"], "plant": plant, "qualified_from": when})


def _order(draw: st.DrawFn, inst: FuzzInstance, index: int, product: dict, unit_choice: list[str]) -> dict:
    days = inst.horizon
    unit = draw(st.sampled_from(unit_choice))
    trains = fitting_trains(inst, product)
    if unit == "batches":
        quantity: float = draw(st.integers(1, 4))
    else:
        per_batch = kg_per_batch(product, draw(st.sampled_from(trains)))
        quantity = draw(st.one_of(
            # exactly k batches of one train, rounded to grams or not: the boundary of rule 1
            st.sampled_from([1, 2, 3, 0.5, 1.5]).map(lambda k: round(k * per_batch, 3)),
            st.sampled_from([1, 2, 3]).map(lambda k: round(k * per_batch, 7)),
            st.floats(0.001, 4 * per_batch + 0.001, allow_nan=False).map(lambda x: round(x, 3)),
        ))
        quantity = max(0.001, quantity)
    release = inst.start + dt.timedelta(days=draw(st.integers(-20, days - 1)))
    due = release + dt.timedelta(days=draw(st.integers(0, days)))
    if draw(st.integers(0, 7)) == 0:  # overdue already: due before the horizon starts
        due = inst.start - dt.timedelta(days=draw(st.integers(1, 10)))
        release = due - dt.timedelta(days=draw(st.integers(0, 10)))
    firm = draw(st.sampled_from([True, True, False]))
    order: dict[str, Any] = {
        "order": f"O{index}",
        "client": product["client"],
        "product": product["product"],
        "quantity": quantity,
        "unit": unit,
        "release": release,
        "due": due,
        "weight": draw(st.sampled_from([1, 0, 2, 5, 0.5, 10])),
        "firm": firm,
        "revenue": None if firm else draw(st.sampled_from([5000, 0, 100, 50000, 200000, 12.5])),
    }
    sites = sorted({t["plant"] for t in trains})
    if draw(st.integers(0, 4)) == 0:
        order["plant"] = draw(st.sampled_from(sites))
    return order


@st.composite
def instances(draw: st.DrawFn, max_plants: int = 3, max_trains: int = 4, max_orders: int = 5) -> FuzzInstance:
    """A small valid instance mixing every feature of the data contract (see the module docstring)."""
    start = draw(st.sampled_from(STARTS))
    days = draw(st.one_of(st.integers(30, 120), st.integers(30, 365)))
    end = start + dt.timedelta(days=days)
    plants = []
    for i in range(draw(st.integers(1, max_plants))):
        online_from = LONG_AGO
        if draw(st.integers(0, 2)) == 0:
            online_from = _date(draw, start - dt.timedelta(days=10), end - dt.timedelta(days=1))
        online_until = None
        if draw(st.integers(0, 3)) == 0:
            online_until = _date(draw, max(online_from, start) + dt.timedelta(days=1), end + dt.timedelta(days=30))
        plants.append({"plant": f"P{i + 1}", "campus": "Songdo", "online_from": online_from,
                       "online_until": online_until})
    trains: list[dict[str, Any]] = []
    adc_site = max_trains >= 2 and draw(st.booleans())  # a mAb and an ADC train: ADC with intermediate
    for i in range(draw(st.integers(2 if adc_site else 1, max_trains))):
        if i >= 2 * adc_site and trains and draw(st.integers(0, 3)) == 0:  # a twin: a pool of two trains
            trains.append({**draw(st.sampled_from(trains)), "train": f"R{i + 1}"})
            continue
        modality = ("mAb", "ADC")[i] if i < 2 * adc_site else draw(st.sampled_from(MODALITIES))
        trains.append({
            "train": f"R{i + 1}",
            "plant": draw(st.sampled_from(plants))["plant"],
            "modality": modality,
            "volume_l": draw(st.sampled_from(VOLUMES[modality])),
            "turnaround_days": draw(st.integers(0, 3)),
            "changeover_days": draw(st.integers(0, 8)),
        })
    present = [m for m in MODALITIES if any(t["modality"] == m for t in trains)]
    products: list[dict[str, Any]] = []
    for modality in present:  # mAb first, so ADC products can use a mAb intermediate
        for _ in range(draw(st.integers(1, 2))):
            mabs = [p for p in products if p["modality"] == "mAb"]
            products.append(_product(draw, f"{modality.lower()}{len(products) + 1}", modality, trains, mabs))
    inst = FuzzInstance(start=start, end=end, plants=plants, trains=trains, products=products, orders=[])
    for p in products:
        for plant in plants:
            choice = draw(st.integers(0, 3))
            if choice == 1:
                inst.qualifications.append({"product": p["product"], "plant": plant["plant"],
                                            "qualified_from": LONG_AGO})
            elif choice == 2:
                inst.qualifications.append({"product": p["product"], "plant": plant["plant"],
                                            "qualified_from": _date(draw, start - dt.timedelta(days=5), end)})
    for i in range(draw(st.integers(1, max_orders))):
        product = draw(st.sampled_from(products))
        units = ["batches", "kg"] if product["modality"] == "AAV" else ["kg", "batches"]
        order = _order(draw, inst, i + 1, product, units)
        inst.orders.append(order)
        _ensure_eligible(draw, inst, product, order.get("plant"))
        if product.get("intermediate"):
            _ensure_eligible(draw, inst, inst.product(product["intermediate"]), None)
    for _ in range(draw(st.integers(0, 2))):
        plant = draw(st.sampled_from(plants))["plant"]
        own = [t["train"] for t in trains if t["plant"] == plant]
        train = draw(st.one_of(st.none(), st.sampled_from(own))) if own else None
        first = _date(draw, start - dt.timedelta(days=10), end)
        inst.downtime.append({"plant": plant, "train": train, "start": first,
                              "end": first + dt.timedelta(days=draw(st.integers(1, 40))),
                              "reason": draw(st.sampled_from(["shutdown", "maintenance"]))})
    inst.changeovers = _changeovers(draw, products)
    inst.solver = draw(st.sampled_from([{}, {}, {"max_campaigns_per_pool": 1}, {"max_campaigns_per_pool": 2},
                                        {"max_transfer_options": 0}, {"max_transfer_options": 1}]))
    return inst


def _changeovers(draw: st.DrawFn, products: list[dict]) -> list[dict] | None:
    if len(products) < 2 or draw(st.booleans()):
        return draw(st.sampled_from([None, []]))
    names = [p["product"] for p in products]
    rows: dict[tuple[str, str], int] = {}
    for _ in range(draw(st.integers(1, 3))):
        a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        if a != b:
            rows[(a, b)] = draw(st.integers(0, 15))
    return [{"from_product": a, "to_product": b, "days": d} for (a, b), d in rows.items()]


@st.composite
def single_train_instances(draw: st.DrawFn) -> FuzzInstance:
    """One plant, one mAb or AAV train, ≤ 3 orders of ≤ 3 batches each, a horizon of ≤ 80 days.

    Small enough for `model_optimum` and `rules_optimum` to enumerate; still mixes downtime, a plant coming
    online, qualification dates, tech transfer, tentative deals, kg and batch units and a changeover matrix.
    Releases and dues lie inside the horizon (see `model_optimum` for why).
    """
    start = draw(st.sampled_from(STARTS))
    days = draw(st.integers(15, 80))
    end = start + dt.timedelta(days=days)
    online_from = LONG_AGO
    if draw(st.booleans()):
        online_from = _date(draw, start, start + dt.timedelta(days=days // 3))
    online_until = None
    if draw(st.integers(0, 3)) == 0:
        online_until = _date(draw, max(online_from, start) + dt.timedelta(days=days // 2), end + dt.timedelta(days=5))
    plant = {"plant": "P1", "campus": "Songdo", "online_from": online_from, "online_until": online_until}
    modality = draw(st.sampled_from(["mAb", "AAV"]))
    train = {"train": "R1", "plant": "P1", "modality": modality, "volume_l": draw(st.sampled_from(VOLUMES[modality])),
             "turnaround_days": draw(st.integers(0, 3)), "changeover_days": draw(st.integers(0, 6))}
    products = []
    for i in range(draw(st.integers(1, 3))):
        p = _product(draw, f"p{i + 1}", modality, [train], [])
        p["batch_days"] = draw(st.integers(2, 10))
        products.append(p)
    inst = FuzzInstance(start=start, end=end, plants=[plant], trains=[train], products=products, orders=[])
    for p in products:
        choice = draw(st.integers(0, 2))
        if choice:
            when = LONG_AGO if choice == 1 else _date(draw, start, start + dt.timedelta(days=days // 2))
            inst.qualifications.append({"product": p["product"], "plant": "P1", "qualified_from": when})
    for i in range(draw(st.integers(1, 3))):
        product = draw(st.sampled_from(products))
        unit = draw(st.sampled_from(["batches", "kg"]))
        per_batch = kg_per_batch(product, train)
        if unit == "batches":
            quantity: float = draw(st.integers(1, 3))
        else:
            quantity = draw(st.one_of(
                st.sampled_from([1, 2, 3, 0.5, 1.5, 2.5]).map(lambda k, kg=per_batch: round(k * kg, 3)),
                st.floats(0.001, max(0.002, 3 * per_batch), allow_nan=False).map(lambda x: round(x, 3)),
            ))
            quantity = max(0.001, min(quantity, round(3 * per_batch, 3)))
        release = start + dt.timedelta(days=draw(st.integers(0, days - 1)))
        due = release + dt.timedelta(days=draw(st.integers(0, days)))
        firm = draw(st.sampled_from([True, True, False]))
        order = {"order": f"O{i + 1}", "client": product["client"], "product": product["product"],
                 "quantity": quantity, "unit": unit, "release": release, "due": due,
                 "weight": draw(st.sampled_from([1, 2, 0, 5, 0.5])), "firm": firm,
                 "revenue": None if firm else draw(st.sampled_from([5000, 0, 50000, 2_000_000])),
                 "plant": draw(st.sampled_from([None, None, None, "P1"]))}
        inst.orders.append(order)
        _ensure_eligible(draw, inst, product, None)
    while sum(n or 0 for n in _needed_batches(inst)) > 7:  # keep the enumeration small: the largest becomes 1 batch
        needs = _needed_batches(inst)
        biggest = max(range(len(needs)), key=lambda i: needs[i] or 0)
        inst.orders[biggest].update(unit="batches", quantity=1)
    for _ in range(draw(st.integers(0, 2))):
        first = _date(draw, start - dt.timedelta(days=5), end)
        inst.downtime.append({"plant": "P1", "train": draw(st.sampled_from([None, "R1"])), "start": first,
                              "end": first + dt.timedelta(days=draw(st.integers(1, 15))), "reason": "maintenance"})
    inst.changeovers = _changeovers(draw, products)
    return inst


@st.composite
def adc_pair_instances(draw: st.DrawFn) -> FuzzInstance:
    """One firm ADC order with an intermediate, one mAb train and one ADC train, nothing else in the way.

    For these `adc_simple_plan` writes a plan straight from rule 5 (every intermediate batch first, then the
    conjugation batches, back to back, on M1 and A1), which the checker must accept and whose objective
    `rules_bound` must not exceed. Boundaries: quantities that are exact multiples of a batch with sub-gram
    decimals, ratios above 1 or with 8 decimals, intermediate batches yielding just what rule 5 asks for, and
    sometimes a second conjugation train A2 of another volume.
    """
    start = draw(st.sampled_from(STARTS))
    days = draw(st.integers(40, 200))
    end = start + dt.timedelta(days=days)
    plant = {"plant": "P1", "campus": "Songdo", "online_from": LONG_AGO, "online_until": None}
    mab_train = {"train": "M1", "plant": "P1", "modality": "mAb", "volume_l": draw(st.sampled_from(VOLUMES["mAb"])),
                 "turnaround_days": draw(st.integers(0, 3)), "changeover_days": draw(st.integers(0, 5))}
    adc_train = {"train": "A1", "plant": "P1", "modality": "ADC", "volume_l": draw(st.sampled_from(VOLUMES["ADC"])),
                 "turnaround_days": draw(st.integers(0, 3)), "changeover_days": draw(st.integers(0, 5))}
    mab = _product(draw, "mab1", "mAb", [mab_train], [])
    adc = _product(draw, "adc2", "ADC", [adc_train], [mab])
    mab["client"] = adc["client"] = "C1"
    mab["tech_transfer_days"] = adc["tech_transfer_days"] = None
    mab["batch_days"] = draw(st.integers(2, 12))
    adc["intermediate"] = "mab1"
    adc["intermediate_kg_per_kg"] = draw(_nasty([1.25, 3.0, 1.0, 0.8, 1.00000005], 0.2, 4.0, decimals=8))
    adc["release_days"] = draw(st.integers(0, 10))
    adc["max_hold_days"] = adc["release_days"] + draw(st.integers(5, 90))
    per_batch = kg_per_batch(adc, adc_train)
    unit = draw(st.sampled_from(["kg", "batches"]))
    if unit == "batches":
        quantity: float = draw(st.integers(1, 4))
    else:
        quantity = draw(st.one_of(
            st.sampled_from([1, 2, 3]).map(lambda k: round(k * per_batch, 7)),
            st.sampled_from([1, 2, 3, 0.5, 1.5]).map(lambda k: round(k * per_batch, 3)),
            st.floats(0.001, max(0.002, 4 * per_batch), allow_nan=False).map(lambda x: round(x, 4)),
        ))
        quantity = max(0.001, quantity)
    if draw(st.integers(0, 2)) == 0:  # boundary: k intermediate batches yield just what rule 5 asks for
        conj = int(quantity) if unit == "batches" else _batches_for_kg(quantity, per_batch)
        k = draw(st.integers(1, 2))
        need = conj * per_batch * adc["intermediate_kg_per_kg"] * (1 + 1e-9) / k
        mab["titer_g_per_l"] = need * 1000 / (float(mab_train["volume_l"]) * mab["yield"])
    trains = [mab_train, adc_train]
    if draw(st.integers(0, 2)) == 0:  # a second conjugation suite of another volume (greedy-adc-mixed-volumes)
        other = [v for v in VOLUMES["ADC"] if v != adc_train["volume_l"] and volume_fits(adc, {"volume_l": v})]
        if other:
            trains.append({**adc_train, "train": "A2", "volume_l": draw(st.sampled_from(other))})
    release = start + dt.timedelta(days=draw(st.integers(0, days // 4)))
    order = {"order": "O1", "client": "C1", "product": "adc2", "quantity": quantity, "unit": unit,
             "release": release, "due": release + dt.timedelta(days=draw(st.integers(0, days // 2))),
             "weight": draw(st.sampled_from([1, 2, 0.5])), "firm": True, "revenue": None}
    quals = [{"product": p, "plant": "P1", "qualified_from": LONG_AGO} for p in ("mab1", "adc2")]
    return FuzzInstance(start=start, end=end, plants=[plant], trains=trains, products=[mab, adc],
                        orders=[order], qualifications=quals)


def adc_simple_plan(inst: FuzzInstance, plan: Path) -> float | None:
    """Write a rule-abiding plan for an `adc_pair_instances` instance; return its objective (None: no such plan).

    Conjugation batches: as few as reach the quantity (rule 1, the checker's 1e-6 kg tolerance); intermediate
    batches: as few as cover quantity_planned × intermediate_kg_per_kg (rule 5); all intermediate batches back to
    back from the release, then the conjugation batches back to back from the last intermediate end + release_days.
    Every conjugation batch consumes (FIFO) only from intermediate batches it starts within max_hold_days of, or
    there is no plan. Objective as the model's terms define it (no changeover is needed: one product per train).
    """
    (order,) = inst.orders
    adc, mab = inst.product("adc2"), inst.product("mab1")
    m_train, a_train = inst.train("M1"), inst.train("A1")
    kgc, kgi = kg_per_batch(adc, a_train), kg_per_batch(mab, m_train)
    conj = int(order["quantity"]) if order["unit"] == "batches" else _batches_for_kg(order["quantity"], kgc)
    need = conj * kgc * adc["intermediate_kg_per_kg"]
    inter = max(1, math.ceil(need / kgi - 1e-9))
    while inter * kgi < need - 1e-6:
        inter += 1
    while inter > 1 and (inter - 1) * kgi >= need - 1e-6:
        inter -= 1
    first = inst.day(order["release"])
    ci, cc = mab["batch_days"] + m_train["turnaround_days"], adc["batch_days"] + a_train["turnaround_days"]
    inter_ends = [first + j * ci + mab["batch_days"] for j in range(inter)]
    s0 = inter_ends[-1] + adc["release_days"]
    conj_starts = [s0 + i * cc for i in range(conj)]
    if conj_starts[-1] + adc["batch_days"] > inst.horizon:
        return None
    left, j = [kgi] * inter, 0
    for s in conj_starts:  # FIFO consumption, as rule 5 states it
        want = kgc * adc["intermediate_kg_per_kg"]
        while want > 1e-6 and j < inter:
            if s - inter_ends[j] > adc["max_hold_days"]:
                return None
            take = min(want, left[j])
            want, left[j] = want - take, left[j] - take
            if left[j] <= 1e-6:
                j += 1
    rows = [("M1", "mab1", "mAb", "intermediate", j + 1, e - mab["batch_days"], e, kgi)
            for j, e in enumerate(inter_ends)]
    rows += [("A1", "adc2", "ADC", "conjugation", i + 1, s, s + adc["batch_days"], kgc)
             for i, s in enumerate(conj_starts)]
    plan.mkdir(parents=True, exist_ok=True)
    with (plan / "gantt.csv").open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["plant", "train", "order", "client", "product", "modality", "step", "batch", "kind", "start", "end",
                    "kg", "from_product", "note"])
        for k, (train, product, modality, step, n, a, b, kg) in enumerate(rows):
            date = inst.start + dt.timedelta(days=a)
            w.writerow(["P1", train, "O1", "C1", product, modality, step, n, "batch", date.isoformat(),
                        (inst.start + dt.timedelta(days=b)).isoformat(), f"{kg:.3f}", "", ""])
            nxt = rows[k + 1] if k + 1 < len(rows) else None
            turnaround = inst.train(train)["turnaround_days"]
            if nxt is not None and nxt[0] == train and turnaround:
                w.writerow(["P1", train, "O1", "C1", product, modality, step, "", "changeover",
                            (inst.start + dt.timedelta(days=b)).isoformat(),
                            (inst.start + dt.timedelta(days=b + turnaround)).isoformat(), "", product, ""])
    (plan / "summary.json").write_text(json.dumps({"horizon": {"start": inst.start.isoformat(),
                                                               "end": inst.end.isoformat()}}))
    done = conj_starts[-1] + adc["batch_days"]
    return round(order["weight"] * WEIGHTS["late_day"]) * max(0, done - inst.day(order["due"]))


RULE_FILES = ("gantt.csv row", "order O1: intermediate", "order O1 (tentative)", "gantt.csv: no downtime")
"""Checker lines about rules 1-6 (the constructed plan writes no orders.csv / utilization.csv / KPIs)."""


def check_adc_bound(inst: FuzzInstance, folder: Path) -> tuple[list[str], bool]:
    """Findings for an `adc_pair_instances` instance, and whether a simple plan existed to compare with."""
    from planner.check import check_plan
    from planner.pipeline import PlanRequest, run_solve

    data_dir = inst.write(folder / "data")
    value = adc_simple_plan(inst, folder / "plan-simple")
    if value is None:
        return [], False
    findings = [f"simple: checker: {v}" for v in check_plan(data_dir, folder / "plan-simple").violations
                if v.startswith(RULE_FILES)]
    outcome = run_solve(PlanRequest(data_dir=data_dir, time_limit_s=3.0, workers=1, seed=0, method="greedy"))
    bound = outcome.result.rules_bound
    if not findings and bound is not None and bound > value + 0.5:
        findings.append(f"rules_bound {bound} above the objective {value} of a plan the checker accepts "
                        f"({folder / 'plan-simple'})")
    return findings, True


def features(inst: FuzzInstance) -> set[str]:
    """Which features of the data contract an instance exercises (the large run tallies them)."""
    out = set()
    products = {p["product"]: p for p in inst.products}
    for o in inst.orders:
        p = products[o["product"]]
        out.add(f"order {p['modality']} {o['unit']}")
        out.add("order firm" if o["firm"] else "order tentative")
        if p.get("intermediate"):
            out.add("ADC with intermediate")
        elif p["modality"] == "ADC":
            out.add("ADC client-supplied intermediate")
        if o.get("plant"):
            out.add("order plant pinned")
        if o["release"] < inst.start or o["due"] < inst.start:
            out.add("release or due before horizon")
    pools = {(t["plant"], t["modality"], t["volume_l"], t["turnaround_days"], t["changeover_days"])
             for t in inst.trains}
    if len(pools) < len(inst.trains):
        out.add("pool of 2+ trains")
    if any(d["train"] for d in inst.downtime):
        out.add("train downtime")
    if any(not d["train"] for d in inst.downtime):
        out.add("plant downtime")
    if any(p["online_from"] > inst.start for p in inst.plants):
        out.add("plant online inside horizon")
    if any(p["online_until"] for p in inst.plants):
        out.add("plant online_until")
    if inst.changeovers:
        out.add("changeover matrix")
    if any(inst.start < q["qualified_from"] < inst.end for q in inst.qualifications):
        out.add("qualified inside horizon")
    if any(p["tech_transfer_days"] is not None for p in inst.products):
        out.add("tech transfer")
    if any(p.get("min_volume_l") or p.get("max_volume_l") for p in inst.products):
        out.add("volume window")
    if inst.solver:
        out.add("solver settings")
    return out


# ----- brute force ----------------------------------------------------------------------------------------------


@dataclass
class _Job:
    """One order on the single train, as both brute forces see it."""

    order: dict[str, Any]
    firm: bool
    earliest: int | None  # None: it may never run on the train
    latest_end: int
    batch_days: int
    per_batch: float  # kg (or 1 for a batch order)
    due: int
    late_cost: int
    revenue: int
    product: str
    transfer_only: bool  # runs here only by tech transfer (no qualification row for the plant)


def bruteforce_applicable(inst: FuzzInstance) -> bool:
    """One train, no ADC, few batches: both enumerations stay below a second."""
    if len(inst.trains) != 1 or inst.trains[0]["modality"] == "ADC" or len(inst.orders) > 3:
        return False
    return sum(n for n in _needed_batches(inst) if n is not None) <= 7


def _needed_batches(inst: FuzzInstance) -> list[int | None]:
    train = inst.trains[0]
    out: list[int | None] = []
    for o in inst.orders:
        p = inst.product(o["product"])
        if p["modality"] != train["modality"]:
            out.append(None)
        elif o["unit"] == "batches":
            out.append(int(o["quantity"]))
        else:
            out.append(_batches_for_kg(float(o["quantity"]), kg_per_batch(p, train)))
    return out


def _batches_for_kg(quantity: float, per_batch: float) -> int:
    """Fewest batches whose output reaches the quantity (the checker's tolerance 1e-6 kg)."""
    n = max(1, math.ceil(quantity / per_batch - 1e-9))
    while n * per_batch < quantity - 1e-6:
        n += 1
    while n > 1 and (n - 1) * per_batch >= quantity - 1e-6:
        n -= 1
    return n


def _jobs(inst: FuzzInstance) -> tuple[list[_Job], int, tuple[int, int]]:
    """Per order: where and when it may run on the one train (rules 2, 3, 6); the horizon; the online window."""
    train = inst.trains[0]
    plant = inst.plant(train["plant"])
    horizon = inst.horizon
    on = inst.day(plant["online_from"])
    off = inst.day(plant["online_until"]) if plant["online_until"] else horizon
    jobs = []
    for o in inst.orders:
        p = inst.product(o["product"])
        release = inst.day(o["release"])
        first: int | None
        since = qualified_from(inst, p["product"], plant["plant"])
        if since is not None:
            first = inst.day(since)
        elif p["tech_transfer_days"] is not None:
            first = release + p["tech_transfer_days"]
        else:
            first = None
        ok = (p["modality"] == train["modality"] and volume_fits(p, train) and first is not None
              and (o.get("plant") in (None, plant["plant"])))
        jobs.append(_Job(
            order=o, firm=o["firm"], earliest=max(0, on, release, first) if ok and first is not None else None,
            latest_end=min(horizon, off), batch_days=p["batch_days"],
            per_batch=1.0 if o["unit"] == "batches" else kg_per_batch(p, train), due=inst.day(o["due"]),
            late_cost=round(o["weight"] * WEIGHTS["late_day"]), revenue=round(o["revenue"] or 0),
            product=p["product"], transfer_only=since is None,
        ))
    return jobs, horizon, (max(0, on), min(horizon, off))


def _earliest_clear(lo: int, length: int, blocked: list[tuple[int, int]]) -> int:
    """First day ≥ lo where [day, day + length) overlaps no blocked interval."""
    s = lo
    moved = True
    while moved:
        moved = False
        for a, b in blocked:
            if s < b and a < s + length:
                s, moved = b, True
    return s


def _changeover(inst: FuzzInstance, before: str, after: str) -> int:
    train = inst.trains[0]
    if before == after:
        return train["turnaround_days"]
    for c in inst.changeovers or []:
        if (c["from_product"], c["to_product"]) == (before, after):
            return c["days"]
    return train["changeover_days"]


@dataclass
class Optimum:
    weighted: float  # min of the weighted objective
    lexicographic: float  # min of the weighted objective among plans with the least unmet per-mille
    least_unmet: int
    plans: int  # plans enumerated


def model_optimum(inst: FuzzInstance) -> Optimum:
    """Optimum of the campaign model (docs/model.md) on a one-train instance, by enumeration.

    Semantics taken from docs/model.md, not from model.py: on one train (a pool of size 1) every order step has
    min(max_campaigns_per_pool, size, N) = 1 campaign slot, so an order runs as at most one campaign of n
    consecutive batches, batch i at σ + i·c with c = batch_days + turnaround. A present campaign occupies
    [σ, σ + c·n − turnaround + tail) with tail = max(turnaround, changeover_days, matrix changeovers *from* its
    product); these intervals and the downtime (clipped to the horizon and the plant's online window) never
    overlap; σ ≥ e = max(release, qualified_from or release + tech transfer, online_from, horizon start) and the
    last batch ends by l = min(horizon end, online_until). Output per batch u = 1 (batch order) or ⌊kg·1000⌋ g
    ("grams, floored": a batch of under a gram counts 0, so such an order cannot be served),
    demand = quantity or ⌈kg·1000⌉ g, supplied = u·n ≤ demand + u − 1. Firm: U = ⌈1000·max(0, demand −
    supplied)/demand⌉ per-mille, lateness L = max(0, C − due) with C the last batch end (C ≥ 0 when absent: a
    firm order due before the horizon pays lateness even when unplanned; the tiny strategy keeps dues inside).
    Tentative: present ⇔ accepted ⇒ supplied ≥ demand and C ≤ due. With max_transfer_options = 0 a train reachable
    only by tech transfer is pruned (docs/model.md, Pruning). Objective = 10⁷·ΣU + Σ round(1000·weight)·L −
    Σ round(revenue)·a + 10·changeover_days·(number of campaigns).

    For a fixed sequence of campaigns, starting each as early as allowed after the previous one minimises every
    completion (any feasible start is ≥ the earliest one, by induction), and the objective only grows with
    completions; so enumerating batch counts × present orders × sequences, each left-shifted, is exhaustive.
    `lexicographic` is what the two-phase search optimises (least unmet first); `weighted` is the plain sum.
    """
    jobs, horizon, online = _jobs(inst)
    for j in jobs:  # pruning: max_transfer_options = 0 keeps no pool reachable only by tech transfer
        if j.transfer_only and inst.solver.get("max_transfer_options", 6) == 0:
            j.earliest = None
    train = inst.trains[0]
    ta = train["turnaround_days"]
    down = [(max(a, online[0]), min(b, online[1])) for a, b in downtime_of(inst, train)]
    down = [(a, b) for a, b in down if a < b]
    matrix_from = {c["from_product"]: [] for c in inst.changeovers or []}
    for c in inst.changeovers or []:
        matrix_from[c["from_product"]].append(c["days"])
    choices: list[list[int]] = []
    for j in jobs:
        demand = round(j.order["quantity"]) if j.order["unit"] == "batches" else math.ceil(
            j.order["quantity"] * 1000 - 1e-9)
        u = 1 if j.order["unit"] == "batches" else credited_grams(j.per_batch)
        j.order["_demand"], j.order["_u"] = demand, u
        counts = [0]
        if j.earliest is not None and u > 0:  # a batch of under one gram delivers nothing in grams
            n = 1
            while u * n <= demand + u - 1:
                if not j.firm and u * n < demand:
                    n += 1
                    continue
                counts.append(n)
                n += 1
        choices.append(counts)
    best_w, best_lex, least_u, plans = math.inf, math.inf, None, 0
    for counts in itertools.product(*choices):
        present = [i for i, n in enumerate(counts) if n]
        for seq in itertools.permutations(present):
            done = _left_shift_campaigns(jobs, counts, seq, ta, train, down, matrix_from)
            if done is None:
                continue
            plans += 1
            unmet, value = 0, 0.0
            for i, j in enumerate(jobs):
                demand, u = j.order["_demand"], j.order["_u"]
                if j.firm:
                    short = max(0, demand - u * counts[i])
                    unmet += -(-1000 * short // demand)
                    value += j.late_cost * max(0, done.get(i, 0) - j.due)
                elif counts[i]:
                    if done[i] > j.due:
                        break
                    value -= j.revenue * WEIGHTS["revenue_k"]
            else:
                value += WEIGHTS["unmet_permille"] * unmet
                value += WEIGHTS["changeover_day"] * train["changeover_days"] * len(present)
                best_w = min(best_w, value)
                if least_u is None or unmet < least_u:
                    least_u, best_lex = unmet, value
                elif unmet == least_u:
                    best_lex = min(best_lex, value)
    return Optimum(best_w, best_lex, least_u if least_u is not None else -1, plans)


def _left_shift_campaigns(
    jobs: list[_Job], counts: tuple[int, ...], seq: tuple[int, ...], ta: int, train: dict,
    down: list[tuple[int, int]], matrix_from: dict[str, list[int]],
) -> dict[int, int] | None:
    free = 0
    done: dict[int, int] = {}
    for i in seq:
        j, n = jobs[i], counts[i]
        assert j.earliest is not None
        cycle = j.batch_days + ta
        tail = max([ta, train["changeover_days"], *matrix_from.get(j.product, [])])
        length = cycle * n - ta + tail
        s = _earliest_clear(max(j.earliest, free), length, down)
        last_end = s + cycle * n - ta
        if s > j.latest_end - j.batch_days or last_end > j.latest_end:
            return None
        free, done[i] = s + length, last_end
    return done


def rules_optimum(inst: FuzzInstance) -> float:
    """Least objective without the changeover term over *every* one-train plan obeying rules 1-6 (docs/data.md).

    Not restricted to campaigns: any sequence of single batches of any orders. Between consecutive batches
    the train needs the turnaround (same product) or the changeover (matrix, else the train's); the plan shows
    that cleaning as a changeover row, which like a batch may not overlap downtime (the checker's reading of
    rule 4). Every batch starts ≥ release, ≥ qualified_from (or release + tech transfer), ≥ online_from and the
    horizon start, ends ≤ online_until and the horizon end. Objective as the model defines its terms, less
    changeovers: 10⁷·Σ_firm ⌈1000·shortfall/quantity⌉ + Σ_firm round(1000·weight)·days late − Σ_accepted
    round(revenue); a deal is accepted only whole and on time.

    For a fixed batch sequence each batch plus its following cleaning is one block, and left-shifting blocks
    minimises every completion (as in `model_optimum`). Batch counts above what an order needs never help.
    """
    jobs, horizon, _ = _jobs(inst)
    train = inst.trains[0]
    down = downtime_of(inst, train)
    need = _needed_batches(inst)
    choices: list[list[int]] = []
    for j, n in zip(jobs, need, strict=True):
        if j.earliest is None or n is None:
            choices.append([0])
        elif j.firm:
            choices.append(list(range(n + 1)))
        else:
            choices.append([0, n])
    best = math.inf
    for counts in itertools.product(*choices):
        bag = [i for i, n in enumerate(counts) for _ in range(n)]
        for seq in set(itertools.permutations(bag)):
            done = _left_shift_batches(inst, jobs, seq, down)
            if done is None:
                continue
            value = 0.0
            for i, j in enumerate(jobs):
                if j.firm:
                    q = float(j.order["quantity"])
                    got = counts[i] * j.per_batch
                    if got < q - 1e-6:
                        value += WEIGHTS["unmet_permille"] * max(1, math.ceil(1000 * (q - got) / q - 1e-9))
                    value += j.late_cost * max(0, done[i] - j.due) if i in done else 0
                elif counts[i]:
                    if done[i] > j.due:
                        break
                    value -= j.revenue * WEIGHTS["revenue_k"]
            else:
                best = min(best, value)
    return best


def _left_shift_batches(
    inst: FuzzInstance, jobs: list[_Job], seq: tuple[int, ...], down: list[tuple[int, int]]
) -> dict[int, int] | None:
    free = 0
    done: dict[int, int] = {}
    for k, i in enumerate(seq):
        j = jobs[i]
        assert j.earliest is not None
        gap = _changeover(inst, j.product, jobs[seq[k + 1]].product) if k + 1 < len(seq) else 0
        s = _earliest_clear(max(j.earliest, free), j.batch_days + gap, down)
        if s + j.batch_days > j.latest_end:
            return None
        free = s + j.batch_days + gap
        done[i] = s + j.batch_days
    return done


# ----- the harness ----------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    """What one instance gave: findings (empty = fine) and counters for the large run's report."""

    findings: list[str] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    plans_checked: int = 0
    no_plan: int = 0
    cross_checked: bool = False
    notes: list[str] = field(default_factory=list)
    causes: set[str] = field(default_factory=set)  # KNOWN_BUGS this instance can trigger
    new: list[str] = field(default_factory=list)  # findings no known bug accounts for


def check_instance(
    inst: FuzzInstance, folder: Path, time_limit_s: float = 3.0, methods: tuple[str, ...] = ("cpsat", "greedy"),
    bruteforce: bool = True,
) -> Verdict:
    """Write, validate, solve with each method, check each plan; cross-check tiny ones against brute force."""
    from planner.check import check_plan
    from planner.load import InputErrors
    from planner.pipeline import PlanRequest, run_solve
    from planner.validate import load_valid

    verdict = Verdict()
    data_dir = inst.write(folder / "data")
    try:
        load_valid(data_dir)
    except InputErrors as exc:
        verdict.findings.append(f"strategy: invalid instance: {exc}")
        return verdict
    summaries: dict[str, dict] = {}
    for method in methods:
        out = folder / f"plan-{method}"
        try:
            outcome = run_solve(PlanRequest(data_dir=data_dir, out=out, time_limit_s=time_limit_s, workers=1, seed=0,
                                            method=method))
        except Exception as exc:  # noqa: BLE001 - a crash is a finding, reported with its traceback
            tb = traceback.format_exception(exc)
            verdict.findings.append(f"{method}: crash {type(exc).__name__}: {exc} | {''.join(tb[-3:]).strip()}")
            verdict.statuses[method] = "crash"
            continue
        status = outcome.result.status
        verdict.statuses[method] = status
        if outcome.plan is None:
            verdict.no_plan += 1
            if outcome.result.has_plan or out.exists():
                verdict.findings.append(f"{method}: no plan returned but status {status} / folder written")
            # The greedy plan is always a point of the model (greedy.py docstring), so 'no plan' is itself a bug.
            verdict.findings.append(f"{method}: no plan (status {status})")
            continue
        report = check_plan(data_dir, out)
        verdict.plans_checked += 1
        verdict.findings += [f"{method}: checker: {v}" for v in report.violations]
        summary = json.loads((out / "summary.json").read_text())
        summaries[method] = summary
        verdict.findings += [f"{method}: summary: {p}" for p in _summary_problems(inst, out, summary)]
    cp, gr = summaries.get("cpsat"), summaries.get("greedy")
    if (cp and gr and cp["status"] == "OPTIMAL" and gr["objective"] < cp["objective"] - 0.5
            and gr["objective_terms"]["unmet_permille"] <= cp["objective_terms"]["unmet_permille"]):
        verdict.findings.append(f"greedy objective {gr['objective']} below the OPTIMAL CP-SAT objective "
                                f"{cp['objective']} at no more unmet demand")
    if bruteforce and cp and bruteforce_applicable(inst):
        verdict.cross_checked = True
        _cross_check(inst, summaries, verdict)
    for method, s in summaries.items():
        for o in inst.orders:
            charged = o["firm"] and o["weight"] and o["due"] < inst.start and s["objective_terms"]["late"]
            if charged and _status(folder / f"plan-{method}", o["order"]) == "unplanned":
                verdict.notes.append(f"late-unplanned: {method}: objective_terms.late counts {o['order']} (due "
                                     f"{o['due']} before the horizon) although it has no batch")
    verdict.causes = known_causes(inst, folder)
    verdict.new = unexplained(verdict.findings, verdict.causes)
    return verdict


def _status(plan: Path, order: str) -> str:
    with (plan / "orders.csv").open() as f:
        return next(r["status"] for r in csv.DictReader(f) if r["order"] == order)


KNOWN_BUGS: dict[str, str] = {}
"""Bugs found by this fuzzing and not fixed yet (name -> diagnosis); each gets a reproducer in
tests/fuzz_failures/<name>/, an xfail(strict) test in tests/test_fuzz.py, an entry in SIGNATURES and a test of
its data in `known_causes`. None is open: fixed and kept as plain regression tests are rounded-status(-met),
subgram-output, greedy-adc-mixed-volumes, adc-ratio-rounding, rules-bound-adc (a3cba07) and
deal-due-before-horizon, subgram-dropped, bound-one-gram (fixed after the fuzz run that found them)."""

SIGNATURES: dict[str, tuple[str, ...]] = {}


def known_causes(inst: FuzzInstance, folder: Path) -> set[str]:
    """Which KNOWN_BUGS this instance can trigger, judged from its data alone (`folder` holds its plans).

    Empty while no bug is open; add a test of the instance's data here together with a KNOWN_BUGS entry.
    """
    return set()


def explaining(findings: list[str], causes: set[str]) -> set[str]:
    """The known causes of this instance that account for at least one of its findings."""
    return {c for c in causes if any(sig in f for f in findings for sig in SIGNATURES[c])}


def unexplained(findings: list[str], causes: set[str]) -> list[str]:
    """Findings that no known bug of this instance accounts for (the ones a test must fail on)."""
    return [f for f in findings if not any(sig in f for c in causes for sig in SIGNATURES[c])]


def _summary_problems(inst: FuzzInstance, out: Path, s: dict) -> list[str]:
    """Summary facts that must hold for every plan, re-derived from the instance and the written CSVs."""
    problems = []
    terms = s["objective_terms"]
    weighted = (WEIGHTS["unmet_permille"] * terms["unmet_permille"] + terms["late"]
                - WEIGHTS["revenue_k"] * terms["revenue"] + WEIGHTS["changeover_day"] * terms["changeover_days"])
    if abs(weighted - s["objective"]) > 0.5:
        problems.append(f"objective {s['objective']} != weighted terms {weighted} ({terms})")
    if s["best_bound"] is not None and s["best_bound"] > s["objective"] + 0.5:
        problems.append(f"best_bound {s['best_bound']} above objective {s['objective']}")
    if s["rules_bound"] is not None and s["rules_bound"] > s["objective"] + 0.5:
        problems.append(f"rules_bound {s['rules_bound']} above objective {s['objective']} (valid for any plan)")
    with (out / "orders.csv").open() as f:
        rows = {r["order"]: r for r in csv.DictReader(f)}
    with (out / "gantt.csv").open() as f:
        gantt = [r for r in csv.DictReader(f) if r["kind"] == "batch"]
    revenue = sum(round(o["revenue"] or 0) for o in inst.orders
                  if not o["firm"] and rows[o["order"]]["status"] != "declined")
    if terms["revenue"] != revenue:
        problems.append(f"objective_terms.revenue {terms['revenue']} != accepted revenue {revenue} in orders.csv")
    unmet, late, true_unmet = 0, 0, 0
    for o in inst.orders:
        if not o["firm"]:
            continue
        product = inst.product(o["product"])
        final = [r for r in gantt if r["order"] == o["order"] and r["step"] == FINAL_STEP[product["modality"]]]
        if o["unit"] == "batches":
            demand, supplied = round(o["quantity"]), len(final)
        else:
            demand = math.ceil(o["quantity"] * 1000 - 1e-9)
            supplied = sum(credited_grams(kg_per_batch(product, inst.train(r["train"]))) for r in final)
            got = sum(kg_per_batch(product, inst.train(r["train"])) for r in final)
            if got < o["quantity"] - 1e-6:
                true_unmet += max(1, math.ceil(1000 * (o["quantity"] - got) / o["quantity"] - 1e-9))
        unmet += -(-1000 * max(0, demand - supplied) // demand)
        if o["unit"] == "batches":
            true_unmet += -(-1000 * max(0, demand - supplied) // demand)
        done = inst.day(dt.date.fromisoformat(rows[o["order"]]["completion"])) if final else 0
        late += round(o["weight"] * WEIGHTS["late_day"]) * max(0, done - inst.day(o["due"]))
    if terms["unmet_permille"] < true_unmet:
        problems.append(f"objective_terms.unmet_permille {terms['unmet_permille']} below the per-mille the plan "
                        f"really leaves unmet ({true_unmet}, from kg = volume x titer x yield / 1000)")
    exact = s["status"] == "OPTIMAL"
    for name, want in (("unmet_permille", unmet), ("late", late)):
        if terms[name] < want or (exact and terms[name] != want):
            problems.append(f"objective_terms.{name} {terms[name]} but the plan gives {want} "
                            f"({'must be equal at OPTIMAL' if exact else 'a lower bound'})")
    return problems


def _cross_check(inst: FuzzInstance, summaries: dict[str, dict], verdict: Verdict) -> None:
    """Compare CP-SAT / greedy / bounds with the two brute-force optima (see `model_optimum`, `rules_optimum`)."""
    model = model_optimum(inst)
    rules = rules_optimum(inst)
    tol = 0.5  # every term is an integer; CP-SAT reports e.g. 20000000060.000004 for 20000000060
    for method, s in summaries.items():
        obj = s["objective"]
        if obj < model.weighted - tol:
            verdict.findings.append(f"{method}: objective {obj} below the brute-force model optimum {model.weighted}")
        plan_rules = obj - WEIGHTS["changeover_day"] * s["objective_terms"]["changeover_days"]
        if plan_rules < rules - tol:
            verdict.findings.append(f"{method}: objective without changeovers {plan_rules} below the brute-force "
                                    f"rules optimum {rules}")
        if s["rules_bound"] is not None and s["rules_bound"] > rules + tol:
            verdict.findings.append(f"rules_bound {s['rules_bound']} above the brute-force rules optimum {rules} "
                                    "(it claims validity for any plan)")
    cp = summaries["cpsat"]
    if cp["best_bound"] is not None and cp["best_bound"] > model.weighted + tol:
        verdict.findings.append(f"cpsat: best_bound {cp['best_bound']} above the model optimum {model.weighted}")
    if cp["status"] == "OPTIMAL" and abs(cp["objective"] - model.lexicographic) > tol:
        verdict.findings.append(f"cpsat: OPTIMAL objective {cp['objective']} != brute-force optimum "
                                f"{model.lexicographic} (least unmet first; weighted optimum {model.weighted})")
    if cp["status"] == "OPTIMAL" and model.weighted < model.lexicographic - tol:
        verdict.notes.append(f"lexicographic: OPTIMAL {cp['objective']} but a plan with more unmet demand scores "
                             f"{model.weighted}")
