"""Solve step: run CP-SAT on a built model and report the search honestly.

Status, objective, best bound and gap come straight from the solver; a plan found under a time limit is
`FEASIBLE`, never `OPTIMAL`, unless CP-SAT proved it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from planner.model import ChosenCampaign, PlanModel, add_hints


@dataclass(frozen=True)
class Progress:
    """One improving plan found during the search."""

    elapsed: float
    objective: float
    best_bound: float

    @property
    def gap(self) -> float:
        return relative_gap(self.objective, self.best_bound)


@dataclass
class SolveResult:
    status: str
    objective: float | None
    best_bound: float | None
    wall_seconds: float
    workers: int
    seed: int
    time_limit_s: float
    campaigns: list[ChosenCampaign] = field(default_factory=list)
    progress: list[Progress] = field(default_factory=list)
    objective_terms: dict[str, int] = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE", "GREEDY")

    @property
    def gap(self) -> float | None:
        if self.status == "GREEDY" or self.objective is None or self.best_bound is None:
            return None
        return relative_gap(self.objective, self.best_bound)

    @property
    def first_solution_seconds(self) -> float | None:
        if self.status == "GREEDY":
            return self.wall_seconds
        return self.progress[0].elapsed if self.progress else None


def relative_gap(objective: float, bound: float) -> float:
    """|objective − bound| / max(1, |objective|): the share by which the plan may still be improvable."""
    return abs(objective - bound) / max(1.0, abs(objective))


class _Recorder(cp_model.CpSolverSolutionCallback):
    """Records every improving plan and forwards it to the caller's progress display."""

    def __init__(self, on_progress: Callable[[Progress], None] | None):
        super().__init__()
        self.on_progress = on_progress
        self.progress: list[Progress] = []
        self.t0 = time.perf_counter()

    def on_solution_callback(self) -> None:
        p = Progress(time.perf_counter() - self.t0, self.objective_value, self.best_objective_bound)
        self.progress.append(p)
        if self.on_progress is not None:
            self.on_progress(p)


def solve(
    pm: PlanModel,
    time_limit_s: float = 60.0,
    workers: int = 0,
    seed: int = 0,
    on_progress: Callable[[Progress], None] | None = None,
) -> SolveResult:
    """Solve the model within the time limit; workers=0 uses every core of the machine."""
    workers = workers or os.cpu_count() or 1
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    recorder = _Recorder(on_progress)
    t0 = time.perf_counter()
    status = solver.solve(pm.model, recorder)
    wall = time.perf_counter() - t0
    result = SolveResult(
        status=solver.status_name(status),
        objective=None,
        best_bound=None,
        wall_seconds=wall,
        workers=workers,
        seed=seed,
        time_limit_s=time_limit_s,
        progress=recorder.progress,
    )
    if not result.has_plan:
        return result
    result.objective = solver.objective_value
    result.best_bound = solver.best_objective_bound
    result.objective_terms = {k: int(solver.value(v)) for k, v in pm.objective_terms.items()}
    for c in pm.campaigns:
        if solver.boolean_value(c.present):
            result.campaigns.append(ChosenCampaign(c.step, c.option, solver.value(c.start), solver.value(c.batches)))
    return result


def greedy_result(
    pm: PlanModel, campaigns: list[ChosenCampaign], time_limit_s: float, workers: int, seed: int
) -> SolveResult:
    """Score the greedy plan with the model's own objective, without searching.

    The plan is evaluated by fixing the model to it, so the reported objective uses exactly the same terms as
    a CP-SAT plan; the bound is not searched and therefore not reported (status GREEDY).
    """
    t0 = time.perf_counter()
    add_hints(pm, campaigns)
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1
    status = solver.solve(pm.model)
    result = SolveResult(
        status="GREEDY" if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else solver.status_name(status),
        objective=None, best_bound=None, wall_seconds=time.perf_counter() - t0, workers=1, seed=seed,
        time_limit_s=time_limit_s, campaigns=list(campaigns),
    )
    if result.status == "GREEDY":
        result.objective = solver.objective_value
        result.objective_terms = {k: int(solver.value(v)) for k, v in pm.objective_terms.items()}
    return result
