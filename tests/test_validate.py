"""Loader and validation: every problem named by file, row and column, all listed at once."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from planner.load import InputErrors, load_data
from planner.validate import horizon_problem, load_valid, solver_problem


def _copy(tiny: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(tiny, folder)
    return folder


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _messages(folder: Path) -> list[str]:
    with pytest.raises(InputErrors) as exc:
        load_valid(folder)
    return [str(e) for e in exc.value.errors]


def test_tiny_fixture_is_valid(tiny: Path) -> None:
    data = load_valid(tiny)
    assert [t.train for t in data.trains] == ["P1-R1", "P1-R2", "P2-R1", "ADC-1"]
    assert data.products[0].kg_per_batch(15000) == pytest.approx(15.0)


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("orders.csv", "2027-03-01,10,true", "2027-13-01,10,true",
         "orders.csv row 2, column due: input should be a valid date or datetime, month value is outside expected "
         "range of 1-12 (got '2027-13-01')"),
        ("orders.csv", "O1,Acme,mab-a,30,kg", "O1,Acme,mab-a,-30,kg",
         "orders.csv row 2, column quantity: input should be greater than 0 (got '-30')"),
        ("orders.csv", "30,kg", "30,litres",
         "orders.csv row 2, column unit: input should be 'kg' or 'batches' (got 'litres')"),
        ("trains.csv", "P2-R1,P2,mAb", "P2-R1,P2,mRNA",
         "trains.csv row 4, column modality: input should be 'mAb', 'ADC' or 'AAV' (got 'mRNA')"),
        ("trains.csv", "P1-R1,P1,mAb,15000", "P1-R1,P1,mAb,0",
         "trains.csv row 2, column volume_l: input should be greater than 0 (got '0')"),
        ("products.csv", "mab-a,Acme,mAb,2,0.5", "mab-a,Acme,mAb,2,1.5",
         "products.csv row 2, column yield: input should be less than or equal to 1 (got '1.5')"),
        ("products.csv", "mab-b,Beta,mAb,4,0.5,12", "mab-b,Beta,mAb,4,0.5,0",
         "products.csv row 3, column batch_days: input should be greater than 0 (got '0')"),
        ("orders.csv", "O1,Acme,mab-a,30,kg,2027-01-01,2027-03-01", "O1,Acme,mab-a,30,kg,2027-04-01,2027-03-01",
         "orders.csv row 2, column due: due 2027-03-01 is before release 2027-04-01"),
        ("orders.csv", "O2,Beta,mab-b", "O2,Beta,mab-z", "orders.csv row 3, column product: unknown product 'mab-z'"),
        ("orders.csv", "O2,Beta", "O1,Beta", "orders.csv row 3, column order: duplicate order 'O1'"),
        ("orders.csv", "O2,Beta", "O2,Acme",
         "orders.csv row 3, column client: product 'mab-b' belongs to client 'Beta', not 'Acme'"),
        ("orders.csv", "O2,Beta,mab-b,2,batches", "O2,Beta,mab-b,2.5,batches",
         "orders.csv row 3, column quantity: a batch order needs a whole number (got 2.5)"),
        ("trains.csv", "ADC-1,ADC", "ADC-1,ADX", "trains.csv row 5, column plant: unknown plant 'ADX'"),
        ("downtime.csv", "P1,P1-R2", "P2,P1-R2",
         "downtime.csv row 2, column train: train 'P1-R2' stands in plant 'P1', not 'P2'"),
        ("downtime.csv", "2027-02-01,2027-02-15", "2027-02-15,2027-02-01",
         "downtime.csv row 2, column end: end 2027-02-01 is not after start 2027-02-15"),
        ("qualifications.csv", "mab-b,P1", "mab-b,P9", "qualifications.csv row 3, column plant: unknown plant 'P9'"),
        ("products.csv", "mab-a,1.2,5,60", "mab-a,1.2,50,40",
         "products.csv row 4, column max_hold_days: max_hold_days 40 is below release_days"),
        ("products.csv", "adc-x,Acme,ADC,10,0.8,4,,,,mab-a", "adc-x,Acme,ADC,10,0.8,4,,,,adc-x",
         "products.csv row 4, column intermediate: intermediate 'adc-x' is not a mAb product"),
        ("plants.csv", "P2,Songdo,2027-03-01,", "P2,Songdo,2027-03-01,2027-01-01",
         "plants.csv row 3, column online_until: online_until 2027-01-01 is not after online_from 2027-03-01"),
    ],
)
def test_bad_cell_is_named_exactly(tiny: Path, tmp_path: Path, name: str, old: str, new: str, message: str) -> None:
    folder = _copy(tiny, tmp_path)
    _edit(folder, name, old, new)
    assert message in _messages(folder)


def test_order_no_train_could_serve(tiny: Path, tmp_path: Path) -> None:
    """mab-b has no tech transfer and is qualified at P1 only; fixing the site to P2 leaves no train."""
    folder = _copy(tiny, tmp_path)
    _edit(folder, "orders.csv", "5000,", "5000,P2")
    assert _messages(folder) == [
        "orders.csv row 5, column product: no train could ever run mab-b (mAb) at plant P2: check modality, "
        "volume window, qualifications and tech_transfer_days"
    ]


def test_every_problem_listed_at_once(tiny: Path, tmp_path: Path) -> None:
    folder = _copy(tiny, tmp_path)
    _edit(folder, "orders.csv", "O1,Acme,mab-a,30,kg,2027-01-01", "O1,Acme,mab-a,x,kg,2027-01-99")
    _edit(folder, "trains.csv", "P1-R1,P1,mAb,15000,2,5", "P1-R1,P1,mAb,15000,-2,5")
    assert _messages(folder) == [
        "trains.csv row 2, column turnaround_days: input should be greater than or equal to 0 (got '-2')",
        "orders.csv row 2, column quantity: input should be a valid number, unable to parse string as a number "
        "(got 'x')",
        "orders.csv row 2, column release: input should be a valid date or datetime, day value is outside "
        "expected range (got '2027-01-99')",
    ]


def test_missing_file_and_column(tiny: Path, tmp_path: Path) -> None:
    folder = _copy(tiny, tmp_path)
    (folder / "downtime.csv").unlink()
    text = (folder / "plants.csv").read_text().replace("online_from", "online_since")
    (folder / "plants.csv").write_text(text)
    with pytest.raises(InputErrors) as exc:
        load_data(folder)
    assert [str(e) for e in exc.value.errors] == [
        "plants.csv row 1, column online_from: missing column",
        "downtime.csv: file not found",
    ]


def test_bom_and_windows_line_endings_are_read(tiny: Path, tmp_path: Path) -> None:
    folder = _copy(tiny, tmp_path)
    path = folder / "orders.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_text().replace("\n", "\r\n").encode())
    assert [o.order for o in load_valid(folder).orders] == ["O1", "O2", "O3", "O4"]


def test_settings_unknown_key(tiny: Path, tmp_path: Path) -> None:
    folder = _copy(tiny, tmp_path)
    (folder / "settings.toml").write_text("[weights]\nlateness = 3\n")
    assert _messages(folder) == ["settings.toml: key weights.lateness: unknown key"]


def test_horizon_problem_for_settings_and_command_line() -> None:
    """The one horizon rule: validate applies it to settings.toml, the CLI may apply it to --start/--end."""
    assert horizon_problem(dt.date(2027, 1, 1), dt.date(2029, 1, 1)) is None
    start = dt.date(2027, 1, 1)
    assert horizon_problem(start, start + dt.timedelta(days=36_500)) is None
    assert horizon_problem(start, start + dt.timedelta(days=36_501)) == (
        "horizon.end 2126-12-09 is more than 36500 days (100 years) after horizon.start 2027-01-01"
    )
    assert horizon_problem(dt.date(2027, 1, 1), dt.date(2027, 1, 1)) == (
        "horizon.end 2027-01-01 is not after horizon.start"
    )
    assert horizon_problem(dt.date(2027, 1, 1), dt.date(9999, 12, 31)) == (
        "horizon.end 9999-12-31 is not a date from 1900-01-01 to 2999-12-31"
    )
    assert horizon_problem(dt.date(1900, 1, 1), dt.date(2027, 1, 1)) == (
        "horizon.end 2027-01-01 is more than 36500 days (100 years) after horizon.start 1900-01-01"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"time_limit_s": 5, "workers": 1, "seed": 0}, None),
        ({"seed": 10**11}, "--seed 100000000000: input should be less than or equal to 2147483647"),
        ({"workers": 5000}, "--workers 5000: input should be less than or equal to 1024"),
        ({"time_limit_s": float("inf")}, "--time-limit inf: input should be a finite number"),
        ({"time_limit_s": 0}, "--time-limit 0: input should be greater than 0"),
    ],
)
def test_solver_problem_for_command_line_options(options: dict, message: str | None) -> None:
    assert solver_problem(**options) == message
