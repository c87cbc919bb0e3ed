"""The bundled data set is generated, valid, reproducible and loads the site as its README says."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from planner.generate import PLANT_DESIGNS, generate, generate_site, load_report, quarter_report, site_designs
from planner.load import ProblemData
from planner.validate import load_valid, volume_fits

BUNDLED = Path(__file__).resolve().parent.parent / "data"
FILES = [
    "plants.csv", "trains.csv", "products.csv", "orders.csv", "qualifications.csv", "downtime.csv",
    "changeovers.csv", "settings.toml", "README.md",
]


@pytest.fixture(scope="module")
def default_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("default")
    generate_site(folder)
    return folder


@pytest.fixture(scope="module")
def site_3x(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site3x")
    generate(folder, orders=450, plants=30)
    return folder


def _notes(folder: Path = BUNDLED) -> dict[str, str]:
    """The informational `note` column of orders.csv (the loader ignores it)."""
    with (folder / "orders.csv").open(encoding="utf-8") as f:
        return {row["order"]: row["note"] for row in csv.DictReader(f)}


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize(("seed", "orders"), [(1, 100), (7, 200)])
def test_generated_data_is_valid(tmp_path: Path, seed: int, orders: int) -> None:
    generate_site(tmp_path, seed=seed, orders=orders)
    data = load_valid(tmp_path)
    assert len(data.orders) == orders
    assert data.settings.horizon.start == date(2027, 1, 1)
    assert data.settings.horizon.end == date(2029, 1, 1)


def test_horizon_follows_start_and_years(tmp_path: Path) -> None:
    generate_site(tmp_path, start=date(2027, 7, 1), years=1)
    horizon = load_valid(tmp_path).settings.horizon
    assert (horizon.start, horizon.end) == (date(2027, 7, 1), date(2028, 7, 1))


def test_same_seed_gives_byte_identical_files(tmp_path: Path, default_site: Path) -> None:
    generate_site(tmp_path)
    assert _contents(tmp_path) == _contents(default_site)
    assert sorted(_contents(tmp_path)) == sorted(FILES)


def test_other_seed_gives_other_orders(tmp_path: Path, default_site: Path) -> None:
    generate_site(tmp_path, seed=1)
    assert (tmp_path / "orders.csv").read_bytes() != (default_site / "orders.csv").read_bytes()


def test_bundled_data_is_the_generator_output(default_site: Path) -> None:
    """data/ is never edited by hand: regenerate with the command in data/README.md."""
    assert _contents(BUNDLED) == _contents(default_site)


def test_bundled_data_is_valid_and_shaped_like_the_site() -> None:
    data = load_valid(BUNDLED)
    assert 95 <= len(data.trains) <= 120
    assert {t.modality for t in data.trains} == {"mAb", "ADC", "AAV"}
    products = {p.product: p for p in data.products}
    assert 50 <= len(products) <= 70
    order_modalities = {products[o.product].modality for o in data.orders}
    assert order_modalities == {"mAb", "ADC", "AAV"}
    assert {o.unit for o in data.orders if products[o.product].modality == "AAV"} == {"batches"}
    tentative = sum(not o.firm for o in data.orders) / len(data.orders)
    assert 0.12 <= tentative <= 0.22
    assert any(o.plant for o in data.orders)
    assert any(p.modality == "ADC" and p.intermediate is None for p in data.products)
    assert any(p.modality == "ADC" and p.intermediate for p in data.products)
    assert 10 <= len(data.changeovers) <= 20


def test_firm_load_with_changeovers_is_about_80_percent() -> None:
    report = load_report(BUNDLED)
    for modality in ("mAb", "ADC", "AAV", "site"):
        assert 0.75 <= report[modality]["ratio"] <= 0.85, (modality, report[modality])
        assert 0.88 <= report[modality]["ratio_with_tentative"] <= 0.96, (modality, report[modality])
    readme = (BUNDLED / "README.md").read_text(encoding="utf-8")
    assert "| site |" in readme
    assert "| 2028Q4 |" in readme


def test_demand_is_spread_over_the_quarters() -> None:
    """No due quarter is overbooked, and due dates run to the horizon end (the last quarters are not empty)."""
    report = quarter_report(BUNDLED)
    assert list(report) == [f"{y}Q{q}" for y in (2027, 2028) for q in (1, 2, 3, 4)]
    for quarter, row in report.items():
        for modality, figures in row.items():
            assert figures["ratio"] <= 0.95, (quarter, modality, figures)
    for quarter in list(report)[-2:]:
        for modality, figures in report[quarter].items():
            assert figures["ratio"] >= 0.4, (quarter, modality, figures)
    data = load_valid(BUNDLED)
    assert max(o.due for o in data.orders) >= data.settings.horizon.end - timedelta(days=30)


def test_every_mab_has_a_volume_window_and_orders_of_its_scale() -> None:
    data = load_valid(BUNDLED)
    products = {p.product: p for p in data.products}
    mabs = [p for p in data.products if p.modality == "mAb"]
    windows = Counter((p.min_volume_l, p.max_volume_l) for p in mabs)
    assert set(windows) == {(10_000, 15_000), (2_000, 5_000), (1_000, 2_000)}
    assert windows[(10_000, 15_000)] > windows[(2_000, 5_000)] > windows[(1_000, 2_000)] >= 2
    volumes = {t.volume_l for t in data.trains if t.modality == "mAb"}
    for p in mabs:
        assert any(volume_fits(p, v) for v in volumes), p.product
    for adc in (p for p in data.products if p.intermediate):
        assert products[adc.intermediate].min_volume_l == 10_000, adc.product
    notes = _notes()
    for o in data.orders:
        p = products[o.product]
        if p.modality != "mAb" or notes[o.order].startswith("stress"):
            continue
        batches = o.quantity / p.kg_per_batch(p.max_volume_l)  # fewest batches: on its largest trains
        limit = {10_000: 36, 2_000: 36, 1_000: 12}[p.min_volume_l]
        assert batches <= limit, (o.order, p.product, batches)
    clinical = [o.quantity for o in data.orders if products[o.product].min_volume_l == 1_000]
    commercial = [o.quantity for o in data.orders if products[o.product].min_volume_l == 10_000]
    assert clinical and max(clinical) < sorted(commercial)[len(commercial) // 2]


def test_orders_are_released_two_to_nine_months_before_due() -> None:
    data = load_valid(BUNDLED)
    notes = _notes()
    for o in data.orders:
        if not notes[o.order].startswith("stress"):
            assert 61 <= (o.due - o.release).days <= 274, o.order


def test_stress_orders_are_kept() -> None:
    """The deliberately impossible orders of data/README.md stay in the data set."""
    stress = {order: note for order, note in _notes().items() if note.startswith("stress")}
    notes = Counter(stress.values())
    assert sum(notes.values()) == 5
    assert any("new plant" in n for n in notes)
    assert any("QC release" in n for n in notes)
    assert any("24 batches due 30 days" in n for n in notes)
    assert sum(c for n, c in notes.items() if "overload" in n) == 2
    readme = (BUNDLED / "README.md").read_text(encoding="utf-8")
    for order in stress:
        assert f"`{order}`" in readme


def test_maintenance_never_overlaps_a_shutdown_of_its_plant() -> None:
    data = load_valid(BUNDLED)
    shutdowns = [d for d in data.downtime if d.train is None]
    for m in (d for d in data.downtime if d.train is not None):
        for s in shutdowns:
            assert s.plant != m.plant or m.end <= s.start or s.end <= m.start, (m, s)


def test_invalid_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_site(tmp_path, orders=5)
    with pytest.raises(ValueError, match="no ADC plant"):
        generate_site(tmp_path, start=date(2020, 1, 1))


def test_invalid_site_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        site_designs(0)
    with pytest.raises(ValueError, match="no ADC plant"):
        generate(tmp_path, orders=40, plants=2)
    with pytest.raises(ValueError, match="commercial scale"):  # P1, ADC, AAV: no 10–15 kL trains
        generate(tmp_path, orders=40, plants=3)


# ---------------------------------------------------------------------------------------------------------------
# Resized sites: generate(orders, plants, ...)
# ---------------------------------------------------------------------------------------------------------------


def test_generate_defaults_are_the_bundled_data(tmp_path: Path) -> None:
    generate(tmp_path, orders=150, plants=10, years=2, seed=2027)
    assert _contents(tmp_path) == _contents(BUNDLED)


def test_site_designs_pick_and_repeat_the_campus() -> None:
    assert site_designs(10) is PLANT_DESIGNS
    assert [d.plant for d in site_designs(4)] == ["P1", "P2", "ADC", "AAV"]
    assert [d.plant for d in site_designs(9)] == ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "ADC", "AAV"]
    designs = site_designs(23)
    assert [d.plant for d in designs[10:]] == [f"{d.plant}-2" for d in PLANT_DESIGNS] + ["P1-3", "P2-3", "P3-3"]
    assert {d.campus for d in designs} == {"Songdo", "Songdo-2", "Songdo-3"}
    for d in designs:
        base = PLANT_DESIGNS[[b.plant for b in PLANT_DESIGNS].index(d.plant.split("-")[0])]
        assert (d.online_from, d.groups) == (base.online_from, base.groups)


def test_3x_site_is_valid_with_three_times_the_trains_and_products(site_3x: Path) -> None:
    data, bundled = load_valid(site_3x), load_valid(BUNDLED)
    assert len(data.plants) == 30
    assert len(data.trains) == 3 * len(bundled.trains)
    assert len(data.orders) == 450
    assert len(data.products) == 3 * len(bundled.products)
    assert len({p.client for p in data.products}) == 3 * len({p.client for p in bundled.products})
    for ids in ([p.plant for p in data.plants], [t.train for t in data.trains], [p.product for p in data.products],
                [o.order for o in data.orders]):
        assert len(ids) == len(set(ids))
    assert {p.campus for p in data.plants} == {"Songdo", "Songdo-2", "Songdo-3"}
    assert {t.modality for t in data.trains} == {"mAb", "ADC", "AAV"}


def test_3x_site_spreads_products_over_all_campuses(site_3x: Path) -> None:
    data = load_valid(site_3x)
    campus = {p.plant: p.campus for p in data.plants}
    campuses: dict[str, set[str]] = {}
    for q in data.qualifications:
        campuses.setdefault(q.product, set()).add(campus[q.plant])
    assert set(campuses) == {p.product for p in data.products}  # every product is qualified somewhere
    assert {c for cs in campuses.values() for c in cs} == set(campus.values())
    assert any(len(cs) > 1 for cs in campuses.values())  # some products on several campuses
    products = {p.product: p for p in data.products}
    for q in data.qualifications:  # a product is qualified only at plants of its modality and scale
        trains = [t for t in data.trains if t.plant == q.plant]
        assert any(t.modality == products[q.product].modality and volume_fits(products[q.product], t.volume_l)
                   for t in trains), q


def test_3x_site_keeps_the_bundled_mix_and_load(site_3x: Path) -> None:
    data, bundled = load_valid(site_3x), load_valid(BUNDLED)

    def mix(d: ProblemData) -> dict[str, float]:  # share of orders per modality, and of tentative orders
        modality = {p.product: p.modality for p in d.products}
        counts = Counter(modality[o.product] for o in d.orders) + Counter("tentative" for o in d.orders if not o.firm)
        return {k: counts[k] / len(d.orders) for k in ("mAb", "ADC", "AAV", "tentative")}

    ours, theirs = mix(data), mix(bundled)
    for k in ours:
        assert abs(ours[k] - theirs[k]) < 0.03, (k, ours, theirs)
    assert any(p.modality == "ADC" and p.intermediate for p in data.products)
    assert any(p.modality == "ADC" and p.intermediate is None for p in data.products)
    assert sum(note.startswith("stress") for note in _notes(site_3x).values()) == 5
    report = load_report(site_3x)
    for modality in ("mAb", "ADC", "AAV", "site"):
        assert 0.72 <= report[modality]["ratio"] <= 0.85, (modality, report[modality])
        assert 0.85 <= report[modality]["ratio_with_tentative"] <= 0.96, (modality, report[modality])
    readme = (site_3x / "README.md").read_text(encoding="utf-8")
    assert "plants=30" in readme and "3 campuses" in readme


def test_small_site_has_all_three_modalities(tmp_path: Path) -> None:
    generate(tmp_path, orders=40, plants=4)
    data = load_valid(tmp_path)
    assert [p.plant for p in data.plants] == ["P1", "P2", "ADC", "AAV"]
    assert len(data.orders) == 40
    modality = {p.product: p.modality for p in data.products}
    assert {t.modality for t in data.trains} == {"mAb", "ADC", "AAV"}
    assert set(modality.values()) == {"mAb", "ADC", "AAV"}
    assert {modality[o.product] for o in data.orders} == {"mAb", "ADC", "AAV"}
    assert len(data.products) < 25  # the catalogue shrinks with the orders


def test_products_and_clients_grow_with_orders(tmp_path: Path) -> None:
    generate_site(tmp_path, orders=300)
    data = load_valid(tmp_path)
    assert len(data.products) == 120
    assert len({p.client for p in data.products}) == 60
    assert len(data.orders) == 300


def test_three_year_horizon(tmp_path: Path) -> None:
    generate(tmp_path, orders=225, plants=10, years=3)
    data = load_valid(tmp_path)
    assert (data.settings.horizon.start, data.settings.horizon.end) == (date(2027, 1, 1), date(2030, 1, 1))
    assert max(o.due for o in data.orders) >= date(2029, 12, 1)
    assert 0.72 <= load_report(tmp_path)["site"]["ratio"] <= 0.85


def test_10x_site_is_valid(tmp_path: Path) -> None:
    """1,500 orders on 100 plants: the benchmark's largest instance (generated in a few seconds)."""
    generate(tmp_path, orders=1500, plants=100)
    data = load_valid(tmp_path)
    assert len(data.plants) == 100
    assert len(data.trains) == 10 * 114
    assert len(data.products) == 600
    assert len({t.train for t in data.trains}) == len(data.trains)
