"""explain: the binding rules of a structurally late order, with input rows and the fixes that would work."""

from __future__ import annotations

from pathlib import Path

from planner.check import check_plan
from planner.explain import explain
from planner.pipeline import PlanRequest, run_solve
from tests.conftest import write_instance
from tests.test_solve import O1, PLANT, PRODUCT_A, QUALS, TRAIN


def test_structurally_late_order_names_rules_and_fixes(tmp_path: Path) -> None:
    """One qualified train: 3 batches end day 34 > due 30. P2 has an identical train but A is not qualified
    there and has no tech transfer; qualifying it from release lets 2 + 1 batches end by day 22."""
    p2 = {**PLANT, "plant": "P2"}
    data = write_instance(tmp_path / "d", plants=[PLANT, p2], trains=[TRAIN, {**TRAIN, "train": "R2", "plant": "P2"}],
                          products=[PRODUCT_A], orders=[O1], qualifications=QUALS[:1])
    outcome = run_solve(PlanRequest(data_dir=data, out=tmp_path / "plan", time_limit_s=10, workers=1, seed=0))
    assert check_plan(data, tmp_path / "plan").violations == []
    lines = explain(outcome.plan.instance, outcome.plan, None)
    assert lines == [
        "O1 (C1, 25 kg of A, due 2027-01-31):",
        "  even with every eligible train to itself it cannot finish before 2027-02-04 (4 days after due): "
        "the rules that bind are",
        "    P1: earliest start 2027-01-01 — order release (orders.csv row 2)",
        "    P2: A is not qualified there and has no tech transfer (products.csv row 2, column tech_transfer_days "
        "is blank)",
        "  moving the due date to 2027-02-04 would make it feasible on its own.",
        "  qualifying plant P2 for A by 2027-01-01 would let it finish by 2027-01-23.",
    ]


def test_on_time_plan_has_nothing_to_explain(tmp_path: Path) -> None:
    data = write_instance(tmp_path / "d", plants=[PLANT], trains=[TRAIN], products=[PRODUCT_A],
                          orders=[{**O1, "due": "2027-03-01"}], qualifications=QUALS[:1])
    outcome = run_solve(PlanRequest(data_dir=data, out=tmp_path / "plan", time_limit_s=10, workers=1, seed=0))
    assert check_plan(data, tmp_path / "plan").violations == []
    assert explain(outcome.plan.instance, outcome.plan, None) == ["every firm order is on time in this plan."]
    assert explain(outcome.plan.instance, outcome.plan, "O1")[-1] == "  it is on time in this plan."


def test_model_core_names_the_competing_order_and_the_smallest_due_date(tmp_path: Path) -> None:
    """One train, two 2-batch orders due 01-23 and 01-25: each alone ends 01-23 (batches days 0-10, 12-22), both
    cannot. O1 (weight 2) goes first; O2 follows after the 5-day changeover: days 27-37 and 39-49, completion
    2027-02-19. O3 runs at plant P2 and competes for nothing. The model proves O2 on time needs O1 worse."""
    from planner.explain import ModelCheck
    from planner.load import Weights

    data = _two_orders_one_train(tmp_path)
    outcome = run_solve(PlanRequest(data_dir=data, out=tmp_path / "plan", time_limit_s=10, workers=1, seed=0))
    assert outcome.result.status == "OPTIMAL"
    assert check_plan(data, tmp_path / "plan").violations == []
    lines = explain(outcome.plan.instance, outcome.plan, None, ModelCheck(Weights()))
    assert lines[0] == "O2 (C2, 20 kg of B, due 2027-01-25):"
    assert lines[1] == "  alone it could finish by 2027-01-23, before its due date."
    assert lines[-2:] == CORE_LINES


CORE_LINES = [
    "  the model proves O2 cannot be on time (due 2027-01-25, orders.csv row 3) unless one of these firm orders "
    "is later or shorter than in this plan: O1 (due 2027-01-23, on_time, orders.csv row 2).",
    "  the smallest due-date relaxation that harms no other firm order: O2 due 2027-02-19.",
]


def test_cli_explain_prints_the_model_core(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    data = _two_orders_one_train(tmp_path)
    result = CliRunner().invoke(app, ["explain", str(data), "--workers", "1", "--time-limit", "10"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-2:] == CORE_LINES
    skipped = CliRunner().invoke(app, ["explain", str(data), "--workers", "1", "--prove-seconds", "0"])
    assert "the model proves" not in skipped.output


def _two_orders_one_train(tmp_path: Path) -> Path:
    from tests.test_solve import PRODUCT_B

    p2 = {**PLANT, "plant": "P2"}
    product_c = {**PRODUCT_A, "product": "C", "client": "C3"}
    orders = [
        {**O1, "quantity": 20, "due": "2027-01-23"},
        {**O1, "order": "O2", "client": "C2", "product": "B", "quantity": 20, "due": "2027-01-25", "weight": 1},
        {**O1, "order": "O3", "client": "C3", "product": "C", "quantity": 20, "due": "2027-01-23", "weight": 1},
    ]
    data = write_instance(
        tmp_path / "d", plants=[PLANT, p2], trains=[TRAIN, {**TRAIN, "train": "R2", "plant": "P2"}],
        products=[PRODUCT_A, PRODUCT_B, product_c], orders=orders,
        qualifications=[*QUALS, {"product": "C", "plant": "P2", "qualified_from": "2020-01-01"}],
    )
    return data


def test_cli_explain_unknown_order_exit_2(tiny: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    result = CliRunner().invoke(app, ["explain", str(tiny), "--order", "NOPE", "--workers", "1", "--time-limit", "5"])
    assert result.exit_code == 2
    assert "error: --order 'NOPE' is not in orders.csv" in result.output
