"""Tests of the independent plan checker on a hand-written tiny instance and hand-written plans.

A valid plan must pass with exact KPIs; each planted violation must be reported with a stable message.
Self-contained on purpose: the checker is the referee for the solver, so its tests do not use the solver.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from planner.check import CheckReport, check_plan

HORIZON = ("2027-01-01", "2027-07-01")

DATA_COLUMNS = {
    "plants.csv": ["plant", "campus", "online_from", "online_until"],
    "trains.csv": ["train", "plant", "modality", "volume_l", "turnaround_days", "changeover_days"],
    "products.csv": [
        "product", "client", "modality", "titer_g_per_l", "yield", "batch_days", "tech_transfer_days",
        "min_volume_l", "max_volume_l", "intermediate", "intermediate_kg_per_kg", "release_days", "max_hold_days",
    ],
    "orders.csv": ["order", "client", "product", "quantity", "unit", "release", "due", "weight", "firm", "revenue",
                   "plant"],
    "qualifications.csv": ["product", "plant", "qualified_from"],
    "downtime.csv": ["plant", "train", "start", "end", "reason"],
}
GANTT_COLUMNS = ["plant", "train", "order", "client", "product", "modality", "step", "batch", "kind", "start", "end",
                 "kg", "from_product", "note"]
UTILIZATION_COLUMNS = ["plant", "modality", "quarter", "available_days", "busy_days", "changeover_days",
                       "utilization"]
PLAN_ORDER_COLUMNS = ["order", "client", "product", "firm", "unit", "quantity", "status", "planned_quantity",
                      "unmet_quantity", "batches", "intermediate_batches", "completion", "due", "days_late", "revenue"]


def _table(text: str) -> list[dict[str, str]]:
    """Parse a compact CSV literal into rows of strings."""
    lines = [line.strip() for line in text.strip().splitlines()]
    return list(csv.DictReader(lines))


def data_tables() -> dict[str, list[dict[str, str]]]:
    """The tiny instance: 3 plants, 3 trains (one ADC), 2 mAb products, 1 ADC with intermediate, 5 orders.

    mab-a on a 1000 L train gives 1 kg, mab-b 2 kg, adc-x on the 100 L ADC train 0.8 kg (needing 0.96 kg mab-a).
    """
    return {
        "plants.csv": _table("""
            plant,campus,online_from,online_until
            P1,Songdo,2027-01-01,
            P2,Songdo,2027-01-01,
            ADC,Songdo,2027-01-01,
        """),
        "trains.csv": _table("""
            train,plant,modality,volume_l,turnaround_days,changeover_days
            P1-R1,P1,mAb,1000,2,5
            P2-R1,P2,mAb,1000,2,5
            ADC-1,ADC,ADC,100,1,3
        """),
        "products.csv": _table("""
            product,client,modality,titer_g_per_l,yield,batch_days,tech_transfer_days,min_volume_l,max_volume_l,intermediate,intermediate_kg_per_kg,release_days,max_hold_days
            mab-a,Acme,mAb,2,0.5,10,30,,,,,,
            mab-b,Beta,mAb,4,0.5,10,,,,,,,
            adc-x,Acme,ADC,10,0.8,4,,,,mab-a,1.2,5,30
        """),
        "orders.csv": _table("""
            order,client,product,quantity,unit,release,due,weight,firm,revenue,plant
            O1,Acme,mab-a,2,kg,2027-01-01,2027-02-15,10,true,,
            O2,Beta,mab-b,1,batches,2027-01-10,2027-02-10,5,true,,
            O3,Acme,adc-x,1.6,kg,2027-01-01,2027-04-30,20,true,,ADC
            O4,Beta,mab-b,4,kg,2027-03-01,2027-06-01,1,false,500,
            O5,Acme,mab-a,10,kg,2027-01-01,2027-02-01,1,false,100,
        """),
        "qualifications.csv": _table("""
            product,plant,qualified_from
            mab-a,P1,2027-01-01
            mab-b,P1,2027-01-01
            adc-x,ADC,2027-01-01
        """),
        "downtime.csv": _table("""
            plant,train,start,end,reason
            P1,P1-R1,2027-04-01,2027-04-10,maintenance
        """),
    }


def _batch(train: str, plant: str, order: str, client: str, product: str, modality: str, step: str, n: int,
           start: str, end: str, kg: str) -> dict[str, str]:
    return {"plant": plant, "train": train, "order": order, "client": client, "product": product,
            "modality": modality, "step": step, "batch": str(n), "kind": "batch", "start": start, "end": end,
            "kg": kg}


def _co(train: str, plant: str, frm: str, to: str, step: str, start: str, end: str) -> dict[str, str]:
    return {"plant": plant, "train": train, "product": to, "from_product": frm, "step": step, "kind": "changeover",
            "start": start, "end": end}


def valid_gantt() -> list[dict[str, str]]:
    """A valid plan; list index i is gantt.csv row i + 2."""
    return [
        _batch("P1-R1", "P1", "O1", "Acme", "mab-a", "mAb", "mAb", 1, "2027-01-01", "2027-01-11", "1.000"),  # 2
        _co("P1-R1", "P1", "mab-a", "mab-a", "mAb", "2027-01-11", "2027-01-13"),  # 3
        _batch("P1-R1", "P1", "O1", "Acme", "mab-a", "mAb", "mAb", 2, "2027-01-13", "2027-01-23", "1.000"),  # 4
        _co("P1-R1", "P1", "mab-a", "mab-a", "intermediate", "2027-01-23", "2027-01-25"),  # 5
        _batch("P1-R1", "P1", "O3", "Acme", "mab-a", "mAb", "intermediate", 1, "2027-01-25", "2027-02-04",
               "1.000"),  # 6
        _co("P1-R1", "P1", "mab-a", "mab-a", "intermediate", "2027-02-04", "2027-02-06"),  # 7
        _batch("P1-R1", "P1", "O3", "Acme", "mab-a", "mAb", "intermediate", 2, "2027-02-06", "2027-02-16",
               "1.000"),  # 8
        _co("P1-R1", "P1", "mab-a", "mab-b", "mAb", "2027-02-16", "2027-02-21"),  # 9
        _batch("P1-R1", "P1", "O2", "Beta", "mab-b", "mAb", "mAb", 1, "2027-02-21", "2027-03-03", "2.000"),  # 10
        _co("P1-R1", "P1", "mab-b", "mab-b", "mAb", "2027-03-03", "2027-03-05"),  # 11
        _batch("P1-R1", "P1", "O4", "Beta", "mab-b", "mAb", "mAb", 1, "2027-03-05", "2027-03-15", "2.000"),  # 12
        _co("P1-R1", "P1", "mab-b", "mab-b", "mAb", "2027-03-15", "2027-03-17"),  # 13
        _batch("P1-R1", "P1", "O4", "Beta", "mab-b", "mAb", "mAb", 2, "2027-03-17", "2027-03-27", "2.000"),  # 14
        {"plant": "P1", "train": "P1-R1", "kind": "downtime", "start": "2027-04-01", "end": "2027-04-10",
         "note": "maintenance"},  # 15
        _batch("ADC-1", "ADC", "O3", "Acme", "adc-x", "ADC", "conjugation", 1, "2027-02-10", "2027-02-14",
               "0.800"),  # 16
        _co("ADC-1", "ADC", "adc-x", "adc-x", "conjugation", "2027-02-14", "2027-02-15"),  # 17
        _batch("ADC-1", "ADC", "O3", "Acme", "adc-x", "ADC", "conjugation", 2, "2027-02-21", "2027-02-25",
               "0.800"),  # 18
    ]


def valid_orders() -> list[dict[str, str]]:
    """orders.csv of the valid plan; list index i is orders.csv row i + 2."""
    return _table("""
        order,client,product,firm,unit,quantity,status,planned_quantity,unmet_quantity,batches,intermediate_batches,completion,due,days_late,revenue
        O1,Acme,mab-a,true,kg,2,on_time,2.000,0.000,2,0,2027-01-23,2027-02-15,0,0
        O2,Beta,mab-b,true,batches,1,late,1,0,1,0,2027-03-03,2027-02-10,21,0
        O3,Acme,adc-x,true,kg,1.6,on_time,1.600,0.000,2,2,2027-02-25,2027-04-30,0,0
        O4,Beta,mab-b,false,kg,4,on_time,4.000,0.000,2,0,2027-03-27,2027-06-01,0,500
        O5,Acme,mab-a,false,kg,10,declined,0.000,10.000,0,0,,2027-02-01,0,100
    """)


def valid_utilization() -> list[dict[str, str]]:
    """utilization.csv of the valid plan, worked out by hand; list index i is utilization.csv row i + 2.

    Horizon 2027-01-01..2027-07-01: 2027Q1 has 90 days, 2027Q2 91. P1-R1 is down 2027-04-01..04-10 (9 days).
    P1 in Q1: 7 batches x 10 days busy, changeovers 2+2+2+5+2+2; ADC-1 in Q1: 2 x 4 days busy, 1 changeover day.
    """
    return _table("""
        plant,modality,quarter,available_days,busy_days,changeover_days,utilization
        ADC,ADC,2027Q1,90,8,1,0.0889
        ADC,ADC,2027Q2,91,0,0,0
        P1,mAb,2027Q1,90,70,15,0.7778
        P1,mAb,2027Q2,82,0,0,0
        P2,mAb,2027Q1,90,0,0,0
        P2,mAb,2027Q2,91,0,0,0
    """)


VALID_KPIS = {
    "firm_orders": 3,
    "firm_on_time": 2,
    "weighted_days_late": 105.0,
    "unmet_firm_orders": 0,
    "tentative_accepted": 1,
    "revenue_accepted": 500.0,
    "changeover_days": 5,
    "batches": 9,
}


def _write(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


def run_check(
    tmp_path: Path,
    tables: dict[str, list[dict[str, str]]] | None = None,
    gantt: list[dict[str, str]] | None = None,
    orders: list[dict[str, str]] | None = None,
    summary: dict[str, Any] | None = None,
    utilization: list[dict[str, str]] | None = None,
) -> CheckReport:
    """Write data and plan folders (valid unless overridden) and check them."""
    data_dir, plan_dir = tmp_path / "data", tmp_path / "plan"
    data_dir.mkdir(exist_ok=True)
    plan_dir.mkdir(exist_ok=True)
    for name, rows in (tables or data_tables()).items():
        _write(data_dir / name, DATA_COLUMNS[name], rows)
    (data_dir / "settings.toml").write_text(f"[horizon]\nstart = {HORIZON[0]}\nend = {HORIZON[1]}\n")
    _write(plan_dir / "gantt.csv", GANTT_COLUMNS, valid_gantt() if gantt is None else gantt)
    _write(plan_dir / "orders.csv", PLAN_ORDER_COLUMNS, valid_orders() if orders is None else orders)
    _write(plan_dir / "utilization.csv", UTILIZATION_COLUMNS,
           valid_utilization() if utilization is None else utilization)
    if summary is None:
        summary = {"status": "OPTIMAL", "horizon": {"start": HORIZON[0], "end": HORIZON[1]}, "kpis": VALID_KPIS}
    (plan_dir / "summary.json").write_text(json.dumps(summary))
    return check_plan(data_dir, plan_dir)


def assert_reports(report: CheckReport, *expected: str, only: bool = False) -> None:
    """Each expected text is a substring of some violation; with only=True nothing else is reported.

    A planted gantt change also shifts utilization.csv, which the helper still writes for the valid plan; so
    unless a test expects utilization.csv lines, `only` leaves them out of the count (tested on their own below).
    """
    for text in expected:
        assert any(text in v for v in report.violations), f"{text!r} not in {report.violations}"
    assert not report.ok
    if only:
        others = report.violations
        if not any(text.startswith("utilization.csv") for text in expected):
            others = [v for v in others if not v.startswith("utilization.csv")]
        assert len(others) == len(expected), report.violations


def _set(rows: list[dict[str, str]], index: int, **changes: str) -> list[dict[str, str]]:
    rows[index] = {**rows[index], **changes}
    return rows


def _order(orders: list[dict[str, str]], name: str, **changes: str) -> list[dict[str, str]]:
    return [{**o, **changes} if o["order"] == name else o for o in orders]


# ----- the valid plan -------------------------------------------------------------------------------------


def test_valid_plan_passes_with_exact_kpis(tmp_path: Path) -> None:
    report = run_check(tmp_path)
    assert report.violations == []
    assert report.ok
    assert report.kpis == VALID_KPIS


def test_horizon_falls_back_to_settings(tmp_path: Path) -> None:
    report = run_check(tmp_path, summary={"status": "OPTIMAL"})
    assert report.ok, report.violations


def test_horizon_from_summary_is_enforced(tmp_path: Path) -> None:
    summary = {"horizon": {"start": "2027-01-05", "end": "2027-03-20"}}
    report = run_check(tmp_path, summary=summary)
    assert_reports(
        report,
        "gantt.csv row 2: batch O1/mAb/1 on P1-R1 starts 2027-01-01 before horizon start 2027-01-05",
        "gantt.csv row 14: batch O4/mAb/2 on P1-R1 ends 2027-03-27 after horizon end 2027-03-20",
        # the downtime row lies outside this horizon, so it must not be repeated
        "gantt.csv row 15: downtime on P1-R1 2027-04-01..2027-04-10 matches no downtime.csv interval",
    )


# ----- planted violations: one rule each --------------------------------------------------------------------


def test_overlap_of_two_batches(tmp_path: Path) -> None:
    gantt = _set(valid_gantt(), 2, start="2027-01-09", end="2027-01-19")
    report = run_check(tmp_path, gantt=gantt)
    assert_reports(
        report, "gantt.csv row 4: batch O1/mAb/2 on P1-R1 overlaps batch O1/mAb/1 on P1-R1 (gantt.csv row 2)"
    )


def test_changeover_too_short(tmp_path: Path) -> None:
    tables = data_tables()
    tables["trains.csv"][0]["changeover_days"] = "7"
    report = run_check(tmp_path, tables=tables, summary={"kpis": {**VALID_KPIS, "changeover_days": 7}})
    assert_reports(
        report,
        "gantt.csv row 10: batch O2/mAb/1 on P1-R1 starts 5 days after batch O3/intermediate/2 on P1-R1 "
        "(gantt.csv row 8) ends; changeover mab-a->mab-b needs 7 days",
        "gantt.csv row 9: changeover mab-a->mab-b on P1-R1 lasts 5 days, required 7 after batch O3/intermediate/2",
        only=True,
    )


def test_changeover_row_wrong_duration(tmp_path: Path) -> None:
    gantt = _set(valid_gantt(), 7, end="2027-02-19")
    report = run_check(tmp_path, gantt=gantt)
    assert_reports(report, "gantt.csv row 9: changeover mab-a->mab-b on P1-R1 lasts 3 days, required 5", only=True)


def test_changeover_row_missing(tmp_path: Path) -> None:
    gantt = valid_gantt()
    del gantt[7]  # the mab-a -> mab-b changeover; later rows move up by one
    report = run_check(tmp_path, gantt=gantt)
    assert_reports(
        report,
        "gantt.csv row 9: no changeover row on P1-R1 at 2027-02-16 between batch O3/intermediate/2 on P1-R1 "
        "(gantt.csv row 8) and batch O2/mAb/1 on P1-R1; expected mab-a->mab-b 2027-02-16..2027-02-21",
        only=True,
    )


def test_changeover_row_wrong_products(tmp_path: Path) -> None:
    gantt = _set(valid_gantt(), 7, from_product="mab-b", product="mab-a")
    report = run_check(tmp_path, gantt=gantt)
    assert_reports(
        report,
        "gantt.csv row 9: changeover mab-b->mab-a on P1-R1 has from_product mab-b, expected mab-a",
        "gantt.csv row 9: changeover mab-b->mab-a on P1-R1 has product mab-a, expected mab-b",
        only=True,
    )


def test_changeovers_csv_overrides_train_changeover(tmp_path: Path) -> None:
    tables = data_tables()
    tables["changeovers.csv"] = [{"from_product": "mab-a", "to_product": "mab-b", "days": "8"}]
    DATA_COLUMNS["changeovers.csv"] = ["from_product", "to_product", "days"]
    try:
        report = run_check(tmp_path, tables=tables)
    finally:
        del DATA_COLUMNS["changeovers.csv"]
    assert_reports(report, "changeover mab-a->mab-b needs 8 days", "summary.json kpis.changeover_days is 5, expected 8")


def test_batch_in_downtime(tmp_path: Path) -> None:
    tables = data_tables()
    tables["downtime.csv"][0].update(start="2027-03-10", end="2027-03-12")
    gantt = _set(valid_gantt(), 13, start="2027-03-10", end="2027-03-12")
    report = run_check(tmp_path, tables=tables, gantt=gantt)
    assert_reports(
        report,
        "gantt.csv row 12: batch O4/mAb/1 on P1-R1 overlaps downtime 2027-03-10..2027-03-12 (maintenance)",
        only=True,
    )


def test_plant_downtime_hits_every_train(tmp_path: Path) -> None:
    tables = data_tables()
    tables["downtime.csv"].append({"plant": "ADC", "train": "", "start": "2027-02-24", "end": "2027-03-01",
                                   "reason": "shutdown"})
    report = run_check(tmp_path, tables=tables)
    assert_reports(
        report,
        "gantt.csv row 18: batch O3/conjugation/2 on ADC-1 overlaps downtime 2027-02-24..2027-03-01 (shutdown)",
        "gantt.csv: no downtime row on ADC-1 for downtime.csv row 3 2027-02-24..2027-03-01",
        only=True,
    )


def test_wrong_modality(tmp_path: Path) -> None:
    gantt = _set(valid_gantt(), 16, train="P2-R1", plant="P2")  # conjugation batch on a mAb train
    report = run_check(tmp_path, gantt=gantt)
    assert_reports(report, "gantt.csv row 18: batch O3/conjugation/2 on P2-R1 runs ADC product adc-x on a mAb train")


def test_volume_window(tmp_path: Path) -> None:
    tables = data_tables()
    tables["products.csv"][1]["min_volume_l"] = "2000"
    report = run_check(tmp_path, tables=tables)
    assert_reports(report, "gantt.csv row 10: batch O2/mAb/1 on P1-R1: train volume 1000 L is below min_volume_l 2000 "
                           "of mab-b")


def test_plant_offline(tmp_path: Path) -> None:
    tables = data_tables()
    tables["plants.csv"][2]["online_until"] = "2027-02-24"
    report = run_check(tmp_path, tables=tables)
    assert_reports(
        report,
        "gantt.csv row 18: batch O3/conjugation/2 on ADC-1 ends 2027-02-25 after plant ADC goes offline (2027-02-24)",
        only=True,
    )


def test_release_not_respected(tmp_path: Path) -> None:
    tables = data_tables()
    tables["orders.csv"][1]["release"] = "2027-02-25"
    report = run_check(tmp_path, tables=tables)
    assert_reports(
        report, "gantt.csv row 10: batch O2/mAb/1 on P1-R1 starts 2027-02-21 before order release 2027-02-25", only=True
    )


def test_unqualified_plant_before_tech_transfer(tmp_path: Path) -> None:
    gantt = _set(valid_gantt(), 2, train="P2-R1", plant="P2")
    gantt = _set(gantt, 1, step="intermediate")  # on P1-R1 the turnaround now leads to intermediate 1
    del gantt[3]  # and the turnaround after the moved batch no longer follows a batch
    report = run_check(tmp_path, gantt=gantt)
    assert_reports(
        report,
        "gantt.csv row 4: batch O1/mAb/2 on P2-R1 starts 2027-01-13 before tech transfer of mab-a to P2 completes "
        "(2027-01-31 = release + 30 days)",
        only=True,
    )


def test_unqualified_plant_without_tech_transfer(tmp_path: Path) -> None:
    gantt = valid_gantt()
    gantt.append(_batch("P2-R1", "P2", "O2", "Beta", "mab-b", "mAb", "mAb", 2, "2027-03-01", "2027-03-11", "2.000"))
    report = run_check(tmp_path, gantt=gantt)
    assert_reports(report, "gantt.csv row 19: batch O2/mAb/2 on P2-R1: mab-b is not qualified at P2 and has no tech "
                           "transfer")


def test_before_qualified_from(tmp_path: Path) -> None:
    tables = data_tables()
    tables["qualifications.csv"][2]["qualified_from"] = "2027-02-15"
    report = run_check(tmp_path, tables=tables)
    assert_reports(report, "gantt.csv row 16: batch O3/conjugation/1 on ADC-1 starts 2027-02-10 before adc-x is "
                           "qualified at ADC (2027-02-15)", only=True)


def test_order_plant_fixes_final_step(tmp_path: Path) -> None:
    tables = data_tables()
    tables["orders.csv"][0]["plant"] = "P2"
    report = run_check(tmp_path, tables=tables)
    assert_reports(report, "gantt.csv row 2: batch O1/mAb/1 on P1-R1: order O1 must run its final step at P2",
                   "gantt.csv row 4: batch O1/mAb/2 on P1-R1: order O1 must run its final step at P2", only=True)


def test_kg_mismatch(tmp_path: Path) -> None:
    gantt = _set(valid_gantt(), 0, kg="1.500")
    report = run_check(tmp_path, gantt=gantt)
    assert_reports(report, "gantt.csv row 2: batch O1/mAb/1 on P1-R1 has kg 1.500, expected 1.000", only=True)


def test_batch_duration(tmp_path: Path) -> None:
    gantt = _set(valid_gantt(), 16, end="2027-02-24")
    orders = _order(valid_orders(), "O3", completion="2027-02-24")
    report = run_check(tmp_path, gantt=gantt, orders=orders)
    assert_reports(
        report, "gantt.csv row 18: batch O3/conjugation/2 on ADC-1 lasts 3 days, but batch_days of adc-x is 4",
        only=True,
    )


def test_adc_hold_exceeded(tmp_path: Path) -> None:
    tables = data_tables()
    tables["products.csv"][2]["max_hold_days"] = "10"
    report = run_check(tmp_path, tables=tables)
    # conjugation 2 takes 0.04 kg from intermediate 1 (FIFO) and 0.92 kg from intermediate 2
    assert_reports(
        report,
        "gantt.csv row 18: batch O3/conjugation/2 on ADC-1 starts 17 days after batch O3/intermediate/1 on P1-R1 "
        "(gantt.csv row 6) ends, more than max_hold_days 10",
        only=True,
    )


def test_adc_release_days(tmp_path: Path) -> None:
    tables = data_tables()
    tables["products.csv"][2]["release_days"] = "6"
    report = run_check(tmp_path, tables=tables)
    # conjugation 1 waits 6 days for intermediate 1 (fine); conjugation 2 waits 5 days for intermediate 2
    assert_reports(
        report,
        "gantt.csv row 18: batch O3/conjugation/2 on ADC-1 starts 5 days after batch O3/intermediate/2 on P1-R1 "
        "(gantt.csv row 8) ends, less than release_days 6",
        only=True,
    )


def test_adc_intermediate_short(tmp_path: Path) -> None:
    tables = data_tables()
    tables["products.csv"][2]["intermediate_kg_per_kg"] = "1.3"
    report = run_check(tmp_path, tables=tables)
    # FIFO: conjugation 1 now needs 1.04 kg, so it also draws on intermediate 2, which ends after it starts
    assert_reports(
        report,
        "order O3: intermediate batches yield 2.000 kg, but 1.600 kg conjugate x 1.3 needs 2.080 kg",
        "gantt.csv row 16: batch O3/conjugation/1 on ADC-1 starts -6 days after batch O3/intermediate/2 on P1-R1 "
        "(gantt.csv row 8) ends, less than release_days 5",
        only=True,
    )


def test_client_supplied_intermediate_forbids_intermediate_rows(tmp_path: Path) -> None:
    tables = data_tables()
    tables["products.csv"][2].update(intermediate="", intermediate_kg_per_kg="", release_days="", max_hold_days="")
    report = run_check(tmp_path, tables=tables)
    assert_reports(report, "gantt.csv row 6: step intermediate but product adc-x of order O3 has no intermediate "
                           "(client supplies it)")


def test_kg_order_short_but_reported_on_time(tmp_path: Path) -> None:
    tables = data_tables()
    tables["orders.csv"][0]["quantity"] = "3"
    orders = _order(valid_orders(), "O1", quantity="3")
    report = run_check(tmp_path, tables=tables, orders=orders, summary={"kpis": {}})
    assert_reports(
        report,
        "order O1: final-step batches yield 2.000 kg, below quantity 3 kg, but orders.csv status is 'on_time'",
        "orders.csv row 2: order O1 column status is 'on_time', expected 'partial'",
        "orders.csv row 2: order O1 column unmet_quantity is '0.000', expected '1.000'",
        only=True,
    )


def test_orders_csv_status_mismatch(tmp_path: Path) -> None:
    orders = _order(valid_orders(), "O2", status="on_time")
    report = run_check(tmp_path, orders=orders)
    assert_reports(report, "orders.csv row 3: order O2 column status is 'on_time', expected 'late'", only=True)


def test_orders_csv_numbers_and_membership(tmp_path: Path) -> None:
    orders = _order(valid_orders(), "O3", planned_quantity="1.5", completion="2027-02-26", days_late="")
    orders = [o for o in orders if o["order"] != "O5"] + [dict(orders[0]), {**orders[0], "order": "O9"}]
    report = run_check(tmp_path, orders=orders)
    assert_reports(
        report,
        "orders.csv row 4: order O3 column planned_quantity is '1.5', expected '1.600'",
        "orders.csv row 4: order O3 column completion is '2027-02-26', expected '2027-02-25'",
        "orders.csv row 4: order O3 column days_late is '', expected '0'",
        "orders.csv row 6: order O1 appears again (first at orders.csv row 2)",
        "orders.csv row 7: order O9 is not in the input",
        "orders.csv: order O5 is missing",
        only=True,
    )


def test_tentative_accepted_but_late(tmp_path: Path) -> None:
    tables = data_tables()
    tables["orders.csv"][3]["due"] = "2027-03-20"
    orders = _order(valid_orders(), "O4", due="2027-03-20", status="late", days_late="7")
    report = run_check(tmp_path, tables=tables, orders=orders)
    assert_reports(
        report,
        "order O4 (tentative): accepted but late: completion 2027-03-27 is 7 days after due 2027-03-20 "
        "(gantt.csv row 14)",
        only=True,
    )


def test_tentative_accepted_but_partial(tmp_path: Path) -> None:
    gantt = valid_gantt()
    del gantt[11:13]  # the second O4 batch and the turnaround before it
    orders = _order(valid_orders(), "O4", status="partial", planned_quantity="2.000", unmet_quantity="2.000",
                    batches="1", completion="2027-03-15")
    report = run_check(tmp_path, gantt=gantt, orders=orders, summary={"kpis": {}})
    assert_reports(report, "order O4 (tentative): accepted but only 2.000 of 4 kg planned", only=True)
    assert report.kpis["batches"] == 8


def test_summary_kpi_mismatch(tmp_path: Path) -> None:
    report = run_check(tmp_path, summary={"kpis": {**VALID_KPIS, "firm_on_time": 3, "other": 1}})
    assert_reports(report, "summary.json kpis.firm_on_time is 3, expected 2", only=True)


def test_batch_numbering(tmp_path: Path) -> None:
    gantt = _set(valid_gantt(), 0, batch="2")
    gantt = _set(gantt, 2, batch="1")
    report = run_check(tmp_path, gantt=gantt)
    assert_reports(
        report,
        "gantt.csv row 2: batch O1/mAb/2 on P1-R1 should be number 1 of O1/mAb (numbered by start then train)",
        "gantt.csv row 4: batch O1/mAb/1 on P1-R1 should be number 2 of O1/mAb (numbered by start then train)",
        only=True,
    )
    gantt = _set(valid_gantt(), 2, batch="1")
    report = run_check(tmp_path, gantt=gantt)
    assert_reports(report, "gantt.csv row 4: batch number 1 of O1/mAb is used again (first at gantt.csv row 2)",
                   only=True)


def test_stray_changeover(tmp_path: Path) -> None:
    gantt = valid_gantt()
    gantt.append(_co("ADC-1", "ADC", "adc-x", "adc-x", "conjugation", "2027-02-25", "2027-02-26"))
    report = run_check(tmp_path, gantt=gantt)
    assert_reports(
        report,
        "gantt.csv row 19: changeover adc-x->adc-x on ADC-1 does not start at the end of a batch that another batch "
        "on ADC-1 follows",
        only=True,
    )


def test_changeover_in_downtime(tmp_path: Path) -> None:
    tables = data_tables()
    tables["downtime.csv"].append({"plant": "ADC", "train": "ADC-1", "start": "2027-02-14", "end": "2027-02-15",
                                   "reason": "calibration"})
    gantt = valid_gantt()
    gantt.append({"plant": "ADC", "train": "ADC-1", "kind": "downtime", "start": "2027-02-14", "end": "2027-02-15",
                  "note": "calibration"})
    report = run_check(tmp_path, tables=tables, gantt=gantt)
    assert_reports(
        report,
        "gantt.csv row 17: changeover adc-x->adc-x on ADC-1 overlaps downtime 2027-02-14..2027-02-15 (calibration)",
        only=True,
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"start": "2027-13-01"}, "gantt.csv row 2: bad start date '2027-13-01'"),
        ({"end": "20270111"}, "gantt.csv row 2: bad end date '20270111'"),
        ({"end": "2026-12-01"}, "gantt.csv row 2: end 2026-12-01 is not after start 2027-01-01"),
        ({"train": "X-9"}, "gantt.csv row 2: unknown train 'X-9'"),
        ({"order": "O77"}, "gantt.csv row 2: unknown order 'O77'"),
        ({"product": "nope"}, "gantt.csv row 2: unknown product 'nope'"),
        ({"kind": "party"}, "gantt.csv row 2: unknown kind 'party'"),
        ({"step": "AAV"}, "gantt.csv row 2: step AAV does not fit order O1 of mAb product mab-a"),
        ({"step": "fermentation"}, "gantt.csv row 2: unknown step 'fermentation'"),
        ({"batch": "x"}, "gantt.csv row 2: bad batch number 'x'"),
        ({"kg": "lots"}, "gantt.csv row 2: bad kg 'lots'"),
        ({"product": "mab-b"}, "gantt.csv row 2: product mab-b is not mab-a (the product of order O1)"),
    ],
)
def test_malformed_gantt_rows_are_violations(tmp_path: Path, change: dict[str, str], expected: str) -> None:
    report = run_check(tmp_path, gantt=_set(valid_gantt(), 0, **change), summary={})
    assert_reports(report, expected)


def test_missing_plan_files(tmp_path: Path) -> None:
    run_check(tmp_path)
    (tmp_path / "plan" / "gantt.csv").unlink()
    (tmp_path / "plan" / "orders.csv").write_text("order,status\n")
    report = check_plan(tmp_path / "data", tmp_path / "plan")
    assert_reports(report, "gantt.csv: file not found", "orders.csv: missing column planned_quantity",
                   "orders.csv: order O1 is missing")


def test_gantt_without_needed_column(tmp_path: Path) -> None:
    run_check(tmp_path)
    plan = tmp_path / "plan" / "gantt.csv"
    lines = plan.read_text().splitlines()
    plan.write_text("\n".join(line.rsplit(",", 3)[0] for line in lines) + "\n")  # drop kg, from_product, note
    report = check_plan(tmp_path / "data", tmp_path / "plan")
    assert_reports(report, "gantt.csv: missing column kg", "gantt.csv: missing column from_product")
    assert not any(v.startswith("gantt.csv row") for v in report.violations), report.violations


def test_aav_batch_order(tmp_path: Path) -> None:
    """Rule 6 and batch-unit orders: an AAV order counts batches and runs only on AAV trains."""
    tables = data_tables()
    tables["trains.csv"].append({"train": "V-1", "plant": "P2", "modality": "AAV", "volume_l": "200",
                                 "turnaround_days": "1", "changeover_days": "3"})
    tables["products.csv"].append({"product": "aav-z", "client": "Gene", "modality": "AAV", "titer_g_per_l": "0.01",
                                   "yield": "0.5", "batch_days": "20", "tech_transfer_days": "0"})
    tables["orders.csv"].append({"order": "O6", "client": "Gene", "product": "aav-z", "quantity": "2",
                                 "unit": "batches", "release": "2027-01-01", "due": "2027-03-01", "weight": "3",
                                 "firm": "yes"})
    gantt = valid_gantt() + [
        # same start: numbered by train, so P2-R1 comes first
        _batch("V-1", "P2", "O6", "Gene", "aav-z", "AAV", "AAV", 2, "2027-01-01", "2027-01-21", "0.001"),  # 19
        _batch("P2-R1", "P2", "O6", "Gene", "aav-z", "AAV", "AAV", 1, "2027-01-01", "2027-01-21", "0.005"),  # 20
    ]
    orders = valid_orders() + [{
        "order": "O6", "client": "Gene", "product": "aav-z", "firm": "true", "unit": "batches", "quantity": "2",
        "status": "on_time", "planned_quantity": "2", "unmet_quantity": "0", "batches": "2",
        "intermediate_batches": "0", "completion": "2027-01-21", "due": "2027-03-01", "days_late": "0", "revenue": "0",
    }]
    report = run_check(tmp_path, tables=tables, gantt=gantt, orders=orders, summary={})
    assert_reports(report, "gantt.csv row 20: batch O6/AAV/1 on P2-R1 runs AAV product aav-z on a mAb train",
                   only=True)
    assert report.kpis["firm_orders"] == 4 and report.kpis["firm_on_time"] == 3


# ----- utilization.csv ----------------------------------------------------------------------------------------


def test_utilization_busy_days_wrong(tmp_path: Path) -> None:
    utilization = _set(valid_utilization(), 2, busy_days="69")
    report = run_check(tmp_path, utilization=utilization)
    assert report.violations == ["utilization.csv row 4: P1/mAb/2027Q1 column busy_days is '69', expected 70"]


def test_utilization_missing_and_extra_rows(tmp_path: Path) -> None:
    rows = valid_utilization()
    del rows[3]  # P1/mAb/2027Q2
    rows.append({"plant": "P2", "modality": "ADC", "quarter": "2027Q1", "available_days": "90", "busy_days": "0",
                 "changeover_days": "0", "utilization": "0"})  # row 7
    rows.append({**rows[0]})  # row 8: ADC/ADC/2027Q1 again
    report = run_check(tmp_path, utilization=rows)
    assert sorted(report.violations) == sorted([
        "utilization.csv: P1/mAb/2027Q2 is missing",
        "utilization.csv row 7: P2/ADC/2027Q1 is not expected (no such plant x modality of its trains x quarter of "
        "the horizon)",
        "utilization.csv row 8: ADC/ADC/2027Q1 appears again (first at utilization.csv row 2)",
    ])


def test_utilization_other_columns(tmp_path: Path) -> None:
    rows = valid_utilization()
    rows = _set(rows, 0, utilization="0.0890")  # within 0.0001 of 8/90 = 0.0889: fine
    rows = _set(rows, 2, utilization="0.78", changeover_days="15.0", available_days="91")
    report = run_check(tmp_path, utilization=rows)
    assert sorted(report.violations) == sorted([
        "utilization.csv row 4: P1/mAb/2027Q1 column available_days is '91', expected 90",
        "utilization.csv row 4: P1/mAb/2027Q1 column changeover_days is '15.0', expected 15",
        "utilization.csv row 4: P1/mAb/2027Q1 column utilization is '0.78', expected 0.7778",
    ])


def test_utilization_follows_the_gantt(tmp_path: Path) -> None:
    """Moving a batch across the quarter boundary moves its days; the unchanged file is then wrong."""
    gantt = _set(valid_gantt(), 12, start="2027-03-27", end="2027-04-06")  # O4/mAb/2: 5 days in Q1, 5 in Q2
    gantt = _set(gantt, 11, end="2027-03-27")  # the turnaround before it now lasts 12 days
    report = run_check(tmp_path, gantt=gantt, summary={})
    assert "utilization.csv row 4: P1/mAb/2027Q1 column busy_days is '70', expected 65" in report.violations
    assert "utilization.csv row 4: P1/mAb/2027Q1 column changeover_days is '15', expected 25" in report.violations
    assert "utilization.csv row 5: P1/mAb/2027Q2 column busy_days is '0', expected 5" in report.violations


def test_utilization_downtime_union_and_online_window(tmp_path: Path) -> None:
    """Plant-wide and train downtime overlapping count once; offline days and downtime beyond them don't count."""
    tables = data_tables()
    tables["downtime.csv"].append({"plant": "P1", "train": "", "start": "2027-04-05", "end": "2027-04-20",
                                   "reason": "shutdown"})  # with P1-R1's 04-01..04-10: 19 days
    tables["downtime.csv"].append({"plant": "P2", "train": "", "start": "2027-04-20", "end": "2027-05-10",
                                   "reason": "shutdown"})  # 10 of its days fall after P2 goes offline
    tables["plants.csv"][1] = {**tables["plants.csv"][1], "online_from": "2027-01-11", "online_until": "2027-04-30"}
    gantt = valid_gantt() + [
        {"plant": "P1", "train": "P1-R1", "kind": "downtime", "start": "2027-04-05", "end": "2027-04-20"},
        {"plant": "P2", "train": "P2-R1", "kind": "downtime", "start": "2027-04-20", "end": "2027-05-10"},
    ]
    utilization = valid_utilization()
    utilization = _set(utilization, 3, available_days="72")  # 91 - 19
    utilization = _set(utilization, 4, available_days="80")  # 2027-01-11..04-01
    utilization = _set(utilization, 5, available_days="19")  # 04-01..04-30 is 29 days, minus 04-20..04-30
    report = run_check(tmp_path, tables=tables, gantt=gantt, utilization=utilization)
    assert report.violations == []


def test_utilization_file_not_found_only_with_gantt(tmp_path: Path) -> None:
    run_check(tmp_path)
    plan = tmp_path / "plan"
    (plan / "utilization.csv").unlink()
    report = check_plan(tmp_path / "data", plan)
    assert report.violations == ["utilization.csv: file not found"]
    run_check(tmp_path)
    (plan / "gantt.csv").unlink()  # utilization.csv is there but cannot be judged
    report = check_plan(tmp_path / "data", plan)
    assert not any(v.startswith("utilization.csv") for v in report.violations), report.violations
    (plan / "utilization.csv").unlink()
    report = check_plan(tmp_path / "data", plan)
    assert "gantt.csv: file not found" in report.violations
    assert not any(v.startswith("utilization.csv") for v in report.violations), report.violations
