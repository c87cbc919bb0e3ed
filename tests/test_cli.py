"""The planner command line: exit codes, messages, and that bad input writes nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def test_solve_then_check_exit_zero(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    result = runner.invoke(app, ["solve", str(tiny), "--out", str(out), "--time-limit", "10", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "solver status" in result.output and "OPTIMAL" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["gantt.csv", "orders.csv", "summary.json", "utilization.csv"]
    check = runner.invoke(app, ["check", str(tiny), str(out)])
    assert check.exit_code == 0, check.output
    assert check.output.startswith("plan OK")


def test_bad_input_exit_two_and_old_plan_untouched(tiny: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(tiny, data)
    orders = data / "orders.csv"
    orders.write_text(orders.read_text().replace("O2,Beta,mab-b", "O2,Beta,mab-z"))
    out = tmp_path / "plan"
    out.mkdir()
    (out / "gantt.csv").write_text("previous plan\n")
    result = runner.invoke(app, ["solve", str(data), "--out", str(out)])
    assert result.exit_code == 2
    assert "error: orders.csv row 3, column product: unknown product 'mab-z'" in result.output
    assert "Traceback" not in result.output
    assert (out / "gantt.csv").read_text() == "previous plan\n"
    assert [p.name for p in out.iterdir()] == ["gantt.csv"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_validate_reports_and_exits_two(tiny: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["validate", str(tiny)]).exit_code == 0
    result = runner.invoke(app, ["validate", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "data folder not found" in result.output


def test_out_inside_data_folder_is_refused(tiny: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(tiny, data)
    result = runner.invoke(app, ["solve", str(data), "--out", str(data / "plan")])
    assert result.exit_code == 2
    assert "lies inside the data folder" in result.output
    assert not (data / "plan").exists()


def test_bad_date_option_is_usage_error(tiny: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["solve", str(tiny), "--out", str(tmp_path / "p"), "--start", "2027-02-30"])
    assert result.exit_code == 2
    assert "error: --start '2027-02-30' is not a date YYYY-MM-DD" in result.output


def test_check_finds_tampered_plan(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    assert runner.invoke(app, ["solve", str(tiny), "--out", str(out), "--workers", "1"]).exit_code == 0
    assert runner.invoke(app, ["check", str(tiny), str(out)]).exit_code == 0
    gantt = out / "gantt.csv"
    lines = gantt.read_text().splitlines()
    batch = next(i for i, line in enumerate(lines) if ",P1-R1," in line and ",batch," in line)
    lines[batch] = lines[batch].replace(",P1-R1,", ",P2-R1,").replace("P1,P2-R1", "P2,P2-R1")
    gantt.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["check", str(tiny), str(out)])
    assert result.exit_code == 1
    assert "violation:" in result.output


def test_console_script_runs() -> None:
    """The installed entry point answers (guards the pyproject wiring)."""
    exe = Path(sys.executable).with_name("planner")
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "solve" in result.stdout and "check" in result.stdout


def test_generate_writes_valid_data(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = runner.invoke(app, ["generate", str(out), "--orders", "40", "--plants", "4", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_generate_refuses_too_few_plants(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", str(tmp_path / "site"), "--plants", "2"])
    assert result.exit_code == 2
    assert result.output.startswith("error: ")
    assert not (tmp_path / "site").exists()


def test_simulate_command_zero_noise_keeps_plan(tiny: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    assert runner.invoke(app, ["solve", str(tiny), "--out", str(plan), "--workers", "1"]).exit_code == 0
    assert runner.invoke(app, ["check", str(tiny), str(plan)]).exit_code == 0
    out = tmp_path / "sim"
    args = ["simulate", str(plan), str(tiny), "--runs", "200", "--spread", "0", "--out", str(out)]
    args += ["--failure", "mAb=0", "--failure", "ADC=0", "--failure", "AAV=0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Orders on time: expected 4.0 of 4 (plan: 4)" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["orders_risk.csv", "utilization_risk.csv"]
    bad = runner.invoke(app, ["simulate", str(plan), str(tiny), "--failure", "mAb:0.1", "--out", str(out)])
    assert bad.exit_code == 2
    assert "error: --failure 'mAb:0.1' is not NAME=PROBABILITY" in bad.output
