"""Shared test helpers: write small instances and solve them through the full pipeline plus the checker."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from planner.check import check_plan
from planner.pipeline import Outcome, PlanRequest, run_solve

PLANT_COLUMNS = ["plant", "campus", "online_from", "online_until"]
TRAIN_COLUMNS = ["train", "plant", "modality", "volume_l", "turnaround_days", "changeover_days"]
PRODUCT_COLUMNS = [
    "product", "client", "modality", "titer_g_per_l", "yield", "batch_days", "tech_transfer_days",
    "min_volume_l", "max_volume_l", "intermediate", "intermediate_kg_per_kg", "release_days", "max_hold_days",
]
ORDER_COLUMNS = [
    "order", "client", "product", "quantity", "unit", "release", "due", "weight", "firm", "revenue", "plant",
]
TABLE_COLUMNS = {
    "plants.csv": PLANT_COLUMNS,
    "trains.csv": TRAIN_COLUMNS,
    "products.csv": PRODUCT_COLUMNS,
    "orders.csv": ORDER_COLUMNS,
    "qualifications.csv": ["product", "plant", "qualified_from"],
    "downtime.csv": ["plant", "train", "start", "end", "reason"],
    "changeovers.csv": ["from_product", "to_product", "days"],
}


def write_table(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    columns = columns or TABLE_COLUMNS[path.name]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


def write_instance(folder: Path, horizon: tuple[str, str] = ("2027-01-01", "2027-12-31"), **tables: list[dict]) -> Path:
    """Write a data folder; tables not given are written empty (header only)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLE_COLUMNS:
        key = name.removesuffix(".csv")
        if key == "changeovers" and key not in tables:
            continue
        write_table(folder / name, tables.get(key, []))
    (folder / "settings.toml").write_text(f"[horizon]\nstart = {horizon[0]}\nend = {horizon[1]}\n")
    return folder


def solve_checked(data_dir: Path, out: Path, **request: Any) -> Outcome:
    """Solve through the same pipeline as the CLI, then insist the independent checker accepts the plan."""
    request.setdefault("time_limit_s", 20)
    request.setdefault("workers", 1)
    request.setdefault("seed", 0)
    outcome = run_solve(PlanRequest(data_dir=data_dir, out=out, **request))
    assert outcome.plan is not None, f"no plan: {outcome.result.status}"
    report = check_plan(data_dir, out)
    assert report.violations == []
    return outcome


@pytest.fixture
def tiny() -> Path:
    return Path(__file__).parent / "fixtures" / "tiny"
