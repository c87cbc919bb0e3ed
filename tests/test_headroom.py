"""Headroom: extra batches of a product that fit without making any firm order later than in the base plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.headroom import find_headroom, quarter_window
from planner.pipeline import UsageError
from planner.validate import load_valid
from tests.conftest import write_instance
from tests.test_solve import O1, PLANT, PRODUCT_A, QUALS, TRAIN


def test_quarter_window() -> None:
    assert [str(d) for d in quarter_window("2027Q4")] == ["2027-10-01", "2028-01-01"]
    with pytest.raises(UsageError, match="is not a quarter like 2027Q3"):
        quarter_window("2027-3")


def test_headroom_behind_a_late_firm_order(tmp_path: Path) -> None:
    """Base: O1 runs days 0-34 (4 days late). In Q1 (days 0-90) the probe can only follow it, after the
    5-day cleaning reserve: starts 39, 51, 63, 75 (ends 85); a fifth batch would end day 97 > 90."""
    data = write_instance(tmp_path / "d", plants=[PLANT], trains=[TRAIN], products=[PRODUCT_A], orders=[O1],
                          qualifications=QUALS[:1])
    room = find_headroom(load_valid(data), "A", "2027Q1", time_limit_s=20, workers=1, seed=0)
    assert (room.batches_found, room.batches_bound, room.status) == (4, 4, "OPTIMAL")
    assert room.kg_found == 40.0


def test_headroom_on_an_idle_quarter(tmp_path: Path) -> None:
    """Q4 (days 273-364, horizon ends 2027-12-31) is idle: starts 273, 285, ..., 345 → 7 batches, 70 kg."""
    data = write_instance(tmp_path / "d", plants=[PLANT], trains=[TRAIN], products=[PRODUCT_A], orders=[O1],
                          qualifications=QUALS[:1])
    room = find_headroom(load_valid(data), "A", "2027Q4", time_limit_s=20, workers=1, seed=0)
    assert (room.batches_found, room.batches_bound, room.kg_found, room.status) == (7, 7, 70.0, "OPTIMAL")
    with pytest.raises(UsageError, match="--product 'Z' is not in products.csv"):
        find_headroom(load_valid(data), "Z", None, time_limit_s=5, workers=1, seed=0)
    with pytest.raises(UsageError, match="the quarter 2028Q1 lies outside the horizon 2027-01-01..2027-12-31"):
        find_headroom(load_valid(data), "A", "2028Q1", time_limit_s=5, workers=1, seed=0)
