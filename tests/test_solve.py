"""Small instances whose optimum is worked out by hand; every plan also passes the independent checker."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import solve_checked, write_instance

PLANT = {"plant": "P1", "campus": "Songdo", "online_from": "2020-01-01"}
TRAIN = {"train": "R1", "plant": "P1", "modality": "mAb", "volume_l": 10000, "turnaround_days": 2,
         "changeover_days": 5}
# 10,000 L x 2 g/L x 0.5 / 1000 = 10 kg per batch, 10 days per batch.
PRODUCT_A = {"product": "A", "client": "C1", "modality": "mAb", "titer_g_per_l": 2, "yield": 0.5, "batch_days": 10}
PRODUCT_B = {**PRODUCT_A, "product": "B", "client": "C2"}
QUALS = [{"product": "A", "plant": "P1", "qualified_from": "2020-01-01"},
         {"product": "B", "plant": "P1", "qualified_from": "2020-01-01"}]
O1 = {"order": "O1", "client": "C1", "product": "A", "quantity": 25, "unit": "kg", "release": "2027-01-01",
      "due": "2027-01-31", "weight": 2, "firm": "true"}


def _orders(path: Path) -> dict[str, dict[str, str]]:
    with (path / "orders.csv").open() as f:
        return {r["order"]: r for r in csv.DictReader(f)}


def test_single_train_late_order(tmp_path: Path) -> None:
    """25 kg needs 3 batches: starts day 0, 12, 24 (2-day turnaround) → ends day 34, due day 30.

    Objective = 4 days × weight 2 × 1000 + one campaign's changeover 5 days × 10 = 8050. The bound valid for
    any plan is the unavoidable lateness alone, 8000 (a plan need not end with a changeover).
    """
    data = write_instance(tmp_path / "d", plants=[PLANT], trains=[TRAIN], products=[PRODUCT_A],
                          orders=[O1], qualifications=QUALS[:1])
    outcome = solve_checked(data, tmp_path / "plan")
    assert outcome.result.status == "OPTIMAL"
    assert outcome.result.objective == 8050
    assert outcome.result.rules_bound == 8000
    row = _orders(tmp_path / "plan")["O1"]
    assert (row["status"], row["batches"], row["completion"], row["days_late"]) == ("late", "3", "2027-02-04", "4")


@pytest.mark.parametrize(("revenue", "objective", "status"), [(100, 8050, "declined"), (100000, -61900, "on_time")])
def test_tentative_deal_taken_only_when_worth_it(tmp_path: Path, revenue: int, objective: int, status: str) -> None:
    """A 10 kg deal due day 20 must run first; O1 then starts day 15 (changeover 5) and ends day 49: 19 days late.

    Accepting costs 19 × 2 × 1000 = 38,000 plus a second campaign (50); it pays only if revenue exceeds that:
    100,000 → 38,000 + 100 − 100,000 = −61,900; 100 → declined, objective as without the deal.
    """
    deal = {"order": "T1", "client": "C2", "product": "B", "quantity": 10, "unit": "kg", "release": "2027-01-01",
            "due": "2027-01-21", "weight": 0, "firm": "false", "revenue": revenue}
    data = write_instance(tmp_path / "d", plants=[PLANT], trains=[TRAIN], products=[PRODUCT_A, PRODUCT_B],
                          orders=[O1, deal], qualifications=QUALS)
    outcome = solve_checked(data, tmp_path / "plan")
    assert outcome.result.status == "OPTIMAL"
    assert outcome.result.objective == objective
    assert _orders(tmp_path / "plan")["T1"]["status"] == status


def test_bigger_train_needs_fewer_batches(tmp_path: Path) -> None:
    """A 20,000 L train yields 20 kg a batch, so 25 kg takes 2 batches there (ends day 22) instead of 3."""
    big = {**TRAIN, "train": "R2", "volume_l": 20000}
    data = write_instance(tmp_path / "d", plants=[PLANT], trains=[TRAIN, big], products=[PRODUCT_A],
                          orders=[O1], qualifications=QUALS[:1])
    outcome = solve_checked(data, tmp_path / "plan")
    assert outcome.result.objective == 50
    row = _orders(tmp_path / "plan")["O1"]
    assert (row["status"], row["batches"], row["planned_quantity"]) == ("on_time", "2", "40")


def test_downtime_and_late_qualification_push_batches(tmp_path: Path) -> None:
    """Qualified from day 5; plant down days 10-20: the only fitting batch window opens on day 20.

    3 batches from day 20: ends day 54 → 24 days late × 2 × 1000 + 50 = 48,050.
    """
    quals = [{"product": "A", "plant": "P1", "qualified_from": "2027-01-06"}]
    down = [{"plant": "P1", "train": "", "start": "2027-01-11", "end": "2027-01-21", "reason": "shutdown"}]
    data = write_instance(tmp_path / "d", plants=[PLANT], trains=[TRAIN], products=[PRODUCT_A],
                          orders=[O1], qualifications=quals, downtime=down)
    outcome = solve_checked(data, tmp_path / "plan")
    assert outcome.result.objective == 48050
    assert _orders(tmp_path / "plan")["O1"]["completion"] == "2027-02-24"


def test_firm_order_beyond_capacity_is_partial_with_reason(tmp_path: Path) -> None:
    """A 40-day horizon fits 3 batches (0, 12, 24 → ends 34): 30 of 50 kg, 400 ‰ unmet."""
    big_order = {**O1, "quantity": 50, "due": "2027-02-10"}
    data = write_instance(tmp_path / "d", horizon=("2027-01-01", "2027-02-10"), plants=[PLANT], trains=[TRAIN],
                          products=[PRODUCT_A], orders=[big_order], qualifications=QUALS[:1])
    outcome = solve_checked(data, tmp_path / "plan")
    assert outcome.result.objective == 400 * 10_000_000 + 50
    row = _orders(tmp_path / "plan")["O1"]
    assert (row["status"], row["planned_quantity"], row["unmet_quantity"]) == ("partial", "30", "20")
    unmet = outcome.summary["unmet_firm_orders"]
    assert [u["order"] for u in unmet] == ["O1"]
    assert unmet[0]["reason"].startswith("not enough capacity before the horizon end")


def test_adc_waits_for_intermediate_release(tmp_path: Path) -> None:
    """Intermediate batch days 0-10 (10 kg), QC release 5 days → conjugation 15-19 and 20-24 (4 kg each).

    8 kg of ADC needs 8 × 1.25 = 10 kg of intermediate = one batch. Due day 20: 4 days late × 1 × 1000,
    plus changeovers: intermediate campaign 5 days, conjugation campaign 3 days → (5 + 3) × 10 = 80.
    """
    plants = [PLANT, {"plant": "ADC", "campus": "Songdo", "online_from": "2020-01-01"}]
    trains = [TRAIN, {"train": "C1", "plant": "ADC", "modality": "ADC", "volume_l": 500, "turnaround_days": 1,
                      "changeover_days": 3}]
    adc = {"product": "X", "client": "C1", "modality": "ADC", "titer_g_per_l": 10, "yield": 0.8, "batch_days": 4,
           "intermediate": "A", "intermediate_kg_per_kg": 1.25, "release_days": 5, "max_hold_days": 30}
    quals = [QUALS[0], {"product": "X", "plant": "ADC", "qualified_from": "2020-01-01"}]
    order = {**O1, "product": "X", "quantity": 8, "due": "2027-01-21", "weight": 1}
    data = write_instance(tmp_path / "d", plants=plants, trains=trains, products=[PRODUCT_A, adc],
                          orders=[order], qualifications=quals)
    outcome = solve_checked(data, tmp_path / "plan")
    assert outcome.result.objective == 4080
    row = _orders(tmp_path / "plan")["O1"]
    assert (row["batches"], row["intermediate_batches"], row["completion"]) == ("2", "1", "2027-01-25")


def test_bundled_fixture_plans_and_checks(tiny: Path, tmp_path: Path) -> None:
    outcome = solve_checked(tiny, tmp_path / "plan")
    assert outcome.result.status == "OPTIMAL"
    assert outcome.plan is not None and outcome.plan.kpis["firm_on_time"] == 3


def test_greedy_baseline_is_checked_and_scored(tmp_path: Path) -> None:
    """EDD dispatch on the single-train instance finds the same plan as CP-SAT: objective 8050, not searched."""
    data = write_instance(tmp_path / "d", plants=[PLANT], trains=[TRAIN], products=[PRODUCT_A],
                          orders=[O1], qualifications=QUALS[:1])
    outcome = solve_checked(data, tmp_path / "plan", method="greedy")
    assert (outcome.result.status, outcome.result.objective, outcome.result.best_bound) == ("GREEDY", 8050, None)
    assert outcome.summary["gap"] is None


def test_greedy_serves_firm_first_and_declines_late_deal(tmp_path: Path) -> None:
    """Greedy places firm O1 first (days 0-34), so the deal due day 20 no longer fits and is declined, even
    though CP-SAT accepts it at revenue 100,000 (see above): the baseline is honest, not optimal."""
    deal = {"order": "T1", "client": "C2", "product": "B", "quantity": 10, "unit": "kg", "release": "2027-01-01",
            "due": "2027-01-21", "weight": 0, "firm": "false", "revenue": 100000}
    data = write_instance(tmp_path / "d", plants=[PLANT], trains=[TRAIN], products=[PRODUCT_A, PRODUCT_B],
                          orders=[O1, deal], qualifications=QUALS)
    outcome = solve_checked(data, tmp_path / "plan", method="greedy")
    assert outcome.result.objective == 8050
    assert {o.order: o.status for o in outcome.plan.orders} == {"O1": "late", "T1": "declined"}


def test_overlapping_plant_and_train_downtime(tmp_path: Path) -> None:
    """Plant down days 10-20 and the train itself 15-25 overlap; together they block days 10-25.

    A batch on days 0-10 would need its cleaning reserve (5 days) inside the downtime, so all three batches
    run from day 25: 25, 37, 49 → ends day 59, 29 days late × 2 × 1000 + 50 = 58,050.
    """
    down = [{"plant": "P1", "train": "", "start": "2027-01-11", "end": "2027-01-21", "reason": "shutdown"},
            {"plant": "P1", "train": "R1", "start": "2027-01-16", "end": "2027-01-26", "reason": "maintenance"}]
    data = write_instance(tmp_path / "d", plants=[PLANT], trains=[TRAIN], products=[PRODUCT_A],
                          orders=[O1], qualifications=QUALS[:1], downtime=down)
    outcome = solve_checked(data, tmp_path / "plan")
    assert outcome.result.objective == 58050
    assert _orders(tmp_path / "plan")["O1"]["completion"] == "2027-03-01"
    greedy = solve_checked(data, tmp_path / "greedy", method="greedy")
    assert greedy.result.objective == 58050


def test_greedy_plan_written_when_cpsat_finds_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the search ends without a plan (huge instance, tiny limit), the always-feasible greedy plan is
    written and the summary says so, instead of writing nothing."""
    import planner.pipeline
    from planner.solve import SolveResult

    def nothing(pm, time_limit_s, workers, seed, on_progress=None, deterministic=False, keep_hints=None):  # noqa: ANN001, ANN202
        return SolveResult("UNKNOWN", None, None, 0.5, workers, seed, time_limit_s)

    monkeypatch.setattr(planner.pipeline, "solve", nothing)
    data = write_instance(tmp_path / "d", plants=[PLANT], trains=[TRAIN], products=[PRODUCT_A],
                          orders=[O1], qualifications=QUALS[:1])
    outcome = solve_checked(data, tmp_path / "plan")
    assert (outcome.result.status, outcome.result.objective) == ("GREEDY", 8050)
    assert outcome.summary["note"] == (
        "CP-SAT found no plan in 0.5 s (status UNKNOWN); the greedy plan is written instead"
    )
