"""Benchmark: plan data folders with the greedy baseline and CP-SAT, check every plan, print medians.

Each run is a fresh subprocess (so peak memory is per run and runs do not share caches). Every plan is
re-checked by the independent checker; a run whose plan fails the check is reported as such.

    python bench/bench.py data --seeds 1 2 3 --time-limit 60 --workers 2 --csv bench/results.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHECKPOINTS = (10.0, 60.0, 120.0)


def _objective_at(progress: list[tuple[float, float, float]], t: float) -> float | None:
    seen = [p for p in progress if p[0] <= t]
    return seen[-1][1] if seen else None


def run_one(data: Path, method: str, time_limit: float, workers: int, seed: int) -> dict:
    """One solve + check in this process; returns the figures as a dict."""
    from planner.check import check_plan
    from planner.pipeline import PlanRequest, run_solve

    progress: list[tuple[float, float, float]] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plan"
        outcome = run_solve(
            PlanRequest(data_dir=data, out=out, time_limit_s=time_limit, workers=workers, seed=seed, method=method),
            on_progress=lambda p: progress.append((p.elapsed, p.objective, p.best_bound)),
        )
        wall = time.perf_counter() - t0
        report = check_plan(data, out) if outcome.plan is not None else None
    r = outcome.result
    k = outcome.plan.kpis if outcome.plan is not None else {}
    row = {
        "data": str(data), "method": method, "seed": seed, "workers": workers, "time_limit_s": time_limit,
        "trains": outcome.sizes["trains"], "orders": outcome.sizes["orders"], "batches": k.get("batches"),
        "campaign_slots": outcome.sizes["campaign_slots"], "status": r.status,
        "first_plan_s": r.first_solution_seconds, "objective": r.objective, "best_bound": r.best_bound,
        "gap": r.gap, "solve_s": r.wall_seconds, "wall_s": wall,
        "weighted_days_late": k.get("weighted_days_late"), "unmet_firm_orders": k.get("unmet_firm_orders"),
        "firm_on_time": k.get("firm_on_time"), "revenue_accepted": k.get("revenue_accepted"),
        "changeover_days": k.get("changeover_days"),
        "check": "pass" if report is not None and report.ok else ("fail" if report is not None else "no plan"),
        "violations": len(report.violations) if report is not None else None,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    for t in CHECKPOINTS:
        row[f"objective_at_{t:g}s"] = _objective_at(progress, t) if method == "cpsat" else r.objective
    row["progress"] = progress
    return row


def _median(values: list) -> float | None:
    clean = [v for v in values if v is not None]
    return statistics.median(clean) if clean else None


def _fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and v.is_integer():
        return f"{int(v):,}"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}"
    return str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="*", type=Path)
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", nargs="+", type=int, default=[2])
    ap.add_argument("--csv", type=Path, default=None)
    ap.add_argument("--progress-json", type=Path, default=None, help="objective/bound over time of the first run")
    ap.add_argument("--one", nargs=5, metavar=("DATA", "METHOD", "LIMIT", "WORKERS", "SEED"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        data, method, limit, workers, seed = args.one
        print(json.dumps(run_one(Path(data), method, float(limit), int(workers), int(seed))))
        return
    rows: list[dict] = []
    for data in args.data:
        plans = [("greedy", 1, args.seeds[0])] + [("cpsat", w, s) for w in args.workers for s in args.seeds]
        for method, workers, seed in plans:
            cmd = [sys.executable, __file__, "--one", str(data), method, str(args.time_limit), str(workers), str(seed)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"run failed: {' '.join(cmd)}\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"  {data} {method} workers={workers} seed={seed}: status {row['status']}, objective "
                  f"{_fmt(row['objective'])}, bound {_fmt(row['best_bound'])}, check {row['check']}", flush=True)
    if args.progress_json and rows:
        first = next((r for r in rows if r["method"] == "cpsat"), rows[0])
        args.progress_json.write_text(json.dumps(first["progress"]))
    _report(rows, args.csv)


def _report(rows: list[dict], csv_path: Path | None) -> None:
    columns = [
        "trains", "orders", "batches", "first_plan_s", "objective_at_10s", "objective_at_60s", "objective",
        "best_bound", "gap", "solve_s", "weighted_days_late", "unmet_firm_orders", "changeover_days",
        "revenue_accepted", "peak_rss_mib",
    ]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["data"], r["method"], r["workers"]), []).append(r)
    print("\nmedians per (data, method, workers):")
    header = ["data", "method", "workers", "runs", "checks"] + columns
    print(" | ".join(header))
    baseline: dict[str, dict] = {}
    for (data, method, workers), group in groups.items():
        med = {c: _median([g.get(c) for g in group]) for c in columns}
        checks = ",".join(sorted({g["check"] for g in group}))
        if method == "greedy":
            baseline[data] = med
        print(" | ".join([data, method, str(workers), str(len(group)), checks] + [_fmt(med[c]) for c in columns]))
    print("\nratios of CP-SAT medians to the greedy baseline (lower is better):")
    for (data, method, workers), group in groups.items():
        base = baseline.get(data)
        if method != "cpsat" or base is None:
            continue
        for c in ("weighted_days_late", "changeover_days"):
            m = _median([g.get(c) for g in group])
            ratio = "-" if not base.get(c) else f"{m / base[c]:.3f}"
            print(f"  {data} workers={workers} {c}: {_fmt(m)} vs greedy {_fmt(base.get(c))} → {ratio}")
    if csv_path is not None:
        flat = [{k: v for k, v in r.items() if k != "progress"} for r in rows]
        with csv_path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(flat[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(flat)
        print(f"\nwrote {csv_path}")


if __name__ == "__main__":
    main()
