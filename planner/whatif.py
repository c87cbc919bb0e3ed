"""What-if sweeps: solve the base and every scenario with the same settings, compare them per quarter.

Each case is solved by the ordinary pipeline into its own plan folder (`OUT/<name>/`, as `planner solve`
writes it), so every scenario plan can be checked on its own. The comparison tables are derived from the
written plans only. Cases may run in separate processes; by default each search counts its limit in CP-SAT
deterministic time (see `solve`), so with one worker per case and a fixed seed the results do not depend on
which process or machine ran them.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.export import replace_folder
from planner.load import ProblemData
from planner.pipeline import PlanRequest, run_solve
from planner.safe_cells import neutralise, restore

COMPARISON_COLUMNS = ["scenario", "quarter", "plant", "modality", "available_days", "busy_days", "utilization"]
KPI_COLUMNS = [
    "scenario", "firm_on_time_pct", "weighted_days_late", "unmet_firm_quantity_pct", "unmet_firm_orders",
    "tentative_accepted", "revenue_accepted", "changeover_days", "free_reactor_days", "status", "gap",
]
TEXT_COLUMNS = frozenset({"scenario", "quarter", "plant", "modality", "status"})
"""Text columns of comparison.csv and kpis.csv, written through `neutralise` (formula injection)."""


@dataclass(frozen=True)
class Case:
    """One thing to solve: the base data or a scenario's changed data."""

    name: str
    data: ProblemData


@dataclass(frozen=True)
class SweepSettings:
    time_limit_s: float
    workers: int
    seed: int
    deterministic: bool = True


def solve_case(case: Case, folder: Path, settings: SweepSettings) -> dict[str, Any]:
    """Solve one case into `folder`; runs in a worker process, so it returns plain data only."""
    outcome = run_solve(
        PlanRequest(
            data_dir=case.data.folder, out=folder, time_limit_s=settings.time_limit_s,
            workers=settings.workers, seed=settings.seed, data=case.data, deterministic=settings.deterministic,
        )
    )
    if outcome.summary is None:
        return {"name": case.name, "status": outcome.result.status, "planned": False}
    return {"name": case.name, "status": outcome.summary["status"], "planned": True}


def run_cases(
    cases: list[Case], out: Path, settings: SweepSettings, jobs: int = 1,
    on_done: Callable[[dict[str, Any]], None] | None = None, executor: str = "process", scheduler: str | None = None,
    before_publish: Callable[[Path], None] | None = None,
) -> list[dict[str, Any]]:
    """Solve every case into OUT/<name>/ and write the comparison files, atomically.

    `executor="process"` runs `jobs` local processes (1 = in this process); `executor="dask"` submits the
    cases to the Dask cluster at `scheduler` (a new LocalCluster of `jobs` workers when None).
    `before_publish` may add files (e.g. each case's inputs) to the folder before it is renamed into place.
    """
    names = [c.name for c in cases]
    if len(set(names)) != len(names):
        raise ValueError("two cases share a name: " + ", ".join(sorted({n for n in names if names.count(n) > 1})))
    if executor not in ("process", "dask"):
        raise ValueError(f"unknown executor {executor!r}; choose process or dask")
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        results: list[dict[str, Any]] = []
        report = on_done or (lambda _: None)
        if executor == "dask":
            results = _run_dask(cases, tmp, settings, jobs, scheduler, report)
        elif jobs <= 1:
            for case in cases:
                results.append(solve_case(case, tmp / case.name, settings))
                report(results[-1])
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(solve_case, c, tmp / c.name, settings) for c in cases]
                for f in futures:
                    results.append(f.result())
                    report(results[-1])
        write_comparison(tmp, [r["name"] for r in results if r["planned"]])
        if before_publish is not None:
            before_publish(tmp)
        replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return results


def _run_dask(
    cases: list[Case], folder: Path, settings: SweepSettings, jobs: int, scheduler: str | None,
    report: Callable[[dict[str, Any]], None],
) -> list[dict[str, Any]]:
    """Run the cases on a Dask distributed cluster; the plan folders must be on storage the workers share."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ValueError("the dask executor needs the optional extra: pip install -e '.[dask]'") from exc
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster if cluster is not None else scheduler)
    try:
        futures = [client.submit(solve_case, c, folder / c.name, settings, key=f"case-{c.name}") for c in cases]
        results = []
        for f in futures:
            results.append(f.result())
            report(results[-1])
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _read(path: Path) -> list[dict[str, str]]:
    """Rows of a plan CSV with every text cell as meant (`safe_cells.restore` undoes the exporter's quote)."""
    with path.open(newline="", encoding="utf-8") as f:
        return [{k: restore(v) for k, v in row.items()} for row in csv.DictReader(f)]


def write_comparison(folder: Path, names: list[str]) -> None:
    """comparison.csv, kpis.csv and report.md from the plan folders written under `folder`."""
    import json

    comparison: list[dict[str, Any]] = []
    kpis: list[dict[str, Any]] = []
    orders: dict[str, dict[str, dict[str, str]]] = {}
    for name in names:
        plan = folder / name
        for u in _read(plan / "utilization.csv"):
            comparison.append({"scenario": name, **{k: u[k] for k in COMPARISON_COLUMNS if k != "scenario"}})
        summary = json.loads((plan / "summary.json").read_text())
        rows = _read(plan / "orders.csv")
        orders[name] = {r["order"]: r for r in rows}
        kpis.append(_kpi_row(name, summary, rows, _read(plan / "utilization.csv")))
    _write(folder / "comparison.csv", COMPARISON_COLUMNS, comparison)
    quarters = sorted({k for row in kpis for k in row if k.startswith("free_days_")})
    _write(folder / "kpis.csv", KPI_COLUMNS + quarters, kpis)
    (folder / "report.md").write_text(_report(kpis, orders, comparison))


def _kpi_row(name: str, summary: dict, orders: list[dict[str, str]], utilization: list[dict[str, str]]) -> dict:
    k = summary["kpis"]
    firm = [o for o in orders if o["firm"] == "true"]
    unmet = sum(float(o["unmet_quantity"]) / float(o["quantity"]) for o in firm) / max(1, len(firm))
    free: dict[str, int] = {}
    for u in utilization:
        days = int(u["available_days"]) - int(u["busy_days"]) - int(u["changeover_days"])
        free[f"free_days_{u['quarter']}"] = free.get(f"free_days_{u['quarter']}", 0) + days
    return {
        "scenario": name,
        "firm_on_time_pct": round(100 * k["firm_on_time"] / max(1, k["firm_orders"]), 2),
        "weighted_days_late": k["weighted_days_late"],
        "unmet_firm_quantity_pct": round(100 * unmet, 3),
        "unmet_firm_orders": k["unmet_firm_orders"],
        "tentative_accepted": k["tentative_accepted"],
        "revenue_accepted": k["revenue_accepted"],
        "changeover_days": k["changeover_days"],
        "free_reactor_days": sum(free.values()),
        "status": summary["status"],
        "gap": summary["gap"],
        **free,
    }


def _write(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: neutralise(str(v)) if k in TEXT_COLUMNS and v is not None else v
                             for k, v in row.items()})


def _report(kpis: list[dict], orders: dict[str, dict[str, dict[str, str]]], comparison: list[dict]) -> str:
    """A Markdown report: KPIs base vs each scenario with differences, changed orders, quarterly utilization."""
    if not kpis:
        return "# What-if report\n\nNo case produced a plan.\n"
    base = kpis[0]
    lines = ["# What-if report", "", f"Base case: `{base['scenario']}`.", "", "## KPIs", ""]
    fields = [c for c in kpis[0] if c not in ("scenario", "status", "gap")]
    lines.append("| KPI | " + " | ".join(k["scenario"] for k in kpis) + " |")
    lines.append("|---|" + "---|" * len(kpis))
    for field in fields:
        cells = [str(base[field])]
        for k in kpis[1:]:
            diff = float(k.get(field, 0)) - float(base[field])
            cells.append(f"{k.get(field, '-')} ({diff:+g})")
        lines.append(f"| {field} | " + " | ".join(cells) + " |")
    lines.append("| solver status / gap | " + " | ".join(f"{k['status']} / {k['gap']}" for k in kpis) + " |")
    base_orders = orders[base["scenario"]]
    for k in kpis[1:]:
        name = k["scenario"]
        changed = [
            (o, base_orders[o], row) for o, row in orders[name].items()
            if o in base_orders and (row["status"], row["completion"]) != (base_orders[o]["status"],
                                                                              base_orders[o]["completion"])
        ]
        added = [o for o in orders[name] if o not in base_orders]
        lines += ["", f"## Orders that changed in `{name}`", ""]
        if not changed and not added:
            lines.append("None.")
            continue
        lines.append("| order | base status | base completion | status | completion |")
        lines.append("|---|---|---|---|---|")
        for o, before, after in changed:
            lines.append(f"| {o} | {before['status']} | {before['completion'] or '-'} | {after['status']} | "
                         f"{after['completion'] or '-'} |")
        for o in added:
            row = orders[name][o]
            lines.append(f"| {o} (new) | - | - | {row['status']} | {row['completion'] or '-'} |")
    lines += ["", "## Utilization per quarter (all plants)", ""]
    by_case: dict[str, dict[str, list[int]]] = {}
    for r in comparison:
        q = by_case.setdefault(r["scenario"], {}).setdefault(r["quarter"], [0, 0])
        q[0] += int(r["busy_days"])
        q[1] += int(r["available_days"])
    quarters = sorted({r["quarter"] for r in comparison})
    lines.append("| quarter | " + " | ".join(k["scenario"] for k in kpis) + " |")
    lines.append("|---|" + "---|" * len(kpis))
    for q in quarters:
        cells = []
        for k in kpis:
            busy, available = by_case.get(k["scenario"], {}).get(q, [0, 0])
            share = busy / available if available else 0.0
            cells.append(f"{100 * share:5.1f} % {'█' * round(20 * share)}")
        lines.append(f"| {q} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
