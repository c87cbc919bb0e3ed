"""Workbook input and output: the same contract, the same messages (sheet instead of file), the same plan."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.check import check_plan
from planner.generate import generate
from planner.load import TABLES, InputErrors, Settings, cell_text
from planner.pipeline import PlanRequest, run_solve
from planner.safe_cells import is_risky, neutralise, restore, xlsx_text
from planner.validate import load_valid
from planner.workbook import (
    COLUMN_DOCS,
    SETTINGS_DOCS,
    read_plan_table,
    settings_keys,
    write_data_workbook,
    write_plan_workbook,
    write_template,
)

BUNDLED = Path(__file__).resolve().parent.parent / "data"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "data.md"
TABLE_NAMES = ["plants", "trains", "products", "orders", "qualifications", "downtime", "changeovers"]


def _tables(data) -> dict[str, list]:
    return {name: getattr(data, name) for name in TABLE_NAMES}


def _messages(path: Path) -> list[str]:
    with pytest.raises(InputErrors) as exc:
        load_valid(path)
    return [str(e) for e in exc.value.errors]


@pytest.fixture
def book(tiny: Path, tmp_path: Path) -> Path:
    return write_data_workbook(tiny, tmp_path / "tiny.xlsx")


def _edit(path: Path, sheet: str, cell: str, value) -> None:
    wb = openpyxl.load_workbook(path)
    wb[sheet][cell] = value
    wb.save(path)


# --- reading ---------------------------------------------------------------------------------------------


def test_bundled_data_and_its_workbook_load_the_same(tmp_path: Path) -> None:
    folder = load_valid(BUNDLED)
    path = write_data_workbook(BUNDLED, tmp_path / "site.xlsx")
    book = load_valid(path)
    assert _tables(book) == _tables(folder)
    assert book.settings == folder.settings
    assert book.folder == path
    assert book.where("orders.csv") == "site.xlsx sheet orders"
    assert book.where("settings.toml") == "site.xlsx sheet settings"
    assert folder.where("orders.csv") == "orders.csv"


def test_same_plan_from_folder_and_workbook(tmp_path: Path) -> None:
    """Fixed seed, one worker, deterministic time: identical inputs must give a byte-identical plan."""
    site = tmp_path / "site"
    generate(site, orders=30, plants=4, years=2, seed=3)
    path = write_data_workbook(site, tmp_path / "site.xlsx")
    plans = []
    for source, out in ((site, tmp_path / "plan-csv"), (path, tmp_path / "plan-xlsx")):
        outcome = run_solve(
            PlanRequest(data_dir=source, out=out, time_limit_s=0.2, workers=1, seed=0, deterministic=True)
        )
        assert outcome.plan is not None
        plans.append(out)
    for name in ("gantt.csv", "orders.csv", "utilization.csv"):
        assert (plans[0] / name).read_bytes() == (plans[1] / name).read_bytes(), name
    assert len((plans[1] / "gantt.csv").read_text().splitlines()) > 100
    assert check_plan(path, plans[1]).violations == []


@pytest.mark.parametrize(
    ("sheet", "cell", "value", "message"),
    [
        ("orders", "G2", "2027-13-01",
         "tiny.xlsx sheet orders row 2, column due: input should be a valid date or datetime, month value is "
         "outside expected range of 1-12 (got '2027-13-01')"),
        ("orders", "D2", -30,
         "tiny.xlsx sheet orders row 2, column quantity: input should be greater than 0 (got '-30')"),
        ("orders", "E2", "litres",
         "tiny.xlsx sheet orders row 2, column unit: input should be 'kg' or 'batches' (got 'litres')"),
        ("trains", "C4", "mRNA",
         "tiny.xlsx sheet trains row 4, column modality: input should be 'mAb', 'ADC' or 'AAV' (got 'mRNA')"),
        ("products", "E2", 1.5,
         "tiny.xlsx sheet products row 2, column yield: input should be less than or equal to 1 (got '1.5')"),
        ("orders", "F2", dt.datetime(2027, 1, 1, 10, 30),
         "tiny.xlsx sheet orders row 2, column release: datetimes provided to dates should have zero time - e.g. "
         "be exact dates (got '2027-01-01 10:30:00')"),
        ("orders", "D2", "#N/A", "tiny.xlsx sheet orders row 2, column quantity: Excel error value #N/A"),
        ("orders", "L2", "extra", "tiny.xlsx sheet orders row 2: 12 cells but the header has 11"),
        ("orders", "C3", "mab-z", "tiny.xlsx sheet orders row 3, column product: unknown product 'mab-z'"),
        ("orders", "A3", "O1", "tiny.xlsx sheet orders row 3, column order: duplicate order 'O1'"),
        ("downtime", "A2", "P2",
         "tiny.xlsx sheet downtime row 2, column train: train 'P1-R2' stands in plant 'P1', not 'P2'"),
        ("settings", "B3", dt.date(2026, 1, 1),
         "tiny.xlsx sheet settings: horizon.end 2026-01-01 is not after horizon.start"),
        ("settings", "A4", "weights.lateness",
         "tiny.xlsx sheet settings row 4, column key: unknown key 'weights.lateness'"),
        ("settings", "A5", "horizon.start",
         "tiny.xlsx sheet settings row 5, column key: duplicate key 'horizon.start' (also in row 2)"),
    ],
)
def test_bad_cell_in_workbook_is_named_exactly(book: Path, sheet: str, cell: str, value, message: str) -> None:
    wb = openpyxl.load_workbook(book)
    assert wb[sheet][cell].value is not None or cell == "L2", "the edit must replace a value"
    _edit(book, sheet, cell, value)
    assert message in _messages(book)


def test_bad_setting_value_is_named_exactly(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    row = next(r for r in wb["settings"].iter_rows(min_row=2) if r[0].value == "solver.workers")
    row[1].value = -1
    wb.save(book)
    assert _messages(book) == [
        f"tiny.xlsx sheet settings row {row[0].row}, column value: key solver.workers: input should be greater "
        "than or equal to 0 (got '-1')"
    ]


def test_missing_sheet_and_column(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    del wb["downtime"]
    wb["plants"]["C1"] = "online_since"
    wb.save(book)
    assert _messages(book) == [
        "tiny.xlsx sheet plants row 1, column online_from: missing column",
        "tiny.xlsx sheet downtime: sheet not found",
    ]


def test_empty_sheet_and_optional_sheets(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    del wb["changeovers"], wb["settings"], wb["README"]
    wb.remove(wb["orders"])
    wb.create_sheet("Orders")  # sheet names match ignoring case; the message uses the workbook's spelling
    wb.save(book)
    assert _messages(book) == [
        "tiny.xlsx sheet Orders row 1: empty sheet; expected a header with order, client, product, quantity, unit, "
        "release, due, weight, firm"
    ]


def test_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "bad.xlsx").write_bytes(b"order,client\n")
    (tmp_path / "notes.txt").write_text("x")
    assert _messages(tmp_path / "bad.xlsx") == ["bad.xlsx: not a readable .xlsx workbook (File is not a zip file)"]
    assert _messages(tmp_path / "notes.txt") == [f"{tmp_path / 'notes.txt'}: not a data folder or an .xlsx workbook"]
    assert _messages(tmp_path / "gone.xlsx") == [f"{tmp_path / 'gone.xlsx'}: workbook not found"]
    assert _messages(tmp_path / "gone") == [f"{tmp_path / 'gone'}: data folder not found"]
    with zipfile.ZipFile(tmp_path / "empty.xlsx", "w") as z:
        z.writestr("hello.txt", "not a workbook")
    (message,) = _messages(tmp_path / "empty.xlsx")
    assert message.startswith("empty.xlsx: not a readable .xlsx workbook (") and "\n" not in message


def test_typed_cells_read_as_the_csv_text(book: Path) -> None:
    """Number ids, TRUE/FALSE, text dates and text numbers all mean what the CSV text would mean."""
    wb = openpyxl.load_workbook(book)
    orders = wb["orders"]
    orders["A2"] = 1001  # a numeric order id
    orders["I2"] = True  # an Excel boolean in `firm`
    orders["I3"] = "No"
    orders["F2"] = "2027-01-01"  # a date typed as text
    orders["D2"] = "30"  # a number typed as text
    orders["J5"] = None  # blank optional cell: default revenue 0
    wb["settings"]["B2"] = None  # blank setting: default horizon.start
    wb.save(book)
    data = load_valid(book)
    assert data.orders[0].order == "1001" and data.orders[0].firm is True and data.orders[0].quantity == 30
    assert data.orders[1].firm is False and data.orders[3].revenue == 0
    assert data.settings.horizon.start == Settings().horizon.start


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""), (3.0, "3"), (0.25, "0.25"), (15000, "15000"), (True, "true"), (False, "false"),
        (dt.datetime(2027, 3, 1), "2027-03-01"), (dt.date(2027, 3, 1), "2027-03-01"),
        (dt.datetime(2027, 3, 1, 6, 0), "2027-03-01 06:00:00"), (dt.timedelta(days=14), "14"), ("mab-a", "mab-a"),
        (1e20, "1e+20"),
    ],
)
def test_cell_text(value, text: str) -> None:
    assert cell_text(value) == text


# --- the template ----------------------------------------------------------------------------------------


def test_template_loads_empty_with_default_settings(tmp_path: Path) -> None:
    path = write_template(tmp_path / "template.xlsx")
    data = load_valid(path)
    assert all(rows == [] for rows in _tables(data).values())
    assert data.settings == Settings()
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["README", *TABLE_NAMES, "settings"]
    for name, (model, _) in TABLES.items():
        ws = wb[name.removesuffix(".csv")]
        header = [c.value for c in ws[1]]
        assert header == [info.alias or f for f, info in model.model_fields.items() if f != "row"]
        assert all(c.comment is not None and c.value in c.comment.text for c in ws[1])
        assert ws.freeze_panes == "A2"
    lists = {
        (ws.title, str(dv.sqref), dv.formula1)
        for ws in wb.worksheets for dv in ws.data_validations.dataValidation if dv.type == "list"
    }
    assert lists == {
        ("trains", "C2:C1048576", '"mAb,ADC,AAV"'),
        ("products", "C2:C1048576", '"mAb,ADC,AAV"'),
        ("orders", "E2:E1048576", '"kg,batches"'),
        ("orders", "I2:I1048576", '"true,false"'),
    }
    kinds = {
        (ws.title, str(dv.sqref).split(":")[0]): dv.type
        for ws in wb.worksheets for dv in ws.data_validations.dataValidation
    }
    assert kinds[("orders", "G2")] == "date" and kinds[("orders", "D2")] == "decimal"
    assert kinds[("trains", "E2")] == "whole"
    settings = {r[0].value: r[1].value for r in wb["settings"].iter_rows(min_row=2)}
    assert list(settings) == list(settings_keys())
    assert settings["horizon.start"] == dt.datetime(2027, 1, 1)
    readme = " ".join(str(c.value) for row in wb["README"].iter_rows() for c in row if c.value)
    assert "penalty per day late (firm orders)" in readme and "solver.time_limit_s" in readme


def test_column_docs_follow_docs_data_md() -> None:
    """The template's column help is the data contract's text; a change to either shows up here."""
    documented: dict[str, list[tuple[str, ...]]] = {}
    table = None
    for line in DOCS.read_text().split("# Plan outputs")[0].splitlines():
        if m := re.match(r"## (\w+)\.csv", line):
            table = m.group(1)
            documented[table] = []
        elif table and line.startswith("| ") and not line.startswith("| column"):
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            documented[table].append(
                tuple(c.strip().replace("\\|", "|").replace("`", "").replace("**", "") for c in cells)
            )
    assert documented == COLUMN_DOCS
    for name, (model, _) in TABLES.items():
        columns = [info.alias or f for f, info in model.model_fields.items() if f != "row"]
        assert [c for c, _, _ in COLUMN_DOCS[name.removesuffix(".csv")]] == columns
    assert set(settings_keys()) <= set(SETTINGS_DOCS)


# --- the plan workbook -----------------------------------------------------------------------------------


@pytest.fixture
def hostile(tiny: Path, tmp_path: Path) -> Path:
    """The tiny site with text that a spreadsheet would take for formulas: an order id and a downtime reason."""
    folder = tmp_path / "data"
    shutil.copytree(tiny, folder)
    orders = folder / "orders.csv"
    orders.write_text(orders.read_text().replace("O1,Acme", "@O1,Acme"))
    downtime = folder / "downtime.csv"
    downtime.write_text(downtime.read_text().replace("maintenance", '"=HYPERLINK(""http://x"",""y"")"'))
    return folder


def _plan(data: Path, out: Path) -> Path:
    outcome = run_solve(PlanRequest(data_dir=data, out=out, time_limit_s=5, workers=1, seed=0, deterministic=True))
    assert outcome.plan is not None
    return out


def test_plan_workbook_sheets_and_types(tiny: Path, tmp_path: Path) -> None:
    plan = _plan(tiny, tmp_path / "plan")
    path = write_plan_workbook(plan)
    assert path == plan / "plan.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Gantt", "Orders", "Utilization", "Summary"]
    for title, table in (("Gantt", "gantt"), ("Orders", "orders"), ("Utilization", "utilization")):
        ws = wb[title]
        columns, _, rows = read_plan_table(plan, table)
        assert [c.value for c in ws[1]] == columns
        assert ws.max_row == len(rows) + 1 == len((plan / f"{table}.csv").read_text().splitlines())
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(columns)).column_letter}{ws.max_row}"
        assert all(ws.column_dimensions[c.column_letter].width >= 8 for c in ws[1])
    gantt = {c.value: i for i, c in enumerate(wb["Gantt"][1])}
    batch = next(r for r in wb["Gantt"].iter_rows(min_row=2) if r[gantt["kind"]].value == "batch")
    assert isinstance(batch[gantt["start"]].value, dt.datetime) and batch[gantt["start"]].number_format == "yyyy-mm-dd"
    assert isinstance(batch[gantt["kg"]].value, int | float) and isinstance(batch[gantt["batch"]].value, int)
    downtime = next(r for r in wb["Gantt"].iter_rows(min_row=2) if r[gantt["kind"]].value == "downtime")
    assert downtime[gantt["batch"]].value is None and downtime[gantt["note"]].value == "maintenance"
    orders = {c.value: i for i, c in enumerate(wb["Orders"][1])}
    first = next(wb["Orders"].iter_rows(min_row=2))
    assert first[orders["firm"]].value is True and isinstance(first[orders["due"]].value, dt.datetime)
    util = {c.value: i for i, c in enumerate(wb["Utilization"][1])}
    assert all(isinstance(r[util["utilization"]].value, float | int) for r in wb["Utilization"].iter_rows(min_row=2))
    summary = {r[0].value: r[1].value for r in wb["Summary"].iter_rows(min_row=2)}
    assert summary["status"] == "OPTIMAL" and summary["horizon.start"] == dt.datetime(2027, 1, 1)
    assert isinstance(summary["kpis.batches"], int) and summary["sizes.trains"] == 4


def test_negative_numbers_stay_numbers(tiny: Path, tmp_path: Path) -> None:
    plan = _plan(tiny, tmp_path / "plan")
    text = (plan / "orders.csv").read_text().splitlines()
    header = text[0].split(",")
    cells = text[1].split(",")
    cells[header.index("days_late")] = "-3"
    (plan / "orders.csv").write_text("\n".join([text[0], ",".join(cells), *text[2:]]) + "\n")
    ws = openpyxl.load_workbook(write_plan_workbook(plan))["Orders"]
    cell = ws.cell(2, header.index("days_late") + 1)
    assert cell.value == -3 and cell.data_type == "n" and not cell.quotePrefix


def _formula_cells(path: Path) -> int:
    with zipfile.ZipFile(path) as z:
        return sum(z.read(n).count(b"<f>") + z.read(n).count(b"<f ") for n in z.namelist() if n.startswith("xl/"))


def test_formula_injection_is_neutralised_in_workbooks(hostile: Path, tmp_path: Path) -> None:
    evil = '=HYPERLINK("http://x","y")'
    plan = _plan(hostile, tmp_path / "plan")
    path = write_plan_workbook(plan)
    assert _formula_cells(path) == 0
    wb = openpyxl.load_workbook(path)
    cells = {c.value: c for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    for text in (evil, "@O1"):
        assert cells[text].data_type == "s" and cells[text].quotePrefix, text
    assert not cells["O2"].quotePrefix
    data_book = write_data_workbook(hostile, tmp_path / "data.xlsx")
    assert _formula_cells(data_book) == 0
    assert _tables(load_valid(data_book)) == _tables(load_valid(hostile))
    orders = openpyxl.load_workbook(data_book)["orders"]
    assert orders["A2"].value == "@O1" and orders["A2"].quotePrefix and orders["A2"].data_type == "s"


# --- safe cells ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+2", "'=1+2"), ("+31 20 555", "'+31 20 555"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"), ("\rx", "'\rx"), ("'quoted", "''quoted"), ("mab-a", "mab-a"), ("", ""), ("a=b", "a=b"),
    ],
)
def test_neutralise(text: str, safe: str) -> None:
    assert neutralise(text) == safe
    assert restore(safe) == text


@given(st.text())
def test_neutralise_is_safe_and_reversible(text: str) -> None:
    safe = neutralise(text)
    assert not is_risky(safe)
    assert restore(safe) == text
    assert neutralise(text) == text or safe == "'" + text


def test_xlsx_text_replaces_control_characters() -> None:
    assert xlsx_text("a\x00b\x1fc\td\n") == "a\ufffdb\ufffdc\td\n"


# --- wiring: scenarios on a workbook, the checker's messages --------------------------------------------------


def test_scenario_on_a_workbook_base(book: Path) -> None:
    from planner.scenario import load_scenario

    path = book.parent / "wider.yaml"
    path.write_text("base: tiny.xlsx\nchanges:\n  - retime_train: {train: P1-R1, changeover_days: 9}\n")
    scenario = load_scenario(path)
    assert scenario.base == book.resolve()
    assert next(t for t in scenario.data.trains if t.train == "P1-R1").changeover_days == 9
    assert scenario.data.where("trains.csv") == "tiny.xlsx sheet trains"
    path.write_text("base: gone.xlsx\nchanges: []\n")
    with pytest.raises(InputErrors) as exc:
        load_scenario(path)
    assert [str(e) for e in exc.value.errors] == [
        f"wider.yaml column base: data workbook not found: {book.parent / 'gone.xlsx'}"
    ]


def test_checker_names_the_downtime_sheet_of_a_workbook(book: Path, tmp_path: Path) -> None:
    plan = _plan(book, tmp_path / "plan")
    assert check_plan(book, plan).violations == []
    gantt = plan / "gantt.csv"
    gantt.write_text("".join(line for line in gantt.read_text().splitlines(True) if ",downtime," not in line))
    assert check_plan(book, plan).violations == [
        "gantt.csv: no downtime row on P1-R2 for tiny.xlsx sheet downtime row 2 2027-02-01..2027-02-15"
    ]
