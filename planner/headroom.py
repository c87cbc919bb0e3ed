"""Headroom: how many extra batches of a product fit without making any firm order later than in the base plan.

The base plan is solved first. A probe order of the product (in batches, inside the chosen quarter or the
whole horizon) is then added with an objective that maximises its batches, while every firm order keeps at
most its base lateness and its base unmet share. The answer is honest about search: the batches found are
achievable (the plan is a real plan), the solver's bound caps what could fit in this model.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
from dataclasses import dataclass

from planner.expand import Instance, Option, Step, expand
from planner.load import Order, ProblemData
from planner.model import PlanModel, add_hints, build_model
from planner.pipeline import Outcome, PlanRequest, UsageError, run_solve
from planner.solve import cp_solver

PROBE = "HEADROOM-PROBE"


@dataclass(frozen=True)
class Headroom:
    product: str
    window: tuple[dt.date, dt.date]
    batches_found: int
    batches_bound: int
    kg_found: float
    status: str
    base_status: str


def quarter_window(label: str) -> tuple[dt.date, dt.date]:
    """'2027Q3' → [2027-07-01, 2027-10-01)."""
    try:
        year, q = int(label[:4]), int(label[5:])
        if label[4] not in "Qq" or not 1 <= q <= 4:
            raise ValueError
    except (ValueError, IndexError):
        raise UsageError(f"--quarter {label!r} is not a quarter like 2027Q3") from None
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return start, end


def _window_options(inst: Instance, step: Step, end: int) -> list[Option]:
    """The probe's options cut to its window, each slot allowed as many batches as fit in it."""
    options = []
    for o in step.options:
        latest = min(o.latest_end, end)
        cycle = step.product.batch_days + o.pool.turnaround_days
        fit = (latest - o.earliest + o.pool.turnaround_days) // cycle
        if fit > 0:
            options.append(dataclasses.replace(o, latest_end=latest, max_batches=fit))
    return options


def find_headroom(
    data: ProblemData, product: str, quarter: str | None, time_limit_s: float, workers: int, seed: int
) -> Headroom:
    """Solve the base plan, then maximise extra batches of `product` in the window under the base lateness."""
    products = {p.product: p for p in data.products}
    if product not in products:
        raise UsageError(f"--product {product!r} is not in products.csv")
    horizon = data.settings.horizon
    lo, hi = quarter_window(quarter) if quarter else (horizon.start, horizon.end)
    lo, hi = max(lo, horizon.start), min(hi, horizon.end)
    if hi <= lo:
        raise UsageError(f"the quarter {quarter} lies outside the horizon {horizon.start}..{horizon.end}")
    half = time_limit_s / 2
    base = run_solve(PlanRequest(data_dir=data.folder, data=data, time_limit_s=half, workers=workers, seed=seed))
    if base.plan is None:
        raise UsageError(f"no base plan was found ({base.result.status})")
    probe = Order(
        row=0, order=PROBE, client=products[product].client, product=product, quantity=100_000, unit="batches",
        release=lo, due=hi, weight=0, firm=True, revenue=0, plant=None,
    )
    probed = dataclasses.replace(data, orders=[*data.orders, probe])
    inst = expand(probed, horizon.start, horizon.end, data.settings.solver.max_transfer_options)
    step = next(s for s in inst.steps if s.order.order == PROBE)
    step.options = _window_options(inst, step, inst.day(hi))
    most = sum(o.pool.size * o.max_batches for o in step.options)
    if most == 0:
        return Headroom(product, (lo, hi), 0, 0, 0.0, "OPTIMAL", base.result.status)
    step.demand = most
    pm = build_model(inst, data.settings.weights, data.settings.solver.max_campaigns_per_pool)
    _hold_base(pm, base)
    add_hints(pm, base.result.campaigns)
    probe_vars = pm.steps[step.key]
    pm.model.minimize(probe_vars.unmet)
    solver = cp_solver(time_limit_s - half, workers or os.cpu_count() or 1, seed)
    status = solver.solve(pm.model)
    name = solver.status_name(status)
    if name not in ("OPTIMAL", "FEASIBLE"):
        return Headroom(product, (lo, hi), 0, most, 0.0, name, base.result.status)
    found = [c for c in probe_vars.campaigns if solver.boolean_value(c.present)]
    batches = sum(solver.value(c.batches) for c in found)
    kg = sum(solver.value(c.batches) * c.option.kg_per_batch for c in found)
    bound = step.demand - math.ceil(solver.best_objective_bound - 1e-9)
    return Headroom(product, (lo, hi), batches, max(batches, bound), round(kg, 3), name, base.result.status)


def _hold_base(pm: PlanModel, base: Outcome) -> None:
    """Every firm order keeps at most its base-plan lateness and unmet share (as the model counts them)."""
    late = {o.order: o.days_late for o in base.plan.orders}
    supplied: dict[tuple[str, str], int] = {}
    for c in base.result.campaigns:
        supplied[c.step.key] = supplied.get(c.step.key, 0) + c.option.output * c.batches
    for key, sv in pm.steps.items():
        if key[0] == PROBE or not sv.step.final or not sv.step.order.firm:
            continue
        pm.model.add(sv.days_late <= late[key[0]])
        unmet = max(0, sv.step.demand - supplied.get(key, 0))
        pm.model.add(sv.unmet_permille <= math.ceil(1000 * unmet / sv.step.demand))
