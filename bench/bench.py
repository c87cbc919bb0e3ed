"""Benchmark: plan the bundled site and generated 3×/10× sites with the greedy baseline and CP-SAT.

Each run is a fresh subprocess (so peak memory is per run and runs do not share caches). Every plan is
re-checked by the independent checker; a run whose plan fails the check is reported as such.

    python bench/bench.py --sizes 1 3 10 --seeds 1 2 3 --workers 2 --csv bench/results.csv --plot bench/progress.png
    python bench/bench.py data other_folder --seeds 1 2 3 --time-limit 60     # explicit data folders

Size 1 is the bundled `data/` (solver seeds vary); size k > 1 is `planner.generate.generate(orders=150·k,
plants=10·k, seed=s)`, one generated instance per seed, solved with that seed.
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


def _objective_at(progress: list[tuple[float, float, float, int]], t: float) -> float | None:
    """Weighted objective of the best phase-2 plan known at time t (phase 1 counts unmet per-mille only)."""
    seen = [p for p in progress if p[0] <= t and p[3] == 2]
    return seen[-1][1] if seen else None


def run_one(data: Path, method: str, time_limit: float, workers: int, seed: int) -> dict:
    """One solve + check in this process; returns the figures as a dict."""
    from planner.check import check_plan
    from planner.pipeline import PlanRequest, run_solve

    progress: list[tuple[float, float, float, int]] = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plan"
        outcome = run_solve(
            PlanRequest(data_dir=data, out=out, time_limit_s=time_limit, workers=workers, seed=seed, method=method),
            on_progress=lambda p: progress.append((p.elapsed, p.objective, p.best_bound, p.phase)),
        )
        wall = time.perf_counter() - t0
        report = check_plan(data, out) if outcome.plan is not None else None
    r = outcome.result
    k = outcome.plan.kpis if outcome.plan is not None else {}
    row = {
        "data": str(data), "method": method, "seed": seed, "workers": workers, "time_limit_s": time_limit,
        "trains": outcome.sizes["trains"], "orders": outcome.sizes["orders"], "batches": k.get("batches"),
        "campaign_slots": outcome.sizes["campaign_slots"], "status": r.status, "note": r.note,
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


def _instances(args: argparse.Namespace, cache: Path) -> list[tuple[str, Path, int, float]]:
    """(label, folder, seed, time limit) for every run; generated instances are written once into `cache`."""
    runs: list[tuple[str, Path, int, float]] = []
    for folder in args.data:
        runs += [(str(folder), folder, s, args.time_limit) for s in args.seeds]
    for k in args.sizes:
        if k == 1:
            runs += [("1x (data/)", ROOT / "data", s, args.time_limit) for s in args.seeds]
            continue
        for s in args.seeds:
            folder = cache / f"size{k}-seed{s}"
            if not (folder / "orders.csv").exists():
                from planner.generate import generate

                t0 = time.perf_counter()
                generate(folder, orders=150 * k, plants=10 * k, seed=s)
                print(f"  generated {folder} in {time.perf_counter() - t0:.1f} s", flush=True)
            runs.append((f"{k}x", folder, s, args.time_limit_large))
    return runs


def _run(label: str, folder: Path, method: str, limit: float, workers: int, seed: int) -> dict | None:
    cmd = [sys.executable, __file__, "--one", str(folder), method, str(limit), str(workers), str(seed)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"run failed: {' '.join(cmd)}\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    row = json.loads(done.stdout.strip().splitlines()[-1])
    row["instance"] = label
    print(f"  {label} seed={seed} {method} workers={workers}: status {row['status']}, objective "
          f"{_fmt(row['objective'])}, bound {_fmt(row['best_bound'])}, check {row['check']}", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="*", type=Path, help="explicit data folders")
    ap.add_argument("--sizes", nargs="*", type=int, default=[], help="1 = bundled data/, k = generated k× site")
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per CP-SAT run (data/, folders)")
    ap.add_argument("--time-limit-large", type=float, default=120.0, help="seconds per CP-SAT run, sizes > 1")
    ap.add_argument("--workers", nargs="+", type=int, default=[2])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/cdmo-bench"), help="where generated sites are kept")
    ap.add_argument("--csv", type=Path, default=None)
    ap.add_argument("--plot", type=Path, default=None, help="PNG of objective and bound over time (first run)")
    ap.add_argument("--one", nargs=5, metavar=("DATA", "METHOD", "LIMIT", "WORKERS", "SEED"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        data, method, limit, workers, seed = args.one
        print(json.dumps(run_one(Path(data), method, float(limit), int(workers), int(seed))))
        return
    rows: list[dict] = []
    for label, folder, seed, limit in _instances(args, args.cache):
        plans = [("greedy", 1)] + [("cpsat", w) for w in args.workers]
        for method, workers in plans:
            row = _run(label, folder, method, limit, workers, seed)
            if row is not None:
                rows.append(row)
    if args.plot and rows:
        _plot(next((r for r in rows if r["method"] == "cpsat"), rows[0]), args.plot)
    _report(rows, args.csv)


def _plot(row: dict, path: Path) -> None:
    """Objective and best bound of one CP-SAT run over time (phase 2: the weighted objective)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [p for p in row["progress"] if p[3] == 2]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    ax.step([p[0] for p in points], [p[1] for p in points], where="post", label="objective (best plan)")
    ax.step([p[0] for p in points], [p[2] for p in points], where="post", label="best bound")
    ax.set_xlabel("seconds")
    ax.set_ylabel("weighted objective")
    ax.set_ylim(bottom=min(0.0, min(p[2] for p in points)) if points else 0.0)
    ax.set_title(f"{row['instance']} seed {row['seed']}, {row['workers']} workers: objective and bound over time")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    print(f"wrote {path}")


def _report(rows: list[dict], csv_path: Path | None) -> None:
    columns = [
        "trains", "orders", "batches", "first_plan_s", "objective_at_10s", "objective_at_60s",
        "objective_at_120s", "objective",
        "best_bound", "gap", "solve_s", "weighted_days_late", "unmet_firm_orders", "changeover_days",
        "revenue_accepted", "peak_rss_mib",
    ]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["instance"], r["method"], r["workers"]), []).append(r)
    print("\nmedians per (instance, method, workers):")
    header = ["instance", "method", "workers", "runs", "checks"] + columns
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
