"""Parquet copies of a plan: an explicit schema per table, the CSV's rows, nulls where the CSV is empty."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from planner import export
from planner.check import check_plan
from planner.parquet import write_plan_parquet
from planner.pipeline import PlanRequest, run_solve
from planner.workbook import PLAN_TABLES

EXPECTED = {
    "gantt": {
        "plant": pa.string(), "train": pa.string(), "order": pa.string(), "client": pa.string(),
        "product": pa.string(), "modality": pa.string(), "step": pa.string(), "batch": pa.int64(),
        "kind": pa.string(), "start": pa.date32(), "end": pa.date32(), "kg": pa.float64(),
        "from_product": pa.string(), "note": pa.string(),
    },
    "orders": {
        "order": pa.string(), "client": pa.string(), "product": pa.string(), "firm": pa.bool_(),
        "unit": pa.string(), "quantity": pa.float64(), "status": pa.string(), "planned_quantity": pa.float64(),
        "unmet_quantity": pa.float64(), "batches": pa.int64(), "intermediate_batches": pa.int64(),
        "completion": pa.date32(), "due": pa.date32(), "days_late": pa.int64(), "revenue": pa.float64(),
    },
    "utilization": {
        "plant": pa.string(), "modality": pa.string(), "quarter": pa.string(), "available_days": pa.int64(),
        "busy_days": pa.int64(), "changeover_days": pa.int64(), "utilization": pa.float64(),
    },
}


@pytest.fixture
def plan(tiny: Path, tmp_path: Path) -> Path:
    out = tmp_path / "plan"
    outcome = run_solve(PlanRequest(data_dir=tiny, out=out, time_limit_s=5, workers=1, seed=0, deterministic=True))
    assert outcome.plan is not None
    assert check_plan(tiny, out).violations == []
    return out


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_schema_and_rows_match_the_csv(plan: Path) -> None:
    paths = write_plan_parquet(plan)
    assert paths == [plan / "parquet" / f"{t}.parquet" for t in ("gantt", "orders", "utilization")]
    for table, types in EXPECTED.items():
        read = pq.read_table(plan / "parquet" / f"{table}.parquet")
        rows = _csv(plan / f"{table}.csv")
        assert {f.name: f.type for f in read.schema} == types
        assert read.column_names == list(rows[0])
        assert read.num_rows == len(rows) > 0
        for column, values in read.to_pydict().items():
            for value, row in zip(values, rows, strict=True):
                text = row[column]
                assert (value is None) == (text == ""), (table, column, text)
                if value is None:
                    continue
                if isinstance(value, dt.date):
                    assert value.isoformat() == text
                elif isinstance(value, bool):
                    assert str(value).lower() == text
                elif isinstance(value, int | float):
                    assert value == pytest.approx(float(text))
                else:
                    assert value == text
    gantt = pq.read_table(plan / "parquet" / "gantt.parquet").to_pydict()
    assert None in gantt["batch"] and None in gantt["kg"]  # changeover and downtime rows


def test_every_exported_column_has_a_type() -> None:
    """A column added to the exporter must get a type here (else it would silently become string)."""
    exported = {
        "gantt": export.GANTT_COLUMNS,
        "orders": export.ORDER_COLUMNS + getattr(export, "CHANGE_COLUMNS", []),
        "utilization": export.UTILIZATION_COLUMNS,
    }
    for table, columns in exported.items():
        assert set(columns) <= set(PLAN_TABLES[table]), table


def test_unknown_column_is_string_and_bad_cell_is_located(plan: Path) -> None:
    path = plan / "utilization.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ",remark", *(line + ",x" for line in lines[1:])]) + "\n")
    write_plan_parquet(plan)
    read = pq.read_table(plan / "parquet" / "utilization.parquet")
    assert read.schema.field("remark").type == pa.string() and read.column("remark").to_pylist()[0] == "x"
    gantt = plan / "gantt.csv"
    text = gantt.read_text().splitlines()
    cells = text[1].split(",")
    cells[9] = "2027-02-30"  # start
    gantt.write_text("\n".join([text[0], ",".join(cells), *text[2:]]) + "\n")
    with pytest.raises(ValueError, match=r"^gantt\.csv row 2, column start: not a date \('2027-02-30'\)$"):
        write_plan_parquet(plan)
