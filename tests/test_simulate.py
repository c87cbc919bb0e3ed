"""Digital twin: exact replay without noise, hand-computed failure odds, determinism, hold misses."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from planner.simulate import Noise, simulate
from tests.conftest import solve_checked, write_instance

PLANT = {"plant": "P1", "campus": "Songdo", "online_from": "2020-01-01"}
TRAIN = {"train": "R1", "plant": "P1", "modality": "mAb", "volume_l": 10000, "turnaround_days": 2,
         "changeover_days": 5}
ADC_TRAIN = {"train": "C1", "plant": "P1", "modality": "ADC", "volume_l": 1000, "turnaround_days": 2,
             "changeover_days": 3}
# 10,000 L x 2 g/L x 0.5 / 1000 = 10 kg per batch, 10 days per batch.
PRODUCT_A = {"product": "A", "client": "C1", "modality": "mAb", "titer_g_per_l": 2, "yield": 0.5, "batch_days": 10}
# 1,000 L x 10 g/L x 1 / 1000 = 10 kg of conjugate per 5-day batch, from 10 kg of A.
PRODUCT_X = {"product": "X", "client": "C1", "modality": "ADC", "titer_g_per_l": 10, "yield": 1, "batch_days": 5,
             "intermediate": "A", "intermediate_kg_per_kg": 1, "release_days": 0, "max_hold_days": 10}
QUALS = [{"product": "A", "plant": "P1", "qualified_from": "2020-01-01"},
         {"product": "X", "plant": "P1", "qualified_from": "2020-01-01"}]


def _order(product: str, due: str) -> dict:
    return {"order": "O1", "client": "C1", "product": product, "quantity": 10, "unit": "kg",
            "release": "2027-01-01", "due": due, "weight": 1, "firm": "true"}


def _within(estimate: float, p: float, runs: int) -> bool:
    return abs(estimate - p) <= 4 * math.sqrt(p * (1 - p) / runs)


@pytest.fixture
def single_batch(tmp_path: Path) -> tuple[Path, Path]:
    """One 10-day batch on day 0, due day 25: a repeat (turnaround 2) ends day 22, a second one day 34."""
    data = write_instance(tmp_path / "d", plants=[PLANT], trains=[TRAIN], products=[PRODUCT_A],
                          orders=[_order("A", "2027-01-26")], qualifications=QUALS[:1])
    solve_checked(data, tmp_path / "plan")
    return data, tmp_path / "plan"


def test_no_noise_reproduces_the_plan(tiny: Path, tmp_path: Path) -> None:
    solve_checked(tiny, tmp_path / "plan")
    result = simulate(tiny, tmp_path / "plan", runs=50, seed=3, noise=Noise(failure={}))
    with (tmp_path / "plan" / "orders.csv").open() as f:
        planned = {r["order"]: r for r in csv.DictReader(f) if r["completion"]}
    assert {o.order for o in result.orders} == set(planned)
    for o in result.orders:
        assert o.p50_completion == o.p90_completion == o.planned_completion
        assert o.planned_completion.isoformat() == planned[o.order]["completion"]
        assert o.p_on_time == (1.0 if planned[o.order]["status"] == "on_time" else 0.0)
        assert o.p_hold_miss in (None, 0.0)
    with (tmp_path / "plan" / "utilization.csv").open() as f:
        util = {(r["plant"], r["modality"], r["quarter"]): float(r["utilization"]) for r in csv.DictReader(f)
                if float(r["available_days"]) > 0}
    assert {(u.plant, u.modality, u.quarter) for u in result.utilization} == set(util)
    for u in result.utilization:
        assert u.p10 == u.p50 == u.p90 == pytest.approx(util[(u.plant, u.modality, u.quarter)], abs=5e-5)


def test_one_repeat_fits_two_do_not(single_batch: tuple[Path, Path]) -> None:
    data, plan = single_batch
    p, runs = 0.3, 20_000
    result = simulate(data, plan, runs=runs, seed=7, noise=Noise(failure={"mAb": p}))
    order = result.order("O1")
    assert order.planned_completion.isoformat() == "2027-01-11"
    assert _within(order.p_on_time, 1 - p**2, runs)
    # p90 lies in the single-repeat band (P(no failure) = 0.7 < 0.9 <= 0.91): day 22.
    assert order.p90_completion.isoformat() == "2027-01-23"
    assert order.p50_completion.isoformat() == "2027-01-11"


def test_product_failure_overrides_modality(single_batch: tuple[Path, Path]) -> None:
    data, plan = single_batch
    result = simulate(data, plan, runs=200, seed=1, noise=Noise(failure={"mAb": 1.0, "A": 0.0}))
    assert result.order("O1").p_on_time == 1.0


def test_same_seed_same_result(single_batch: tuple[Path, Path], tmp_path: Path) -> None:
    data, plan = single_batch
    noise = Noise(failure={"mAb": 0.4}, spread=0.2)
    a = simulate(data, plan, runs=3000, seed=11, noise=noise)
    b = simulate(data, plan, runs=3000, seed=11, noise=noise)
    assert a.orders == b.orders and a.utilization == b.utilization
    a.to_csv(tmp_path / "a")
    b.to_csv(tmp_path / "b")
    for name in ("orders_risk.csv", "utilization_risk.csv"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
    assert "O1" in a.report()


def test_spread_only_delays(single_batch: tuple[Path, Path]) -> None:
    """Tri(0.5, 1, 2) x 10 days, rounded up: never before day 5 nor after day 20."""
    data, plan = single_batch
    result = simulate(data, plan, runs=5000, seed=2, noise=Noise(failure={}, spread=0.5))
    order = result.order("O1")
    assert "2027-01-06" <= order.p50_completion.isoformat() <= order.p90_completion.isoformat() <= "2027-01-21"
    assert order.p_on_time == 1.0


def test_hold_miss_after_two_conjugation_failures(tmp_path: Path) -> None:
    """Intermediate [0, 10), conjugation [10, 15), hold 10 days → conjugation must start by day 20.

    Repeats start on day 17 and 24 (turnaround 2): the second repeat misses the hold, so P(miss) = p².
    """
    data = write_instance(tmp_path / "d", plants=[PLANT], trains=[TRAIN, ADC_TRAIN], products=[PRODUCT_A, PRODUCT_X],
                          orders=[_order("X", "2027-01-16")], qualifications=QUALS)
    solve_checked(data, tmp_path / "plan")
    exact = simulate(data, tmp_path / "plan", runs=10, seed=0, noise=Noise(failure={}))
    assert exact.order("O1").planned_completion.isoformat() == "2027-01-16"
    assert exact.order("O1").p_hold_miss == 0.0
    p, runs = 0.4, 20_000
    result = simulate(data, tmp_path / "plan", runs=runs, seed=5, noise=Noise(failure={"X": p}))
    assert _within(result.order("O1").p_hold_miss, p**2, runs)
    # A delayed intermediate (fails every time) delays the conjugation but never breaks the hold.
    late = simulate(data, tmp_path / "plan", runs=100, seed=5, noise=Noise(failure={"A": 1.0}))
    assert late.order("O1").p_hold_miss == 0.0
    # 4 attempts of A: ends day 10, 22, 34, 46; conjugation [46, 51).
    assert late.order("O1").p50_completion.isoformat() == "2027-02-21"


def test_noise_is_validated() -> None:
    with pytest.raises(ValueError):
        Noise(failure={}, spread=1.5)
    with pytest.raises(ValueError):
        Noise(failure={"mAb": 2.0})
