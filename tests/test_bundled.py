"""The bundled Samsung-like site plans end to end and the independent checker accepts the plan."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from planner.pipeline import BUNDLED_DATA
from tests.conftest import solve_checked


def test_bundled_data_plans_and_checks(tmp_path: Path) -> None:
    solve_checked(BUNDLED_DATA, tmp_path / "plan", time_limit_s=10, workers=2)
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text())
    with (BUNDLED_DATA / "trains.csv").open() as f:
        trains = sum(1 for _ in csv.DictReader(f))
    assert summary["status"] == "FEASIBLE"
    assert summary["sizes"]["trains"] == trains
    assert summary["kpis"]["batches"] > 1000
    assert summary["best_bound"] <= summary["objective"]
    assert summary["gap"] > 0
