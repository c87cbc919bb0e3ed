"""Explain, in the planner's words, why an order cannot be on time, naming the input rows responsible.

Two kinds of reason are told apart. *Structural*: even with every eligible train to itself (no other order,
no downtime) the order cannot finish by its due date — then the rules that bind (release, qualification,
tech transfer, plant online, volume window, contracted site) are listed with their rows, and the
relaxations that would fix it (a later due date, qualifying a plant). *Capacity*: it could finish alone, so
in the plan it is late because the eligible trains are taken by other orders. Then the CP-SAT model itself
is asked: with the order required on time, one assumption literal per competing firm order ("no later and
no shorter than in this plan") — an infeasible core, shrunk to a minimal one by deletion, names the orders
that together make it impossible; and the earliest completion the order could have without hurting any of
them is the smallest due-date relaxation. Both are statements about the campaign model (docs/model.md).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from collections.abc import Iterator

from ortools.sat.python import cp_model

from planner.expand import FINAL_STEP, Instance, Step, expand
from planner.load import Order, ProblemData, Qualification, Weights
from planner.model import add_hints, build_model, fastest_completion
from planner.plan import Plan
from planner.validate import volume_fits


def _alone(step: Step) -> int | None:
    return fastest_completion(step, step.demand, None, optimistic=True)


def _exclusions(data: ProblemData, order: Order, step: Step) -> list[str]:
    """Plants with trains of the right modality that the order's product may not use, and why."""
    product = step.product
    qualified = {q.plant: q for q in data.qualifications if q.product == product.product}
    lines: list[str] = []
    by_plant: dict[str, list[float]] = defaultdict(list)
    for t in data.trains:
        if t.modality == product.modality:
            by_plant[t.plant].append(t.volume_l)
    for plant, volumes in sorted(by_plant.items()):
        fits = [v for v in volumes if volume_fits(product, v)]
        if not fits:
            window = f"{product.min_volume_l or 0:,.0f}–{product.max_volume_l or float('inf'):,.0f} L"
            lines.append(f"{plant}: its trains ({', '.join(f'{v:,.0f} L' for v in sorted(set(volumes)))}) are outside "
                         f"{product.product}'s qualified scale {window} (products.csv row {product.row})")
        elif step.final and order.plant is not None and plant != order.plant:
            where = f"orders.csv row {order.row}, column plant"
            lines.append(f"{plant}: the order is contracted at {order.plant} ({where})")
        elif plant not in qualified and product.tech_transfer_days is None:
            lines.append(f"{plant}: {product.product} is not qualified there and has no tech transfer "
                         f"(products.csv row {product.row}, column tech_transfer_days is blank)")
    return lines


def _starts(inst: Instance, step: Step) -> list[str]:
    """Why each eligible pool cannot start earlier."""
    data = inst.data
    plants = {p.plant: p for p in data.plants}
    quals = {q.plant: q for q in data.qualifications if q.product == step.product.product}
    lines = []
    seen = set()
    for o in sorted(step.all_options, key=lambda o: (o.earliest, o.pool.id)):
        if o.pool.plant in seen:
            continue
        seen.add(o.pool.plant)
        day = inst.date(o.earliest)
        if o.earliest == inst.day(step.order.release):
            why = f"order release (orders.csv row {step.order.row})"
        elif o.pool.plant in quals and quals[o.pool.plant].qualified_from == day:
            why = f"qualified from {day} (qualifications.csv row {quals[o.pool.plant].row})"
        elif plants[o.pool.plant].online_from == day:
            why = f"plant online from {day} (plants.csv row {plants[o.pool.plant].row})"
        elif o.pool.plant not in quals:
            days = step.product.tech_transfer_days
            why = f"tech transfer: release + {days} days (products.csv row {step.product.row})"
        else:
            why = "planning start"
        lines.append(f"{o.pool.plant}: earliest start {day} — {why}")
    return lines


def explain_order(inst: Instance, order_id: str, plan: Plan | None = None) -> list[str]:
    """Lines explaining why `order_id` is not on time (or saying that it is)."""
    data = inst.data
    order = next((o for o in data.orders if o.order == order_id), None)
    if order is None:
        raise KeyError(order_id)
    product = next(p for p in data.products if p.product == order.product)
    final = next(s for s in inst.steps if s.order.order == order_id and s.name == FINAL_STEP[product.modality])
    unit = "batches" if order.unit == "batches" else "kg"
    head = f"{order.order} ({order.client}, {order.quantity:g} {unit} of {order.product}, due {order.due})"
    lines = [head + ":"]
    alone = _alone(final)
    if alone is None:
        lines.append("  cannot be made in full inside the horizon even with every eligible train to itself.")
    elif alone > inst.day(order.due):
        lines.append(f"  even with every eligible train to itself it cannot finish before {inst.date(alone)} "
                     f"({alone - inst.day(order.due)} days after due): the rules that bind are")
    else:
        lines.append(f"  alone it could finish by {inst.date(alone)}, before its due date.")
    structural = alone is None or alone > inst.day(order.due)
    if structural:
        lines += [f"    {line}" for line in _starts(inst, final)]
        lines += [f"    {line}" for line in _exclusions(data, order, final)]
        if alone is not None:
            lines.append(f"  moving the due date to {inst.date(alone)} would make it feasible on its own.")
        lines += [f"  {fix}" for fix in _qualification_fixes(inst, order, final)]
    if plan is not None and not structural:
        lines += _capacity(inst, order, final, plan)
    return lines


def _qualification_fixes(inst: Instance, order: Order, step: Step) -> list[str]:
    """Plants where qualifying the product from the order's release would let it finish on time alone."""
    data = inst.data
    fixes = []
    qualified = {q.plant for q in data.qualifications if q.product == step.product.product}
    candidates = sorted({t.plant for t in data.trains if t.modality == step.product.modality
                         and volume_fits(step.product, t.volume_l)} - qualified)
    for plant in candidates:
        if step.final and order.plant is not None and plant != order.plant:
            continue
        added = Qualification(row=0, product=step.product.product, plant=plant, qualified_from=order.release)
        extra = dataclasses.replace(data, qualifications=[*data.qualifications, added])
        trial = expand(extra, inst.start, inst.end)
        again = next(s for s in trial.steps if s.key == step.key)
        done = _alone(again)
        if done is not None and done <= inst.day(order.due):
            fixes.append(f"qualifying plant {plant} for {step.product.product} by {order.release} would let it "
                         f"finish by {inst.date(done)}.")
    return fixes


def _capacity(inst: Instance, order: Order, step: Step, plan: Plan) -> list[str]:
    """Name the orders that hold the eligible trains while this one waits."""
    result = next(o for o in plan.orders if o.order == order.order)
    if result.status == "on_time":
        return ["  it is on time in this plan."]
    trains = {t for o in step.all_options for t in o.pool.trains}
    lo = min(o.earliest for o in step.all_options)
    hi = inst.day(order.due)
    busy: dict[str, int] = defaultdict(int)
    for t in plan.tasks:
        if t.kind == "batch" and t.train in trains and t.order != order.order and t.start < hi and t.end > lo:
            busy[t.order] += min(t.end, hi) - max(t.start, lo)
    dues = {o.order: o for o in inst.data.orders}
    earlier = sorted((o for o in busy if dues[o].due <= order.due and dues[o].firm), key=lambda o: dues[o].due)
    pools = ", ".join(sorted({o.pool.id for o in step.all_options}))
    lines = [f"  in the plan it is {result.status} (completion {result.completion}): its eligible trains ({pools}) "
             f"are taken between {inst.date(lo)} and {order.due} by {len(busy)} other orders."]
    if earlier:
        named = ", ".join(f"{o} (due {dues[o].due}, {busy[o]} train-days)" for o in earlier[:8])
        lines.append(f"  firm orders due earlier on those trains: {named}.")
    if result.completion is not None:
        lines.append(f"  moving the due date to {result.completion} would make it on time in this plan.")
    return lines


@dataclasses.dataclass
class ModelCheck:
    """Budget for the model-based explanation: solver seconds per question and in all."""

    weights: Weights
    max_campaigns_per_pool: int = 6
    seconds_per_solve: float = 10.0
    seconds_total: float = 60.0
    workers: int = 1


def _competitors(inst: Instance, order: Order, plan: Plan) -> list[str]:
    """Firm orders that may use one of the order's pools (any step), the order itself excluded."""
    pools = {o.pool.id for s in inst.steps_of(order.order) for o in s.all_options}
    rivals = {s.order.order for s in inst.steps for o in s.options
              if o.pool.id in pools and s.order.firm and s.order.order != order.order}
    return sorted(rivals)


def _permille(quantity: float, unmet: float) -> int:
    return math.ceil(1000 * unmet / quantity - 1e-9) if quantity else 0


def model_reasons(inst: Instance, plan: Plan, order_id: str, check: ModelCheck) -> list[str]:
    """Ask the model why `order_id` cannot be on time without making competing firm orders worse.

    Each competing firm order X gets an assumption literal a_X ⇒ (X no later and no shorter than in the plan).
    With the order itself required on time and in full, an INFEASIBLE answer comes with a set of assumptions
    that suffices for infeasibility; removing one at a time and re-solving keeps only those needed (a minimal
    core, as far as the time budget allows). A FEASIBLE answer means the plan itself was not the best the
    model can do for this order.
    """
    started = time.perf_counter()
    order = next(o for o in inst.data.orders if o.order == order_id)
    results = {o.order: o for o in plan.orders}
    rows = {o.order: o for o in inst.data.orders}
    rivals = _competitors(inst, order, plan)
    pm = build_model(inst, check.weights, check.max_campaigns_per_pool)
    add_hints(pm, plan.result.campaigns)
    m = pm.model
    final = next(sv for sv in pm.steps.values() if sv.step.final and sv.step.order.order == order_id)
    assert final.days_late is not None and final.unmet_permille is not None
    m.add(final.unmet_permille == 0)
    target = m.new_bool_var(f"on_time[{order_id}]")
    m.add(final.days_late == 0).only_enforce_if(target)
    literals: dict[int, str] = {}
    keep_of: dict[str, cp_model.IntVar] = {}
    for rival in rivals:
        sv = next(v for v in pm.steps.values() if v.step.final and v.step.order.order == rival)
        got = results[rival]
        a = m.new_bool_var(f"keep[{rival}]")
        assert sv.days_late is not None and sv.unmet_permille is not None
        m.add(sv.days_late <= got.days_late).only_enforce_if(a)
        m.add(sv.unmet_permille <= _permille(got.quantity, got.unmet_quantity)).only_enforce_if(a)
        literals[a.index] = rival
        keep_of[rival] = a

    def solve(keep: list[str]) -> tuple[str, list[str]]:
        m.clear_assumptions()
        m.add_assumptions([keep_of[r] for r in keep] + [target])
        solver = cp_model.CpSolver()
        left = check.seconds_total - (time.perf_counter() - started)
        solver.parameters.max_time_in_seconds = max(0.5, min(check.seconds_per_solve, left))
        solver.parameters.num_workers = check.workers
        status = solver.solve(m)
        core = [literals[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in literals]
        return solver.status_name(status), core

    m.clear_objective()
    status, core = solve(rivals)
    due = order.due
    if status in ("OPTIMAL", "FEASIBLE"):
        return [f"  the model finds a plan with {order_id} on time in which no competing firm order is later or "
                "shorter: this plan was cut short by its time limit; a longer solve can fix it."]
    if status != "INFEASIBLE":
        return [f"  the model could not decide within {check.seconds_per_solve:g} s whether {order_id} can be on "
                "time without delaying other firm orders (status " + status + ")."]
    core = core or list(rivals)
    # try to drop the least likely culprits first (due dates far from this order's), so that what is left
    # when the budget runs out is the orders that compete for the same weeks
    core.sort(key=lambda r: (-abs((rows[r].due - due).days), r))
    i = 0
    while i < len(core) and time.perf_counter() - started < check.seconds_total:
        trial = core[:i] + core[i + 1:]
        if solve(trial)[0] == "INFEASIBLE":
            core = trial
        else:
            i += 1
    minimal = time.perf_counter() - started < check.seconds_total
    named = "; ".join(
        f"{r} (due {rows[r].due}, {results[r].status}, orders.csv row {rows[r].row})"
        for r in sorted(core, key=lambda r: (rows[r].due, r))
    )
    lines = [f"  the model proves {order_id} cannot be on time (due {due}, orders.csv row {order.row}) unless "
             f"one of these firm orders is later or shorter than in this plan"
             f"{'' if minimal else ' (core not minimised within the time budget)'}: {named}."]
    if not core:
        lines = [
            f"  the campaign model cannot put {order_id} on time even with every other order moved freely: it runs "
            f"at most {check.max_campaigns_per_pool} campaigns of one order step at once per pool of identical "
            "trains, each followed by a cleaning reserve (docs/model.md); raising solver.max_campaigns_per_pool "
            "in settings.toml may let it use more trains."
        ]
    m.minimize(final.days_late)
    m.clear_assumptions()
    m.add_assumptions(list(keep_of.values()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.5, check.seconds_per_solve)
    solver.parameters.num_workers = check.workers
    status_code = solver.solve(m)
    if status_code == cp_model.OPTIMAL:
        done = inst.date(inst.day(due) + round(solver.objective_value))
        lines.append(f"  the smallest due-date relaxation that harms no other firm order: {order_id} due {done}.")
    return lines


def late_orders(plan: Plan) -> list[str]:
    return [o.order for o in plan.orders if o.firm and o.status in ("late", "partial", "unplanned")]


def explain(
    inst: Instance, plan: Plan | None, order_id: str | None, check: ModelCheck | None = None
) -> list[str]:
    """Explain one order, or every firm order that is late or short in the plan.

    With `check`, capacity reasons are also asked of the model (assumption literals, minimal core).
    """
    return list(explain_lines(inst, plan, order_id, check))


def explain_lines(
    inst: Instance, plan: Plan | None, order_id: str | None, check: ModelCheck | None = None
) -> Iterator[str]:
    """`explain`, one order at a time, so a caller can show each answer while the model works on the next."""
    ids = [order_id] if order_id else (late_orders(plan) if plan is not None else [])
    if not ids:
        yield "every firm order is on time in this plan."
    for oid in ids:
        told = explain_order(inst, oid, plan)
        yield from told
        capacity = plan is not None and any("other orders" in line for line in told)
        if capacity and check is not None:
            assert plan is not None
            yield from model_reasons(inst, plan, oid, check)

