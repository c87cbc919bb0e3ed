"""Digital twin: replay a written plan many times under noise, vectorised with numpy over the runs.

Input is a data folder (for products, trains and orders) and a plan folder as `planner solve` writes it
(`gantt.csv`, `orders.csv`, `utilization.csv`, `summary.json`). Every quantity below is a whole number of
days; intervals are `[start, end)` as in the plan.

Replay semantics (one run; all runs are computed together, one numpy array of shape (runs,) per batch):

* Each train's batches are replayed in plan order. A batch starts no earlier than its planned start and no
  earlier than the moment the previous task on its train is finished, that is the previous batch's
  (simulated) end plus the planned changeover/turnaround gap that followed it in the plan. Delays therefore
  right-shift everything that follows on that train; a batch never moves earlier than planned.
* Duration of every attempt = ceil(planned length x factor), factor ~ Tri(1 - spread, 1, 1 + 2 * spread)
  (spread = 0: exactly the planned length); at least one day.
* Downtime stays where the plan put it: an attempt that would overlap a downtime interval of its train is
  pushed to the end of that interval (repeatedly, until it fits).
* Failure: an attempt fails with probability `Noise.failure[product]`, else `Noise.failure[modality]` (the
  product's modality), else 0. A failed attempt is repeated at the next free slot of its train: after the
  failed run plus the train's turnaround_days (same product). A repeat may fail again with the same
  probability; after 3 repeats the batch is taken as done (the cap), whatever the last outcome.
  Failed attempts occupy the train and count as busy days.
* ADC: a conjugation batch also waits for `release_days` after the end of its order's last intermediate
  batch (simulated, final attempt). Where the plan itself starts a conjugation batch earlier than that
  (it consumes earlier intermediate batches first-in first-out), the plan's offset is kept, so the delay of
  the last intermediate batch carries over one for one. An order has a *hold miss* in a run when some
  attempt of one of its conjugation batches starts after its first intermediate batch's (simulated) end +
  `max_hold_days` (again plus any excess the plan itself already has for that batch).
* Order completion = end of its last final-step batch (step mAb, conjugation or AAV). The order is on time
  in a run when completion <= due and the plan delivers its full quantity (a `partial` order is never on
  time). Orders without any final-step batch in the plan are not reported.
* Utilization per plant, train modality and quarter = busy days inside the quarter and inside the horizon
  (all attempts) / the plan's `available_days` from `utilization.csv`. Batches pushed past the horizon end
  are not counted there (they still count for order completion).

With zero failure and zero spread the replay reproduces the plan exactly.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from planner.load import load_data
from planner.safe_cells import neutralise, restore

FINAL_STEPS = ("mAb", "conjugation", "AAV")
MAX_REPEATS = 3


@dataclass
class Noise:
    failure: dict[str, float] = field(default_factory=dict)
    """Probability that one attempt of a batch fails, by modality ("mAb", "ADC", "AAV"); product ids override."""
    spread: float = 0.0
    """Triangular duration noise: factor ~ Tri(1 - spread, 1, 1 + 2 * spread), rounded up to whole days."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.spread < 1.0:
            raise ValueError(f"spread must lie in [0, 1), got {self.spread}")
        for key, p in self.failure.items():
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"failure probability of {key} must lie in [0, 1], got {p}")

    def probability(self, product: str, modality: str) -> float:
        if product in self.failure:
            return self.failure[product]
        return self.failure.get(modality, 0.0)


DEFAULT_NOISE = Noise(failure={"mAb": 0.03, "ADC": 0.03, "AAV": 0.07}, spread=0.1)
"""The CLI's default noise (batch failure rates per modality from the industry's 1-7 %, 10 % duration spread)."""


@dataclass
class OrderRisk:
    order: str
    client: str
    product: str
    due: dt.date
    planned_completion: dt.date
    planned_status: str
    p_on_time: float
    p50_completion: dt.date
    p90_completion: dt.date
    mean_days_late: float
    p_hold_miss: float | None
    """None for orders without a hold window (no intermediate batches in the plan)."""


@dataclass
class UtilizationRisk:
    plant: str
    modality: str
    quarter: str
    available_days: int
    planned_utilization: float
    p10: float
    p50: float
    p90: float


@dataclass
class SimulationResult:
    orders: list[OrderRisk]
    utilization: list[UtilizationRisk]
    runs: int
    seed: int
    runs_per_second: float
    batches: int
    noise: Noise

    def order(self, order_id: str) -> OrderRisk:
        for o in self.orders:
            if o.order == order_id:
                return o
        raise KeyError(order_id)

    @property
    def expected_on_time(self) -> float:
        """Expected number of reported orders on time."""
        return sum(o.p_on_time for o in self.orders)

    def to_csv(self, folder: Path | str) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        t = neutralise  # text cells a spreadsheet would run as formulas get a leading ' (docs/data.md)
        with (folder / "orders_risk.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["order", "client", "product", "due", "planned_completion", "planned_status", "p_on_time",
                        "p50_completion", "p90_completion", "mean_days_late", "p_hold_miss", "runs", "seed"])
            for o in self.orders:
                w.writerow([t(o.order), t(o.client), t(o.product), o.due.isoformat(),
                            o.planned_completion.isoformat(), t(o.planned_status), f"{o.p_on_time:.4f}",
                            o.p50_completion.isoformat(), o.p90_completion.isoformat(), f"{o.mean_days_late:.2f}",
                            "" if o.p_hold_miss is None else f"{o.p_hold_miss:.4f}", self.runs, self.seed])
        with (folder / "utilization_risk.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["plant", "modality", "quarter", "available_days", "planned_utilization",
                        "utilization_p10", "utilization_p50", "utilization_p90"])
            for u in self.utilization:
                w.writerow([t(u.plant), t(u.modality), t(u.quarter), u.available_days, f"{u.planned_utilization:.4f}",
                            f"{u.p10:.4f}", f"{u.p50:.4f}", f"{u.p90:.4f}"])

    def report(self, top: int = 10) -> str:
        n = len(self.orders)
        lines = [f"Simulation: {self.runs} runs, seed {self.seed}, {self.batches} batches, "
                 f"{self.runs_per_second:,.0f} runs/s (failure {self.noise.failure or 'none'}, "
                 f"spread {self.noise.spread})"]
        planned = sum(o.planned_status == "on_time" for o in self.orders)
        lines.append(f"Orders on time: expected {self.expected_on_time:.1f} of {n} "
                     f"(plan: {planned}); {sum(o.p_on_time >= 0.999 for o in self.orders)} safe at >= 99.9%")
        at_risk = sorted((o for o in self.orders if o.planned_status == "on_time" and o.p_on_time < 1.0),
                         key=lambda o: (o.p_on_time, o.order))[:top]
        if at_risk:
            lines.append("Planned on time, most at risk:")
            for o in at_risk:
                hold = "" if not o.p_hold_miss else f", hold miss {o.p_hold_miss:.1%}"
                lines.append(f"  {o.order} {o.product}: on time {o.p_on_time:.1%}, due {o.due}, "
                             f"p50 {o.p50_completion}, p90 {o.p90_completion}{hold}")
        else:
            lines.append("No order planned on time is at risk.")
        return "\n".join(lines)


@dataclass
class _Batch:
    train: str
    order: str
    product: str
    step: str
    start: int
    length: int
    gap_after: int


def _day(text: str) -> int:
    return dt.date.fromisoformat(text).toordinal()


def _date(day: int) -> dt.date:
    return dt.date.fromordinal(int(day))


def _quarter(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _next_quarter(day: dt.date) -> dt.date:
    q = _quarter_start(day)
    return dt.date(q.year + (q.month == 10), 1 if q.month == 10 else q.month + 3, 1)


def _plan_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a plan CSV with every text cell as meant (`safe_cells.restore` undoes the exporter's quote)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [{k: restore(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _read_gantt(plan_dir: Path) -> tuple[dict[str, list[_Batch]], dict[str, list[tuple[int, int]]]]:
    tasks: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _plan_rows(plan_dir / "gantt.csv"):
        tasks[row["train"]].append(row)
    batches: dict[str, list[_Batch]] = {}
    downtime: dict[str, list[tuple[int, int]]] = {}
    for train, rows in tasks.items():
        rows.sort(key=lambda r: (_day(r["start"]), r["kind"] != "downtime", _day(r["end"])))
        changeovers = {_day(r["start"]): _day(r["end"]) - _day(r["start"]) for r in rows if r["kind"] == "changeover"}
        batches[train] = [
            _Batch(train, r["order"], r["product"], r["step"], _day(r["start"]), _day(r["end"]) - _day(r["start"]),
                   changeovers.get(_day(r["end"]), 0))
            for r in rows if r["kind"] == "batch"
        ]
        downtime[train] = sorted((_day(r["start"]), _day(r["end"])) for r in rows if r["kind"] == "downtime")
    return batches, downtime


def _horizon(data_dir: Path, plan_dir: Path) -> tuple[int, int]:
    path = plan_dir / "summary.json"
    if path.exists():
        horizon = json.loads(path.read_text()).get("horizon") or {}
        if "start" in horizon and "end" in horizon:
            return _day(horizon["start"]), _day(horizon["end"])
    settings = load_data(data_dir).settings.horizon
    return settings.start.toordinal(), settings.end.toordinal()


def simulate(data_dir: Path | str, plan_dir: Path | str, runs: int, seed: int, noise: Noise) -> SimulationResult:
    """Replay the plan in `plan_dir` `runs` times under `noise` (see the module docstring for the rules)."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    data_dir, plan_dir = Path(data_dir), Path(plan_dir)
    data = load_data(data_dir)
    products = {p.product: p for p in data.products}
    trains = {t.train: t for t in data.trains}
    orders = {o.order: o for o in data.orders}
    plan_orders = {r["order"]: r for r in _plan_rows(plan_dir / "orders.csv")}
    batches_by_train, downtime = _read_gantt(plan_dir)
    h_start, h_end = _horizon(data_dir, plan_dir)

    # Quarter boundaries (clipped to the horizon) and the plan's utilization rows.
    bounds = [h_start]
    while bounds[-1] < h_end:
        bounds.append(min(_next_quarter(_date(bounds[-1])).toordinal(), h_end))
    bounds_arr = np.array(bounds)
    quarter_index = {_quarter(_date(b)): i for i, b in enumerate(bounds[:-1])}
    util_rows: list[dict[str, str]] = []
    util_path = plan_dir / "utilization.csv"
    if util_path.exists():
        util_rows = _plan_rows(util_path)

    # Plan order: every train in plan order; conjugation trains after all others so that intermediate
    # batches (on mAb trains) are done before the conjugation batches that wait for them.
    order_steps: dict[str, dict[str, list[_Batch]]] = defaultdict(lambda: defaultdict(list))
    for train_batches in batches_by_train.values():
        for b in train_batches:
            order_steps[b.order][b.step].append(b)
    train_list = sorted(batches_by_train, key=lambda t: (any(b.step == "conjugation" for b in batches_by_train[t]), t))
    n_batches = sum(len(v) for v in batches_by_train.values())

    rng = np.random.default_rng(seed)
    clock = time.perf_counter()
    group_busy: dict[tuple[str, str], np.ndarray] = {}
    ends: dict[tuple[str, str], list[np.ndarray]] = defaultdict(list)  # (order, step) -> final ends per batch
    int_first_end: dict[str, np.ndarray] = {}
    int_last_end: dict[str, np.ndarray] = {}
    hold_miss: dict[str, np.ndarray] = {}
    planned_int: dict[str, tuple[int, int]] = {}
    for o, steps in order_steps.items():
        if steps.get("intermediate"):
            int_ends = [b.start + b.length for b in steps["intermediate"]]
            planned_int[o] = (min(int_ends), max(int_ends))

    lo, hi = 1.0 - noise.spread, 1.0 + 2.0 * noise.spread

    def duration(length: int, size: int) -> np.ndarray:
        if noise.spread == 0.0:
            return np.full(size, length, dtype=np.int64)
        factor = rng.triangular(lo, 1.0, hi, size=size)
        return np.maximum(np.ceil(length * factor - 1e-9).astype(np.int64), 1)

    def push(start: np.ndarray, dur: np.ndarray, intervals: list[tuple[int, int]]) -> np.ndarray:
        if not intervals:
            return start
        s_min = int(start.min())
        for a, b in intervals:
            if b <= s_min:
                continue
            hit = (start < b) & (start + dur > a)
            if hit.any():
                start = np.where(hit, b, start)
        return start

    for train in train_list:
        t = trains[train]
        key = (t.plant, t.modality)
        if key not in group_busy:
            group_busy[key] = np.zeros((2, len(bounds), runs), dtype=np.int64)
        acc = group_busy[key]
        intervals = downtime.get(train, [])
        free = np.full(runs, np.iinfo(np.int64).min // 4, dtype=np.int64)
        for b in batches_by_train[train]:
            product = products.get(b.product)
            modality = product.modality if product else t.modality
            p_fail = noise.probability(b.product, modality)
            start = np.maximum(free, b.start)
            hold_limit = None
            if b.step == "conjugation" and b.order in int_last_end and product is not None:
                first_planned, last_planned = planned_int[b.order]
                release = product.release_days or 0
                offset = min(0, b.start - (last_planned + release))
                start = np.maximum(start, int_last_end[b.order] + release + offset)
                if product.max_hold_days is not None:
                    excess = max(0, b.start - (first_planned + product.max_hold_days))
                    hold_limit = int_first_end[b.order] + product.max_hold_days + excess
            attempt_start = start
            end = np.empty(runs, dtype=np.int64)
            active = np.ones(runs, dtype=bool)
            for attempt in range(MAX_REPEATS + 1):
                if attempt == 0:
                    s = attempt_start
                    d = duration(b.length, runs)
                else:
                    s = end + t.turnaround_days
                    d = duration(b.length, runs)
                s = push(s, d, intervals)
                e = s + d
                if attempt:
                    s = np.where(active, s, 0)
                    e_new = np.where(active, e, end)
                else:
                    e_new = e
                # Busy days per quarter boundary (only for runs where this attempt happens).
                _accumulate(acc, bounds_arr, s, e, active if attempt else None)
                if hold_limit is not None:
                    miss = (s > hold_limit) & active
                    hold_miss[b.order] = hold_miss.get(b.order, np.zeros(runs, dtype=bool)) | miss
                end = e_new
                if p_fail <= 0.0 or attempt == MAX_REPEATS:
                    break
                active = active & (rng.random(runs) < p_fail)
                if not active.any():
                    break
            free = end + b.gap_after
            ends[(b.order, b.step)].append(end)
            if b.step == "intermediate":
                int_first_end[b.order] = np.minimum(int_first_end.get(b.order, end), end)
                int_last_end[b.order] = np.maximum(int_last_end.get(b.order, end), end)
    elapsed = time.perf_counter() - clock

    order_risks: list[OrderRisk] = []
    for order_id, steps in order_steps.items():
        final = [s for s in FINAL_STEPS if steps.get(s)]
        if not order_id or not final:
            continue
        completion = np.max(np.stack(ends[(order_id, final[0])]), axis=0)
        planned_completion = max(b.start + b.length for b in steps[final[0]])
        o = orders.get(order_id)
        row = plan_orders.get(order_id, {})
        due = o.due.toordinal() if o else _day(row["due"])
        full = row.get("status", "") != "partial"
        on_time = (completion <= due) & full
        p50, p90 = np.quantile(completion, [0.5, 0.9], method="inverted_cdf")
        order_risks.append(OrderRisk(
            order=order_id, client=o.client if o else row.get("client", ""), product=steps[final[0]][0].product,
            due=_date(due), planned_completion=_date(planned_completion), planned_status=row.get("status", ""),
            p_on_time=float(on_time.mean()), p50_completion=_date(p50), p90_completion=_date(p90),
            mean_days_late=float(np.maximum(completion - due, 0).mean()),
            p_hold_miss=float(hold_miss[order_id].mean()) if order_id in hold_miss else None,
        ))
    order_risks.sort(key=lambda r: r.order)

    util_risks: list[UtilizationRisk] = []
    per_quarter = {key: _per_quarter(acc) for key, acc in group_busy.items()}
    for row in util_rows:
        key, q = (row["plant"], row["modality"]), quarter_index.get(row["quarter"])
        available = int(float(row["available_days"]))
        if q is None or available <= 0:
            continue
        busy = per_quarter[key][q] if key in per_quarter else np.zeros(runs)
        u = busy / available
        p10, p50, p90 = np.quantile(u, [0.1, 0.5, 0.9])
        util_risks.append(UtilizationRisk(row["plant"], row["modality"], row["quarter"], available,
                                          float(row.get("utilization") or 0.0), float(p10), float(p50), float(p90)))

    return SimulationResult(order_risks, util_risks, runs, seed, runs / max(elapsed, 1e-9), n_batches, noise)


def _accumulate(acc: np.ndarray, bounds: np.ndarray, s: np.ndarray, e: np.ndarray, mask: np.ndarray | None) -> None:
    """Add an attempt's busy days to F(b) = days busy before boundary b, for every quarter boundary b.

    acc[0] is a difference array: boundaries at or past every run's end get the whole duration, added once
    at the first such boundary and summed cumulatively later. acc[1] holds the exact clipped amounts for the
    few boundaries that some run's attempt straddles. Runs outside `mask` add nothing.
    """
    d = e - s
    if mask is not None:
        d = np.where(mask, d, 0)
        s_min = int(s[mask].min())
    else:
        s_min = int(s.min())
    k_lo = int(np.searchsorted(bounds, s_min, side="right"))
    k_hi = int(np.searchsorted(bounds, int(e.max()), side="left"))
    if k_hi < len(bounds):
        acc[0, k_hi] += d
    for k in range(k_lo, min(k_hi, len(bounds))):
        acc[1, k] += np.clip(bounds[k] - s, 0, d)


def _per_quarter(acc: np.ndarray) -> np.ndarray:
    """Busy days in each [bounds[k], bounds[k+1]) from the accumulated F rows; shape (quarters, runs)."""
    before = np.cumsum(acc[0], axis=0) + acc[1]
    return np.diff(before, axis=0)
