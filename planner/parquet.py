"""Typed Parquet copies of a finished plan's tables, for analysis tools (pandas, Polars, DuckDB, Spark).

Why: a CSV carries no types, so every reader guesses (an all-empty `batch` column becomes float, dates
stay text). Here each table gets an explicit pyarrow schema from `planner.workbook.PLAN_TABLES`: dates as
date32, counts as int64, quantities as float64, `firm` as bool, the rest as string; an empty CSV cell is
null. pyarrow is used because it is the reference Parquet implementation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from planner.workbook import PLAN_TABLES, read_plan_table

PARQUET_DIR = "parquet"


def arrow_type(kind: str) -> Any:
    """The pyarrow type of a plan column type (`string`, `int`, `float`, `bool`, `date`)."""
    import pyarrow as pa

    return {
        "string": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "date": pa.date32(),
    }[kind]


def write_plan_parquet(plan_dir: Path | str) -> list[Path]:
    """Write `plan_dir/parquet/{gantt,orders,utilization}.parquet` from the plan CSVs; return the paths.

    Written into `plan_dir` only, so the exporter can call it on its temporary folder before the rename.
    Raises ValueError (file, row, column) when a CSV cell does not parse as its column's type.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    plan_dir = Path(plan_dir)
    folder = plan_dir / PARQUET_DIR
    folder.mkdir(exist_ok=True)
    written: list[Path] = []
    for table in PLAN_TABLES:
        columns, kinds, rows = read_plan_table(plan_dir, table)
        schema = pa.schema([pa.field(c, arrow_type(k), nullable=True) for c, k in zip(columns, kinds, strict=True)])
        arrays = [
            pa.array([row[i] for row in rows], type=arrow_type(kind)) for i, kind in enumerate(kinds)
        ]
        path = folder / f"{table}.parquet"
        pq.write_table(pa.Table.from_arrays(arrays, schema=schema), path)
        written.append(path)
    return written
