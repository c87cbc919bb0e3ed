"""Extra plan outputs through the CLI: charts, plan.xlsx, Parquet, CSV formula-injection safety, CSV = XLSX input."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cli import app
from planner.check import TEXT_COLUMNS as CHECK_TEXT_COLUMNS
from planner.check import check_plan
from planner.export import (
    CHANGE_COLUMNS,
    GANTT_COLUMNS,
    ORDER_COLUMNS,
    TEXT_COLUMNS,
    UTILIZATION_COLUMNS,
    _write_csv,
)
from planner.pipeline import PlanRequest, run_solve
from planner.safe_cells import is_risky
from planner.whatif import write_comparison
from planner.workbook import PLAN_TABLES
from tests.conftest import write_instance

runner = CliRunner()
FAST = ["--workers", "1", "--seed", "0", "--deterministic", "--time-limit", "5", "--quiet"]
EVIL = '=HYPERLINK("http://x","y")'
CHARTS = ["plant-ADC.html", "plant-ADC.png", "plant-P1.html", "plant-P1.png", "plant-P2.html", "plant-P2.png",
          "site.html", "site.png", "utilization.png"]


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def _refused(args: list[str], message: str) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {message}"), result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1, result.output
    return result.output


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_solve_writes_every_export_then_render_redraws(tiny: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    output = _ok(["solve", str(tiny), "--out", str(plan), *FAST, "--html", "--png", "--xlsx", "--parquet"])
    assert f"wrote {plan}/charts/: site.html" in output and f"wrote {plan}/plan.xlsx" in output
    assert _files(plan) == sorted(
        ["gantt.csv", "orders.csv", "utilization.csv", "summary.json", "plan.xlsx"]
        + [f"charts/{n}" for n in CHARTS]
        + [f"parquet/{t}.parquet" for t in ("gantt", "orders", "utilization")]
    )
    assert check_plan(tiny, plan).violations == []
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    gantt = pq.read_table(plan / "parquet" / "gantt.parquet")
    assert str(gantt.schema.field("start").type) == "date32[day]"
    assert gantt.num_rows == len((plan / "gantt.csv").read_text().splitlines()) - 1
    assert openpyxl.load_workbook(plan / "plan.xlsx").sheetnames == ["Gantt", "Orders", "Utilization", "Summary"]
    assert (plan / "charts" / "site.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # redraw an existing plan: charts/ is replaced as a whole
    output = _ok(["render", str(plan), "--no-png", "--color-by", "modality"])
    assert output.startswith(f"wrote {plan}/charts/: site.html, plant-ADC.html")
    assert _files(plan / "charts") == sorted(n for n in CHARTS if n.endswith(".html"))
    assert '"name":"mAb"' in (plan / "charts" / "site.html").read_text()

    before = {n: (plan / "charts" / n).read_bytes() for n in _files(plan / "charts")}
    _refused(["render", str(plan), "--color-by", "colour"], "color_by must be 'client' or 'modality'")
    _refused(["render", str(plan), "--no-html", "--no-png"], "nothing to render")
    _refused(["render", str(tmp_path / "nowhere")], f"{tmp_path / 'nowhere'} is not a folder")
    _refused(["render", str(tiny)], f"{tiny} is not a plan folder: missing gantt.csv")
    assert {n: (plan / "charts" / n).read_bytes() for n in _files(plan / "charts")} == before


def test_replan_takes_the_same_export_flags(tiny: Path, tmp_path: Path) -> None:
    first = tmp_path / "plan"
    _ok(["solve", str(tiny), "--out", str(first), *FAST])
    again = tmp_path / "replan"
    _ok(["replan", str(tiny), "--plan", str(first), "--as-of", "2027-02-01", "--out", str(again), *FAST,
         "--xlsx", "--parquet"])
    assert (again / "plan.xlsx").is_file() and (again / "parquet" / "orders.parquet").is_file()
    assert not (again / "charts").exists()
    orders = pq.read_table(again / "parquet" / "orders.parquet")
    assert str(orders.schema.field("previous_completion").type) == "date32[day]"
    assert check_plan(tiny, again).violations == []


def test_failed_export_leaves_the_old_plan_untouched(tiny: Path, tmp_path: Path, monkeypatch) -> None:
    plan = tmp_path / "plan"
    _ok(["solve", str(tiny), "--out", str(plan), *FAST, "--html"])
    before = {n: (plan / n).read_bytes() for n in _files(plan)}

    def broken(plan_dir: Path) -> list[Path]:
        (Path(plan_dir) / "parquet").mkdir()
        raise OSError("disk full")

    monkeypatch.setattr("planner.parquet.write_plan_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        run_solve(PlanRequest(data_dir=tiny, out=plan, workers=1, seed=0, time_limit_s=5,
                              exports=frozenset({"html", "png", "xlsx", "parquet"})))
    assert {n: (plan / n).read_bytes() for n in _files(plan)} == before
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]


def test_csv_folder_and_converted_workbook_give_the_same_plan(tmp_path: Path) -> None:
    """CLI end to end: generate a site, convert it, solve both with one worker, a fixed seed and deterministic time."""
    site, book = tmp_path / "site", tmp_path / "site.xlsx"
    _ok(["generate", str(site), "--orders", "30", "--plants", "4", "--years", "1", "--seed", "1"])
    assert _ok(["convert", str(site), str(book)]) == f"wrote {book} from {site}\n"
    plans = []
    for source, name in ((site, "plan-csv"), (book, "plan-xlsx")):
        out = tmp_path / name
        _ok(["solve", str(source), "--out", str(out), "--workers", "1", "--seed", "0", "--deterministic",
             "--time-limit", "2", "--quiet"])
        assert check_plan(source, out).violations == []
        plans.append(out)
    for name in ("gantt.csv", "orders.csv", "utilization.csv"):
        assert (plans[0] / name).read_bytes() == (plans[1] / name).read_bytes(), name
    assert len((plans[0] / "gantt.csv").read_text().splitlines()) > 100
    summary = (plans[1] / "summary.json").read_text()
    assert f'"data_dir": "{book}"' in summary


# --- formula injection ---------------------------------------------------------------------------------------


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """Ids, names and notes a spreadsheet would take for formulas, in every text column the plan repeats."""
    train = {"plant": "@P1", "modality": "mAb", "volume_l": 2000, "turnaround_days": 2, "changeover_days": 5}
    product = {"modality": "mAb", "titer_g_per_l": 2, "yield": 0.5, "batch_days": 10}
    order = {"unit": "kg", "release": "2027-01-01", "weight": 10, "firm": "true"}
    return write_instance(
        tmp_path / "data",
        plants=[{"plant": "@P1", "campus": "+C", "online_from": "2027-01-01"}],
        trains=[{"train": "+T1", **train}, {"train": "-T2", **train}],
        products=[{"product": "-p", "client": EVIL, **product}, {"product": "'q", "client": "Beta", **product}],
        qualifications=[{"product": p, "plant": "@P1", "qualified_from": "2027-01-01"} for p in ("-p", "'q")],
        orders=[
            {"order": "+O1", "client": EVIL, "product": "-p", "quantity": 4, "due": "2027-03-01", **order},
            {"order": "O2", "client": "Beta", "product": "'q", "quantity": 4, "due": "2027-04-01", **order},
        ],
        downtime=[{"plant": "@P1", "train": "-T2", "start": "2027-02-01", "end": "2027-02-10", "reason": "=1+2"}],
    )


def _cells(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_formula_text_is_neutralised_in_csv_and_restored_by_every_reader(hostile: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan"
    _ok(["solve", str(hostile), "--out", str(plan), *FAST, "--xlsx", "--html", "--png", "--parquet"])
    gantt, orders = _cells(plan / "gantt.csv"), _cells(plan / "orders.csv")
    batch = next(r for r in gantt if r["kind"] == "batch" and r["order"] == "'+O1")
    assert (batch["plant"], batch["train"], batch["client"], batch["product"]) == ("'@P1", "'+T1", "'" + EVIL, "'-p")
    assert next(r for r in gantt if r["kind"] == "downtime")["note"] == "'=1+2"
    assert {r["order"]: r["product"] for r in orders} == {"'+O1": "'-p", "O2": "''q"}
    assert {r["plant"] for r in _cells(plan / "utilization.csv")} == {"'@P1"}
    for table in ("gantt", "orders", "utilization"):  # no cell of any plan CSV can start a formula
        assert not [c for row in _cells(plan / f"{table}.csv") for c in row.values() if is_risky(c)], table

    # the checker restores the text (the plan passes) ...
    assert _ok(["check", str(hostile), str(plan)]).startswith("plan OK")
    # ... and the workbook, Parquet, charts and the simulator see the original text
    book = openpyxl.load_workbook(plan / "plan.xlsx")
    cells = {c.value: c for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    for text in (EVIL, "+O1", "-p", "@P1", "+T1", "=1+2"):
        assert cells[text].data_type == "s" and cells[text].quotePrefix, text
    assert not cells["O2"].quotePrefix and "'q" in cells
    assert set(pq.read_table(plan / "parquet" / "orders.parquet").column("order").to_pylist()) == {"+O1", "O2"}
    site = (plan / "charts" / "site.html").read_text()
    assert "=HYPERLINK(" in site and "'=HYPERLINK(" not in site and "'+O1" not in site
    sim = tmp_path / "sim"
    output = _ok(["simulate", str(plan), str(hostile), "--runs", "50", "--spread", "0", "--failure", "mAb=0",
                  "--out", str(sim)])
    assert "Orders on time: expected 2.0 of 2 (plan: 2)" in output
    risk = _cells(sim / "orders_risk.csv")
    assert {r["order"] for r in risk} == {"'+O1", "O2"} and {r["client"] for r in risk} == {"'" + EVIL, "Beta"}

    # what-if tables: scenario names are text too
    sweep = tmp_path / "sweep"
    shutil.copytree(plan, sweep / "-less")
    write_comparison(sweep, ["-less"])
    assert {r["scenario"] for r in _cells(sweep / "kpis.csv")} == {"'-less"}
    assert {(r["scenario"], r["plant"]) for r in _cells(sweep / "comparison.csv")} == {("'-less", "'@P1")}

    # a plan CSV with the quote taken away is a violation of the contract
    text = (plan / "orders.csv").read_text()
    (plan / "orders.csv").write_text(text.replace("'+O1,", "+O1,", 1))
    violations = check_plan(hostile, plan).violations
    assert violations == ["orders.csv row 2, column order: text '+O1' is not neutralised (a spreadsheet would run it "
                          "as a formula)"]


def test_only_text_columns_are_neutralised(tmp_path: Path) -> None:
    rows = [{"order": "-3", "client": "@x", "days_late": -3, "kg": "-1.500", "due": "2027-01-01", "firm": "true"}]
    path = tmp_path / "t.csv"
    _write_csv(path, ["order", "client", "days_late", "kg", "due", "firm"], rows)
    assert path.read_text().splitlines()[1] == "'-3,'@x,-3,-1.500,2027-01-01,true"
    every = set(GANTT_COLUMNS + ORDER_COLUMNS + CHANGE_COLUMNS + UTILIZATION_COLUMNS)
    typed_text = {c for table in PLAN_TABLES.values() for c, kind in table.items() if kind in ("string", "bool")}
    assert every & typed_text == TEXT_COLUMNS  # the text columns are exactly those the typed exports keep as text
    assert CHECK_TEXT_COLUMNS == TEXT_COLUMNS  # the checker keeps its own copy of the contract
