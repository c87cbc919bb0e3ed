"""The one-way flow load → validate → expand → model → solve → plan → export, as one call.

Kept apart from `cli.py` so tests, benchmarks and later what-if sweeps run exactly what the CLI runs.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.expand import Instance, expand
from planner.export import EXPORTS, replace_folder, summary, write_plan
from planner.greedy import greedy_campaigns
from planner.interrupt import requested
from planner.load import WORKBOOK_SUFFIXES, ProblemData
from planner.model import add_hints, build_model, rules_lower_bound
from planner.plan import Plan, build_plan
from planner.replan import Freeze, freeze, order_changes, read_previous, read_status
from planner.solve import Progress, SolveResult, greedy_result, solve
from planner.validate import horizon_problem, load_valid, solver_problem

METHODS = ("cpsat", "greedy")
BUNDLED_DATA = Path(__file__).resolve().parent.parent / "data"


class UsageError(Exception):
    """A command-line request that cannot be honoured (exit code 2), as opposed to bad input data."""


@dataclass
class ReplanRequest:
    """What `planner replan` adds to a solve: the previous plan, the as-of date and the plant-floor status."""

    previous: Path
    as_of: dt.date
    status: Path | None = None


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
    replan: ReplanRequest | None = None
    exports: frozenset[str] = frozenset()
    """Extra outputs written into the plan folder before it is renamed into place (export.EXPORTS: html, png,
    xlsx, parquet)."""


@dataclass
class Outcome:
    result: SolveResult
    plan: Plan | None
    summary: dict[str, Any] | None
    sizes: dict[str, int]
    written: list[Path] = field(default_factory=list)
    """Files written into the plan folder (empty when nothing was written)."""


def check_out(data_dir: Path, out: Path) -> None:
    data_dir, out = data_dir.resolve(), out.resolve()
    if data_dir.suffix.lower() in WORKBOOK_SUFFIXES and not data_dir.is_dir():
        if out == data_dir:
            raise UsageError(f"--out {out} is the data workbook; choose a plan folder beside it")
        if data_dir in out.parents:
            raise UsageError(f"--out {out} lies inside the data workbook {data_dir} (a file); choose a folder")
        if out in data_dir.parents:
            raise UsageError(f"--out {out} contains the data workbook {data_dir}; it would be replaced")
        return
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
    unknown = sorted(set(request.exports) - set(EXPORTS))
    if unknown:
        raise UsageError(f"unknown export(s) {', '.join(unknown)}; choose from {', '.join(EXPORTS)}")
    if request.out is not None:
        check_out(request.data_dir, request.out)
        if request.replan is not None and request.out.resolve() == request.replan.previous.resolve():
            raise UsageError("--out is the previous plan folder; write the new plan elsewhere and keep the old one")
    if request.data is None:
        say(f"Loading {request.data_dir}")
    data = request.data if request.data is not None else load_valid(request.data_dir)
    settings = data.settings
    start = request.start or settings.horizon.start
    end = request.end or settings.horizon.end
    if request.method not in METHODS:
        raise UsageError(f"unknown method {request.method!r}; choose one of {', '.join(METHODS)}")
    if end <= start:
        raise UsageError(f"planning end {end} is not after start {start}")
    problem = horizon_problem(start, end) or solver_problem(request.time_limit_s, request.workers, request.seed)
    if problem:
        raise UsageError(problem)
    inst = expand(data, start, end, settings.solver.max_transfer_options)
    frozen = _freeze(inst, request.replan) if request.replan is not None else None
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
        start_from = frozen.hints if frozen is not None else warm
        add_hints(pm, start_from)
        result = solve(
            pm, time_limit_s=time_limit, workers=workers, seed=seed, on_progress=on_progress,
            deterministic=request.deterministic, keep_hints=start_from if frozen is not None else None,
        )
        if not result.has_plan and requested() is None:
            searched = result
            result = greedy_result(pm, warm, time_limit_s=time_limit, workers=workers, seed=seed)
            result.note = (
                f"CP-SAT found no plan in {searched.wall_seconds:.1f} s (status {searched.status}); "
                "the greedy plan is written instead"
            )
            result.search_seconds = searched.wall_seconds
    result.rules_bound = rules_lower_bound(inst, settings.weights)
    if not result.has_plan:
        return Outcome(result, None, None, sizes)
    plan = build_plan(inst, result, frozen.prefer if frozen is not None else None)
    sizes["campaigns"] = len(result.campaigns)
    sizes["batches"] = int(plan.kpis["batches"])
    if frozen is not None and request.replan is not None:
        plan.changes = order_changes(frozen.previous, frozen, inst, plan.tasks)
    facts = summary(plan, sizes, request.data_dir)
    facts["interrupted"] = requested()
    if frozen is not None and request.replan is not None:
        facts["replan"] = _replan_facts(request.replan, frozen, plan)
    written: list[Path] = []
    if request.out is not None:
        if request.exports:
            extras = ", ".join(e for e in EXPORTS if e in request.exports)
            say(f"Writing the plan folder with {extras}")
        written = write_plan(plan, request.out, facts, request.exports)
    return Outcome(result, plan, facts, sizes, written)


def _freeze(inst: Instance, replan: ReplanRequest) -> Freeze:
    if not inst.start <= replan.as_of < inst.end:
        raise UsageError(f"--as-of {replan.as_of} is outside the planning horizon {inst.start}..{inst.end}")
    previous = read_previous(replan.previous)
    status = read_status(replan.status, inst, replan.as_of) if replan.status is not None else []
    return freeze(inst, previous, replan.as_of, status)


def _replan_facts(replan: ReplanRequest, frozen: Freeze, plan: Plan) -> dict[str, Any]:
    changes = plan.changes or {}
    return {
        "previous_plan": str(replan.previous.resolve()),
        "as_of": replan.as_of.isoformat(),
        "status_file": None if replan.status is None else str(replan.status.resolve()),
        "frozen_batches": len(frozen.frozen),
        "failed_batches": len(frozen.failed),
        "moved_batches": sum(c["moved_batches"] for c in changes.values()),
        "orders_with_new_completion": sum(
            1 for o in plan.orders if changes.get(o.order, {}).get("previous_completion") != o.completion
        ),
    }


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
