"""The one-way flow load → validate → expand → model → solve → plan → export, as one call.

Kept apart from `cli.py` so tests, benchmarks and later what-if sweeps run exactly what the CLI runs.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.expand import expand
from planner.export import replace_folder, summary, write_plan
from planner.greedy import greedy_campaigns
from planner.load import ProblemData
from planner.model import add_hints, build_model, rules_lower_bound
from planner.plan import Plan, build_plan
from planner.solve import Progress, SolveResult, greedy_result, solve
from planner.validate import load_valid

METHODS = ("cpsat", "greedy")
BUNDLED_DATA = Path(__file__).resolve().parent.parent / "data"


class UsageError(Exception):
    """A command-line request that cannot be honoured (exit code 2), as opposed to bad input data."""


@dataclass
class PlanRequest:
    data_dir: Path = BUNDLED_DATA
    out: Path | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    time_limit_s: float | None = None
    workers: int | None = None
    seed: int | None = None
    method: str = "cpsat"
    deterministic: bool = False
    data: ProblemData | None = None
    """Already loaded and validated tables (a what-if scenario); when set, `data_dir` is only a label."""


@dataclass
class Outcome:
    result: SolveResult
    plan: Plan | None
    summary: dict[str, Any] | None
    sizes: dict[str, int]


def _check_out(data_dir: Path, out: Path) -> None:
    data_dir, out = data_dir.resolve(), out.resolve()
    if out == data_dir or data_dir in out.parents:
        raise UsageError(f"--out {out} lies inside the data folder {data_dir}; choose a folder outside it")
    if out in data_dir.parents:
        raise UsageError(f"--out {out} contains the data folder {data_dir}; it would be replaced")


def run_solve(
    request: PlanRequest,
    on_progress: Callable[[Progress], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> Outcome:
    """Plan a data folder end to end; write the plan folder when `request.out` is set and a plan exists."""
    say = on_stage or (lambda _: None)
    if request.out is not None:
        _check_out(request.data_dir, request.out)
    data = request.data if request.data is not None else load_valid(request.data_dir)
    settings = data.settings
    start = request.start or settings.horizon.start
    end = request.end or settings.horizon.end
    if request.method not in METHODS:
        raise UsageError(f"unknown method {request.method!r}; choose one of {', '.join(METHODS)}")
    if end <= start:
        raise UsageError(f"planning end {end} is not after start {start}")
    inst = expand(data, start, end, settings.solver.max_transfer_options)
    pm = build_model(inst, settings.weights, settings.solver.max_campaigns_per_pool)
    sizes = {
        "plants": len(data.plants),
        "trains": len(data.trains),
        "pools": len(inst.pools),
        "orders": len(data.orders),
        "steps": len(inst.steps),
        "campaign_slots": len(pm.campaigns),
    }
    time_limit = request.time_limit_s if request.time_limit_s is not None else settings.solver.time_limit_s
    workers = request.workers if request.workers is not None else settings.solver.workers
    seed = request.seed if request.seed is not None else settings.solver.seed
    say(
        f"Planning {start}..{end}: {sizes['trains']} trains in {sizes['pools']} pools, {sizes['orders']} orders, "
        f"{sizes['campaign_slots']} campaign slots; time limit {time_limit:g} s"
    )
    warm = greedy_campaigns(inst, settings.solver.max_campaigns_per_pool)
    if request.method == "greedy":
        result = greedy_result(pm, warm, time_limit_s=time_limit, workers=workers, seed=seed)
    else:
        add_hints(pm, warm)
        result = solve(
            pm, time_limit_s=time_limit, workers=workers, seed=seed, on_progress=on_progress,
            deterministic=request.deterministic,
        )
        if not result.has_plan:
            searched = result
            result = greedy_result(pm, warm, time_limit_s=time_limit, workers=workers, seed=seed)
            result.note = (
                f"CP-SAT found no plan in {searched.wall_seconds:.1f} s (status {searched.status}); "
                "the greedy plan is written instead"
            )
    result.rules_bound = rules_lower_bound(inst, settings.weights)
    if not result.has_plan:
        return Outcome(result, None, None, sizes)
    plan = build_plan(inst, result)
    sizes["campaigns"] = len(result.campaigns)
    sizes["batches"] = int(plan.kpis["batches"])
    facts = summary(plan, sizes, request.data_dir)
    if request.out is not None:
        write_plan(plan, request.out, facts)
    return Outcome(result, plan, facts, sizes)


def generate_site_folder(out: Path, *, orders: int, plants: int, years: int, seed: int) -> None:
    """Generate a data set into a temporary sibling folder and swap it into place only when complete."""
    from planner.generate import generate

    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        generate(tmp, orders=orders, plants=plants, years=years, seed=seed)
        replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
