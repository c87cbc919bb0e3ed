"""Robust solve: let the digital twin find where a plan is fragile, then plan again with buffers there.

1. Plan with half the time limit into a temporary folder.
2. Replay that plan with the twin. Every firm order the plan has on time but the twin gives a probability of
   being on time below the target gets a buffer: internally its due date moves forward by the days between
   its planned completion and the twin's 90 % completion (the delay it should absorb nine times in ten).
3. Plan again with those internal due dates (the other half of the limit).
4. Score the second plan's campaigns with the model's own objective on the *real* due dates and write it:
   the plan folder is an ordinary plan of the real data, so `planner check` needs nothing special.
5. Replay the written plan with the same twin; `summary.json` `robust` reports both replays, so the gain is
   measured by the twin itself — and may be negative, which the summary then shows as it is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from planner.expand import expand
from planner.export import summary, write_plan
from planner.model import ChosenCampaign, build_model, rules_lower_bound
from planner.pipeline import Outcome, PlanRequest, check_out, run_solve
from planner.plan import build_plan
from planner.simulate import Noise, SimulationResult, simulate
from planner.solve import Progress, greedy_result
from planner.validate import load_valid

TARGET = 0.9
"""Orders the twin gives less than this chance of being on time get a buffer."""


def _buffers(data_orders: list[Any], twin: SimulationResult, target: float) -> dict[str, int]:
    """Days to bring each fragile firm order's due date forward (p90 completion − planned completion)."""
    firm = {o.order for o in data_orders if o.firm}
    out: dict[str, int] = {}
    for r in twin.orders:
        if r.order in firm and r.planned_status == "on_time" and r.p_on_time < target:
            days = (r.p90_completion - r.planned_completion).days
            if days > 0:
                out[r.order] = days
    return out


def _buffered(order: Any, days: int) -> Any:
    """The order with its due date `days` earlier (never before the day after its release)."""
    if days <= 0:
        return order
    due = max(order.release + dt.timedelta(days=1), order.due - dt.timedelta(days=days))
    return order.model_copy(update={"due": due})


def robust_solve(
    request: PlanRequest, noise: Noise, runs: int = 2000, seed: int = 0, target: float = TARGET,
    on_progress: Callable[[Progress], None] | None = None, on_stage: Callable[[str], None] | None = None,
) -> Outcome:
    """Plan, replay, buffer the fragile orders, plan again, and write the second plan scored on real dues."""
    if request.out is None:
        raise ValueError("a robust solve needs an output folder")
    check_out(request.data_dir, request.out)
    data = request.data if request.data is not None else load_valid(request.data_dir)
    limit = request.time_limit_s if request.time_limit_s is not None else data.settings.solver.time_limit_s
    half = dataclasses.replace(request, time_limit_s=limit / 2, data=data, exports=frozenset())
    with tempfile.TemporaryDirectory(prefix=".robust.", dir=Path(request.out).resolve().parent) as tmp:
        first_dir = Path(tmp) / "first"
        first = run_solve(dataclasses.replace(half, out=first_dir), on_progress, on_stage)
        if first.plan is None:
            return first
        before = simulate(request.data_dir, first_dir, runs, seed, noise)
        buffers = _buffers(data.orders, before, target)
        buffered = dataclasses.replace(data, orders=[_buffered(o, buffers.get(o.order, 0)) for o in data.orders])
        if on_stage is not None:
            on_stage(f"Digital twin: {len(buffers)} fragile firm orders get buffers; planning again")
        second = run_solve(dataclasses.replace(half, out=None, data=buffered), on_progress, on_stage)
        outcome = _on_real_dues(request, data, second, first) if second.plan is not None else first
        check_dir = Path(tmp) / "second"
        write_plan(outcome.plan, check_dir, outcome.summary or {})
        after = simulate(request.data_dir, check_dir, runs, seed, noise)
    assert outcome.summary is not None and outcome.plan is not None
    outcome.summary["robust"] = {
        "runs": runs, "seed": seed, "target": target, "noise": {"failure": noise.failure, "spread": noise.spread},
        "buffered_orders": buffers,
        "expected_on_time_before": round(before.expected_on_time, 3),
        "expected_on_time_after": round(after.expected_on_time, 3),
        "first_plan_objective": first.result.objective,
    }
    outcome.written = write_plan(outcome.plan, request.out, outcome.summary, request.exports)
    return outcome


def _on_real_dues(request: PlanRequest, data: Any, second: Outcome, first: Outcome) -> Outcome:
    """The second plan's campaigns on the real instance, scored by the model's objective (no search, no bound)."""
    settings = data.settings
    start = request.start or settings.horizon.start
    end = request.end or settings.horizon.end
    inst = expand(data, start, end, settings.solver.max_transfer_options)
    pm = build_model(inst, settings.weights, settings.solver.max_campaigns_per_pool)
    steps = {s.key: s for s in inst.steps}
    chosen = []
    for c in second.result.campaigns:
        step = steps[c.step.key]
        option = next(o for o in step.options if o.pool.id == c.option.pool.id)
        chosen.append(ChosenCampaign(step, option, c.start, c.batches, c.train))
    result = greedy_result(pm, chosen, time_limit_s=second.result.time_limit_s, workers=second.result.workers,
                           seed=second.result.seed)
    if not result.has_plan:
        return first
    result.status = "FEASIBLE"
    result.wall_seconds = first.result.wall_seconds + second.result.wall_seconds
    result.search_seconds = result.wall_seconds
    result.rules_bound = rules_lower_bound(inst, settings.weights)
    result.note = (
        "robust: planned twice, the second time with due dates brought forward where the digital twin found the "
        "first plan fragile; scored here on the real due dates (no bound: the search was on other due dates)"
    )
    plan = build_plan(inst, result)
    sizes = dict(second.sizes, campaigns=len(chosen), batches=int(plan.kpis["batches"]))
    facts = summary(plan, sizes, request.data_dir)
    facts["interrupted"] = None
    return Outcome(result, plan, facts, sizes)
