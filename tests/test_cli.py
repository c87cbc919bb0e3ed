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


# --- progress display ----------------------------------------------------------------------------------------


def test_plain_progress_lines_when_not_on_a_terminal(tiny: Path, tmp_path: Path) -> None:
    """CliRunner's output is no terminal (like CI logs and pipes): one plain line per stage and improving plan."""
    result = runner.invoke(app, ["solve", str(tiny), "--out", str(tmp_path / "p"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Loading {tiny}"
    assert lines[1].startswith("Planning 2027-01-01..2027-12-31: 4 trains in 4 pools, 4 orders")
    progress = [line for line in lines if line.startswith("  phase ")]
    assert progress and all(" bound " in line and line.endswith(" s") for line in progress)
    assert any(line.startswith("  phase 2  objective") and " gap " in line for line in progress)
    assert "\x1b[" not in result.output and "elapsed" not in result.output
    quiet = runner.invoke(app, ["solve", str(tiny), "--out", str(tmp_path / "q"), "--workers", "1", "--quiet"])
    assert quiet.exit_code == 0 and quiet.output.startswith("Plan written to "), quiet.output
    assert "phase" not in quiet.output
    for plan in ("p", "q"):
        assert runner.invoke(app, ["check", str(tiny), str(tmp_path / plan)]).exit_code == 0


def test_live_progress_on_a_terminal_ticks_between_improvements() -> None:
    from io import StringIO

    from rich.console import Console

    from cli import SearchView, _progress_display
    from planner.solve import Progress

    now = [100.0]
    view = SearchView(clock=lambda: now[0])
    assert view.lines() == ("loading and checking the data · elapsed 0.0 s", "")
    view.on_stage("Planning 2027-01-01..2027-12-31: ...")
    now[0] = 101.5
    assert view.lines() == ("searching · elapsed 1.5 s", "no plan yet")
    view.on_progress(Progress(elapsed=1.2, objective=1_500_000, best_bound=1_200_000, phase=2))
    now[0] = 104.0  # no new plan, the clock still moves
    head, detail = view.lines()
    assert head == "phase 2: weighted objective · elapsed 4.0 s · 1 plan (latest at 1.5 s)"
    assert detail == "best 1,500,000 · bound 1,200,000 · gap 20.000 %"

    file = StringIO()
    console = Console(file=file, force_terminal=True, force_interactive=True, width=100)
    with _progress_display(console, quiet=False, clock=lambda: now[0]) as (on_progress, on_stage):
        on_stage("Planning the site")
        assert on_progress is not None
        on_progress(Progress(elapsed=0.5, objective=30, best_bound=10, phase=1))
        on_progress(Progress(elapsed=0.9, objective=2_000, best_bound=1_000, phase=2))
    text = file.getvalue()
    assert "Planning the site" in text and "\x1b[" in text  # a live region, redrawn in place
    assert "phase 2: weighted objective · elapsed" in text and "2 plans" in text
    assert "best 2,000 · bound 1,000 · gap 50.000 %" in text
    quiet = StringIO()
    with _progress_display(Console(file=quiet, force_terminal=True), quiet=True) as (on_progress, on_stage):
        assert on_progress is None
        on_stage("Planning the site")
    assert quiet.getvalue() == ""


# --- workbooks -----------------------------------------------------------------------------------------------


def test_template_and_convert_commands(tiny: Path, tmp_path: Path) -> None:
    template = tmp_path / "new.xlsx"
    result = runner.invoke(app, ["template", str(template)])
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {template}: fill it in, then `planner validate {template}`\n"
    before = template.read_bytes()
    for args, message in (
        (["template", str(template)], f"error: {template} exists; pass --force to replace it"),
        (["template", str(tmp_path / "new.csv")],
         f"error: {tmp_path / 'new.csv'}: the workbook to write must end in .xlsx"),
        (["template", str(tmp_path)], f"error: {tmp_path}: the workbook to write must end in .xlsx"),
        (["convert", str(tiny), str(template)], f"error: {template} exists; pass --force to replace it"),
        (["convert", str(tmp_path / "nowhere"), str(tmp_path / "x.xlsx")],
         f"error: {tmp_path / 'nowhere'}: data folder not found"),
    ):
        bad = runner.invoke(app, args)
        assert bad.exit_code == 2, bad.output
        assert bad.output.splitlines()[0] == message and "Traceback" not in bad.output
    assert template.read_bytes() == before
    assert not (tmp_path / "x.xlsx").exists()
    assert runner.invoke(app, ["template", str(template), "--force"]).exit_code == 0

    book = tmp_path / "tiny.xlsx"
    result = runner.invoke(app, ["convert", str(tiny), str(book)])
    assert result.exit_code == 0, result.output
    valid = runner.invoke(app, ["validate", str(book)])
    assert valid.output == f"{book}: valid (3 plants, 4 trains, 3 products, 4 orders)\n"
    refused = runner.invoke(app, ["solve", str(book), "--out", str(book)])
    assert refused.exit_code == 2
    assert refused.output == f"error: --out {book} is the data workbook; choose a plan folder beside it\n"
    assert [p.name for p in sorted(tmp_path.iterdir())] == ["new.xlsx", "tiny.xlsx"]
