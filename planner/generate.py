"""Deterministic generator of the bundled ILLUSTRATIVE data set: a Samsung-Biologics-like Songdo campus.

Why a generator instead of hand-written CSVs: the data set is large (about 100 trains, 60 products, 150
orders), must stay valid as the contract evolves, and must be reproducible and resizable. Plant sizes and
online dates follow public reports (`PLANT_DESIGNS`); clients, products, orders, downtime, the AAV suite,
the Plant 4 reactor mix and all cleaning durations are invented. Everything is drawn from one
`random.Random(seed)` in a fixed order, so one seed always gives byte-identical files.

The site is described by data (`PLANT_DESIGNS`, a list of plant designs made of train groups), and trains
are built from it by `build_trains`; scaling the site means passing a longer design list.

Resized instances (benchmarks at 1×, 3×, 10×): `generate(out, orders=150 * k, plants=10 * k, seed=s)`.
`site_designs(plants)` takes the first plants (keeping the ADC and AAV plants) or repeats the campus with
suffixed ids (`P1-2`, campus `Songdo-2`); clients, products and changeover overrides grow with `orders`
(`_Catalog`); on several campuses orders are drawn, sized and balanced per campus (`_Estimator.group`), so a
k-campus site carries about the bundled load on every campus. `generate()` with its defaults writes exactly
the bundled data/: everything reduces to the one-campus algorithm there.

Regenerate the bundled data (from the repository root):

    python -c "from pathlib import Path; from planner.generate import generate_site; generate_site(Path('data'))"
"""

from __future__ import annotations

import csv
import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from planner.load import (
    Changeover,
    Downtime,
    Horizon,
    Order,
    Plant,
    ProblemData,
    Product,
    Qualification,
    Settings,
    Train,
)
from planner.validate import load_valid, volume_fits

REGENERATE_COMMAND = (
    "python -c \"from pathlib import Path; from planner.generate import generate_site; generate_site(Path('data'))\""
)

# ---------------------------------------------------------------------------------------------------------------
# Site design (public figures where published, sources in data/README.md; the rest invented and said so)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainGroup:
    """Identical trains of one plant: same modality, volume and cleaning times (one pool for the planner)."""

    count: int
    volume_l: float
    modality: str
    prefix: str  # train id letter: R = stainless reactor, S = single-use, C = conjugation suite
    turnaround_days: int
    changeover_days: int


@dataclass(frozen=True)
class PlantDesign:
    """One building of the campus and what is publicly known about it (quoted in data/README.md)."""

    plant: str
    online_from: date
    groups: tuple[TrainGroup, ...]
    capacity: str
    source: str
    note: str = ""
    digits: int = 2
    campus: str = "Songdo"


def _stainless(count: int, volume_l: float, turnaround: int = 3, changeover: int = 10) -> TrainGroup:
    return TrainGroup(count, volume_l, "mAb", "R", turnaround, changeover)


def _single_use(
    count: int, volume_l: float, modality: str = "mAb", turnaround: int = 1, changeover: int = 4
) -> TrainGroup:
    return TrainGroup(count, volume_l, modality, "S", turnaround, changeover)


_P5_DESIGN = (_stainless(12, 15_000, turnaround=2, changeover=8),)

PLANT_DESIGNS: tuple[PlantDesign, ...] = (
    PlantDesign(
        "P1", date(2015, 1, 1), (_stainless(6, 5_000, turnaround=3, changeover=12),),
        "30,000 L", "pharmaceutical-technology.com/projects/samsung-plant/",
        "6 × 5,000 L (published as 3 trains of 2 production reactors; modelled as 6 trains)",
    ),
    PlantDesign(
        "P2", date(2016, 1, 1), (_stainless(10, 15_000), _single_use(2, 1_000)),
        "152,000 L", "samsungbiologics.com/front/eng/our/plant2.do",
    ),
    PlantDesign(
        "P3", date(2018, 10, 1), (_stainless(12, 15_000), _single_use(2, 1_000)),
        "180,000 L", "samsungbiologics.com/front/eng/our/plant3.do",
    ),
    PlantDesign(
        "P4", date(2023, 6, 1),
        (
            _stainless(12, 15_000, turnaround=2, changeover=9),
            _stainless(4, 10_000, turnaround=2, changeover=8),
            _single_use(10, 2_000, turnaround=1, changeover=3),
        ),
        "240,000 L", "biopharma-reporter.com (2022-10-13)",
        "reactor counts not published: 12 × 15,000 + 4 × 10,000 + 10 × 2,000 L is our assumption",
    ),
    PlantDesign("P5", date(2025, 4, 1), _P5_DESIGN, "180,000 L", "biz.heraldcorp.com/article/10567977"),
    PlantDesign(
        "P6", date(2027, 7, 1), _P5_DESIGN, "180,000 L", "chemlocus.co.kr/news/view/133455",
        "same design as P5; ~2027 reported, 2027-07-01 assumed",
    ),
    PlantDesign(
        "P7", date(2028, 10, 1), _P5_DESIGN, "180,000 L", "chemlocus.co.kr/news/view/133455",
        "same design as P5; 'by 2032' reported, 2028-10-01 assumed (late in the horizon)",
    ),
    PlantDesign(
        "P8", date(2030, 1, 1), _P5_DESIGN, "180,000 L", "chemlocus.co.kr/news/view/133455",
        "same design as P5; 2030-01-01 assumed (outside the default horizon)",
    ),
    PlantDesign(
        "ADC", date(2025, 1, 1), (TrainGroup(2, 500, "ADC", "C", 2, 5),),
        "2 conjugation trains up to 500 L", "americanpharmaceuticalreview.com (Marc Studer interview)",
        "Q1 2025 reported, 2025-01-01 assumed", digits=1,
    ),
    PlantDesign(
        "AAV", date(2026, 7, 1),
        (_single_use(4, 2_000, "AAV", 1, 3), _single_use(2, 500, "AAV", 2, 5)),
        "not published", "news.bizwatch.co.kr (2025-04-10)",
        "HYPOTHETICAL suite: no AAV capacity is published (business under review in 2025)", digits=1,
    ),
)


def build_trains(designs: Iterable[PlantDesign]) -> list[dict[str, Any]]:
    """trains.csv rows for a list of plant designs; ids number each letter per plant (P4-R13, P4-S01)."""
    rows: list[dict[str, Any]] = []
    for design in designs:
        numbers: dict[str, int] = defaultdict(int)
        for group in design.groups:
            for _ in range(group.count):
                numbers[group.prefix] += 1
                rows.append(
                    {
                        "train": f"{design.plant}-{group.prefix}{numbers[group.prefix]:0{design.digits}d}",
                        "plant": design.plant,
                        "modality": group.modality,
                        "volume_l": group.volume_l,
                        "turnaround_days": group.turnaround_days,
                        "changeover_days": group.changeover_days,
                    }
                )
    return rows


def build_plants(designs: Iterable[PlantDesign]) -> list[dict[str, Any]]:
    """plants.csv rows for a list of plant designs."""
    return [
        {"plant": d.plant, "campus": d.campus, "online_from": d.online_from, "online_until": None} for d in designs
    ]


def _modalities(design: PlantDesign) -> set[str]:
    return {g.modality for g in design.groups}


def _pick_designs(designs: Sequence[PlantDesign], count: int) -> list[PlantDesign]:
    """The first `count` designs, except that the first plant of every non-mAb modality is kept when
    `count` ≥ 3 (it replaces the last mAb plant that would have been taken), in design order."""
    if count >= len(designs):
        return list(designs)
    keep: list[PlantDesign] = []
    if count >= 3:
        for modality in ORDER_MIX:
            first = next((d for d in designs if modality in _modalities(d)), None)
            if modality != "mAb" and first is not None and first not in keep:
                keep.append(first)
    rest = [d for d in designs if d not in keep][: max(0, count - len(keep))]
    chosen = set(map(id, keep + rest))
    return [d for d in designs if id(d) in chosen]


def site_designs(plants: int = len(PLANT_DESIGNS)) -> tuple[PlantDesign, ...]:
    """The plant designs of a site with `plants` plants, built from PLANT_DESIGNS (the bundled campus).

    Up to len(PLANT_DESIGNS) plants: the first ones, always keeping the ADC and AAV plants (from 3 plants on)
    so that every modality exists. Beyond that, further campuses repeat the design list with suffixed ids
    (campus 2: plants `P1-2`, …, `ADC-2`, campus `Songdo-2`; train ids follow the plant id), same online
    dates, cycling until `plants` plants exist (a last partial campus takes the first designs of the list).
    """
    if plants < 1:
        raise ValueError(f"plants must be at least 1 (got {plants})")
    size = len(PLANT_DESIGNS)
    if plants <= size:
        picked = _pick_designs(PLANT_DESIGNS, plants)
        return PLANT_DESIGNS if len(picked) == size else tuple(picked)
    out: list[PlantDesign] = list(PLANT_DESIGNS)
    campus = 1
    while len(out) < plants:
        campus += 1
        block = PLANT_DESIGNS[: plants - len(out)]
        out += [replace(d, plant=f"{d.plant}-{campus}", campus=f"{d.campus}-{campus}") for d in block]
    return tuple(out)


# ---------------------------------------------------------------------------------------------------------------
# Invented parts: clients, products, orders (ranges from domain.md where it gives any)
# ---------------------------------------------------------------------------------------------------------------

CLIENT_STEMS = (
    "Northwind", "Alderbank", "Bluefin", "Cedarline", "Driftwood", "Emberlake", "Fernhill", "Glasswing",
    "Harborview", "Ironbark", "Juniper Vale", "Kestrel", "Larkspur", "Moorland", "Nettlefield", "Oakhollow",
    "Pinecrest", "Quillfeather", "Rowanberry", "Saltmarsh", "Thistledown", "Umberfield", "Valewood",
    "Willowmere", "Yarrowgate", "Zephyrine", "Amberfjord", "Brackenridge", "Copperleaf", "Duskmoor",
)
CLIENT_SUFFIXES = ("Bio", "Therapeutics", "Biologics", "Pharma", "Immuno", "Biotherapeutics")

PRODUCT_COUNTS = {"mAb": 49, "ADC": 6, "AAV": 5}
CLIENT_SUPPLIED_ADC = 4  # ADC products whose client ships the mAb intermediate
# Every mAb process is qualified at one scale (min_volume_l, max_volume_l). Commercial products run on the
# 10 kL and 15 kL trains, mid-scale ones on P1's 5,000 L and P4's 2,000 L trains, clinical ones on the
# 1,000 L and 2,000 L single-use trains. Counts of the smaller scales; every other mAb is commercial.
MAB_SCALES = {
    "commercial": (10_000.0, 15_000.0),
    "mid-scale": (2_000.0, 5_000.0),
    "clinical": (1_000.0, 2_000.0),
}
SMALL_SCALE_COUNTS = {"mid-scale": 10, "clinical": 4}
LARGE_TRAIN_L = 10_000.0  # mAb trains at or above this volume form the large-train capacity class
NEVER_TRANSFER_SHARE = 0.5  # share of mAb products with blank tech_transfer_days
TECH_TRANSFER_DAYS = (180, 365)
IN_HORIZON_QUALIFICATION_SHARE = 0.15
QUALIFIED_PLANTS = (0.15, 0.45, 0.40)  # chance that a mAb product is qualified at 1, 2 or 3 plants
CROSS_CAMPUS_SHARE = 0.2  # on a site of several campuses: chance that a further plant is on another campus
BALANCE_TOLERANCE = 0.08  # qualifications are added until the plants' expected loads differ by less than this
MAX_ADDED_QUALIFICATIONS = 20  # per len(PLANT_DESIGNS) plants (the bundled campus)
BALANCED_CLASSES = ("mAb-large", "mAb-small", "ADC", "AAV")  # train classes whose plants are balanced

# Scaling: the counts above (clients, products, changeover overrides) belong to REFERENCE_ORDERS orders and
# grow in proportion to `orders`, so that a 10× instance is not 1,500 orders of 60 products. Clients beyond
# the CLIENT_STEMS get a qualifier (`Northwind Atlantic Bio`, code `NOR2`).
REFERENCE_ORDERS = 150
CLIENT_QUALIFIERS = (
    "Atlantic", "Pacific", "Nordic", "Alpine", "Coastal", "Highland", "Meridian", "Boreal", "Austral", "Summit",
    "Lakeside", "Prairie", "Orient", "Delta", "Canyon", "Tundra",
)
CHANGEOVER_COUNTS = {"platform": 5, "hard": 1, "payload": 3}  # same-client pairs, hard-to-clean products
# (each with 2 followers), ADC payload switches per REFERENCE_ORDERS orders
MAINTENANCE_PER_PLANT = 0.3  # single-train maintenance jobs per plant, plus one per running ADC / AAV suite

ORDER_MIX = {"mAb": 0.78, "ADC": 0.11, "AAV": 0.11}
# mAb orders per capacity class: share of available train-days times this weight (small trains get more,
# smaller orders, so that small-scale products keep small orders and still load their trains)
CLASS_ORDER_WEIGHT = {"mAb-large": 1.0, "mAb-small": 1.4}
TENTATIVE_SHARE = 0.17
LEAD_DAYS = (61, 274)  # release 2–9 months before due (a large order gets a long lead, see _fit_release)
# batches per random order on its typical train, by mAb scale or modality
BATCH_RANGE = {
    "commercial": (4, 36), "mid-scale": (3, 36), "clinical": (1, 12), "ADC": (3, 24), "AAV": (2, 40),
}
REVENUE_PER_BATCH_K = {"mAb": (900, 1600), "ADC": (2500, 4000), "AAV": (1500, 3000)}
REVENUE_RANGE_K = (5_000, 60_000)
FIXED_PLANT_SHARE = 0.03
LOAD_TARGET = 0.80  # firm train-days (changeovers counted) / available train-days per modality at scale 1.0
TOTAL_TARGET = 0.92  # firm + tentative train-days / available train-days
FIRST_QUARTER_SHAPE = 0.7  # first due quarter loaded at this share of the others (its orders start at once)
LAST_QUARTER_SHAPE = 0.85  # last due quarter: late batches have no room after the horizon end
CLASS_QUARTER_LIMIT = {"mAb-large": 0.86, "mAb-small": 0.86, "ADC": 0.92, "AAV": 0.9}  # most firm load of a
# capacity class in one due quarter when the calibration moves demand there from a quarter that cannot take it
CAMPAIGN_BATCHES = 6  # the load estimate counts one changeover per this many batches of an order
WINDOW_SHARE = 0.5  # an order's batches fill at most this share of its window's parallel campaign rounds
BACKLOG_WINDOW_SHARE = 0.65  # the same for orders due in the first BACKLOG_DAYS: booked long ago, running
BACKLOG_DAYS = 91
FIRST_DUE_DAYS = 30  # the earliest due date of a random order, in days after the horizon start
MAX_PARALLEL_CAMPAIGNS = 3  # mirrors settings.toml solver.max_campaigns_per_pool, used to size feasible orders


# ---------------------------------------------------------------------------------------------------------------
# Load estimate (shared by the generator's calibration and load_report, so the quoted figures are the target)
# ---------------------------------------------------------------------------------------------------------------


class _Estimator:
    """Solver-free load estimate: batches × (batch_days + turnaround) + campaigns × changeover on a typical train.

    Demand is keyed by a `key` of the typical train: its modality (what load_report quotes) or its capacity
    class (`train_class`: the generator calibrates mAb large and small trains separately).
    """

    def __init__(self, data: ProblemData):
        self.data = data
        self.horizon = data.settings.horizon
        self.products = {p.product: p for p in data.products}
        self.qualifications: dict[str, list[Qualification]] = defaultdict(list)  # product -> its rows
        for q in data.qualifications:
            self.qualifications[q.product].append(q)
        self._candidates: dict[tuple[str, str | None], list[Train]] = {}
        self._availability: dict[Any, tuple[dict[str, list[int]], dict[str, dict[tuple[date, date], int]]]] = {}
        self._days: dict[tuple[str, str | None, int, Any], dict[str, int]] = {}
        online = {
            p.plant
            for p in data.plants
            if p.online_from < self.horizon.end and (p.online_until is None or p.online_until > self.horizon.start)
        }
        self._online_trains: dict[str, list[Train]] = defaultdict(list)  # modality -> trains of online plants
        for t in data.trains:
            if t.plant in online:
                self._online_trains[t.modality].append(t)
        self.campus = {p.plant: p.campus for p in data.plants}
        self.campuses = list(dict.fromkeys(self.campus.values()))

    def group(self, train: Train) -> str:
        """The train's capacity class (`train_class`), per campus (`mAb-large@Songdo-2`) on a site of several
        campuses: a k-campus site is sized and balanced like k bundled sites."""
        klass = train_class(train)
        return klass if len(self.campuses) == 1 else f"{klass}@{self.campus[train.plant]}"

    def eligible(self, product: Product, site: str | None = None) -> list[Train]:
        """`structurally_eligible` trains of plants online in the horizon (same rule, indexed)."""
        qualified = {q.plant for q in self.qualifications[product.product]}
        transferable = product.tech_transfer_days is not None
        return [
            t
            for t in self._online_trains[product.modality]
            if volume_fits(product, t.volume_l)
            and (site is None or t.plant == site)
            and (t.plant in qualified or transferable)
        ]

    def candidates(self, product: Product, site: str | None = None) -> list[Train]:
        """Eligible trains online in the horizon, those at qualified plants first choice (by volume, id)."""
        key = (product.product, site)
        if key not in self._candidates:
            eligible = self.eligible(product, site)
            qualified = {
                q.plant for q in self.qualifications[product.product] if q.qualified_from < self.horizon.end
            }
            preferred = [t for t in eligible if t.plant in qualified] or eligible
            self._candidates[key] = sorted(preferred, key=lambda t: (t.volume_l, t.train))
        return self._candidates[key]

    def typical(self, product: Product, site: str | None = None) -> Train | None:
        """The lower-median-volume candidate train: what an order is sized and costed on."""
        trains = self.candidates(product, site)
        return trains[(len(trains) - 1) // 2] if trains else None

    @staticmethod
    def step_days(product: Product, train: Train, batches: int) -> int:
        """Train-days of `batches` batches: each holds the train batch_days + turnaround, and every campaign
        of up to CAMPAIGN_BATCHES batches adds one changeover."""
        campaigns = math.ceil(batches / CAMPAIGN_BATCHES)
        return batches * (product.batch_days + train.turnaround_days) + campaigns * train.changeover_days

    def order_parts(self, order: Order) -> list[tuple[Train, int]]:
        """(typical train, train-days) of an order's final step and, for ADC, of its mAb intermediate."""
        product = self.products[order.product]
        train = self.typical(product, order.plant)
        if train is None:
            return []
        per_batch = product.kg_per_batch(train.volume_l)
        if order.unit == "batches":
            batches = int(order.quantity)
            kg = batches * per_batch
        else:
            batches = math.ceil(order.quantity / per_batch - 1e-9)
            kg = order.quantity
        parts = [(train, self.step_days(product, train, batches))]
        intermediate = self.products.get(product.intermediate or "")
        if intermediate is not None and product.intermediate_kg_per_kg is not None:
            inter_train = self.typical(intermediate)
            if inter_train is not None:
                inter_batches = math.ceil(
                    kg * product.intermediate_kg_per_kg / intermediate.kg_per_batch(inter_train.volume_l) - 1e-9
                )
                parts.append((inter_train, self.step_days(intermediate, inter_train, inter_batches)))
        return parts

    def order_days(self, order: Order, key: Callable[[Train], str] | None = None) -> dict[str, int]:
        """Train-days an order needs per modality (or per `key` of the train), its ADC intermediate as mAb."""
        days: dict[str, int] = defaultdict(int)
        for train, d in self.order_parts(order):
            days[key(train) if key else train.modality] += d
        return dict(days)

    def draft_days(self, draft: _Draft, key: Callable[[Train], str] | None = None) -> dict[str, int]:
        """`order_days` of a draft order (memoised: it depends on product, plant and batches only)."""
        memo = (draft.product.product, draft.plant, draft.batches, key)
        if memo not in self._days:
            self._days[memo] = self.order_days(_order(self, draft), key)
        return self._days[memo]

    def _spans(self, key: Callable[[Train], str] | None) -> tuple[dict[str, list[int]], dict[str, dict]]:
        """Per key: prefix sums of available train-days by horizon day, and each distinct online span
        [lo, hi) of its trains with the index of the first train that has it."""
        if key not in self._availability:
            start, end = self.horizon.start, self.horizon.end
            size = max(0, (end - start).days)
            plants = {p.plant: p for p in self.data.plants}
            downtime: dict[tuple[str, str | None], list[Downtime]] = defaultdict(list)
            for d in self.data.downtime:
                downtime[(d.plant, d.train)].append(d)
            diff: dict[str, list[int]] = {}
            spans: dict[str, dict[tuple[date, date], int]] = {}
            for index, train in enumerate(self.data.trains):
                plant = plants[train.plant]
                lo = max(start, plant.online_from)
                hi = min(end, plant.online_until or end)
                if hi <= lo:
                    continue
                k = key(train) if key else train.modality
                spans.setdefault(k, {}).setdefault((lo, hi), index)
                row = diff.setdefault(k, [0] * (size + 1))
                row[(lo - start).days] += 1
                row[(hi - start).days] -= 1
                down = sorted(
                    (max(d.start, lo), min(d.end, hi))
                    for d in downtime[(train.plant, None)] + downtime[(train.plant, train.train)]
                )
                reach = lo
                for a, b in down:
                    a = max(a, reach)
                    if b > a:
                        row[(a - start).days] -= 1
                        row[(b - start).days] += 1
                        reach = b
            prefix = {k: [0, *accumulate(accumulate(row[:size]))] for k, row in diff.items()}
            self._availability[key] = (prefix, spans)
        return self._availability[key]

    def available_days(
        self, first: date | None = None, end: date | None = None, key: Callable[[Train], str] | None = None
    ) -> dict[str, int]:
        """Σ over trains of days in [first, end) ∩ horizon while the plant is online, minus downtime
        (overlaps counted once), per modality or per `key` of the train (keys of trains online in the window
        only, in train order)."""
        prefix, spans = self._spans(key)
        lo = max(self.horizon.start, first or self.horizon.start)
        hi = min(self.horizon.end, end or self.horizon.end)
        if hi <= lo:
            return {}
        a, b = (lo - self.horizon.start).days, (hi - self.horizon.start).days
        present = []
        for k, online in spans.items():
            index = min((i for (s, e), i in online.items() if max(s, lo) < min(e, hi)), default=None)
            if index is not None:
                present.append((index, k))
        return {k: prefix[k][b] - prefix[k][a] for _, k in sorted(present)}

    def available_days_of(self, first: date, end: date, key: Callable[[Train], str], k: str) -> int:
        """available_days(first, end, key).get(k, 0), for one key."""
        prefix = self._spans(key)[0].get(k)
        lo = max(self.horizon.start, first)
        hi = min(self.horizon.end, end)
        if prefix is None or hi <= lo:
            return 0
        return prefix[(hi - self.horizon.start).days] - prefix[(lo - self.horizon.start).days]


def train_class(train: Train) -> str:
    """Capacity class of a train: its modality, mAb split into large (≥ 10 kL) and small trains."""
    if train.modality != "mAb":
        return train.modality
    return "mAb-large" if train.volume_l >= LARGE_TRAIN_L else "mAb-small"


def quarters(start: date, end: date) -> list[tuple[str, date, date]]:
    """Calendar quarters ('2027Q1', first day, exclusive end) overlapping [start, end), clipped to it."""
    out: list[tuple[str, date, date]] = []
    day = date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
    while day < end:
        nxt = date(day.year + day.month // 10, (day.month + 2) % 12 + 1, 1)
        out.append((f"{day.year}Q{(day.month - 1) // 3 + 1}", max(day, start), min(nxt, end)))
        day = nxt
    return out


def _quarter_of(day: date, spans: list[tuple[str, date, date]]) -> str:
    """The quarter a due date falls in (a due date on the horizon end counts in the last quarter)."""
    for label, lo, hi in spans:
        if lo <= day < hi:
            return label
    return spans[-1][0] if day >= spans[-1][2] else spans[0][0]


def _report(estimator: _Estimator, orders: Iterable[Order]) -> dict[str, dict[str, float]]:
    available = estimator.available_days()
    firm: dict[str, int] = defaultdict(int)
    tentative: dict[str, int] = defaultdict(int)
    for order in orders:
        for modality, days in estimator.order_days(order).items():
            (firm if order.firm else tentative)[modality] += days
    report: dict[str, dict[str, float]] = {}
    for modality in ("mAb", "ADC", "AAV", "site"):
        if modality == "site":
            avail, f, t = sum(available.values()), sum(firm.values()), sum(tentative.values())
        else:
            avail, f, t = available.get(modality, 0), firm[modality], tentative[modality]
        report[modality] = {
            "available_days": avail,
            "firm_days": f,
            "tentative_days": t,
            "ratio": round(f / avail, 3) if avail else 0.0,
            "ratio_with_tentative": round((f + t) / avail, 3) if avail else 0.0,
        }
    return report


def _quarter_report(estimator: _Estimator, orders: Iterable[Order]) -> dict[str, dict[str, dict[str, float]]]:
    spans = quarters(estimator.horizon.start, estimator.horizon.end)
    firm: dict[tuple[str, str], int] = defaultdict(int)
    for order in orders:
        if order.firm:
            quarter = _quarter_of(order.due, spans)
            for modality, days in estimator.order_days(order).items():
                firm[(modality, quarter)] += days
    report: dict[str, dict[str, dict[str, float]]] = {}
    for label, lo, hi in spans:
        available = estimator.available_days(lo, hi)
        row: dict[str, dict[str, float]] = {}
        for modality in ("mAb", "ADC", "AAV"):
            avail, f = available.get(modality, 0), firm[(modality, label)]
            row[modality] = {"available_days": avail, "firm_days": f, "ratio": round(f / avail, 3) if avail else 0.0}
        report[label] = row
    return report


def load_report(folder: Path | str) -> dict[str, dict[str, float]]:
    """Firm and tentative demand vs available train-days per modality (and `site`), to quote the load.

    Why an estimate and not a solve: it tells in milliseconds whether a data set is under- or over-loaded.
    Each order needs ⌈quantity / kg per batch⌉ batches on a typical eligible train (lower-median volume,
    qualified plants preferred), each holding the train batch_days + turnaround_days, plus one changeover
    of the train per campaign of up to CAMPAIGN_BATCHES batches; an ADC order adds its intermediate batches
    (and their changeovers) to mAb. Available = Σ train-days inside the horizon while online, minus downtime.
    """
    data = load_valid(folder)
    return _report(_Estimator(data), data.orders)


def quarter_report(folder: Path | str) -> dict[str, dict[str, dict[str, float]]]:
    """Firm demand by due-date quarter vs that quarter's available train-days: quarter → modality → figures.

    Same estimate as `load_report`; an order counts whole in the quarter of its due date.
    """
    data = load_valid(folder)
    return _quarter_report(_Estimator(data), data.orders)


def format_load_report(report: dict[str, dict[str, float]]) -> str:
    """The load report as a Markdown table (used in data/README.md and for printing)."""
    lines = [
        "| modality | firm train-days | available train-days | firm load | tentative train-days "
        "| load with tentative |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for modality, row in report.items():
        lines.append(
            f"| {modality} | {row['firm_days']:,.0f} | {row['available_days']:,.0f} | {row['ratio']:.1%} "
            f"| {row['tentative_days']:,.0f} | {row['ratio_with_tentative']:.1%} |"
        )
    return "\n".join(lines)


def format_quarter_report(report: dict[str, dict[str, dict[str, float]]]) -> str:
    """The quarterly report as a Markdown table: firm train-days / available train-days (load) per modality."""
    modalities = ("mAb", "ADC", "AAV")
    lines = [
        "| due quarter | " + " | ".join(f"{m} firm / available" for m in modalities) + " |",
        "|---|" + "---:|" * len(modalities),
    ]
    for label, row in report.items():
        cells = [
            f"{row[m]['firm_days']:,.0f} / {row[m]['available_days']:,.0f} ({row[m]['ratio']:.0%})" for m in modalities
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _Draft:
    """An order before its size is calibrated to the load target."""

    product: Product
    firm: bool
    release: date
    due: date
    weight: int
    raw: float  # relative size; batches = round(raw × factor) clamped to `size` and cap
    cap: int  # most batches that fit the order's window
    revenue_per_batch: float
    plant: str | None = None
    batches: int = 0
    fixed: bool = False  # stress orders keep their size
    note: str = ""
    klass: str = ""  # capacity class of its typical train (train_class)
    size: tuple[int, int] = (1, 1)  # batch range (BATCH_RANGE of its scale or modality)


@dataclass
class _Site:
    """Tables as CSV-column dicts, plus the typed view the estimator needs."""

    start: date
    end: date
    designs: Sequence[PlantDesign]
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    stress_products: dict[str, str] = field(default_factory=dict)  # role -> product id
    scales: dict[str, str] = field(default_factory=dict)  # mAb product id -> MAB_SCALES label
    transfers: int = 0  # qualifications added by _balance_qualifications

    def problem(self) -> ProblemData:
        """Typed rows of the static tables (orders left out), validated by the loader's own models."""

        def typed(name: str, model: type) -> list[Any]:
            return [model.model_validate({**row, "row": i + 2}) for i, row in enumerate(self.tables.get(name, []))]

        return ProblemData(
            folder=Path("."),
            plants=typed("plants", Plant),
            trains=typed("trains", Train),
            products=typed("products", Product),
            orders=[],
            qualifications=typed("qualifications", Qualification),
            downtime=typed("downtime", Downtime),
            changeovers=typed("changeovers", Changeover),
            settings=Settings(horizon=Horizon(start=self.start, end=self.end)),
        )


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _random_day(rng: random.Random, first: date, last: date) -> date:
    """A day in [first, last] (first if the range is empty)."""
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


@dataclass(frozen=True)
class _Catalog:
    """How many clients and products (and changeover overrides) a data set of `orders` orders gets."""

    clients: int
    products: dict[str, int]  # per modality
    supplied_adc: int  # ADC products whose client ships the intermediate
    small_scale: dict[str, int]  # mAb products per smaller scale
    changeovers: dict[str, int]  # CHANGEOVER_COUNTS scaled

    @classmethod
    def for_orders(cls, orders: int) -> _Catalog:
        """Counts in proportion to orders / REFERENCE_ORDERS, with the minimum every role of the data set needs
        (an ADC with its own intermediate and one without, two AAV processes, a product of every scale)."""
        f = orders / REFERENCE_ORDERS

        def n(count: int, least: int = 1) -> int:
            return max(least, round(count * f))

        adc, aav = n(PRODUCT_COUNTS["ADC"], 2), n(PRODUCT_COUNTS["AAV"], 2)
        small = {label: n(count) for label, count in SMALL_SCALE_COUNTS.items()}
        clients = max(n(len(CLIENT_STEMS), 2), aav)
        mab = max(n(PRODUCT_COUNTS["mAb"]), clients, sum(small.values()) + 3)
        return cls(
            clients=clients,
            products={"mAb": mab, "ADC": adc, "AAV": aav},
            supplied_adc=min(round(CLIENT_SUPPLIED_ADC * f), adc - 1),
            small_scale=small,
            changeovers={k: n(v) for k, v in CHANGEOVER_COUNTS.items()},
        )


def _make_clients(rng: random.Random, count: int = len(CLIENT_STEMS)) -> list[tuple[str, str]]:
    """(name, code) of the fictional clients: the CLIENT_STEMS in order, then again with a qualifier."""
    clients = []
    for k in range(count):
        stem, rounds = CLIENT_STEMS[k % len(CLIENT_STEMS)], k // len(CLIENT_STEMS)
        qualifier = "" if rounds == 0 else f" {_qualifier(rounds)}"
        code = stem[:3].upper() + ("" if rounds == 0 else str(rounds + 1))
        clients.append((f"{stem}{qualifier} {rng.choice(CLIENT_SUFFIXES)}", code))
    return clients


def _qualifier(rounds: int) -> str:
    """Client name qualifier of the `rounds`-th repetition of the stems (1 → Atlantic, …, then numbered)."""
    if rounds <= len(CLIENT_QUALIFIERS):
        return CLIENT_QUALIFIERS[rounds - 1]
    return f"{CLIENT_QUALIFIERS[(rounds - 1) % len(CLIENT_QUALIFIERS)]} {rounds + 1}"


def _trains_by_plant(site: _Site) -> dict[str, list[dict[str, Any]]]:
    by_plant: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for train in site.tables["trains"]:
        by_plant[train["plant"]].append(train)
    return by_plant


def _plant_days(
    site: _Site, design: PlantDesign, fits: Callable[[dict[str, Any]], bool], trains: list[dict[str, Any]]
) -> int:
    """Horizon train-days of a plant's trains that pass `fits` (weights qualification choices by capacity)."""
    days = max(0, (site.end - max(site.start, design.online_from)).days)
    return days * sum(1 for t in trains if fits(t))


def _make_products(site: _Site, rng: random.Random, catalog: _Catalog) -> None:
    """products.csv and qualifications.csv: mostly mAb, some ADC on a client's mAb, a few AAV."""
    clients = _make_clients(rng, catalog.clients)
    owners = list(clients) + rng.choices(clients, k=catalog.products["mAb"] - len(clients))
    owners.sort(key=lambda c: c[1])
    products: list[dict[str, Any]] = []
    numbers: dict[tuple[str, str], int] = defaultdict(int)

    def new_product(client: tuple[str, str], modality: str, **values: Any) -> dict[str, Any]:
        numbers[(client[1], modality)] += 1
        row = {"product": f"{client[1]}-{modality}{numbers[(client[1], modality)]}", "client": client[0],
               "modality": modality, **values}
        products.append(row)
        return row

    mabs = [
        new_product(
            owner, "mAb",
            titer_g_per_l=round(rng.uniform(2.0, 7.0), 1),
            **{"yield": round(rng.uniform(0.65, 0.80), 2)},
            batch_days=rng.randint(12, 18),
            tech_transfer_days=None if rng.random() < NEVER_TRANSFER_SHARE else rng.randint(*TECH_TRANSFER_DAYS),
        )
        for owner in owners
    ]
    small_scale = rng.sample(mabs, sum(catalog.small_scale.values()))
    scales = [label for label, count in catalog.small_scale.items() for _ in range(count)]
    for m in mabs:
        site.scales[m["product"]] = "commercial"
    for m, label in zip(small_scale, scales, strict=True):
        site.scales[m["product"]] = label
    for m in mabs:
        m["min_volume_l"], m["max_volume_l"] = MAB_SCALES[site.scales[m["product"]]]
    commercial = [m for m in mabs if site.scales[m["product"]] == "commercial"]

    # Stress roles: a mid-scale product qualified only at the smallest established plant, and a commercial
    # product qualified only at the first plant that opens during the horizon; neither may be tech-transferred.
    small = next(m for m in mabs if site.scales[m["product"]] == "mid-scale")
    small["tech_transfer_days"] = None
    site.stress_products = {"small_plant": small["product"]}
    opening = [d for d in site.designs if site.start <= d.online_from < site.end - timedelta(days=120)]
    if any(g.modality == "mAb" and g.volume_l >= LARGE_TRAIN_L for d in opening for g in d.groups):
        new = rng.choice(commercial)
        new["tech_transfer_days"] = None
        site.stress_products["new_plant"] = new["product"]

    by_client = defaultdict(list)  # an ADC conjugates one of its client's commercial-scale mAbs
    for m in commercial:
        if m["product"] not in site.stress_products.values():
            by_client[m["client"]].append(m)
    eligible = sorted(c for c in clients if by_client[c[0]])
    adc_clients = rng.sample(eligible, min(catalog.products["ADC"], len(eligible)))
    supplied = min(catalog.supplied_adc, len(adc_clients) - 1)
    for k, client in enumerate(adc_clients):
        values: dict[str, Any] = {
            "titer_g_per_l": round(rng.uniform(8.0, 15.0), 1),
            "yield": round(rng.uniform(0.75, 0.90), 2),
            "batch_days": rng.randint(4, 7),
        }
        if k >= supplied:
            values.update(
                intermediate=rng.choice(by_client[client[0]])["product"],
                intermediate_kg_per_kg=round(rng.uniform(1.1, 1.3), 2),
                release_days=rng.randint(14, 28),
                max_hold_days=rng.randint(90, 180),
            )
        new_product(client, "ADC", **values)
    aavs = [
        new_product(
            client, "AAV",
            titer_g_per_l=round(rng.uniform(0.005, 0.02), 3),
            **{"yield": round(rng.uniform(0.30, 0.50), 2)},
            batch_days=rng.randint(10, 14),
            tech_transfer_days=rng.choice((None, 180)),
        )
        for client in rng.sample(clients, catalog.products["AAV"])
    ]
    aavs[0]["max_volume_l"] = 500.0  # an early-phase process qualified at 500 L only
    aavs[1]["min_volume_l"] = 2_000.0  # a commercial process qualified at 2,000 L only
    site.tables["products"] = products
    _make_qualifications(site, rng)


def _fits(product: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    low, high = product.get("min_volume_l"), product.get("max_volume_l")
    return lambda t: (
        t["modality"] == product["modality"]
        and (low is None or t["volume_l"] >= low)
        and (high is None or t["volume_l"] <= high)
    )


def _make_qualifications(site: _Site, rng: random.Random) -> None:
    """1–3 plants per mAb product, mostly qualified before the horizon.

    Plants are drawn in proportion to their unclaimed fitting capacity: each product claims an equal share of
    demand split over its plants, and a plant's chance is its capacity share minus what products already
    claimed there. Orders are spread evenly over products (`_draft_orders`), so this balances the expected
    load per plant instead of leaving one building idle while another is overbooked.
    """
    designs = {d.plant: d for d in site.designs}
    multi = len({d.campus for d in site.designs}) > 1
    by_plant = _trains_by_plant(site)
    rows: list[dict[str, Any]] = []
    claimed: dict[tuple[str, str], float] = defaultdict(float)  # (scale or modality, plant) -> products
    totals: dict[str, float] = defaultdict(float)
    for product in site.tables["products"]:
        fits = _fits(product)
        weights = {
            plant: _plant_days(site, design, fits, by_plant[plant])
            for plant, design in designs.items() if design.online_from < site.end
        }
        weights = {p: w for p, w in weights.items() if w > 0}
        established = [p for p in weights if designs[p].online_from < site.start] or list(weights)
        group = site.scales.get(product["product"], product["modality"])
        capacity = sum(weights.values())

        def room(plant: str, group: str = group, capacity: float = capacity, weights: dict = weights) -> float:
            fair = weights[plant] / capacity * (totals[group] + 1)
            return max(0.02, fair - claimed[(group, plant)]) ** 2

        role = {v: k for k, v in site.stress_products.items()}.get(product["product"])
        if role == "small_plant":
            chosen = [min(established, key=lambda p: (weights[p], p))]
        elif role == "new_plant":
            chosen = [min((p for p in weights if designs[p].online_from >= site.start),
                          key=lambda p: (designs[p].online_from, p))]
        else:
            first = rng.choices(established, weights=[room(p) for p in established])[0]
            chosen = [first]
            want = rng.choices((1, 2, 3), weights=QUALIFIED_PLANTS)[0] if product["modality"] == "mAb" else 1
            others = [p for p in weights if p != first]
            while len(chosen) < want and others:
                pool = others
                if multi:  # mostly on the campus of its first plant, sometimes on another campus
                    home = designs[first].campus
                    away = rng.random() < CROSS_CAMPUS_SHARE
                    pool = [p for p in others if (designs[p].campus != home) == away] or others
                pick = rng.choices(pool, weights=[room(p) for p in pool])[0]
                chosen.append(pick)
                others.remove(pick)
        totals[group] += 1
        for plant in chosen:
            claimed[(group, plant)] += 1 / len(chosen)
        for k, plant in enumerate(chosen):
            online = designs[plant].online_from
            if role == "new_plant":
                qualified = online + timedelta(days=60)
            elif online >= site.start:
                qualified = _random_day(rng, online, online + timedelta(days=90))
            elif k > 0 and rng.random() < IN_HORIZON_QUALIFICATION_SHARE:
                qualified = _random_day(rng, site.start + timedelta(days=60), site.end - timedelta(days=180))
            else:
                earliest = max(online, site.start - timedelta(days=6 * 365))
                qualified = _random_day(rng, earliest, site.start - timedelta(days=30))
            rows.append({"product": product["product"], "plant": plant, "qualified_from": qualified})
    site.tables["qualifications"] = rows


def _make_downtime(site: _Site, rng: random.Random) -> None:
    """A few plant-wide summer shutdowns (2–6 weeks) and single-train maintenance (1–3 weeks)."""
    years = max(1, (site.end - site.start).days // 365)
    established = [d.plant for d in site.designs if d.online_from < site.start and d.groups[0].modality == "mAb"]
    rows: list[dict[str, Any]] = []
    for plant in sorted(rng.sample(established, round(0.6 * len(established)))):
        first = date(site.start.year + rng.randrange(years), rng.choice((7, 8)), 1) + timedelta(rng.randint(0, 20))
        rows.append({"plant": plant, "train": None, "start": first, "end": first + timedelta(weeks=rng.randint(2, 6)),
                     "reason": "shutdown"})
    running = [d.plant for d in site.designs if d.online_from < site.start]
    trains = [t for t in site.tables["trains"] if t["plant"] in running]
    picks = rng.sample(trains, min(max(1, round(MAINTENANCE_PER_PLANT * len(site.designs))), len(trains)))
    by_plant = _trains_by_plant(site)
    for modality in ("ADC", "AAV"):  # the small suites get maintenance too, one job per suite
        for plant in running:
            suite = [t for t in by_plant[plant] if t["modality"] == modality]
            if suite:
                picks.append(rng.choice(suite))
    for train in picks:
        first = _random_day(rng, site.start, site.end - timedelta(days=60))
        end = first + timedelta(days=rng.randint(7, 21))
        for shutdown in rows[:]:  # maintenance never overlaps its plant's shutdown: move it after
            same_plant = shutdown["train"] is None and shutdown["plant"] == train["plant"]
            if same_plant and first < shutdown["end"] and shutdown["start"] < end:
                first, end = shutdown["end"], shutdown["end"] + (end - first)
        rows.append({"plant": train["plant"], "train": train["train"], "start": first, "end": end,
                     "reason": "maintenance"})
    rows = [r for r in rows if r["start"] < site.end and r["end"] > site.start]
    site.tables["downtime"] = sorted(rows, key=lambda r: (r["start"], r["plant"], r["train"] or ""))


def _make_changeovers(site: _Site, rng: random.Random, catalog: _Catalog) -> None:
    """Pairwise overrides: shorter between one client's platform mAbs, longer after a hard-to-clean product."""
    products = site.tables["products"]
    by_client: dict[str, list[str]] = defaultdict(list)
    for p in products:
        if p["modality"] == "mAb":
            by_client[p["client"]].append(p["product"])
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def add(a: str, b: str, days: int, note: str) -> None:
        rows.setdefault((a, b), {"from_product": a, "to_product": b, "days": days, "note": note})

    counts = catalog.changeovers
    pairs = [(ps[0], ps[1]) for ps in by_client.values() if len(ps) >= 2]
    for a, b in rng.sample(pairs, min(counts["platform"], len(pairs))):
        days = rng.randint(4, 6)
        add(a, b, days, "same client platform process: shortened cleaning verification")
        add(b, a, days, "same client platform process: shortened cleaning verification")
    mabs = sorted(p for ps in by_client.values() for p in ps)
    picked = rng.sample(mabs, min(3 * counts["hard"], len(mabs) - len(mabs) % 3))
    for k in range(0, len(picked), 3):  # a hard-to-clean product and the two products that follow it
        hard, *after = picked[k : k + 3]
        for b in after:
            add(hard, b, rng.randint(18, 21), "hard-to-clean residue: extended cleaning")
    adcs = [p["product"] for p in products if p["modality"] == "ADC"]
    switches = [(a, b) for a in adcs for b in adcs if a != b]
    for a, b in rng.sample(switches, min(counts["payload"], len(switches))):
        add(a, b, rng.randint(7, 10), "payload switch: full decontamination")
    site.tables["changeovers"] = list(rows.values())


def _cap(est: _Estimator, product: Product, site: str | None, first: date, due: date) -> int:
    """Most batches that could plausibly finish between first and due: WINDOW_SHARE of the parallel campaign
    rounds (BACKLOG_WINDOW_SHARE for an order due within BACKLOG_DAYS of the start, in production already)."""
    trains = est.candidates(product, site)
    train = est.typical(product, site)
    if train is None:
        return 0
    window = (due - first).days
    intermediate = est.products.get(product.intermediate or "")
    cycle = product.batch_days + train.turnaround_days
    pools = {(t.plant, t.volume_l) for t in trains}
    parallel = min(MAX_PARALLEL_CAMPAIGNS * len(pools), len(trains))
    cap = 10**6
    if intermediate is not None:
        window -= intermediate.batch_days + (product.release_days or 0)
        cap = parallel * ((product.max_hold_days or 0) - (product.release_days or 0)) // cycle
    rounds = max(0, (window + train.turnaround_days) // cycle)
    share = BACKLOG_WINDOW_SHARE if (due - est.horizon.start).days < BACKLOG_DAYS else WINDOW_SHARE
    return max(0, min(cap, int(share * parallel * rounds)))


def _first_day(site: _Site, est: _Estimator, product: Product, plant: str | None, release: date) -> date:
    """First day an order released on `release` can run: in the horizon, at a qualified (or its fixed) plant."""
    qualified = min(
        q.qualified_from for q in est.qualifications[product.product] if plant is None or q.plant == plant
    )
    return max(release, site.start, qualified)


def _set_cap(site: _Site, est: _Estimator, draft: _Draft) -> None:
    """Most batches the order may get: what fits its longest possible window (lead LEAD_DAYS[1])."""
    earliest = _first_day(site, est, draft.product, draft.plant, draft.due - timedelta(LEAD_DAYS[1]))
    draft.cap = _cap(est, draft.product, draft.plant, earliest, draft.due)


def _fit_release(site: _Site, est: _Estimator, draft: _Draft) -> None:
    """Move a sized order's release earlier (its lead at most LEAD_DAYS[1]) until its batches fit its window.

    Orders are drawn with a random lead and sized afterwards; a large order gets the longer lead it would be
    booked with, so that its batches fill at most WINDOW_SHARE of the parallel campaign rounds before due.
    """
    lead = (draft.due - draft.release).days
    while lead < LEAD_DAYS[1]:
        first = _first_day(site, est, draft.product, draft.plant, draft.due - timedelta(lead))
        if _cap(est, draft.product, draft.plant, first, draft.due) >= draft.batches:
            break
        lead = min(LEAD_DAYS[1], lead + 7)
    draft.release = draft.due - timedelta(lead)


def _quantity(est: _Estimator, draft: _Draft) -> tuple[float, str]:
    """Order quantity that needs exactly `draft.batches` batches on the typical train."""
    if draft.product.modality == "AAV":
        return float(draft.batches), "batches"
    train = est.typical(draft.product, draft.plant)
    assert train is not None
    kg = (draft.batches - 0.5) * draft.product.kg_per_batch(train.volume_l)
    return (float(round(kg)) if kg >= 20 else round(kg, 1)), "kg"


def _order(est: _Estimator, draft: _Draft, order_id: str = "O") -> Order:
    quantity, unit = _quantity(est, draft)
    return Order(row=0, order=order_id, client=draft.product.client, product=draft.product.product,
                 quantity=quantity, unit=unit, release=draft.release, due=draft.due, weight=draft.weight,
                 firm=draft.firm, plant=draft.plant)


def _draft_orders(site: _Site, est: _Estimator, rng: random.Random, count: int) -> list[_Draft]:
    """Random orders: product, due date over the horizon, release 2–9 months before due.

    mAb orders are split between the large- and small-train classes by their available train-days (small
    trains get relatively more, smaller orders: CLASS_ORDER_WEIGHT). An order's size grows with the square
    root of its usable window (times a random 0.75–1.25); due dates are stratified over the horizon within
    each class, so every quarter has orders of every class to calibrate. On a site of several campuses a
    class's orders are split over the campuses by their train-days and drawn per campus (products by the
    campus of their typical train).
    """
    by_class: dict[str, list[Product]] = defaultdict(list)
    by_group: dict[str, dict[str, list[Product]]] = defaultdict(dict)  # class -> group (est.group) -> products
    for p in est.data.products:
        train = est.typical(p)
        if p.product not in site.stress_products.values() and train is not None:
            by_class[train_class(train)].append(p)
            by_group[train_class(train)].setdefault(est.group(train), []).append(p)
    mix = _order_mix(site)
    counts = {m: max(1, round(count * mix[m])) for m in ("ADC", "AAV")}
    available = est.available_days(key=train_class)
    weights = {k: available.get(k, 0) * w for k, w in CLASS_ORDER_WEIGHT.items() if by_class[k]}
    mab = count - sum(counts.values())
    small = round(mab * weights.get("mAb-small", 0) / sum(weights.values()))
    counts = {"mAb-large": mab - small, "mAb-small": small, **counts}
    drafts: list[_Draft] = []
    group_days = est.available_days(key=est.group)
    for klass, n_class in counts.items():
        groups = by_group[klass]
        for key, n in zip(groups, _apportion(n_class, [group_days.get(g, 0) for g in groups]), strict=True):
            drafts += _draft_group(site, est, rng, klass, groups[key], n)
    _fix_plants(site, est, rng, drafts)
    return drafts


def _order_mix(site: _Site) -> dict[str, float]:
    """ORDER_MIX, adjusted when the site's modalities are not in the bundled proportions (a small site keeps
    the whole ADC and AAV suites, a partial campus adds only mAb plants): each modality's share is weighted
    by its train-days relative to the bundled site's in the same horizon, so every modality stays loaded."""

    def train_days(designs: Iterable[PlantDesign]) -> dict[str, int]:
        days: dict[str, int] = defaultdict(int)
        for d in designs:
            online = max(0, (site.end - max(site.start, d.online_from)).days)
            for g in d.groups:
                days[g.modality] += g.count * online
        return days

    ours, bundled = train_days(site.designs), train_days(PLANT_DESIGNS)
    share = {m: ours[m] / bundled[m] if bundled[m] else 1.0 for m in ORDER_MIX}
    if len(set(share.values())) == 1:  # the bundled site or whole copies of it
        return dict(ORDER_MIX)
    weight = {m: ORDER_MIX[m] * share[m] for m in ORDER_MIX}
    return {m: w / sum(weight.values()) for m, w in weight.items()}


def _apportion(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder; all to the first if the weights are 0)."""
    if not weights:
        return []
    if sum(weights) <= 0:
        return [total] + [0] * (len(weights) - 1)
    exact = [total * w / sum(weights) for w in weights]
    counts = [math.floor(x) for x in exact]
    for i in sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _draft_group(
    site: _Site, est: _Estimator, rng: random.Random, klass: str, products: list[Product], n: int
) -> list[_Draft]:
    """`n` random orders of the products of one capacity class (on one campus, on a site of several)."""
    drafts: list[_Draft] = []
    first_due = site.start + timedelta(days=FIRST_DUE_DAYS)
    span = (site.end - first_due).days - 1
    if n > 0:
        tentatives, offset = max(1, round(TENTATIVE_SHARE * n)), rng.random()
        tentative = {int((i + offset) * n / tentatives) for i in range(tentatives)}  # spread in time
        deck: list[Product] = []  # products dealt in shuffled rounds: every product gets about n / |class| orders
        for k in range(n):
            if not deck:
                deck = rng.sample(products, len(products))
            product = deck.pop()
            stratum = first_due + timedelta(days=span * k // n)  # dues spread evenly, then jittered
            due = _random_day(rng, stratum, first_due + timedelta(days=span * (k + 1) // n - 1))
            release = due - timedelta(days=rng.randint(*LEAD_DAYS))
            first = _first_day(site, est, product, None, release)
            drafts.append(
                _Draft(
                    product=product, firm=k not in tentative, release=release, due=due,
                    weight=rng.randint(1, 50), raw=rng.uniform(0.75, 1.25) * max(1, (due - first).days) ** 0.5,
                    cap=0,
                    revenue_per_batch=rng.uniform(*REVENUE_PER_BATCH_K[product.modality]),
                    klass=klass, size=BATCH_RANGE[site.scales.get(product.product, product.modality)],
                )
            )
    return drafts


def _fix_plants(site: _Site, est: _Estimator, rng: random.Random, drafts: list[_Draft]) -> None:
    """A few firm mAb orders whose contract fixes the plant: the product's earliest-qualified plant."""
    candidates = [d for d in drafts if d.product.modality == "mAb" and d.firm]
    for draft in rng.sample(candidates, max(2, round(FIXED_PLANT_SHARE * len(drafts)))):
        quals = sorted(
            (q.qualified_from, q.plant) for q in est.qualifications[draft.product.product]
        )
        draft.plant = quals[0][1]
        draft.note = "contract fixes the plant"


def _stress_orders(site: _Site, est: _Estimator) -> list[_Draft]:
    """Firm orders that cannot all be on time, so a plan has to trade lateness (listed in the README)."""
    products = est.products
    horizon = (site.end - site.start).days
    mid = site.start + timedelta(days=horizon // 2)
    small = products[site.stress_products["small_plant"]]
    small_plant = next(q.plant for q in est.data.qualifications if q.product == small.product)
    drafts = [
        _Draft(small, True, mid, mid + timedelta(days=120), 40, 0, 0, 0, batches=b, fixed=True,
               note=f"stress: only plant {small_plant} qualified (no tech transfer); both orders overload it")
        for b in (30, 26)
    ]
    plants = defaultdict(set)
    for q in est.data.qualifications:
        plants[q.product].add(q.plant)
    tight = min(  # at one plant (few parallel campaigns), so that 24 batches cannot fit in 30 days
        (p for p in est.data.products
         if site.scales.get(p.product) == "commercial" and p.product not in site.stress_products.values()),
        key=lambda p: (len(plants[p.product]), p.product),
    )
    site.stress_products["tight"] = tight.product
    release = site.start + timedelta(days=horizon // 3)
    drafts.append(_Draft(tight, True, release, release + timedelta(days=30), 50, 0, 0, 0, batches=24, fixed=True,
                         note="stress: 24 batches due 30 days after release"))
    if "new_plant" in site.stress_products:
        new = products[site.stress_products["new_plant"]]
        qualified = next(q.qualified_from for q in est.data.qualifications if q.product == new.product)
        drafts.append(_Draft(new, True, site.start, qualified + timedelta(days=new.batch_days - 3), 30, 0, 0, 0,
                             batches=6, fixed=True,
                             note=f"stress: qualified only at a new plant from {qualified}; due before a batch fits"))
    adc = next(p for p in est.data.products if p.modality == "ADC" and p.intermediate)
    release = site.start + timedelta(days=horizon // 4)
    inter = products[adc.intermediate or ""]
    lead = inter.batch_days + (adc.release_days or 0) + adc.batch_days - 5  # 5 days short of the fastest path
    drafts.append(_Draft(adc, True, release, release + timedelta(days=lead), 25, 0, 0, 0, batches=3, fixed=True,
                         note="stress: intermediate batch + QC release + conjugation do not fit before due"))
    return drafts


def _fit(
    est: _Estimator, scaled: list[_Draft], counted: list[_Draft], klass: str, target_days: float,
    key: Callable[[Train], str] = train_class,
) -> int:
    """Scale the batches of `scaled` drafts so that `counted` drafts need about `target_days` in `klass`.

    `counted` holds `scaled` plus whatever else loads the class in the same bucket (fixed stress orders, the
    intermediates of ADC orders; drafts not sized yet count nothing); each draft stays inside its batch range
    and cap. Returns the train-days reached.
    """

    def apply(factor: float) -> int:
        for d in scaled:
            low, high = d.size
            d.batches = max(1, min(d.cap, high, max(low, round(d.raw * factor))))
        return sum(est.draft_days(d, key).get(klass, 0) for d in counted if d.batches > 0)

    if not scaled:
        return apply(0.0)
    lo, hi = 0.0, 1.0
    while apply(hi) < target_days and hi < 64:
        hi *= 2
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if apply(mid) < target_days else (lo, mid)
    best = min((lo, hi), key=lambda f: abs(apply(f) - target_days))
    if apply(best) > 1.02 * target_days:  # never overshoot by more than 2 %: quarters have a limit
        best = lo
    return apply(best)


def _quarter_shape(labels: list[str]) -> dict[str, float]:
    """Relative firm load of each due quarter: lighter first (no runway) and last (no room after the end)."""
    shape = dict.fromkeys(labels, 1.0)
    if len(labels) > 2:
        shape[labels[0]] = FIRST_QUARTER_SHAPE
        shape[labels[-1]] = LAST_QUARTER_SHAPE
    return shape


def _calibrate(est: _Estimator, drafts: list[_Draft], scale: float) -> None:
    """Size the random orders: firm demand per (capacity class, due quarter) meets the class's load target
    shaped over the quarters; tentative demand per class fills the rest up to TOTAL_TARGET over the horizon.

    A quarter whose orders cannot grow enough (batch ranges, caps) leaves a shortfall that the other quarters
    take up in proportion to their shaped capacity, none above CLASS_QUARTER_LIMIT of its train-days (the
    first and last quarters above their shape of it). Why per quarter: demand piled into one quarter makes
    orders late in any plan however good the yearly total looks. Classes
    go in the order ADC, AAV, small mAb trains, large mAb trains: the last carries the ADC intermediates, so
    those must be sized first.

    On a site of several campuses every class is sized per campus (`_Estimator.group`), so that no campus
    is overbooked while another idles; the shortfall of a campus whose orders cannot grow enough is then
    taken up by the campuses that reached their goal, in proportion to their train-days.
    """
    spans = quarters(est.horizon.start, est.horizon.end)
    due_quarter = {id(d): _quarter_of(d.due, spans) for d in drafts}
    shape = _quarter_shape([label for label, _, _ in spans])
    group = est.group
    home = {}  # draft -> group of its typical train
    touched: dict[str, set[int]] = defaultdict(set)  # group -> drafts with train-days in it (any size)
    for d in drafts:
        train = est.typical(d.product, d.plant)
        home[id(d)] = d.klass if train is None else group(train)
        for part, _ in est.order_parts(_order(est, replace(d, batches=1))):
            touched[group(part)].add(id(d))

    def size(klass: str, key: str, available: dict[str, int], goal: float) -> float:
        """Fit the firm orders of group `key` toward `goal` train-days over the quarters; returns the reach."""
        weight = {q: shape[q] * available[q] for q in available}
        target = {q: goal * weight[q] / sum(weight.values()) for q in available}
        limit = {q: max(target[q], CLASS_QUARTER_LIMIT[klass] * scale * available[q]) for q in available}
        for q in limit:  # the lighter first and last quarters keep their shape below the limit
            limit[q] = max(target[q], shape[q] * limit[q]) if shape[q] < 1 else limit[q]
        buckets = {  # firm drafts due in the quarter that load this group
            q: [d for d in drafts if d.firm and due_quarter[id(d)] == q and id(d) in touched[key]] for q in available
        }
        for _ in range(6):
            reached = {
                q: _fit(est, [d for d in bucket if home[id(d)] == key and not d.fixed], bucket, key, target[q],
                        group)
                for q, bucket in buckets.items()
            }
            short = goal - sum(reached.values())
            open_ = [q for q in available if reached[q] >= 0.95 * target[q] and target[q] < limit[q]]
            if short < 0.005 * goal or not open_:
                break
            room = sum(weight[q] for q in open_)
            for q in open_:
                target[q] = min(limit[q], target[q] + short * weight[q] / room)
        return sum(reached.values())

    multi = len(est.campuses) > 1
    for klass in ("ADC", "AAV", "mAb-small", "mAb-large"):
        available: dict[str, dict[str, int]] = {}
        for key in (f"{klass}@{c}" for c in est.campuses) if multi else (klass,):
            days = {label: est.available_days(lo, hi, group).get(key, 0) for label, lo, hi in spans}
            if sum(days.values()) > 0:
                available[key] = days
        total = {key: sum(days.values()) for key, days in available.items()}
        goal = {key: LOAD_TARGET * scale * total[key] for key in available}
        reached = {key: size(klass, key, available[key], goal[key]) for key in available}
        short = sum(goal.values()) - sum(reached.values())
        full = [key for key in available if reached[key] >= 0.98 * goal[key]]
        if multi and full and short > 0.005 * sum(goal.values()):
            for key in full:
                goal[key] += short * total[key] / sum(total[k] for k in full)
                reached[key] = size(klass, key, available[key], goal[key])
        for key in available:
            tentative = [d for d in drafts if not d.firm and id(d) in touched[key]]
            room = max(0.0, TOTAL_TARGET * scale * total[key] - reached[key])
            _fit(est, [d for d in tentative if home[id(d)] == key], tentative, key, room, group)


_Part = tuple[str, str, float, date, date, str | None]  # product, class, train-days, release, due, fixed plant


@dataclass
class _Balance:
    """Expected load of each unit `plant|class` from the sized orders and the current qualifications.

    Each order step's train-days are shared over the plants it may run at, in proportion to the unit's
    train-days inside the order's window after the plant's qualification date. Loads are kept per part and
    summed per unit in part order (`requalify` updates one product), so they equal a fresh summation.
    """

    site: _Site
    est: _Estimator
    qualified: dict[str, dict[str, date]]
    parts: list[_Part]
    capacity: dict[str, int]
    by_product: dict[str, list[int]] = field(default_factory=dict)  # product -> indices of its parts
    shares: list[dict[str, float]] = field(default_factory=list)  # part index -> unit -> train-days
    at: dict[str, set[int]] = field(default_factory=dict)  # unit -> indices of the parts loading it
    load: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, part in enumerate(self.parts):
            self.by_product.setdefault(part[0], []).append(i)
            self.shares.append(self.part_load(part, self.qualified[part[0]]))
            for u in self.shares[i]:
                self.at.setdefault(u, set()).add(i)
        for u in self.at:
            self._sum(u)

    @staticmethod
    def unit(train: Train) -> str:
        return f"{train.plant}|{train_class(train)}"

    def window(self, lo: date, hi: date, unit: str) -> int:
        """Train-days of one unit in [lo, hi)."""
        return self.est.available_days_of(lo, hi, _Balance.unit, unit)

    def part_load(self, part: _Part, plants: dict[str, date]) -> dict[str, float]:
        product, klass, days, release, due, fixed = part
        if fixed:
            plants = {fixed: plants.get(fixed, self.site.start)}
        weights = {}
        for plant, since in plants.items():
            lo = max(release, self.site.start, since)
            if lo < due:
                weights[f"{plant}|{klass}"] = self.window(lo, due, f"{plant}|{klass}")
        total = sum(weights.values())
        return {u: days * w / total for u, w in weights.items() if w} if total else {}

    def _sum(self, unit: str) -> None:
        total = 0.0
        for i in sorted(self.at.get(unit, ())):
            total += self.shares[i][unit]
        self.load[unit] = total

    def ratio(self, unit: str) -> float:
        return self.load.get(unit, 0.0) / self.capacity[unit]

    def products_at(self, unit: str) -> list[str]:
        """Products with load on the unit, sorted."""
        return sorted({self.parts[i][0] for i in self.at.get(unit, ())})

    def requalify(self, product: str) -> set[str]:
        """Recompute the product's loads after its qualifications changed; returns the units touched."""
        touched: set[str] = set()
        for i in self.by_product.get(product, []):
            old, new = self.shares[i], self.part_load(self.parts[i], self.qualified[product])
            for u in old:
                self.at[u].discard(i)
            for u in new:
                self.at.setdefault(u, set()).add(i)
            self.shares[i] = new
            touched |= old.keys() | new.keys()
        for u in touched:
            self._sum(u)
        return touched

    def shift(self, product: str, plants: dict[str, date]) -> dict[str, float]:
        """Change of unit loads if `product` were qualified at `plants` instead of its current plants."""
        delta: dict[str, float] = defaultdict(float)
        for i in self.by_product.get(product, []):
            for u, v in self.shares[i].items():
                delta[u] -= v
            for u, v in self.part_load(self.parts[i], plants).items():
                delta[u] += v
        return delta


def _balance_qualifications(site: _Site, est: _Estimator, rng: random.Random, drafts: list[_Draft]) -> int:
    """Qualify products of the busiest plants at idler plants of the same train class, as a CDMO transfers
    products to free capacity, until the expected loads of the units (plant × class) lie within
    BALANCE_TOLERANCE or no transfer lowers the busiest unit. Stress products stay where they are.

    On a site of several campuses each campus is balanced in itself (targets on the same campus), like the
    bundled site; each step takes the best transfer over all classes and campuses.
    Returns how many qualifications were added.
    """
    designs = {d.plant: d for d in site.designs}
    stress = set(site.stress_products.values())
    qualified: dict[str, dict[str, date]] = defaultdict(dict)
    for q in est.data.qualifications:
        qualified[q.product][q.plant] = q.qualified_from
    parts: list[_Part] = []
    for d in drafts:
        for train, days in est.order_parts(_order(est, d)):
            intermediate = train.modality == "mAb" and d.product.modality == "ADC"
            product = est.products[d.product.intermediate or ""] if intermediate else d.product
            fixed = d.plant if product is d.product else None
            parts.append((product.product, train_class(train), days, d.release, d.due, fixed))
    capacity = est.available_days(key=_Balance.unit)
    balance = _Balance(site, est, qualified, parts, capacity)
    volumes = defaultdict(set)
    for t in est.data.trains:
        volumes[_Balance.unit(t)].add(t.volume_l)
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)  # (class, campus) -> units
    for u, days in capacity.items():
        plant, klass = u.split("|")
        if days > 0 and klass in BALANCED_CLASSES:
            groups[(klass, designs[plant].campus)].append(u)
    campuses = list(dict.fromkeys(d.campus for d in site.designs))
    keys = [(k, c) for k in BALANCED_CLASSES for c in campuses if (k, c) in groups]

    def since(plant: str) -> date:
        online = designs[plant].online_from
        if online >= site.start:
            return _random_day(rng, online, online + timedelta(days=60))
        return _random_day(rng, max(online, site.start - timedelta(days=4 * 365)), site.start - timedelta(days=30))

    def best_transfer(units: list[str]) -> tuple[float, str, str] | None:
        """The transfer that lowers the busiest of `units` most without lifting another as high."""
        ratio = {u: balance.ratio(u) for u in units}
        if len(units) < 2 or max(ratio.values()) - min(ratio.values()) < BALANCE_TOLERANCE:
            return None
        busiest = max(units, key=lambda u: (ratio[u], u))
        best: tuple[float, str, str] | None = None
        for product in balance.products_at(busiest):
            if product in stress:
                continue
            for target in sorted(units):
                plant = target.split("|")[0]
                if plant in qualified[product] or not any(
                    volume_fits(est.products[product], v) for v in volumes[target]
                ):
                    continue
                delta = balance.shift(product, {**qualified[product], plant: site.start})
                peak = max((balance.load.get(x, 0.0) + delta.get(x, 0)) / capacity[x] for x in units)
                gain = ratio[busiest] - peak
                if gain > 0.005 and (best is None or gain > best[0]):
                    best = (gain, product, plant)
        return best

    found: dict[tuple[str, str], tuple[float, str, str] | None] = {}  # per group, valid until its loads change
    added = 0
    limit = round(MAX_ADDED_QUALIFICATIONS * len(site.designs) / len(PLANT_DESIGNS))
    while added < limit:
        best: tuple[float, str, str] | None = None
        for key in keys:
            if key not in found:
                found[key] = best_transfer(groups[key])
            option = found[key]
            if option is not None and (best is None or option[0] > best[0]):
                best = option
        if best is None:
            break
        _, product, plant = best
        qualified[product][plant] = since(plant)
        site.tables["qualifications"].append(
            {"product": product, "plant": plant, "qualified_from": qualified[product][plant]}
        )
        touched = balance.requalify(product)
        for key in keys:
            if key in found and touched.intersection(groups[key]):
                del found[key]
        added += 1
    return added


def _make_orders(site: _Site, rng: random.Random, count: int, scale: float) -> None:
    """orders.csv: random drafts plus stress orders, sized so firm demand loads each class to the target.

    Orders are sized once, qualifications are then balanced against that demand, and the orders are sized
    again on the balanced site (typical trains and caps may change with the added plants).
    """
    est = _Estimator(site.problem())
    stress = _stress_orders(site, est)
    drafts = _draft_orders(site, est, rng, count - len(stress)) + stress
    for draft in drafts:
        if not draft.fixed:
            _set_cap(site, est, draft)
    _calibrate(est, drafts, scale)
    site.transfers = _balance_qualifications(site, est, rng, drafts)
    if site.transfers:
        est = _Estimator(site.problem())
        for draft in drafts:
            if not draft.fixed:
                _set_cap(site, est, draft)
        _calibrate(est, drafts, scale)
    for draft in drafts:
        if not draft.fixed:
            _fit_release(site, est, draft)
    drafts.sort(key=lambda d: (d.release, d.due, d.product.product, d.batches))
    width = max(3, len(str(len(drafts))))
    rows = []
    for k, draft in enumerate(drafts, start=1):
        quantity, unit = _quantity(est, draft)
        revenue = None
        if not draft.firm:
            low, high = REVENUE_RANGE_K
            revenue = min(max(round(draft.batches * draft.revenue_per_batch, -1), low), high)
        rows.append({
            "order": f"O{k:0{width}d}", "client": draft.product.client, "product": draft.product.product,
            "quantity": quantity, "unit": unit, "release": draft.release, "due": draft.due, "weight": draft.weight,
            "firm": draft.firm, "revenue": revenue, "plant": draft.plant, "note": draft.note,
        })
    site.tables["orders"] = rows


# ---------------------------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------------------------

COLUMNS = {
    "plants": ["plant", "campus", "online_from", "online_until"],
    "trains": ["train", "plant", "modality", "volume_l", "turnaround_days", "changeover_days"],
    "products": [
        "product", "client", "modality", "titer_g_per_l", "yield", "batch_days", "tech_transfer_days",
        "min_volume_l", "max_volume_l", "intermediate", "intermediate_kg_per_kg", "release_days", "max_hold_days",
    ],
    "orders": ["order", "client", "product", "quantity", "unit", "release", "due", "weight", "firm", "revenue",
               "plant", "note"],
    "qualifications": ["product", "plant", "qualified_from"],
    "downtime": ["plant", "train", "start", "end", "reason"],
    "changeovers": ["from_product", "to_product", "days", "note"],
}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".10g")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])


def generate(
    out_dir: Path,
    *,
    orders: int = 150,
    plants: int = 10,
    years: int = 2,
    seed: int = 2027,
    start: date = date(2027, 1, 1),
) -> None:
    """Write a complete, valid data folder of `plants` plants (`site_designs`) and `orders` orders.

    Clients, products and changeover overrides grow with `orders` (about 30 clients and 60 products per 150
    orders); with orders in proportion to plants (150 per 10) the firm load stays near the bundled 80 %.
    The defaults give exactly the bundled data/ (`generate_site` defaults); benchmarks use
    `generate(out, orders=150 * k, plants=10 * k, seed=s)` for a k× site. At least 4 plants (P1, P2, ADC,
    AAV) are needed so that every mAb scale has trains.
    """
    generate_site(out_dir, seed=seed, orders=orders, years=years, start=start, designs=site_designs(plants))


def generate_site(
    out_dir: Path,
    *,
    seed: int = 2027,
    orders: int = 150,
    years: int = 2,
    start: date = date(2027, 1, 1),
    scale: float = 1.0,
    designs: Sequence[PlantDesign] = PLANT_DESIGNS,
) -> None:
    """Write a complete, valid data folder (all CSVs, settings.toml, README.md) for the illustrative site.

    `orders` counts every order (stress orders included) and sets the number of clients, products and
    changeover overrides (`_Catalog`: in proportion to orders / REFERENCE_ORDERS); `scale` multiplies the
    load targets (1.0: firm demand toward LOAD_TARGET = 80 % of the available train-days per capacity
    class, firm + tentative TOTAL_TARGET = 92 %); `designs` lets a caller resize the campus (`site_designs`).
    Same arguments → byte-identical files.
    """
    if orders < 20:
        raise ValueError(f"orders must be at least 20 (got {orders})")
    if years < 1 or scale <= 0:
        raise ValueError("years must be ≥ 1 and scale > 0")
    end = _add_years(start, years)
    ready = [d for d in designs if d.online_from < end - timedelta(days=180)]
    for modality in ORDER_MIX:
        if not any(g.modality == modality for d in ready for g in d.groups):
            raise ValueError(f"no {modality} plant is online at least 180 days before the horizon end {end}")
    for label, (low, high) in MAB_SCALES.items():
        if not any(g.modality == "mAb" and low <= g.volume_l <= high for d in ready for g in d.groups):
            raise ValueError(f"no mAb train of the {label} scale ({low:,.0f}–{high:,.0f} L) is online at least "
                             f"180 days before the horizon end {end}")
    if len({d.plant for d in designs}) < len(designs):
        raise ValueError("plant ids of the designs are not unique")
    rng = random.Random(seed)
    catalog = _Catalog.for_orders(orders)
    site = _Site(start=start, end=end, designs=designs)
    site.tables["plants"] = build_plants(designs)
    site.tables["trains"] = build_trains(designs)
    _make_products(site, rng, catalog)
    _make_downtime(site, rng)
    _make_changeovers(site, rng, catalog)
    _make_orders(site, rng, orders, scale)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, columns in COLUMNS.items():
        _write_csv(out_dir / f"{name}.csv", columns, site.tables[name])
    (out_dir / "settings.toml").write_text(
        "# Illustrative data set written by planner.generate; regenerate instead of editing.\n"
        f"[horizon]\nstart = {site.start.isoformat()}\nend = {site.end.isoformat()}\n",
        encoding="utf-8",
    )
    data = load_valid(out_dir)
    written = _Estimator(data)
    resized = {} if designs == PLANT_DESIGNS else {"plants": len(designs)}
    (out_dir / "README.md").write_text(
        _readme(site, _report(written, data.orders), _quarter_report(written, data.orders), seed=seed, orders=orders,
                years=years, scale=scale, **resized),
        encoding="utf-8",
    )


def _campus_text(designs: Sequence[PlantDesign]) -> str:
    """' on 3 campuses …' for a site built by `site_designs` beyond one campus; '' for one campus."""
    campuses = list(dict.fromkeys(d.campus for d in designs))
    if len(campuses) == 1:
        return ""
    return (f" on {len(campuses)} campuses ({', '.join(campuses)}): every further campus repeats the plant designs "
            "with suffixed ids (`P1-2`) and the same online dates; orders are sized and qualifications balanced "
            "per campus, and products may be qualified on several campuses")


def _trains_text(design: PlantDesign) -> str:
    parts = [f"{g.count} × {g.volume_l:,.0f} L {g.modality}{' single-use' if g.prefix == 'S' else ''}"
             for g in design.groups]
    return " + ".join(parts)


def _span(values: Iterable[float], unit: str = "") -> str:
    """'2–3 days' style range of the values (one value: '2 days')."""
    values = sorted(set(values))
    text = f"{values[0]:g}" if len(values) == 1 else f"{values[0]:g}–{values[-1]:g}"
    return text + unit


def _cleaning_text(designs: Sequence[PlantDesign]) -> str:
    kinds = {"R": "stainless", "S": "single-use", "C": "ADC conjugation"}
    lines = []
    for prefix, kind in kinds.items():
        groups = [g for d in designs for g in d.groups if g.prefix == prefix]
        if groups:
            lines.append(
                f"{kind}: turnaround {_span((g.turnaround_days for g in groups), ' days')}, "
                f"changeover {_span((g.changeover_days for g in groups), ' days')}"
            )
    return "; ".join(lines)


def _readme(
    site: _Site, report: dict[str, dict[str, float]], quarters_report: dict[str, dict[str, dict[str, float]]],
    **args: Any,
) -> str:
    """data/README.md: what is public, what is invented, the load it carries and how to regenerate it."""
    plant_rows = "\n".join(
        f"| {d.plant} | {d.capacity} | {_trains_text(d)} | {d.online_from.isoformat()} | {d.source} | {d.note} |"
        for d in site.designs
    )
    products = site.tables["products"]
    orders = site.tables["orders"]
    counts = {m: sum(1 for p in products if p["modality"] == m) for m in PRODUCT_COUNTS}
    modality_of = {p["product"]: p["modality"] for p in products}
    order_counts = ", ".join(f"{m} {sum(1 for o in orders if modality_of[o['product']] == m)}" for m in PRODUCT_COUNTS)
    supplied = sum(1 for p in products if p["modality"] == "ADC" and not p.get("intermediate"))
    never = sum(1 for p in products if p["modality"] == "mAb" and p.get("tech_transfer_days") is None)
    tentative = sum(1 for o in orders if not o["firm"])
    fixed = ", ".join(f"`{o['order']}` ({o['plant']})" for o in orders if o["plant"])
    stress = "\n".join(
        f"- `{o['order']}` ({o['product']}, {_cell(o['quantity'])} {o['unit']}, {o['release']} → {o['due']}): "
        f"{o['note'].removeprefix('stress: ')}"
        for o in orders if o["note"].startswith("stress")
    )
    settings = ", ".join(f"{k}={v!r}" for k, v in args.items())
    if "plants" in args:  # a resized site (`generate`), not the bundled data/
        call = ", ".join(f"{k}={args[k]!r}" for k in ("orders", "plants", "years", "seed"))
        origin = (f"Written by `planner.generate.generate(out, {call}, start={site.start.isoformat()})`; "
                  "generate it again with the same arguments instead of editing it.")
    else:
        origin = f"""Written by `planner.generate.generate_site` ({settings}). A test checks that this folder equals a
fresh generation, so never edit it by hand: change `planner/generate.py` and regenerate from the repository
root with

```
{REGENERATE_COMMAND}
```"""
    scale_counts = {label: sum(1 for v in site.scales.values() if v == label) for label in MAB_SCALES}
    scales_text = "; ".join(
        f"{scale_counts[label]} {label} {low:,.0f}–{high:,.0f} L" for label, (low, high) in MAB_SCALES.items()
    )
    ranges = ", ".join(f"{label} {low}–{high}" for label, (low, high) in BATCH_RANGE.items())
    own = sum(1 for p in products if p["modality"] == "ADC" and p.get("intermediate"))
    limits = ", ".join(f"{k} {v:.0%}" for k, v in CLASS_QUARTER_LIMIT.items())
    return f"""# {"Generated" if "plants" in args else "Bundled"} data set — ILLUSTRATIVE

**This is not real data.** It is a Samsung-Biologics-like campus (Songdo) built from public plant figures;
every client, product, order, downtime and cleaning time is invented. Do not quote it as facts about any
company.

{origin}

Horizon {site.start.isoformat()} to {site.end.isoformat()} (end exclusive); {len(site.tables['trains'])} trains in \
{len(site.designs)} plants{_campus_text(site.designs)}.

## Plants

| plant | published capacity | trains modelled | online (modelled) | public source | note |
|---|---|---|---|---|---|
{plant_rows}

Where a source gives only a year or quarter, the day is our choice. A plant that comes online after the
horizon (P8) never runs a batch; it shows that the planner ignores plants that are not yet online.

## What is invented

- **Clients**: {len({p['client'] for p in products})} fictional names; any likeness to a real company is accidental.
- **Products**: {len(products)} ({counts['mAb']} mAb, {counts['ADC']} ADC, {counts['AAV']} AAV).
  - mAb: titer 2–7 g/L, yield 0.65–0.80, `batch_days` 12–18 — the time a batch holds its train,
    **including the seed expansion**, which this model keeps on the production train.
  - Every mAb process is qualified at one scale (`min_volume_l`–`max_volume_l`):
    {scales_text}.
    Commercial products run on the 10 kL and 15 kL stainless trains, mid-scale ones on P1's 5,000 L and
    P4's 2,000 L trains, clinical ones on the 1,000 L (P2, P3) and 2,000 L (P4) single-use trains.
  - ADC: `titer_g_per_l` is conjugate per litre of conjugation volume (8–15 g/L), 4–7 days per batch.
    {own} conjugate one of the client's own commercial-scale mAbs (1.1–1.3 kg intermediate per kg, QC
    release 14–28 days, maximum hold 90–180 days); {supplied} use an intermediate supplied by the client
    (blank `intermediate`).
  - AAV: orders are in batches; titer and yield are informational; one process is qualified at 500 L
    only, one at 2,000 L only.
  - Tech transfer {TECH_TRANSFER_DAYS[0]}–{TECH_TRANSFER_DAYS[1]} days; blank (never transferred) for {never} mAbs.
- **Qualifications**: each mAb at 1–3 plants of its scale, drawn toward plants whose capacity is least
  claimed, mostly before the horizon, some during it. Once the orders are sized,
  {site.transfers} more qualifications move products of the busiest plants to idler plants of the same
  train class (as a CDMO transfers work to free capacity), until the expected plant loads lie within
  {BALANCE_TOLERANCE:.0%}.
  ADC products at the ADC plant, AAV products at the AAV suite.
- **Orders**: {len(orders)} ({order_counts}); {tentative} tentative (`firm=false`) with `revenue` in k$.
  Due dates spread over the horizon (from {FIRST_DUE_DAYS} days after its start to its end). Release 2–9
  months before due, longer for a large order, so that its batches fill at most {WINDOW_SHARE:.0%} of the
  parallel campaign rounds in its window ({BACKLOG_WINDOW_SHARE:.0%} for orders due in the first quarter,
  mostly backlog released before the horizon start). Order size follows the product's scale, in batches on
  its typical train:
  {ranges};
  so a commercial order needs at most {BATCH_RANGE["commercial"][1]} batches on a 15 kL train and a clinical
  one a few kg. Weights 1–50 per day late.
  Contracted plant: {fixed}.
  The `note` columns of orders.csv and changeovers.csv are informational (the loader ignores them).
- **Downtime**: plant-wide summer shutdowns of 2–6 weeks and single-train maintenance of 1–3 weeks.
- **AAV suite**: hypothetical (4 × 2,000 L + 2 × 500 L single-use).
- **Plant 4 reactor mix**: 12 × 15,000 + 4 × 10,000 + 10 × 2,000 L = 240,000 L; the counts are not published.
- **Cleaning times** (no public figures exist): {_cleaning_text(site.designs)}. `changeovers.csv`
  overrides some product pairs (same-client platform processes shorter, hard-to-clean products and ADC
  payload switches longer).

## Load (from `planner.generate.load_report` and `quarter_report`)

Estimate: an order needs ⌈quantity / kg per batch⌉ batches on a typical eligible train (the lower-median
volume among trains at its qualified plants), each holding it `batch_days + turnaround_days`, plus one
`changeover_days` of that train per campaign of up to {CAMPAIGN_BATCHES} batches; ADC orders add
their intermediate batches (and campaigns) to mAb. Available train-days: inside the horizon, while the
plant is online, minus downtime.

Firm orders are sized per capacity class (mAb trains ≥ 10 kL, smaller mAb trains, ADC, AAV) and per due
quarter toward {LOAD_TARGET:.0%} of the class's available train-days (times `scale`); the first quarter
gets {FIRST_QUARTER_SHAPE:.0%} and the last {LAST_QUARTER_SHAPE:.0%} of the others' share. The horizon
starts empty, so the orders due in the first quarter (within weeks of the start) cannot take their share.
The other quarters take up what they can, each up to about its class limit:
{limits}.
That is why the firm load ends a little below the target. Tentative deals fill the rest to about
{TOTAL_TARGET:.0%}.

{format_load_report(report)}

Firm demand by due quarter (an order counts whole in the quarter of its due date):

{format_quarter_report(quarters_report)}

## Orders that cannot all be on time

{stress}

## Industry ranges behind the invented figures

Fed-batch production run 14 days standard, 10–14 intensified (PMC6816350); mAb titer 2.56 g/L commercial
average, ≥ 3 g/L for new processes, up to ~7–10 g/L (bioprocessingjournal.com, titers & yields trends);
downstream yield ~70 % (biopharminternational.com); AAV fixed-bed runs ~10 days (PMC7334306).
"""
