"""Expand step: orders → production steps, identical trains → pools, and where each step may run.

The model never sees single trains. Trains of one plant with the same modality, volume, cleaning times
and downtime are interchangeable, so they form a *pool* whose capacity is its train count; campaigns are
placed on pools and dealt to concrete trains afterwards (`plan`). This keeps the model size driven by
orders × pools instead of batches × trains, which is what makes Samsung-scale data tractable.

All times here are whole days counted from the planning start (day 0); the horizon is [0, horizon).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from planner.load import Order, ProblemData, Product, Train
from planner.validate import volume_fits

FINAL_STEP = {"mAb": "mAb", "ADC": "conjugation", "AAV": "AAV"}


@dataclass(frozen=True)
class Pool:
    """Interchangeable trains of one plant; the model treats them as one resource of `size` units."""

    id: str
    plant: str
    modality: str
    volume_l: float
    turnaround_days: int
    changeover_days: int
    trains: tuple[str, ...]
    online: tuple[int, int]
    downtime: tuple[tuple[int, int, str], ...]

    @property
    def size(self) -> int:
        return len(self.trains)

    def down_spans(self) -> list[tuple[int, int]]:
        """Downtime as disjoint day spans inside the online window (plant and own downtime may overlap)."""
        lo, hi = self.online
        merged: list[tuple[int, int]] = []
        for a, b in sorted((max(a, lo), min(b, hi)) for a, b, _ in self.downtime):
            if a >= b:
                continue
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return merged

    def available_days(self) -> int:
        """Days one train of the pool may run: online inside the horizon, minus downtime."""
        return max(0, self.online[1] - self.online[0]) - sum(b - a for a, b in self.down_spans())


@dataclass(frozen=True)
class Option:
    """One pool that may run one step of an order, with the window and yield that apply there."""

    pool: Pool
    earliest: int
    latest_end: int
    output: int
    grams_ceil: int
    kg_per_batch: float
    max_batches: int
    tail: int
    qualified: bool = True


@dataclass
class Step:
    """One production step of an order (mAb, intermediate, conjugation or AAV) and where it may run."""

    order: Order
    name: str
    product: Product
    final: bool
    demand: int
    options: list[Option] = field(default_factory=list)
    all_options: list[Option] = field(default_factory=list)
    started: bool = False
    """Replan: the order already has frozen batches, so a tentative deal can no longer be declined."""
    chain_output: int = 0
    """Replan: output of frozen batches inside chain campaigns (counted by the model, not yet made by new work)."""
    completion_floor: int = 0
    """Replan: end of the last frozen final-step batch; completion can only be later."""
    stock_milli: int = 0
    """Replan, ADC intermediate: frozen intermediate outside chains minus what frozen conjugation outside chains
    needs, in the model's own accounting (grams x 1000, conjugate grams x ratio rounded up); may be negative."""
    stock_first_end: int | None = None
    """Replan, ADC intermediate: end day of the oldest batch the stock comes from (its hold clock)."""
    frozen_last_end: int = 0
    """Replan, ADC intermediate: end of the last frozen intermediate batch (release clock)."""

    @property
    def remaining(self) -> int:
        """Units new work must still deliver (replan: without what frozen chain batches already made)."""
        return max(0, self.demand - self.chain_output)

    @property
    def key(self) -> tuple[str, str]:
        return (self.order.order, self.name)

    @property
    def cycle(self) -> int:
        """Days from one batch start to the next inside a campaign (batch plus turnaround)."""
        return self.product.batch_days + self.options[0].pool.turnaround_days if self.options else 0


@dataclass(frozen=True)
class FrozenBatch:
    """Replan: a batch that already ran or is running; it stays exactly where it is (days from start)."""

    order: str
    step: str
    train: str
    start: int
    end: int
    state: str
    """done or running (from the status file), or started (in the previous plan before the as-of day)."""


@dataclass(frozen=True)
class Block:
    """Replan: a train busy with frozen work until `end` (last frozen batch end plus its cleaning reserve)."""

    train: str
    pool: Pool
    start: int
    end: int


@dataclass(frozen=True)
class Chain:
    """Replan: the running campaign of a train, which new work may extend by further batches.

    `frozen` batches at `start`, `start + cycle`, … already ran or are running; the model may add more at the
    same cycle, so an unchanged plan can go on exactly as before.
    """

    train: str
    step: Step
    option: Option
    start: int
    frozen: int


@dataclass
class Instance:
    """Everything the model needs, in day units, derived once from validated data."""

    data: ProblemData
    start: dt.date
    end: dt.date
    horizon: int
    pools: list[Pool]
    steps: list[Step]
    changeovers: dict[tuple[str, str], int]
    as_of: int = 0
    """Replan: no new batch starts before this day."""
    frozen: list[FrozenBatch] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    chains: list[Chain] = field(default_factory=list)
    previous: dict[tuple[tuple[str, str], str], list[tuple[int, int]]] | None = None
    """Replan: the previous plan's future campaigns (start, batches) per (step, pool), for stability."""
    previous_extension: dict[str, int] = field(default_factory=dict)
    """Replan: batches the previous plan added to each train's running chain after the as-of day."""

    def day(self, date: dt.date) -> int:
        return (date - self.start).days

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day)

    def steps_of(self, order: str) -> list[Step]:
        return [s for s in self.steps if s.order.order == order]


def build_pools(data: ProblemData, start: dt.date, horizon: int) -> list[Pool]:
    """Group identical trains (same plant, modality, volume, cleaning times and own downtime) into pools."""
    plants = {p.plant: p for p in data.plants}

    def clip(a: dt.date, b: dt.date) -> tuple[int, int]:
        return max(0, (a - start).days), min(horizon, (b - start).days)

    plant_down: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    train_down: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for d in data.downtime:
        lo, hi = clip(d.start, d.end)
        if lo < hi:
            (train_down[d.train] if d.train else plant_down[d.plant]).append((lo, hi, d.reason))
    groups: dict[tuple, list[Train]] = defaultdict(list)
    for t in data.trains:
        own = tuple(sorted(train_down[t.train]))
        groups[(t.plant, t.modality, t.volume_l, t.turnaround_days, t.changeover_days, own)].append(t)
    pools: list[Pool] = []
    names: dict[str, int] = defaultdict(int)
    for (plant, modality, volume, turnaround, changeover, own), trains in groups.items():
        p = plants[plant]
        until = p.online_until or dt.date.max
        online = clip(p.online_from, until)
        base = f"{plant}/{modality}-{volume:g}L"
        names[base] += 1
        pools.append(
            Pool(
                id=base if names[base] == 1 else f"{base}#{names[base]}",
                plant=plant,
                modality=modality,
                volume_l=volume,
                turnaround_days=turnaround,
                changeover_days=changeover,
                trains=tuple(t.train for t in trains),
                online=online,
                downtime=tuple(sorted(plant_down[plant] + list(own))),
            )
        )
    return pools


def _earliest_at_plant(
    qualified: dict[tuple[str, str], dt.date], product: Product, order: Order, plant: str
) -> dt.date | None:
    """Rule 3: first day the product may run at a plant (qualified, or after tech transfer); None = never."""
    since = qualified.get((product.product, plant))
    if since is not None:
        return max(since, order.release)
    if product.tech_transfer_days is None:
        return None
    return order.release + dt.timedelta(days=product.tech_transfer_days)


def ratio_milli(product: Product) -> int:
    """Intermediate kg per kg of conjugate in thousandths, rounded *up* so integer accounting never runs short."""
    return math.ceil((product.intermediate_kg_per_kg or 1.0) * 1000 - 1e-9)


def batch_grams(kg: float) -> int:
    """Whole grams a batch is credited with: rounded down, so credited output never exceeds real output."""
    return math.floor(kg * 1000 + 1e-9)


def changeover_tail(product: str, pool: Pool, changeovers: dict[tuple[str, str], int]) -> int:
    """Days reserved after a campaign so that whatever product follows on that train has its cleaning time."""
    matrix = [d for (a, _), d in changeovers.items() if a == product]
    return max([pool.turnaround_days, pool.changeover_days, *matrix])


def _options(
    inst_start: dt.date, horizon: int, qualified: dict[tuple[str, str], dt.date], pools: list[Pool], step: Step,
    site: str | None, changeovers: dict[tuple[str, str], int], demand_for_bound: float,
) -> list[Option]:
    product, order = step.product, step.order
    options: list[Option] = []
    for pool in pools:
        if pool.modality != product.modality or (site is not None and pool.plant != site):
            continue
        if not volume_fits(product, pool.volume_l):
            continue
        first = _earliest_at_plant(qualified, product, order, pool.plant)
        if first is None:
            continue
        earliest = max(0, (first - inst_start).days, (order.release - inst_start).days, pool.online[0])
        latest_end = min(horizon, pool.online[1])
        cycle = product.batch_days + pool.turnaround_days
        fit = (latest_end - earliest + pool.turnaround_days) // cycle if latest_end > earliest else 0
        if fit <= 0:
            continue
        kg = product.kg_per_batch(pool.volume_l)
        counts_batches = order.unit == "batches" and step.final
        output = 1 if counts_batches else batch_grams(kg)  # 0: under a gram, see `expand` below
        options.append(
            Option(
                pool=pool,
                earliest=earliest,
                latest_end=latest_end,
                output=output,
                grams_ceil=math.ceil(kg * 1000),
                kg_per_batch=kg,
                max_batches=min(fit, math.ceil(demand_for_bound / max(1, output))),
                tail=changeover_tail(product.product, pool, changeovers),
                qualified=(product.product, pool.plant) in qualified,
            )
        )
    return options


def prune_transfers(options: list[Option], keep: int | None) -> list[Option]:
    """Keep every qualified pool but only the `keep` earliest pools reachable by tech transfer.

    On multi-campus sites a transferable product may reach dozens of pools; offering the model all of them
    multiplies its size without helping the plan. `all_options` keeps the full list for the bound.
    """
    if keep is None:
        return options
    transfers = sorted((o for o in options if not o.qualified), key=lambda o: (o.earliest, -o.output, o.pool.id))
    chosen = {id(o) for o in transfers[:keep]}
    return [o for o in options if o.qualified or id(o) in chosen]


def expand(
    data: ProblemData, start: dt.date | None = None, end: dt.date | None = None, max_transfer_options: int | None = None
) -> Instance:
    """Turn validated data into pools and order steps with their eligible options (rules 1-3, 5, 6)."""
    start = start or data.settings.horizon.start
    end = end or data.settings.horizon.end
    horizon = (end - start).days
    pools = build_pools(data, start, horizon)
    products = {p.product: p for p in data.products}
    changeovers = {(c.from_product, c.to_product): c.days for c in data.changeovers}
    qualified: dict[tuple[str, str], dt.date] = {}
    for q in data.qualifications:
        key = (q.product, q.plant)
        qualified[key] = min(q.qualified_from, qualified.get(key, q.qualified_from))
    steps: list[Step] = []
    for order in data.orders:
        product = products[order.product]
        demand = round(order.quantity) if order.unit == "batches" else math.ceil(order.quantity * 1000 - 1e-9)
        final = Step(order, FINAL_STEP[product.modality], product, True, demand)
        final.options = _options(start, horizon, qualified, pools, final, order.plant, changeovers, demand)
        steps.append(final)
        if product.modality == "ADC" and product.intermediate:
            inter = Step(order, "intermediate", products[product.intermediate], False, 0)
            batches = max((math.ceil(demand / o.output) + 1 for o in final.options if o.output > 0), default=0)
            grams = max((o.grams_ceil for o in final.options), default=0)
            need = batches * grams * (product.intermediate_kg_per_kg or 1.0)
            inter.options = _options(start, horizon, qualified, pools, inter, None, changeovers, need)
            steps.append(inter)
    for step in steps:
        # Batches under a gram cannot be credited honestly in whole grams: the model does not use them (a
        # documented restriction), but bounds valid for any plan still count them (rounded up).
        step.all_options = step.options
        step.options = prune_transfers([o for o in step.options if o.output > 0], max_transfer_options)
    return Instance(data, start, end, horizon, pools, steps, changeovers)
