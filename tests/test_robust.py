"""`planner solve --robust`: buffers where the digital twin finds the plan fragile, judged by the twin itself."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from cli import app
from planner.check import check_plan
from planner.pipeline import generate_site_folder

runner = CliRunner()


def test_robust_solve_writes_a_plan_of_the_real_due_dates_with_both_replays(tmp_path: Path) -> None:
    site = tmp_path / "site"
    generate_site_folder(site, orders=30, plants=4, years=1, seed=1)
    first = tmp_path / "plain"
    assert runner.invoke(app, ["solve", str(site), "--out", str(first), "--time-limit", "3", "--workers", "1",
                               "--quiet"]).exit_code == 0
    out = tmp_path / "robust"
    result = runner.invoke(app, ["solve", str(site), "--out", str(out), "--time-limit", "6", "--workers", "1",
                                 "--robust", "--robust-runs", "300", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "robust:" in result.output
    assert check_plan(site, first).violations == []
    assert check_plan(site, out).violations == []  # the real due dates: orders.csv must match the input exactly
    summary = json.loads((out / "summary.json").read_text())
    robust = summary["robust"]
    assert robust["runs"] == 300 and robust["target"] == 0.9
    assert summary["status"] == "FEASIBLE" and summary["best_bound"] is None and summary["gap"] is None
    with (site / "orders.csv").open() as f:
        firm = {r["order"] for r in csv.DictReader(f) if r["firm"] == "true"}
    assert robust["buffered_orders"] and set(robust["buffered_orders"]) <= firm
    assert all(days > 0 for days in robust["buffered_orders"].values())
    assert 0 <= robust["expected_on_time_before"] <= 30 and 0 <= robust["expected_on_time_after"] <= 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain", "robust", "site"]  # no temporary folder left


def test_robust_refuses_an_output_inside_the_data_folder(tiny: Path, tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(tiny, data)
    result = runner.invoke(app, ["solve", str(data), "--out", str(data / "plan"), "--robust"])
    assert result.exit_code == 2
    assert "lies inside the data folder" in result.output
    assert not (data / "plan").exists()
