"""Validate step: cross-row and cross-table rules of the data contract.

Runs after `load` (cells are typed) and before `expand`; an input that passes here can be expanded and
modelled without surprises. Every problem is reported, not just the first, located by `ProblemData.where`
(`orders.csv row 3`, or `site.xlsx sheet orders row 3` for workbook input).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from pydantic import ValidationError

from planner.load import (
    FIRST_DATE,
    LAST_DATE,
    MAX_DAYS,
    InputError,
    InputErrors,
    Order,
    ProblemData,
    Product,
    SolverSettings,
    Train,
    load_data,
)

OBJECTIVE_LIMIT = 2**53
"""Largest objective the data may make possible: the solver's 64-bit integers hold it with room to spare, and
the summary's floats hold it exactly."""


def _duplicates(file: str, column: str, rows: list, key, what=None) -> list[InputError]:
    seen = Counter(key(r) for r in rows)
    what = what or (lambda k: f"duplicate {column} {k!r}")
    return [InputError(file, r.row, column, what(key(r))) for r in rows if seen[key(r)] > 1]


def volume_fits(product: Product, volume_l: float) -> bool:
    """Rule 2: a train's working volume lies inside the product's qualified scale window."""
    if product.min_volume_l is not None and volume_l < product.min_volume_l:
        return False
    return product.max_volume_l is None or volume_l <= product.max_volume_l


def structurally_eligible(data: ProblemData, product: Product, site: str | None) -> list[Train]:
    """Trains that could ever run this product, ignoring dates (rules 2, 3, 6).

    A train qualifies when its modality and volume fit and its plant is either qualified for the product
    or reachable by tech transfer; `site` restricts to one plant (an order's contracted plant).
    """
    qualified = {q.plant for q in data.qualifications if q.product == product.product}
    transferable = product.tech_transfer_days is not None
    return [
        t
        for t in data.trains
        if t.modality == product.modality
        and volume_fits(product, t.volume_l)
        and (site is None or t.plant == site)
        and (t.plant in qualified or transferable)
    ]


def _reference_errors(data: ProblemData) -> list[InputError]:
    errors: list[InputError] = []
    plants = {p.plant for p in data.plants}
    trains = {t.train: t for t in data.trains}
    products = {p.product: p for p in data.products}
    for t in data.trains:
        if t.plant not in plants:
            errors.append(InputError(data.where("trains.csv"), t.row, "plant", f"unknown plant {t.plant!r}"))
    for p in data.products:
        errors.extend(_product_errors(p, products, data.where("products.csv")))
    for o in data.orders:
        errors.extend(_order_errors(o, products, plants, data.where("orders.csv")))
    f = data.where("qualifications.csv")
    for q in data.qualifications:
        if q.product not in products:
            errors.append(InputError(f, q.row, "product", f"unknown product {q.product!r}"))
        if q.plant not in plants:
            errors.append(InputError(f, q.row, "plant", f"unknown plant {q.plant!r}"))
    f = data.where("downtime.csv")
    for d in data.downtime:
        if d.plant not in plants:
            errors.append(InputError(f, d.row, "plant", f"unknown plant {d.plant!r}"))
        if d.train is not None:
            if d.train not in trains:
                errors.append(InputError(f, d.row, "train", f"unknown train {d.train!r}"))
            elif trains[d.train].plant != d.plant:
                errors.append(
                    InputError(
                        f, d.row, "train",
                        f"train {d.train!r} stands in plant {trains[d.train].plant!r}, not {d.plant!r}",
                    )
                )
        if d.end <= d.start:
            errors.append(InputError(f, d.row, "end", f"end {d.end} is not after start {d.start}"))
    f = data.where("changeovers.csv")
    for c in data.changeovers:
        for column in ("from_product", "to_product"):
            value = getattr(c, column)
            if value not in products:
                errors.append(InputError(f, c.row, column, f"unknown product {value!r}"))
        if c.from_product == c.to_product:
            errors.append(InputError(f, c.row, "to_product", "same as from_product; use turnaround_days"))
    for p in data.plants:
        if p.online_until is not None and p.online_until <= p.online_from:
            errors.append(
                InputError(
                    data.where("plants.csv"), p.row, "online_until",
                    f"online_until {p.online_until} is not after online_from {p.online_from}",
                )
            )
    return errors


ADC_COLUMNS = ("intermediate_kg_per_kg", "release_days", "max_hold_days")


def _product_errors(p: Product, products: dict[str, Product], f: str = "products.csv") -> list[InputError]:
    errors: list[InputError] = []
    if p.min_volume_l is not None and p.max_volume_l is not None and p.min_volume_l > p.max_volume_l:
        errors.append(InputError(f, p.row, "max_volume_l", f"max_volume_l {p.max_volume_l:g} is below min_volume_l"))
    if p.intermediate is None:
        for column in ADC_COLUMNS:
            if getattr(p, column) is not None:
                errors.append(
                    InputError(
                        f, p.row, column,
                        "only an ADC with an intermediate uses this; name the intermediate or leave the cell blank",
                    )
                )
        return errors
    if p.modality != "ADC":
        errors.append(InputError(f, p.row, "intermediate", f"only ADC products have an intermediate ({p.modality})"))
        return errors
    if p.intermediate not in products:
        errors.append(InputError(f, p.row, "intermediate", f"unknown product {p.intermediate!r}"))
    elif products[p.intermediate].modality != "mAb":
        errors.append(InputError(f, p.row, "intermediate", f"intermediate {p.intermediate!r} is not a mAb product"))
    for column in ADC_COLUMNS:
        if getattr(p, column) is None:
            errors.append(InputError(f, p.row, column, "a value is required for an ADC with an intermediate"))
    if p.release_days is not None and p.max_hold_days is not None and p.max_hold_days < p.release_days:
        errors.append(InputError(f, p.row, "max_hold_days", f"max_hold_days {p.max_hold_days} is below release_days"))
    return errors


def _order_errors(
    o: Order, products: dict[str, Product], plants: set[str], f: str = "orders.csv"
) -> list[InputError]:
    errors: list[InputError] = []
    product = products.get(o.product)
    if product is None:
        errors.append(InputError(f, o.row, "product", f"unknown product {o.product!r}"))
    elif product.client != o.client:
        errors.append(
            InputError(
                f, o.row, "client", f"product {o.product!r} belongs to client {product.client!r}, not {o.client!r}"
            )
        )
    if o.plant is not None and o.plant not in plants:
        errors.append(InputError(f, o.row, "plant", f"unknown plant {o.plant!r}"))
    if o.due < o.release:
        errors.append(InputError(f, o.row, "due", f"due {o.due} is before release {o.release}"))
    if o.unit == "batches" and o.quantity != int(o.quantity):
        errors.append(InputError(f, o.row, "quantity", f"a batch order needs a whole number (got {o.quantity:g})"))
    return errors


def _service_errors(data: ProblemData) -> list[InputError]:
    """An order that no train could ever serve is an input error, caught before any solve."""
    errors: list[InputError] = []
    products = {p.product: p for p in data.products}
    plants = {p.plant for p in data.plants}
    f = data.where("orders.csv")
    for o in data.orders:
        product = products.get(o.product)
        if product is None or (o.plant is not None and o.plant not in plants):
            continue
        if not structurally_eligible(data, product, o.plant):
            where = f" at plant {o.plant}" if o.plant else ""
            errors.append(
                InputError(
                    f, o.row, "product",
                    f"no train could ever run {o.product} ({product.modality}){where}: "
                    "check modality, volume window, qualifications and tech_transfer_days",
                )
            )
        intermediate = products.get(product.intermediate or "")
        if intermediate is not None and not structurally_eligible(data, intermediate, None):
            errors.append(
                InputError(
                    f, o.row, "product",
                    f"no train could ever run the intermediate {intermediate.product} of {o.product}",
                )
            )
    return errors


def validate(data: ProblemData) -> list[InputError]:
    """Return every cross-table problem of a loaded data set (empty list = valid)."""
    errors: list[InputError] = []
    w = data.where
    errors += _duplicates(w("plants.csv"), "plant", data.plants, lambda r: r.plant)
    errors += _duplicates(w("trains.csv"), "train", data.trains, lambda r: r.train)
    errors += _duplicates(w("products.csv"), "product", data.products, lambda r: r.product)
    errors += _duplicates(w("orders.csv"), "order", data.orders, lambda r: r.order)
    errors += _duplicates(
        w("qualifications.csv"), "plant", data.qualifications, lambda r: (r.product, r.plant),
        lambda k: f"duplicate qualification of {k[0]!r} at plant {k[1]!r}",
    )
    errors += _duplicates(
        w("changeovers.csv"), "to_product", data.changeovers, lambda r: (r.from_product, r.to_product),
        lambda k: f"duplicate changeover from {k[0]!r} to {k[1]!r}",
    )
    errors += _reference_errors(data)
    if not errors:
        errors += _service_errors(data)
    horizon = data.settings.horizon
    problem = horizon_problem(horizon.start, horizon.end)
    if problem is not None:
        errors.append(InputError(w("settings.toml"), None, None, problem))
    errors += _objective_errors(data)
    return errors


def horizon_problem(start: dt.date, end: dt.date) -> str | None:
    """Why [start, end) is no planning horizon (None when it is); also for the CLI's --start and --end."""
    for name, day in (("horizon.start", start), ("horizon.end", end)):
        if not FIRST_DATE <= day <= LAST_DATE:
            return f"{name} {day} is not a date from {FIRST_DATE} to {LAST_DATE}"
    if end <= start:
        return f"horizon.end {end} is not after horizon.start"
    if (end - start).days > MAX_DAYS:
        return f"horizon.end {end} is more than {MAX_DAYS} days (100 years) after horizon.start {start}"
    return None


SOLVER_OPTIONS = {"time_limit_s": "--time-limit", "workers": "--workers", "seed": "--seed"}


def solver_problem(
    time_limit_s: float | None = None, workers: int | None = None, seed: int | None = None
) -> str | None:
    """Why command-line solver options lie outside what settings.toml allows (None when they are fine)."""
    given = {"time_limit_s": time_limit_s, "workers": workers, "seed": seed}
    try:
        SolverSettings.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        message = error["msg"][0].lower() + error["msg"][1:]
        return f"{SOLVER_OPTIONS[str(error['loc'][0])]} {error['input']!r}: {message}"
    return None


def _objective_errors(data: ProblemData) -> list[InputError]:
    """The weights and orders must keep every objective value the model can reach below OBJECTIVE_LIMIT.

    Worst case over any horizon allowed: every firm order entirely unmet and late by MAX_DAYS, every
    tentative deal won. Each cell is bounded by the loader; only their sum over many orders can overflow.
    """
    w = data.settings.weights
    firm = [o for o in data.orders if o.firm]
    terms = {
        "weights.unmet_permille": w.unmet_permille * 1000 * len(firm),
        "weights.late_day and the orders' weight": sum(round(o.weight * w.late_day) for o in firm) * MAX_DAYS,
        "weights.revenue_k and the orders' revenue": w.revenue_k * sum(round(o.revenue) for o in data.orders),
    }
    total = sum(terms.values())
    if total <= OBJECTIVE_LIMIT:
        return []
    largest = max(terms, key=lambda k: terms[k])
    return [
        InputError(
            data.where("settings.toml"), None, None,
            f"weights too large for these orders: the objective could reach {total:.1e}, above {OBJECTIVE_LIMIT:.1e}; "
            f"lower {largest}",
        )
    ]


def load_valid(path: Path | str) -> ProblemData:
    """Load and validate a data folder or .xlsx workbook; raise InputErrors with every problem found."""
    data = load_data(path)
    errors = validate(data)
    if errors:
        raise InputErrors(errors)
    return data
