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

from planner.interrupt import requested, run_search
from planner.model import ChosenCampaign, PlanModel, add_hints


@dataclass(frozen=True)
class Progress:
    """One improving plan found during the search; phase 1 counts unmet firm per-mille only."""

    elapsed: float
    objective: float
    best_bound: float
    phase: int = 2

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
    unmet_status: str | None = None
    unmet_bound: float | None = None
    note: str = ""
    rules_bound: float | None = None
    search_seconds: float | None = None
    """Seconds CP-SAT searched when its result was replaced (by the greedy plan); else `wall_seconds`."""

    @property
    def rules_gap(self) -> float | None:
        if self.objective is None or self.rules_bound is None:
            return None
        return relative_gap(self.objective, min(self.rules_bound, self.best_bound or self.rules_bound))

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

    def __init__(self, on_progress: Callable[[Progress], None] | None, t0: float, phase: int):
        super().__init__()
        self.on_progress = on_progress
        self.progress: list[Progress] = []
        self.t0 = t0
        self.phase = phase

    def on_solution_callback(self) -> None:
        p = Progress(time.perf_counter() - self.t0, self.objective_value, self.best_objective_bound, self.phase)
        self.progress.append(p)
        if self.on_progress is not None:
            self.on_progress(p)


UNMET_SHARE = 0.3
"""Share of the time limit phase 1 may use; it usually proves its optimum in a second and hands back the rest."""


def cp_solver(time_limit_s: float, workers: int, seed: int, deterministic: bool = False) -> cp_model.CpSolver:
    """A CP-SAT solver; `deterministic` counts the limit in CP-SAT's deterministic time (reproducible runs)."""
    solver = cp_model.CpSolver()
    if deterministic:
        solver.parameters.max_deterministic_time = max(0.1, time_limit_s)
        solver.parameters.max_time_in_seconds = max(1.0, 20 * time_limit_s)
    else:
        solver.parameters.max_time_in_seconds = max(0.1, time_limit_s)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.catch_sigint_signal = False  # planner.interrupt handles Ctrl-C (CP-SAT's own aborts)
    return solver


def _chosen(pm: PlanModel, solver: cp_model.CpSolver) -> list[ChosenCampaign]:
    return [
        ChosenCampaign(
            c.step, c.option, solver.value(c.start), solver.value(c.batches),
            None if c.chain is None else c.chain.train,
        )
        for c in pm.campaigns
        if solver.boolean_value(c.present)
    ]


def solve(
    pm: PlanModel,
    time_limit_s: float = 60.0,
    workers: int = 0,
    seed: int = 0,
    on_progress: Callable[[Progress], None] | None = None,
    deterministic: bool = False,
    keep_hints: list[ChosenCampaign] | None = None,
) -> SolveResult:
    """Solve in two phases within one time limit; workers=0 uses every core of the machine.

    With `deterministic` (and one worker) the limit is CP-SAT deterministic time, split 30/70 between the
    phases, so the same input and seed give the same plan on any machine.

    Phase 1 minimises unmet firm demand alone ("above all else"); phase 2 minimises the full weighted
    objective with unmet firm demand held at most at phase 1's value, starting from phase 1's plan. Searching
    the weighted sum directly spends the whole limit trading lateness for per-mille of unmet demand.

    The reported bound is valid for the weighted objective once phase 1 has proven its optimum: then every
    plan has unmet ≥ U*, those with exactly U* are bounded by phase 2's bound and those with more cost at
    least unmet_permille weight × (U* + 1) − all revenue. Otherwise the bound is weight × phase-1 bound − all
    revenue, which is honest but weak.

    `keep_hints` (replan) starts phase 2 from the given plan instead of phase 1's, so that the previous plan,
    not an arbitrary plan with the same unmet demand, is what the stability term measures against first.
    """
    workers = workers or os.cpu_count() or 1
    t0 = time.perf_counter()
    unmet = pm.objective_terms.get("unmet_permille", 0)
    w_unmet = pm.weights.unmet_permille
    progress: list[Progress] = []
    unmet_status, unmet_value, unmet_bound = "OPTIMAL", 0, 0.0
    if not isinstance(unmet, int):
        pm.model.minimize(unmet)
        solver = cp_solver(time_limit_s * UNMET_SHARE, workers, seed, deterministic)
        recorder = _Recorder(on_progress, t0, 1)
        status = run_search(solver, pm.model, recorder)
        progress += recorder.progress
        unmet_status = solver.status_name(status)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            unmet_value, unmet_bound = round(solver.objective_value), solver.best_objective_bound
            chosen_first = _chosen(pm, solver)
            pm.model.clear_hints()
            add_hints(pm, keep_hints if keep_hints is not None else chosen_first)
            pm.model.add(unmet <= unmet_value)
        else:
            unmet = 0
        pm.model.minimize(pm.objective)
        if requested() is not None:
            if isinstance(unmet, int):
                return SolveResult("UNKNOWN", None, None, time.perf_counter() - t0, workers, seed, time_limit_s,
                                   progress=progress, unmet_status=unmet_status, note=_stopped())
            result = _phase_one_plan(pm, chosen_first, t0, workers, seed, time_limit_s, progress, unmet_bound)
            result.note = _stopped()
            return result
    left = time_limit_s * (1 - UNMET_SHARE) if deterministic else time_limit_s - (time.perf_counter() - t0)
    solver = cp_solver(left, workers, seed, deterministic)
    recorder = _Recorder(on_progress, t0, 2)
    status = run_search(solver, pm.model, recorder)
    progress += recorder.progress
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) and not isinstance(unmet, int):
        return _phase_one_plan(pm, chosen_first, t0, workers, seed, time_limit_s, progress, unmet_bound)
    name = solver.status_name(status)
    if name == "OPTIMAL" and unmet_status != "OPTIMAL":
        name = "FEASIBLE"
    result = SolveResult(
        status=name, objective=None, best_bound=None, wall_seconds=time.perf_counter() - t0, workers=workers,
        seed=seed, time_limit_s=time_limit_s, progress=progress, unmet_status=unmet_status,
        unmet_bound=unmet_bound,
    )
    if not result.has_plan:
        return result
    result.objective = solver.objective_value
    if unmet_status == "OPTIMAL":
        worse = w_unmet * (unmet_value + 1) - pm.revenue_total
        result.best_bound = min(solver.best_objective_bound, worse) if not isinstance(unmet, int) else (
            solver.best_objective_bound
        )
    elif unmet_status == "FEASIBLE":
        result.best_bound = min(solver.best_objective_bound, w_unmet * unmet_bound - pm.revenue_total)
    else:
        result.best_bound = solver.best_objective_bound
    result.objective_terms = {k: int(solver.value(v)) for k, v in pm.objective_terms.items()}
    result.campaigns = _chosen(pm, solver)
    if requested() is not None:
        result.note = _stopped()
    return result


def _stopped() -> str:
    return f"search stopped by {requested()}: the best plan found until then, not proven optimal"


def _score(pm: PlanModel, campaigns: list[ChosenCampaign], time_limit_s: float) -> cp_model.CpSolver | None:
    """Evaluate a given plan with the model's own objective by fixing every variable to it."""
    pm.model.minimize(pm.objective)
    pm.model.clear_hints()
    add_hints(pm, campaigns)
    solver = cp_solver(time_limit_s, 1, 0)
    solver.parameters.fix_variables_to_their_hinted_value = True
    status = solver.solve(pm.model)
    return solver if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


def _phase_one_plan(
    pm: PlanModel, chosen: list[ChosenCampaign], t0: float, workers: int, seed: int, time_limit_s: float,
    progress: list[Progress], unmet_bound: float,
) -> SolveResult:
    """Phase 2 found nothing in its time (tiny limits): fall back to phase 1's plan, scored in full."""
    solver = _score(pm, chosen, 10.0)
    result = SolveResult("UNKNOWN", None, None, time.perf_counter() - t0, workers, seed, time_limit_s,
                         progress=progress, unmet_status="FEASIBLE", unmet_bound=unmet_bound)
    if solver is not None:
        result.status = "FEASIBLE"
        result.objective = solver.objective_value
        result.best_bound = pm.weights.unmet_permille * unmet_bound - pm.revenue_total
        result.objective_terms = {k: int(solver.value(v)) for k, v in pm.objective_terms.items()}
        result.campaigns = chosen
    return result


def greedy_result(
    pm: PlanModel, campaigns: list[ChosenCampaign], time_limit_s: float, workers: int, seed: int
) -> SolveResult:
    """Score the greedy plan with the model's own objective, without searching.

    The plan is evaluated by fixing the model to it, so the reported objective uses exactly the same terms as
    a CP-SAT plan; the bound is not searched and therefore not reported (status GREEDY).
    """
    t0 = time.perf_counter()
    solver = _score(pm, campaigns, time_limit_s)
    result = SolveResult(
        status="GREEDY" if solver is not None else "INFEASIBLE",
        objective=None, best_bound=None, wall_seconds=time.perf_counter() - t0, workers=1, seed=seed,
        time_limit_s=time_limit_s, campaigns=list(campaigns),
    )
    if result.status == "GREEDY":
        result.objective = solver.objective_value
        result.objective_terms = {k: int(solver.value(v)) for k, v in pm.objective_terms.items()}
    return result
