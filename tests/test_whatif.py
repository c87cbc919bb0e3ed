"""What-if sweeps: every case solved into its own checked plan folder, compared per quarter and per KPI."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from planner.check import check_plan
from planner.validate import load_valid
from planner.whatif import Case, SweepSettings, run_cases
from tests.conftest import write_instance
from tests.test_solve import O1, PLANT, PRODUCT_A, QUALS, TRAIN

SETTINGS = SweepSettings(time_limit_s=5, workers=1, seed=0)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def _without_train(tiny: Path, tmp_path: Path, train: str) -> Path:
    folder = tmp_path / "no-train"
    shutil.copytree(tiny, folder)
    for name in ("trains.csv", "downtime.csv"):
        lines = (folder / name).read_text().splitlines()
        (folder / name).write_text("\n".join(line for line in lines if f",{train}," not in line
                                             and not line.startswith(f"{train},")) + "\n")
    return folder


@pytest.mark.parametrize("jobs", [1, 2])
def test_sweep_writes_checked_plans_and_comparison(tiny: Path, tmp_path: Path, jobs: int) -> None:
    changed = _without_train(tiny, tmp_path, "P1-R2")
    cases = [Case("base", load_valid(tiny)), Case("no-P1-R2", load_valid(changed))]
    out = tmp_path / "whatif"
    results = run_cases(cases, out, SETTINGS, jobs=jobs)
    assert [(r["name"], r["planned"]) for r in results] == [("base", True), ("no-P1-R2", True)]
    assert check_plan(tiny, out / "base").violations == []
    assert check_plan(changed, out / "no-P1-R2").violations == []
    kpis = {r["scenario"]: r for r in _rows(out / "kpis.csv")}
    assert set(kpis) == {"base", "no-P1-R2"}
    comparison = _rows(out / "comparison.csv")
    assert {r["scenario"] for r in comparison} == {"base", "no-P1-R2"}
    p1 = [r for r in comparison if r["plant"] == "P1" and r["quarter"] == "2027Q1"]
    assert {r["scenario"]: int(r["available_days"]) for r in p1} == {"base": 2 * 90 - 14, "no-P1-R2": 90}
    report = (out / "report.md").read_text()
    assert report.startswith("# What-if report")
    assert "| weighted_days_late | " in report


def test_sweep_results_do_not_depend_on_the_executor(tiny: Path, tmp_path: Path) -> None:
    """Same plans in this process, in 2 local processes and on a 2-worker Dask LocalCluster."""
    changed = _without_train(tiny, tmp_path, "P1-R2")
    cases = [Case("base", load_valid(tiny)), Case("again", load_valid(changed))]
    run_cases(cases, tmp_path / "one", SETTINGS, jobs=1)
    run_cases(cases, tmp_path / "two", SETTINGS, jobs=2)
    run_cases(cases, tmp_path / "dask", SETTINGS, jobs=2, executor="dask")
    for name in ("base", "again"):
        one, two, dask = (tmp_path / run / name / "gantt.csv" for run in ("one", "two", "dask"))
        assert one.read_bytes() == two.read_bytes() == dask.read_bytes()
    for run in ("one", "two", "dask"):
        assert check_plan(tiny, tmp_path / run / "base").violations == []
        assert check_plan(changed, tmp_path / run / "again").violations == []
    assert (tmp_path / "one" / "kpis.csv").read_bytes() == (tmp_path / "dask" / "kpis.csv").read_bytes()


def test_duplicate_case_names_are_refused(tiny: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="two cases share a name: base"):
        run_cases([Case("base", load_valid(tiny)), Case("base", load_valid(tiny))], tmp_path / "w", SETTINGS)
    assert not (tmp_path / "w").exists()


def test_more_capacity_never_raises_optimal_lateness(tmp_path: Path) -> None:
    """Proven optima on the single-train instance: adding a second train can only lower weighted lateness,
    taking the only plant away can only raise the objective."""
    one = write_instance(tmp_path / "one", plants=[PLANT], trains=[TRAIN], products=[PRODUCT_A], orders=[O1],
                         qualifications=QUALS[:1])
    two = write_instance(tmp_path / "two", plants=[PLANT], trains=[TRAIN, {**TRAIN, "train": "R2"}],
                         products=[PRODUCT_A], orders=[O1], qualifications=QUALS[:1])
    out = tmp_path / "w"
    run_cases([Case("one", load_valid(one)), Case("two", load_valid(two))], out, SETTINGS)
    assert check_plan(one, out / "one").violations == check_plan(two, out / "two").violations == []
    kpis = {r["scenario"]: r for r in _rows(out / "kpis.csv")}
    assert [kpis[n]["status"] for n in ("one", "two")] == ["OPTIMAL", "OPTIMAL"]
    assert float(kpis["two"]["weighted_days_late"]) <= float(kpis["one"]["weighted_days_late"])
    assert (float(kpis["one"]["weighted_days_late"]), float(kpis["two"]["weighted_days_late"])) == (4 * 2, 0)


def test_whatif_command_with_scenario_files(tiny: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    base = tmp_path / "data"
    shutil.copytree(tiny, base)
    scenarios = base / "scenarios"
    scenarios.mkdir()
    (scenarios / "p2-late.yaml").write_text(
        "name: p2-late\nbase: ..\nchanges:\n  - plant_online: {plant: P2, online_from: 2027-06-01}\n"
    )
    out = tmp_path / "sweep"
    result = CliRunner().invoke(
        app, ["whatif", str(scenarios / "p2-late.yaml"), "--out", str(out), "--time-limit", "5", "--write-inputs"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["base", "comparison.csv", "kpis.csv", "p2-late", "report.md"]
    assert check_plan(out / "p2-late" / "inputs", out / "p2-late").violations == []
    assert check_plan(base, out / "base").violations == []
    plants = _rows(out / "p2-late" / "inputs" / "plants.csv")
    assert [p["online_from"] for p in plants if p["plant"] == "P2"] == ["2027-06-01"]

    (scenarios / "bad.yaml").write_text("base: ..\nchanges:\n  - plant_online: {plant: P9, online_from: 2027-06-01}\n")
    bad = CliRunner().invoke(app, ["whatif", str(scenarios / "bad.yaml"), "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2
    assert "bad.yaml" in bad.output and "P9" in bad.output
    assert not (tmp_path / "bad").exists()


def test_taking_a_plant_out_never_lowers_optimal_lateness(tmp_path: Path) -> None:
    """Two one-train plants serve O1 on time (2 + 1 batches end day 22); without P2 (a real scenario file,
    remove_plant) the three batches on R1 end day 34: 4 days late. Both solved to proven optimality."""
    from planner.scenario import load_scenario

    p2 = {**PLANT, "plant": "P2"}
    data = write_instance(tmp_path / "d", plants=[PLANT, p2], trains=[TRAIN, {**TRAIN, "train": "R2", "plant": "P2"}],
                          products=[PRODUCT_A], orders=[O1],
                          qualifications=[*QUALS[:1], {**QUALS[0], "plant": "P2"}])
    (data / "scen").mkdir()
    (data / "scen" / "no-p2.yaml").write_text("base: ..\nchanges:\n  - remove_plant: {plant: P2}\n")
    scenario = load_scenario(data / "scen" / "no-p2.yaml")
    out = tmp_path / "w"
    run_cases([Case("base", load_valid(data)), Case(scenario.name, scenario.data)], out, SETTINGS)
    assert check_plan(data, out / "base").violations == []
    kpis = {r["scenario"]: r for r in _rows(out / "kpis.csv")}
    assert [kpis[n]["status"] for n in ("base", "no-p2")] == ["OPTIMAL", "OPTIMAL"]
    assert (float(kpis["base"]["weighted_days_late"]), float(kpis["no-p2"]["weighted_days_late"])) == (0, 8)
    assert set(kpis["base"]) >= {"free_days_2027Q1", "free_days_2027Q4"}
