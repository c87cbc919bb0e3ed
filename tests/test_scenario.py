"""What-if scenarios: every change kind, every error message, the write-back round trip and safe YAML."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from planner.load import InputError, InputErrors, ProblemData, load_data
from planner.scenario import KINDS, Scenario, load_scenario, write_data
from planner.validate import validate

BUNDLED = Path(__file__).resolve().parent.parent / "data"
TINY = Path(__file__).parent / "fixtures" / "tiny"
KNOWN = ", ".join(KINDS)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the tiny fixture with an empty scenarios/ folder inside, like data/scenarios/."""
    folder = tmp_path / "data"
    shutil.copytree(TINY, folder)
    (folder / "scenarios").mkdir()
    return folder


def scenario(site: Path, body: str, name: str = "s.yaml") -> Path:
    path = site / "scenarios" / name
    path.write_text(body, encoding="utf-8")
    return path


def apply(site: Path, *changes: str) -> Scenario:
    return load_scenario(scenario(site, "changes:\n" + "".join(f"  - {c}\n" for c in changes)))


def errors_of(path: Path) -> list[InputError]:
    with pytest.raises(InputErrors) as info:
        load_scenario(path)
    return info.value.errors


def change_errors(site: Path, *changes: str) -> list[tuple[str | None, str]]:
    path = scenario(site, "changes:\n" + "".join(f"  - {c}\n" for c in changes))
    errors = errors_of(path)
    assert all(e.file == "s.yaml" and e.row is None for e in errors)
    return [(e.column, e.message) for e in errors]


def without_rows(rows: list) -> list[dict]:
    return [r.model_dump(exclude={"row"}) for r in rows]


def tables(data: ProblemData) -> dict[str, list[dict]]:
    return {
        name: without_rows(getattr(data, name))
        for name in ("plants", "trains", "products", "orders", "qualifications", "downtime", "changeovers")
    }


# --- the scenario file -------------------------------------------------------------------------------


def test_defaults_name_is_stem_and_base_is_parent(site: Path) -> None:
    s = load_scenario(scenario(site, "changes: []\n", "baseline.yaml"))
    assert s.name == "baseline"
    assert s.base == site.resolve()
    assert s.path == site / "scenarios" / "baseline.yaml"
    assert tables(s.data) == tables(load_data(site))


def test_name_and_relative_base(site: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    path = other / "x.yaml"
    path.write_text("name: my what-if\nbase: ../data\nchanges: []\n", encoding="utf-8")
    s = load_scenario(path)
    assert (s.name, s.base) == ("my what-if", site.resolve())


def test_base_is_deep_copied(site: Path) -> None:
    s = apply(site, "plant_online: {plant: P2, online_from: 2027-06-01}")
    assert load_data(site).plants[1].online_from == date(2027, 3, 1)
    assert s.data.plants[1].online_from == date(2027, 6, 1)


# --- one test per change kind ------------------------------------------------------------------------


def test_plant_online(site: Path) -> None:
    s = apply(site, "plant_online: {plant: P2, online_from: 2027-04-01, online_until: 2027-10-01}")
    base = load_data(site)
    assert [(p.plant, p.online_from, p.online_until) for p in s.data.plants] == [
        ("P1", date(2027, 1, 1), None),
        ("P2", date(2027, 4, 1), date(2027, 10, 1)),
        ("ADC", date(2027, 1, 1), None),
    ]
    assert tables(s.data) | {"plants": []} == tables(base) | {"plants": []}


def test_plant_online_until_null_clears_it(site: Path) -> None:
    s = apply(
        site, "plant_online: {plant: P1, online_until: 2027-06-01}", "plant_online: {plant: P1, online_until: null}"
    )
    assert s.data.plants[0].online_until is None


def test_remove_plant(site: Path) -> None:
    s = apply(site, "remove_plant: {plant: P1}", "qualify: {product: mab-b, plant: P2, qualified_from: 2027-03-01}")
    d = s.data
    assert [p.plant for p in d.plants] == ["P2", "ADC"]
    assert [t.train for t in d.trains] == ["P2-R1", "ADC-1"]
    assert [(q.product, q.plant) for q in d.qualifications] == [("adc-x", "ADC"), ("mab-b", "P2")]
    assert d.downtime == []
    assert [o.order for o in d.orders] == ["O1", "O2", "O3", "O4"]


def _contract_o1_at_p1(site: Path) -> None:
    lines = (site / "orders.csv").read_text().splitlines()
    lines[1] += "P1"
    (site / "orders.csv").write_text("\n".join(lines) + "\n")


def test_remove_plant_with_contracted_orders_needs_a_rule(site: Path) -> None:
    _contract_o1_at_p1(site)
    assert change_errors(site, "remove_plant: {plant: P1}") == [
        (
            "changes[0].remove_plant.plant",
            "plant 'P1' is the contracted site of order(s) O1; add `orders: unrestrict` (clear their plant) "
            "or `orders: remove` (drop them)",
        )
    ]
    # mab-b has no tech transfer and was qualified only at P1: qualify it at P2 so the result is valid
    qualify = "qualify: {product: mab-b, plant: P2, qualified_from: 2027-03-01}"
    unrestricted = apply(site, "remove_plant: {plant: P1, orders: unrestrict}", qualify)
    assert [(o.order, o.plant) for o in unrestricted.data.orders] == [
        ("O1", None), ("O2", None), ("O3", None), ("O4", None)
    ]
    removed = apply(site, "remove_plant: {plant: P1, orders: remove}", qualify)
    assert [o.order for o in removed.data.orders] == ["O2", "O3", "O4"]


def test_add_trains(site: Path) -> None:
    s = apply(site, "add_trains: {plant: P1, like: P1-R1, count: 2}", "add_trains: {plant: P2, like: P1-R1, count: 1}")
    assert [(t.train, t.plant, t.modality, t.volume_l, t.turnaround_days, t.changeover_days, t.row)
            for t in s.data.trains] == [
        ("P1-R1", "P1", "mAb", 15000.0, 2, 5, 2),
        ("P1-R2", "P1", "mAb", 15000.0, 2, 5, 3),
        ("P1-R1+1", "P1", "mAb", 15000.0, 2, 5, 0),
        ("P1-R1+2", "P1", "mAb", 15000.0, 2, 5, 0),
        ("P2-R1", "P2", "mAb", 5000.0, 2, 5, 4),
        ("P1-R1+3", "P2", "mAb", 15000.0, 2, 5, 0),
        ("ADC-1", "ADC", "ADC", 500.0, 1, 3, 5),
    ]
    assert len(s.data.downtime) == 1  # downtime of the model train is not copied


def test_add_trains_plant_defaults_to_the_model_trains(site: Path) -> None:
    s = apply(site, "add_trains: {like: ADC-1, count: 1}")
    assert [(t.train, t.plant) for t in s.data.trains][-2:] == [("ADC-1", "ADC"), ("ADC-1+1", "ADC")]


def test_remove_trains(site: Path) -> None:
    s = apply(site, "remove_trains: {trains: [P1-R2, P2-R1]}")
    assert [t.train for t in s.data.trains] == ["P1-R1", "ADC-1"]
    assert s.data.downtime == []  # P1-R2's maintenance went with it


def test_retime_train(site: Path) -> None:
    s = apply(site, "retime_train: {train: P1-R2, turnaround_days: 3, changeover_days: 8}",
              "retime_train: {train: P2-R1, changeover_days: 0}")
    assert [(t.train, t.turnaround_days, t.changeover_days) for t in s.data.trains] == [
        ("P1-R1", 2, 5), ("P1-R2", 3, 8), ("P2-R1", 2, 0), ("ADC-1", 1, 3)
    ]


def test_convert_train(site: Path) -> None:
    s = apply(site, "convert_train: {train: P2-R1, modality: ADC, volume_l: 500}",
              "convert_train: {train: P1-R2, volume_l: 12500.5}")
    assert [(t.train, t.plant, t.modality, t.volume_l) for t in s.data.trains] == [
        ("P1-R1", "P1", "mAb", 15000.0),
        ("P1-R2", "P1", "mAb", 12500.5),
        ("P2-R1", "P2", "ADC", 500.0),
        ("ADC-1", "ADC", "ADC", 500.0),
    ]


def test_scale_demand_by_client_rounds_batch_orders_up(site: Path) -> None:
    s = apply(site, "scale_demand: {factor: 1.2, client: Beta}")
    assert [(o.order, o.quantity, o.unit) for o in s.data.orders] == [
        ("O1", 30.0, "kg"), ("O2", 3.0, "batches"), ("O3", 8.0, "kg"), ("O4", 72.0, "kg")
    ]


def test_scale_demand_selectors(site: Path) -> None:
    everything = apply(site, "scale_demand: {factor: 0.5}")
    assert [o.quantity for o in everything.data.orders] == [15.0, 1.0, 4.0, 30.0]
    adc = apply(site, "scale_demand: {factor: 1.25, modality: ADC}")
    assert [o.quantity for o in adc.data.orders] == [30.0, 2.0, 10.0, 60.0]
    product = apply(site, "scale_demand: {factor: 1.1, product: mab-a}")
    assert [o.quantity for o in product.data.orders] == [33.0, 2.0, 8.0, 60.0]
    order = apply(site, "scale_demand: {factor: 2, order: O2}")
    assert [o.quantity for o in order.data.orders] == [30.0, 4.0, 8.0, 60.0]


def test_add_orders(site: Path) -> None:
    (site / "scenarios" / "deals.csv").write_text(
        "order,client,product,quantity,unit,release,due,weight,firm,revenue\n"
        "D1,Acme,mab-a,12.5,kg,2027-03-01,2027-08-01,5,false,900\n"
        "D2,Beta,mab-b,1,batches,2027-04-01,2027-09-01,1,no,300\n"
    )
    s = apply(site, "add_orders: {file: deals.csv}")
    assert [o.order for o in s.data.orders] == ["O1", "O2", "O3", "O4", "D1", "D2"]
    assert without_rows(s.data.orders[4:]) == [
        dict(order="D1", client="Acme", product="mab-a", quantity=12.5, unit="kg", release=date(2027, 3, 1),
             due=date(2027, 8, 1), weight=5.0, firm=False, revenue=900.0, plant=None),
        dict(order="D2", client="Beta", product="mab-b", quantity=1.0, unit="batches", release=date(2027, 4, 1),
             due=date(2027, 9, 1), weight=1.0, firm=False, revenue=300.0, plant=None),
    ]
    assert [o.row for o in s.data.orders[4:]] == [0, 0]


def test_add_orders_errors_keep_their_own_file_row_and_column(site: Path) -> None:
    (site / "scenarios" / "deals.csv").write_text(
        "order,client,product,quantity,unit,release,due,weight,firm\n"
        "O1,Acme,mab-a,12,kg,2027-03-01,2027-08-01,5,false\n"
        "D2,Acme,mab-b,-1,kg,2027-04-01,2027-09-01,1,false\n"
        "D3,Acme,nope,1,kg,2027-04-01,2027-03-01,1,false\n"
    )
    path = scenario(site, "changes:\n  - add_orders: {file: deals.csv}\n")
    assert [str(e) for e in errors_of(path)] == [
        "deals.csv row 3, column quantity: input should be greater than 0 (got '-1')",
        "deals.csv row 2, column order: order 'O1' already exists in the data",
        "deals.csv row 4, column product: unknown product 'nope'",
        "deals.csv row 4, column due: due 2027-03-01 is before release 2027-04-01",
    ]


def test_product(site: Path) -> None:
    s = apply(site, "product: {product: mab-a, titer_g_per_l: 4.0, yield: 0.75, batch_days: 13}",
              "product: {product: mab-b, tech_transfer_days: 60, max_volume_l: 16000}")
    a, b, x = s.data.products
    assert (a.titer_g_per_l, a.yield_, a.batch_days, a.tech_transfer_days) == (4.0, 0.75, 13, 30)
    assert (b.titer_g_per_l, b.tech_transfer_days, b.max_volume_l) == (4.0, 60, 16000.0)
    assert without_rows([x]) == without_rows(load_data(site).products[2:])


def test_add_downtime(site: Path) -> None:
    s = apply(site, "add_downtime: {plant: P1, train: P1-R1, start: 2027-08-01, end: 2027-09-12, reason: shutdown}",
              "add_downtime: {plant: P2, start: '2027-05-01', end: 2027-05-08}")
    assert [(d.plant, d.train, d.start, d.end, d.reason, d.row) for d in s.data.downtime] == [
        ("P1", "P1-R2", date(2027, 2, 1), date(2027, 2, 15), "maintenance", 2),
        ("P1", "P1-R1", date(2027, 8, 1), date(2027, 9, 12), "shutdown", 0),
        ("P2", None, date(2027, 5, 1), date(2027, 5, 8), "scenario", 0),
    ]


def test_qualify_adds_or_moves_a_qualification(site: Path) -> None:
    s = apply(site, "qualify: {product: mab-b, plant: P2, qualified_from: 2027-09-01}",
              "qualify: {product: mab-a, plant: P1, qualified_from: 2027-02-01}")
    assert [(q.product, q.plant, q.qualified_from, q.row) for q in s.data.qualifications] == [
        ("mab-a", "P1", date(2027, 2, 1), 2),
        ("mab-b", "P1", date(2027, 1, 1), 3),
        ("adc-x", "ADC", date(2027, 1, 1), 4),
        ("mab-b", "P2", date(2027, 9, 1), 0),
    ]


def test_weights(site: Path) -> None:
    s = apply(site, "weights: {late_day: 2000, revenue_k: 2}")
    w = s.data.settings.weights
    assert (w.unmet_permille, w.late_day, w.revenue_k, w.changeover_day) == (10_000_000, 2000, 2, 10)
    assert s.data.settings.horizon == load_data(site).settings.horizon


def test_changes_apply_in_order(site: Path) -> None:
    s = apply(site, "add_trains: {like: P2-R1, count: 1}", "retime_train: {train: P2-R1+1, turnaround_days: 9}")
    assert [(t.train, t.turnaround_days) for t in s.data.trains if t.plant == "P2"] == [("P2-R1", 2), ("P2-R1+1", 9)]


# --- errors ----------------------------------------------------------------------------------------


def test_unknown_change_kind(site: Path) -> None:
    assert change_errors(site, "add_plant: {plant: P9}") == [
        ("changes[0]", f"unknown change kind 'add_plant'; known kinds: {KNOWN}")
    ]
    assert KNOWN == ("plant_online, remove_plant, add_trains, remove_trains, retime_train, convert_train, "
                     "scale_demand, add_orders, product, add_downtime, qualify, weights")


def test_unknown_key_and_missing_key(site: Path) -> None:
    assert change_errors(site, "add_trains: {plant: P1, model: P1-R1, count: 2}") == [
        ("changes[0].add_trains.model", "unknown key; allowed keys: plant, like, count"),
        ("changes[0].add_trains.like", "a value is required"),
    ]


def test_unknown_references(site: Path) -> None:
    assert change_errors(
        site,
        "plant_online: {plant: P9, online_from: 2027-01-01}",
        "retime_train: {train: P1-R9, turnaround_days: 1}",
        "product: {product: mab-z, yield: 0.5}",
        "scale_demand: {factor: 2, order: O99}",
        "scale_demand: {factor: 2, client: Gamma}",
        "remove_trains: {trains: [P1-R1, X]}",
        "add_downtime: {plant: P2, train: P1-R1, start: 2027-01-01, end: 2027-01-05}",
    ) == [
        ("changes[0].plant_online.plant", "unknown plant 'P9'"),
        ("changes[1].retime_train.train", "unknown train 'P1-R9'"),
        ("changes[2].product.product", "unknown product 'mab-z'"),
        ("changes[3].scale_demand.order", "unknown order 'O99'"),
        ("changes[4].scale_demand.client", "unknown client 'Gamma'"),
        ("changes[5].remove_trains.trains[1]", "unknown train 'X'"),
        ("changes[6].add_downtime.train", "train 'P1-R1' stands in plant 'P1', not 'P2'"),
    ]


def test_wrong_types(site: Path) -> None:
    assert change_errors(
        site,
        "scale_demand: {factor: -1}",
        "scale_demand: {factor: 2, client: Acme, product: mab-a}",
        "retime_train: {train: P1-R1, turnaround_days: 2.5}",
        "convert_train: {train: P1-R1, modality: CGT}",
        "product: {product: mab-a, yield: 1.5, batch_days: yes}",
        "retime_train: {train: P1-R1}",
        "weights: {late_day: -3}",
        "add_trains: {like: P1-R1, count: 0}",
        "remove_trains: {trains: []}",
        "qualify: [mab-a, P1]",
        "just text",
    ) == [
        ("changes[0].scale_demand.factor", "expected a number > 0 (got -1)"),
        (
            "changes[1].scale_demand",
            "give at most one selector of modality, client, product, order (got client, product)",
        ),
        ("changes[2].retime_train.turnaround_days", "expected a whole number from 0 to 36500 (got 2.5)"),
        ("changes[3].convert_train.modality", "expected one of mAb, ADC, AAV (got 'CGT')"),
        ("changes[4].product.yield", "expected a number in (0, 1] (got 1.5)"),
        ("changes[4].product.batch_days", "expected a whole number from 1 to 36500 (got True)"),
        ("changes[5].retime_train", "give at least one of turnaround_days, changeover_days"),
        ("changes[6].weights.late_day", "expected a whole number from 0 to 1000000000000000 (got -3)"),
        ("changes[7].add_trains.count", "expected a whole number from 1 to 1000 (got 0)"),
        ("changes[8].remove_trains.trains", "expected a non-empty list (got [])"),
        ("changes[9].qualify", "expected a mapping of keys product, plant, qualified_from (got a list)"),
        ("changes[10]", "a change is a mapping with one key, the change kind (got 'just text')"),
    ]


def test_bad_dates(site: Path) -> None:
    assert change_errors(
        site,
        "add_downtime: {plant: P1, start: 01/08/2027, end: 2027-08-01}",
        "add_downtime: {plant: P1, start: 2027-09-01, end: 2027-08-01}",
        "qualify: {product: mab-a, plant: P2, qualified_from: 2027-09-01 10:00:00}",
    ) == [
        ("changes[0].add_downtime.start", "expected a date YYYY-MM-DD (got '01/08/2027')"),
        ("changes[1].add_downtime.end", "end 2027-08-01 is not after start 2027-09-01"),
        ("changes[2].qualify.qualified_from", "expected a date YYYY-MM-DD without a time (got '2027-09-01T10:00:00')"),
    ]


def test_impossible_date_names_its_line(site: Path) -> None:
    path = scenario(site, "changes:\n  - plant_online: {plant: P2, online_from: 2027-02-30}\n")
    assert [str(e) for e in errors_of(path)] == [
        "s.yaml: invalid date '2027-02-30' at line 2: day is out of range for month"
    ]


def test_add_orders_path_must_stay_in_the_scenario_folder(site: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.csv").write_text("order\n")
    assert change_errors(
        site,
        "add_orders: {file: ../orders.csv}",
        f"add_orders: {{file: {tmp_path / 'outside.csv'}}}",
        "add_orders: {file: missing.csv}",
    ) == [
        ("changes[0].add_orders.file", "path outside the scenario's folder: '../orders.csv'"),
        ("changes[1].add_orders.file", f"path outside the scenario's folder: '{tmp_path / 'outside.csv'}'"),
        ("changes[2].add_orders.file", "file not found: 'missing.csv'"),
    ]


def test_add_orders_symlink_escaping_the_folder_is_refused(site: Path) -> None:
    (site / "scenarios" / "link.csv").symlink_to(site / "orders.csv")
    assert change_errors(site, "add_orders: {file: link.csv}") == [
        ("changes[0].add_orders.file", "path outside the scenario's folder: 'link.csv'")
    ]


def test_yaml_syntax_error_names_its_line(site: Path) -> None:
    path = scenario(site, "changes:\n  - plant_online: {plant: P2\n  - weights: {late_day: 1}\n")
    [error] = errors_of(path)
    assert (error.file, error.row, error.column) == ("s.yaml", None, None)
    assert error.message.startswith("YAML syntax error at line 3, column ")


def test_top_level_errors(site: Path) -> None:
    assert [str(e) for e in errors_of(scenario(site, "- weights: {late_day: 1}\n"))] == [
        "s.yaml: expected a mapping with keys name, base, changes (got a list)"
    ]
    assert [str(e) for e in errors_of(scenario(site, ""))] == [
        "s.yaml: expected a mapping with keys name, base, changes (got an empty file)"
    ]
    errors = errors_of(scenario(site, "base: nowhere\nchange: []\n"))
    assert [str(e) for e in errors] == [
        "s.yaml column change: unknown key; allowed keys: name, base, changes",
        f"s.yaml column base: data folder not found: {(site / 'scenarios' / 'nowhere').resolve()}",
        "s.yaml column changes: a value is required (a list of changes; [] for none)",
    ]
    assert [str(e) for e in errors_of(scenario(site, "changes: {weights: {late_day: 1}}\n"))] == [
        "s.yaml column changes: expected a list of changes (got a mapping)"
    ]


def test_python_tags_are_rejected_not_executed(site: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = scenario(
        site,
        f"name: !!python/object/apply:os.system ['touch {marker}']\nchanges: []\n",
    )
    [error] = errors_of(path)
    assert not marker.exists()
    assert error.message.startswith("YAML tag not allowed at line 1, column 7: could not determine a constructor")
    assert error.message.endswith("(a scenario holds plain YAML data only)")
    [error] = errors_of(scenario(site, "changes: !!python/object:collections.OrderedDict {}\n"))
    assert error.message.startswith("YAML tag not allowed")


def test_validate_errors_of_the_changed_data_are_reported_as_they_are(site: Path) -> None:
    errors = errors_of(scenario(site, "changes:\n  - plant_online: {plant: P2, online_until: 2027-02-01}\n"))
    assert [str(e) for e in errors] == [
        "plants.csv row 3, column online_until: online_until 2027-02-01 is not after online_from 2027-03-01"
    ]


def test_all_problems_of_a_file_are_reported_together(site: Path) -> None:
    columns = [c for c, _ in change_errors(
        site, "weights: {late: 1}", "plant_online: {plant: P9, online_from: 2027-01-01}", "nope: {}"
    )]
    assert columns == ["changes[0].weights.late", "changes[0].weights", "changes[1].plant_online.plant", "changes[2]"]


# --- write_data round trip -------------------------------------------------------------------------


def test_write_data_round_trip(site: Path, tmp_path: Path) -> None:
    (site / "scenarios" / "deals.csv").write_text(
        "order,client,product,quantity,unit,release,due,weight,firm,revenue,plant\n"
        'D1,Acme,mab-a,12.345678,kg,2027-03-01,2027-08-01,5,false,900.5,P1\n'
    )
    (site / "changeovers.csv").write_text("from_product,to_product,days\nmab-a,mab-b,7\n")
    s = apply(
        site,
        "scale_demand: {factor: 1.37}",
        "add_orders: {file: deals.csv}",
        "add_trains: {like: P1-R1, count: 1}",
        "add_downtime: {plant: P2, start: 2027-05-01, end: 2027-05-08, reason: 'shutdown, \"long\"'}",
        "weights: {changeover_day: 3}",
        "product: {product: mab-a, min_volume_l: 1000.5}",
    )
    out = tmp_path / "written"
    write_data(s.data, out)
    again = load_data(out)
    assert validate(again) == []
    assert tables(again) == tables(s.data)
    assert again.settings == s.data.settings
    assert [r.row for r in again.orders] == [2, 3, 4, 5, 6]
    assert sorted(p.name for p in out.iterdir()) == [
        "changeovers.csv", "downtime.csv", "orders.csv", "plants.csv", "products.csv", "qualifications.csv",
        "settings.toml", "trains.csv",
    ]
    assert (out / "products.csv").read_text().splitlines()[0] == (
        "product,client,modality,titer_g_per_l,yield,batch_days,tech_transfer_days,min_volume_l,max_volume_l,"
        "intermediate,intermediate_kg_per_kg,release_days,max_hold_days"
    )


def test_write_data_round_trip_of_the_bundled_site(tmp_path: Path) -> None:
    data = load_data(BUNDLED)
    write_data(data, tmp_path)
    again = load_data(tmp_path)
    assert tables(again) == tables(data)
    assert again.settings == data.settings


# --- the example scenarios -------------------------------------------------------------------------


EXAMPLES = sorted((BUNDLED / "scenarios").glob("*.yaml"))


def test_examples_cover_every_change_kind() -> None:
    import yaml

    used = {kind for path in EXAMPLES for change in yaml.safe_load(path.read_text())["changes"] for kind in change}
    assert used == set(KINDS)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_scenarios_load(path: Path) -> None:
    s = load_scenario(path)
    assert s.base == BUNDLED.resolve()
    assert validate(s.data) == []
    assert tables(s.data) != tables(load_data(BUNDLED)) or s.data.settings != load_data(BUNDLED).settings


def test_example_new_deals_are_three_tentative_orders() -> None:
    s = load_scenario(BUNDLED / "scenarios" / "three-new-deals.yaml")
    new = [o for o in s.data.orders if o.row == 0]
    assert [(o.order, o.product, o.firm) for o in new] == [
        ("N001", "KES-mAb1", False), ("N002", "NOR-ADC1", False), ("N003", "NOR-AAV1", False)
    ]
