"""Benchmark the digital twin: runs/s replaying the bundled plan (median of 3 repeats).

Usage: python bench/simulate_bench.py [--runs 10000] [--plan PLAN_DIR]
Without --plan, the bundled data is solved once with the greedy method into a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from planner.pipeline import BUNDLED_DATA, PlanRequest, run_solve
from planner.simulate import Noise, simulate

NOISE = Noise(failure={"mAb": 0.05, "ADC": 0.03, "AAV": 0.10}, spread=0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--plan", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=BUNDLED_DATA)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plan = args.plan
        if plan is None:
            plan = Path(tmp) / "plan"
            run_solve(PlanRequest(data_dir=args.data, out=plan, method="greedy"))
        rates, walls = [], []
        for repeat in range(3):
            clock = time.perf_counter()
            result = simulate(args.data, plan, args.runs, seed=repeat, noise=NOISE)
            walls.append(time.perf_counter() - clock)
            rates.append(result.runs_per_second)
        print(f"batches: {result.batches}, runs: {args.runs}")
        print(f"replay runs/s (median of 3): {statistics.median(rates):,.0f}")
        print(f"wall incl. loading (median of 3): {statistics.median(walls):.2f} s")


if __name__ == "__main__":
    main()
