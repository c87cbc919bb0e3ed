"""Replanning: frozen batches stay, failed ones are re-planned, unchanged input moves nothing.

The instance is small enough to follow by hand: one plant with two identical 1,000 L trains (turnaround 2 d,
changeover 5 d), products pa and pb of 1 kg per 10-day batch, O1 = 4 batches of pa due 2027-02-15 and
O2 = 3 batches of pb due 2027-03-01. The optimal first plan (objective 150 = 3 campaigns x 5 changeover days
x weight 10) is

    R1: O1/1 01-01..01-11 | O2/1 01-16..01-26 | O2/2 01-28..02-07 | O2/3 02-09..02-19
    R2: O1/2 01-01..01-11 | O1/3 01-13..01-23 | O1/4 01-25..02-04

Every plan written here goes through the independent checker, which re-derives the frozen batches itself.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from planner.check import check_plan
from planner.pipeline import PlanRequest, ReplanRequest, run_solve
from tests.conftest import solve_checked, write_instance

AS_OF = dt.date(2027, 1, 20)
TRAINS = [
    {"train": t, "plant": "P1", "modality": "mAb", "volume_l": 1000, "turnaround_days": 2, "changeover_days": 5}
    for t in ("R1", "R2")
]
PRODUCTS = [
    {"product": p, "client": "C", "modality": "mAb", "titer_g_per_l": 2, "yield": 0.5, "batch_days": 10}
    for p in ("pa", "pb")
]
ORDERS = [
    {"order": "O1", "client": "C", "product": "pa", "quantity": 4, "unit": "batches", "release": "2027-01-01",
     "due": "2027-02-15", "weight": 1, "firm": "true"},
    {"order": "O2", "client": "C", "product": "pb", "quantity": 3, "unit": "batches", "release": "2027-01-01",
     "due": "2027-03-01", "weight": 1, "firm": "true"},
]
FIRST_PLAN = [
    ("R1", "O1", 1, "2027-01-01", "2027-01-11"), ("R1", "O2", 1, "2027-01-16", "2027-01-26"),
    ("R1", "O2", 2, "2027-01-28", "2027-02-07"), ("R1", "O2", 3, "2027-02-09", "2027-02-19"),
    ("R2", "O1", 2, "2027-01-01", "2027-01-11"), ("R2", "O1", 3, "2027-01-13", "2027-01-23"),
    ("R2", "O1", 4, "2027-01-25", "2027-02-04"),
]
STATUS_COLUMNS = ["order", "step", "batch", "train", "start", "end", "state"]


def _data(folder: Path, orders: list[dict] | None = None) -> Path:
    return write_instance(
        folder, horizon=("2027-01-01", "2027-07-01"),
        plants=[{"plant": "P1", "campus": "S", "online_from": "2027-01-01"}],
        trains=TRAINS, products=PRODUCTS, orders=orders or ORDERS,
        qualifications=[{"product": p, "plant": "P1", "qualified_from": "2027-01-01"} for p in ("pa", "pb")],
    )


def _batches(plan: Path) -> list[tuple[str, str, int, str, str]]:
    with (plan / "gantt.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "batch"]
    return sorted((r["train"], r["order"], int(r["batch"]), r["start"], r["end"]) for r in rows)


def _orders(plan: Path) -> dict[str, dict[str, str]]:
    with (plan / "orders.csv").open() as f:
        return {r["order"]: r for r in csv.DictReader(f)}


def _status(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=STATUS_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _replan(data: Path, previous: Path, out: Path, status: Path | None = None) -> dict:
    outcome = run_solve(PlanRequest(
        data_dir=data, out=out, time_limit_s=20, workers=1, seed=0,
        replan=ReplanRequest(previous=previous, as_of=AS_OF, status=status),
    ))
    assert outcome.plan is not None and outcome.summary is not None
    report = check_plan(data, out)  # the checker takes previous plan, as-of and status from summary.json
    assert report.violations == []
    return outcome.summary


@pytest.fixture
def first(tmp_path: Path) -> tuple[Path, Path]:
    data = _data(tmp_path / "data")
    outcome = solve_checked(data, tmp_path / "plan1")
    assert outcome.result.status == "OPTIMAL" and outcome.result.objective == 150
    assert _batches(tmp_path / "plan1") == sorted(FIRST_PLAN)
    return data, tmp_path / "plan1"


def test_unchanged_replan_moves_nothing(first: tuple[Path, Path], tmp_path: Path) -> None:
    data, plan1 = first
    summary = _replan(data, plan1, tmp_path / "plan2")
    assert _batches(tmp_path / "plan2") == sorted(FIRST_PLAN)
    assert summary["replan"]["frozen_batches"] == 4
    assert summary["replan"]["moved_batches"] == 0
    assert summary["objective_terms"]["moved_batches"] == 0 and summary["objective_terms"]["shifted_days"] == 0
    orders = _orders(tmp_path / "plan2")
    assert [(o["previous_status"], o["completion_shift_days"], o["moved_batches"]) for o in orders.values()] == [
        ("on_time", "0", "0"), ("on_time", "0", "0")
    ]


def test_failed_batch_is_replanned_and_the_rest_stays(first: tuple[Path, Path], tmp_path: Path) -> None:
    data, plan1 = first
    status = _status(tmp_path / "status.csv", [
        {"order": "O1", "step": "mAb", "batch": 3, "train": "R2", "start": "2027-01-13", "end": "2027-01-23",
         "state": "failed"},
    ])
    summary = _replan(data, plan1, tmp_path / "plan2", status)
    got = _batches(tmp_path / "plan2")
    # frozen exactly: everything that started before 01-20 except the failed batch
    frozen = {b[:1] + b[1:2] + b[3:] for b in FIRST_PLAN if b[3] < "2027-01-20" and b[1:3] != ("O1", 3)}
    assert frozen <= {b[:2] + b[3:] for b in got}
    assert ("R2", "O1", "2027-01-13", "2027-01-23") not in {b[:2] + b[3:] for b in got}
    new = [b for b in got if b[:2] + b[3:] not in frozen]
    assert all(b[3] >= "2027-01-20" for b in new)
    assert sum(b[1] == "O1" for b in got) == 4 and sum(b[1] == "O2" for b in got) == 3
    assert summary["replan"]["failed_batches"] == 1
    # O1's repeat campaign was planned for 01-25, so its last batch now ends 02-16, 1 day late. Starting one
    # day earlier would cost 1 shifted day x 5,000 > 1 late day x 1,000: stability wins by default.
    assert summary["objective_terms"] == {
        "unmet_permille": 0, "late": 1000, "revenue": 0, "changeover_days": 15, "moved_batches": 0, "shifted_days": 0,
    }
    assert ("R2", "O1", 4, "2027-02-06", "2027-02-16") in got


def test_lighter_stability_weight_shifts_the_campaign_to_be_on_time(
    first: tuple[Path, Path], tmp_path: Path
) -> None:
    data, plan1 = first
    settings = data / "settings.toml"
    settings.write_text(settings.read_text() + "[weights]\nshifted_day = 500\n")
    status = _status(tmp_path / "status.csv", [
        {"order": "O1", "step": "mAb", "batch": 3, "train": "R2", "start": "2027-01-13", "end": "2027-01-23",
         "state": "failed"},
    ])
    summary = _replan(data, plan1, tmp_path / "plan2", status)
    # one shifted day x 500 < one late day x 1,000: the repeat campaign starts 01-24 and ends on the due date
    assert (summary["objective_terms"]["late"], summary["objective_terms"]["shifted_days"]) == (0, 1)
    assert ("R2", "O1", 4, "2027-02-05", "2027-02-15") in _batches(tmp_path / "plan2")


def test_running_batch_that_takes_longer_is_kept_as_reported(first: tuple[Path, Path], tmp_path: Path) -> None:
    data, plan1 = first
    status = _status(tmp_path / "status.csv", [
        {"order": "O2", "step": "mAb", "batch": 1, "train": "R1", "start": "2027-01-16", "end": "2027-01-30",
         "state": "running"},
    ])
    _replan(data, plan1, tmp_path / "plan2", status)
    got = _batches(tmp_path / "plan2")
    assert ("R1", "O2", 1, "2027-01-16", "2027-01-30") in got
    later = [b for b in got if b[0] == "R1" and b[3] > "2027-01-16"]
    assert all(b[3] >= "2027-02-01" for b in later)  # 01-30 plus the 2-day turnaround at least


def test_small_change_small_change(first: tuple[Path, Path], tmp_path: Path) -> None:
    """A new small order fitting in free time leaves every earlier batch where it was."""
    _, plan1 = first
    extra = {"order": "O3", "client": "C", "product": "pb", "quantity": 1, "unit": "batches",
             "release": "2027-03-01", "due": "2027-06-01", "weight": 1, "firm": "true"}
    data2 = _data(tmp_path / "data2", ORDERS + [extra])
    _replan(data2, plan1, tmp_path / "plan2")
    got = _batches(tmp_path / "plan2")
    assert sorted(b for b in got if b[1] != "O3") == sorted(FIRST_PLAN)
    assert sum(b[1] == "O3" for b in got) == 1
    assert {k: o["moved_batches"] for k, o in _orders(tmp_path / "plan2").items()} == {"O1": "0", "O2": "0", "O3": "1"}


def test_checker_catches_a_moved_frozen_batch(first: tuple[Path, Path], tmp_path: Path) -> None:
    data, plan1 = first
    _replan(data, plan1, tmp_path / "plan2")
    gantt = tmp_path / "plan2" / "gantt.csv"
    gantt.write_text(gantt.read_text().replace("R1,O2,C,pb,mAb,mAb,1,batch,2027-01-16,2027-01-26",
                                               "R1,O2,C,pb,mAb,mAb,1,batch,2027-01-17,2027-01-27"))
    violations = check_plan(data, tmp_path / "plan2").violations
    assert (
        "frozen batch O2/mAb/1 on R1 2027-01-16..2027-01-26 (started, previous gantt.csv row 4) is missing from "
        "gantt.csv or moved"
    ) in violations
    assert any("starts 2027-01-17 before the as-of date 2027-01-20 but is not frozen" in v for v in violations)


def test_adc_replan_with_a_failed_intermediate(tiny: Path, tmp_path: Path) -> None:
    """The tiny fixture has an ADC order (intermediate, release and hold); the checker re-derives FIFO use."""
    solve_checked(tiny, tmp_path / "plan1")
    inter = next(b for b in _batches_full(tmp_path / "plan1") if b["step"] == "intermediate")
    status = _status(tmp_path / "status.csv", [
        {**{k: inter[k] for k in ("order", "step", "batch", "train", "start", "end")}, "state": "failed"},
    ])
    as_of = dt.date.fromisoformat(inter["end"])
    outcome = run_solve(PlanRequest(
        data_dir=tiny, out=tmp_path / "plan2", time_limit_s=20, workers=1, seed=0,
        replan=ReplanRequest(previous=tmp_path / "plan1", as_of=as_of, status=status),
    ))
    assert outcome.plan is not None
    assert check_plan(tiny, tmp_path / "plan2").violations == []
    again = [b for b in _batches_full(tmp_path / "plan2") if b["step"] == "intermediate"]
    assert again and all(b["start"] >= inter["end"] for b in again)


def _batches_full(plan: Path) -> list[dict[str, str]]:
    with (plan / "gantt.csv").open() as f:
        return [r for r in csv.DictReader(f) if r["kind"] == "batch"]


def test_cli_replan_bad_status_row_exit_2(first: tuple[Path, Path], tmp_path: Path) -> None:
    data, plan1 = first
    status = _status(tmp_path / "status.csv", [
        {"order": "O1", "step": "mAb", "batch": 1, "train": "R9", "start": "2027-01-01", "end": "2027-01-11",
         "state": "done"},
        {"order": "O2", "step": "mAb", "batch": 3, "train": "R1", "start": "2027-02-09", "end": "2027-02-19",
         "state": "running"},
    ])
    out = tmp_path / "plan2"
    result = CliRunner().invoke(app, [
        "replan", str(data), "--plan", str(plan1), "--as-of", "2027-01-20", "--status", str(status), "--out", str(out),
    ])
    assert result.exit_code == 2
    assert "error: status.csv row 2, column train: unknown train 'R9'" in result.output
    assert (
        "error: status.csv row 3, column start: a running batch must have started before the as-of date 2027-01-20 "
        "(got 2027-02-09)"
    ) in result.output
    assert not out.exists()


def test_started_batch_of_an_order_no_longer_in_the_data_is_an_input_error(
    first: tuple[Path, Path], tmp_path: Path
) -> None:
    _, plan1 = first
    data2 = _data(tmp_path / "data2", ORDERS[:1])
    out = tmp_path / "plan2"
    result = CliRunner().invoke(app, ["replan", str(data2), "--plan", str(plan1), "--as-of", "2027-01-20",
                                      "--out", str(out)])
    assert result.exit_code == 2
    assert ("error: plan1/gantt.csv row 4, column order: started batch on order O2 step mAb, which the data no "
            "longer has") in result.output
    assert not out.exists()


def test_checker_catches_a_failed_batch_still_planned(first: tuple[Path, Path], tmp_path: Path) -> None:
    """The first plan itself, checked as if it were the replan: the failed batch is still in it."""
    data, plan1 = first
    status = _status(tmp_path / "status.csv", [
        {"order": "O1", "step": "mAb", "batch": 3, "train": "R2", "start": "2027-01-13", "end": "2027-01-23",
         "state": "failed"},
    ])
    violations = check_plan(data, plan1, previous=plan1, as_of=AS_OF, status=status).violations
    assert violations == [
        "gantt.csv row 11: batch O1/mAb/3 on R2 failed (failed in status.csv row 2) but is still planned at 2027-01-13"
    ]


def test_started_deal_already_late_asks_for_a_decision(tmp_path: Path) -> None:
    """A deal whose running batch ends after its due date cannot be accepted on time nor declined."""
    deal = {"order": "O9", "client": "C", "product": "pa", "quantity": 1, "unit": "batches", "release": "2027-01-01",
            "due": "2027-01-12", "weight": 1, "firm": "false", "revenue": 100}
    data = _data(tmp_path / "data", [deal])
    solve_checked(data, tmp_path / "plan1")
    status = _status(tmp_path / "status.csv", [
        {"order": "O9", "step": "mAb", "batch": 1, "train": "R1", "start": "2027-01-01", "end": "2027-01-15",
         "state": "running"},
    ])
    result = CliRunner().invoke(app, ["replan", str(data), "--plan", str(tmp_path / "plan1"), "--as-of", "2027-01-05",
                                      "--status", str(status), "--out", str(tmp_path / "plan2")])
    assert result.exit_code == 2
    assert ("error: orders.csv row 2, column firm: tentative deal O9 has frozen batches ending 2027-01-15, after its "
            "due date 2027-01-12; make it firm or move its due date to replan it") in result.output
