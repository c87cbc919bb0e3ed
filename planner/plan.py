"""Plan step: deal solved campaigns onto concrete trains, lay out batches and changeovers, compute KPIs.

Trains of a pool are interchangeable and the model kept at most `size` campaigns (with their cleaning
reserve) at once, so dealing campaigns in start order onto any free train always succeeds. A free train
that last ran the same product is preferred: the gap then only needs the shorter turnaround.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from planner.expand import FINAL_STEP, Instance
from planner.model import ChosenCampaign
from planner.solve import SolveResult


@dataclass
class Task:
    """One row of gantt.csv."""

    plant: str
    train: str
    kind: str
    start: int
    end: int
    order: str = ""
    client: str = ""
    product: str = ""
    modality: str = ""
    step: str = ""
    batch: int | None = None
    kg: float | None = None
    from_product: str = ""
    note: str = ""


@dataclass
class OrderResult:
    """One row of orders.csv: what the plan delivers for an order."""

    order: str
    client: str
    product: str
    firm: bool
    unit: str
    quantity: float
    status: str
    planned_quantity: float
    unmet_quantity: float
    batches: int
    intermediate_batches: int
    completion: dt.date | None
    due: dt.date
    days_late: int
    revenue: float
    reason: str = ""


@dataclass
class Plan:
    instance: Instance
    result: SolveResult
    tasks: list[Task]
    orders: list[OrderResult]
    utilization: list[dict] = field(default_factory=list)
    kpis: dict[str, float | int] = field(default_factory=dict)
    changes: dict[str, dict] | None = None
    """Replan: per order, the previous plan's status and completion and how many batches moved."""


def changeover_days(inst: Instance, train_changeover: int, turnaround: int, before: str, after: str) -> int:
    """Rule 4: cleaning needed between two batches on a train."""
    if before == after:
        return turnaround
    return inst.changeovers.get((before, after), train_changeover)


Preference = dict[tuple[tuple[str, str], int, int], list[str]]
"""Replan: trains each previous campaign ran on, by (step, start day, batches)."""


def _deal_to_trains(
    inst: Instance, campaigns: list[ChosenCampaign], prefer: Preference | None = None
) -> list[tuple[ChosenCampaign, str]]:
    """Deal campaigns in start order onto free trains of their pool.

    A replan's running chains stay on their trains, trains busy with frozen work are free only after it, and a
    campaign goes back to the train it had in the previous plan (`prefer`) when that train is free. Other
    campaigns avoid trains that a later campaign wants back before they would be free again, then prefer a
    train that ran the same step before, then one that last ran the same product.
    """
    by_pool: dict[str, list[ChosenCampaign]] = defaultdict(list)
    for c in campaigns:
        by_pool[c.option.pool.id].append(c)
    busy_until = {b.train: b.end for b in inst.blocks}
    prefer = prefer or {}
    ran_step: dict[tuple[str, str], set[str]] = defaultdict(set)
    same_start: dict[tuple[tuple[str, str], int], list[str]] = defaultdict(list)
    for (key, start, _), trains in prefer.items():
        ran_step[key].update(trains)
        same_start[(key, start)] += trains
    dealt: list[tuple[ChosenCampaign, str]] = []
    for pool in inst.pools:
        free_at = {t: busy_until.get(t, 0) for t in pool.trains}
        last_product: dict[str, str] = {}
        order = sorted(by_pool.get(pool.id, []), key=lambda c: (c.train is None, c.start, c.step.key))
        wanted: dict[str, list[int]] = defaultdict(list)  # train -> starts of campaigns that want it back
        for c in order:
            for t in prefer.get((c.step.key, c.start, c.batches), [])[:1]:
                wanted[t].append(c.start)
        for c in order:
            cycle = c.step.product.batch_days + pool.turnaround_days
            reserve_end = c.start + cycle * c.batches - pool.turnaround_days + c.option.tail
            free = [c.train] if c.train is not None else [t for t in pool.trains if free_at[t] <= c.start]
            if not free:
                raise RuntimeError(f"pool {pool.id} over capacity at day {c.start}: model and plan disagree")
            exact = prefer.get((c.step.key, c.start, c.batches), []) + same_start[(c.step.key, c.start)]
            back = [t for t in exact if t in free]
            clear = [t for t in free if not any(c.start <= s < reserve_end for s in wanted[t])] or free
            before = [t for t in clear if t in ran_step[c.step.key]]
            same = [t for t in clear if last_product.get(t) == c.step.product.product]
            train = (back or before or same or clear)[0]
            if c.start in wanted[train]:
                wanted[train].remove(c.start)
            free_at[train] = reserve_end
            last_product[train] = c.step.product.product
            dealt.append((c, train))
    return dealt


def _frozen_tasks(inst: Instance) -> list[Task]:
    """Replan: frozen batches exactly as they ran or run (dates may differ from the nominal batch length)."""
    steps = {s.key: s for s in inst.steps}
    trains = {t.train: t for t in inst.data.trains}
    tasks: list[Task] = []
    for f in inst.frozen:
        step, train = steps[(f.order, f.step)], trains[f.train]
        tasks.append(
            Task(
                plant=train.plant, train=f.train, kind="batch", start=f.start, end=f.end, order=f.order,
                client=step.order.client, product=step.product.product, modality=train.modality, step=f.step,
                kg=step.product.kg_per_batch(train.volume_l), note=f"frozen ({f.state})",
            )
        )
    return tasks


def _batch_tasks(inst: Instance, dealt: list[tuple[ChosenCampaign, str]]) -> list[Task]:
    tasks: list[Task] = _frozen_tasks(inst)
    chained = {chain.train: chain.frozen for chain in inst.chains}
    for c, train in dealt:
        pool, step = c.option.pool, c.step
        cycle = step.product.batch_days + pool.turnaround_days
        for i in range(chained.get(train, 0) if c.train is not None else 0, c.batches):
            start = c.start + i * cycle
            tasks.append(
                Task(
                    plant=pool.plant, train=train, kind="batch", start=start, end=start + step.product.batch_days,
                    order=step.order.order, client=step.order.client, product=step.product.product,
                    modality=pool.modality, step=step.name, kg=c.option.kg_per_batch,
                )
            )
    numbered: dict[tuple[str, str], int] = defaultdict(int)
    for t in sorted(tasks, key=lambda t: (t.start, t.train)):
        numbered[(t.order, t.step)] += 1
        t.batch = numbered[(t.order, t.step)]
    return tasks


def _changeover_tasks(inst: Instance, batches: list[Task]) -> list[Task]:
    trains = {t.train: t for t in inst.data.trains}
    by_train: dict[str, list[Task]] = defaultdict(list)
    for b in batches:
        by_train[b.train].append(b)
    tasks: list[Task] = []
    for name, rows in by_train.items():
        train = trains[name]
        rows.sort(key=lambda t: t.start)
        for before, after in zip(rows, rows[1:], strict=False):
            days = changeover_days(inst, train.changeover_days, train.turnaround_days, before.product, after.product)
            if days == 0:
                continue
            tasks.append(
                Task(
                    plant=train.plant, train=name, kind="changeover", start=before.end, end=before.end + days,
                    product=after.product, modality=train.modality, step=after.step, from_product=before.product,
                    order=after.order, client=after.client,
                )
            )
    return tasks


def _downtime_tasks(inst: Instance) -> list[Task]:
    tasks: list[Task] = []
    for pool in inst.pools:
        for lo, hi, reason in pool.downtime:
            for train in pool.trains:
                tasks.append(Task(plant=pool.plant, train=train, kind="downtime", start=lo, end=hi,
                                  modality=pool.modality, note=reason))
    return tasks


def _order_results(inst: Instance, batches: list[Task]) -> list[OrderResult]:
    products = {p.product: p for p in inst.data.products}
    by_order: dict[tuple[str, str], list[Task]] = defaultdict(list)
    for b in batches:
        by_order[(b.order, b.step)].append(b)
    results: list[OrderResult] = []
    for o in inst.data.orders:
        final = FINAL_STEP[products[o.product].modality]
        done = by_order.get((o.order, final), [])
        made = len(done) if o.unit == "batches" else sum(b.kg or 0 for b in done)
        planned = made if o.unit == "batches" else round(made, 3)
        completion = inst.date(max(b.end for b in done)) if done else None
        days_late = max(0, (completion - o.due).days) if completion else 0
        short = made < o.quantity - 1e-6
        if not done:
            status = "unplanned" if o.firm else "declined"
        elif short:
            status = "partial"
        else:
            status = "late" if days_late > 0 else "on_time"
        results.append(
            OrderResult(
                order=o.order, client=o.client, product=o.product, firm=o.firm, unit=o.unit, quantity=o.quantity,
                status=status, planned_quantity=planned, unmet_quantity=round(max(0.0, o.quantity - made), 3),
                batches=len(done), intermediate_batches=len(by_order.get((o.order, "intermediate"), [])),
                completion=completion, due=o.due, days_late=days_late, revenue=o.revenue,
            )
        )
    return results


def _unmet_reason(inst: Instance, order: str) -> str:
    """Why a firm order could not be fully planned, in the planner's words."""
    final = next(s for s in inst.steps_of(order) if s.final)
    if not final.options:
        return (
            "no eligible train is online, qualified (or transferable in time) and has room for one batch "
            "between the order's release and the horizon end"
        )
    inter = [s for s in inst.steps_of(order) if s.name == "intermediate"]
    if inter and not inter[0].options:
        return f"no mAb train can make the intermediate {inter[0].product.product} inside the horizon"
    pools = ", ".join(sorted({o.pool.id for o in final.options}))
    return f"not enough capacity before the horizon end on the eligible pools ({pools})"


def quarter_of(date: dt.date) -> str:
    return f"{date.year}Q{(date.month - 1) // 3 + 1}"


def _quarters(inst: Instance) -> list[tuple[str, int, int]]:
    """(label, first day, end day) of every calendar quarter overlapping the horizon."""
    out: list[tuple[str, int, int]] = []
    d = dt.date(inst.start.year, 3 * ((inst.start.month - 1) // 3) + 1, 1)
    while d < inst.end:
        nxt = dt.date(d.year + (d.month == 10), (d.month + 2) % 12 + 1, 1)
        out.append((quarter_of(d), max(0, inst.day(d)), min(inst.horizon, inst.day(nxt))))
        d = nxt
    return out


def _overlap(a: int, b: int, lo: int, hi: int) -> int:
    return max(0, min(b, hi) - max(a, lo))


def _utilization(inst: Instance, tasks: list[Task]) -> list[dict]:
    by_train: dict[str, list[Task]] = defaultdict(list)
    for t in tasks:
        by_train[t.train].append(t)
    rows: dict[tuple[str, str, str], dict] = {}
    for pool in inst.pools:
        lo_on, hi_on = pool.online
        down_spans = pool.down_spans()
        for label, q0, q1 in _quarters(inst):
            key = (pool.plant, pool.modality, label)
            row = rows.setdefault(key, {"plant": pool.plant, "modality": pool.modality, "quarter": label,
                                        "available_days": 0, "busy_days": 0, "changeover_days": 0})
            for train in pool.trains:
                on = _overlap(lo_on, hi_on, q0, q1)
                down = sum(_overlap(a, b, q0, q1) for a, b in down_spans)
                row["available_days"] += on - down
                for t in by_train[train]:
                    if t.kind == "batch":
                        row["busy_days"] += _overlap(t.start, t.end, q0, q1)
                    elif t.kind == "changeover":
                        row["changeover_days"] += _overlap(t.start, t.end, q0, q1)
    out = sorted(rows.values(), key=lambda r: (r["plant"], r["modality"], r["quarter"]))
    for r in out:
        r["utilization"] = round(r["busy_days"] / r["available_days"], 4) if r["available_days"] else 0.0
    return out


def _kpis(orders: list[OrderResult], tasks: list[Task], weights: dict[str, float]) -> dict[str, float | int]:
    firm = [o for o in orders if o.firm]
    accepted = [o for o in orders if not o.firm and o.status != "declined"]
    product_changeovers = [t for t in tasks if t.kind == "changeover" and t.from_product != t.product]
    return {
        "firm_orders": len(firm),
        "firm_on_time": sum(o.status == "on_time" for o in firm),
        "weighted_days_late": round(sum(weights[o.order] * o.days_late for o in firm), 3),
        "unmet_firm_orders": sum(o.status in ("partial", "unplanned") for o in firm),
        "tentative_accepted": len(accepted),
        "revenue_accepted": round(sum(o.revenue for o in accepted), 3),
        "changeover_days": sum(t.end - t.start for t in product_changeovers),
        "batches": sum(t.kind == "batch" for t in tasks),
    }


def build_plan(
    inst: Instance, result: SolveResult, prefer: Preference | None = None
) -> Plan:
    """Turn a solver result into the full plan with per-order results, utilization and KPIs."""
    dealt = _deal_to_trains(inst, result.campaigns, prefer)
    batches = _batch_tasks(inst, dealt)
    tasks = batches + _changeover_tasks(inst, batches) + _downtime_tasks(inst)
    tasks.sort(key=lambda t: (t.plant, t.train, t.start, t.kind != "downtime", t.kind))
    orders = _order_results(inst, batches)
    for o in orders:
        if o.firm and o.status in ("partial", "unplanned"):
            o.reason = _unmet_reason(inst, o.order)
    weights = {o.order: o.weight for o in inst.data.orders}
    return Plan(inst, result, tasks, orders, _utilization(inst, tasks), _kpis(orders, tasks, weights))
