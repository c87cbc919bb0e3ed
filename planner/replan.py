"""Replan step: freeze what already ran, and remember the previous plan so the new one stays close to it.

Sits between expand and model. Inputs are the previous plan folder (`gantt.csv`, `orders.csv`), the as-of
date and optionally a status file from the plant floor (docs/data.md, "Replanning"):

* a batch of the previous plan that started before the as-of date is taken as run as planned;
* a status row overrides that: `done`/`running` batches are frozen exactly with the status's train and dates
  (a run may have taken longer), `failed` ones are dropped and their quantity is planned again;
* nothing new starts before the as-of date.

Frozen work enters the model in two shapes. The last frozen batches of a train, when they are a regular run
of one mAb/AAV step, become a *chain*: a campaign fixed where it started which the model may extend, so an
unchanged plan can simply go on. Otherwise the train is *blocked* until its last frozen batch ends plus the
cleaning reserve. Every other frozen batch only reduces what its order still needs.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from planner.expand import (
    Block,
    Chain,
    FrozenBatch,
    Instance,
    Option,
    Pool,
    Step,
    batch_grams,
    changeover_tail,
    ratio_milli,
)
from planner.load import Date, InputError, InputErrors, read_table
from planner.model import ChosenCampaign
from planner.plan import Preference, Task
from planner.safe_cells import restore


class StatusRow(BaseModel):
    """One row of the status file: what happened to a batch on the plant floor."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)
    row: int
    order: Annotated[str, Field(min_length=1)]
    step: Literal["mAb", "intermediate", "conjugation", "AAV"]
    batch: Annotated[int, Field(ge=1)]
    train: Annotated[str, Field(min_length=1)]
    start: Date
    end: Date
    state: Literal["done", "running", "failed"]


@dataclass(frozen=True)
class PreviousBatch:
    row: int
    order: str
    step: str
    batch: int
    train: str
    start: dt.date
    end: dt.date


@dataclass
class Previous:
    """The previous plan as far as replanning needs it: its batches and what it promised per order."""

    folder: Path
    batches: list[PreviousBatch]
    status: dict[str, str]
    completion: dict[str, dt.date | None]


@dataclass
class Freeze:
    """What a replan fixed, and the previous plan's future, for hints, stability and the change report."""

    as_of: dt.date
    previous: Previous
    frozen: list[FrozenBatch] = field(default_factory=list)
    failed: list[StatusRow] = field(default_factory=list)
    hints: list[ChosenCampaign] = field(default_factory=list)
    prefer: Preference = field(default_factory=dict)
    """Trains each previous campaign ran on, by (step, start, batches): parallel campaigns may share a start day."""
    previous_future: set[tuple[str, str, str, int]] = field(default_factory=set)
    """(order, step, train, start day) of every batch the previous plan had from the as-of date on."""


def read_previous(folder: Path) -> Previous:
    """Read the batches and order results of a plan folder written by `planner solve` or `planner replan`."""
    folder = Path(folder)
    errors: list[InputError] = []
    label = f"{folder.name}/gantt.csv"
    batches: list[PreviousBatch] = []
    rows = _csv_rows(folder / "gantt.csv", label, ["kind", "order", "step", "batch", "train", "start", "end"], errors)
    for number, cells in rows:
        if cells["kind"] != "batch":
            continue
        try:
            batches.append(PreviousBatch(
                number, cells["order"], cells["step"], int(cells["batch"]), cells["train"],
                dt.date.fromisoformat(cells["start"]), dt.date.fromisoformat(cells["end"]),
            ))
        except ValueError as exc:
            errors.append(InputError(label, number, None, f"not a batch row of a plan ({exc})"))
    status: dict[str, str] = {}
    completion: dict[str, dt.date | None] = {}
    label = f"{folder.name}/orders.csv"
    for number, cells in _csv_rows(folder / "orders.csv", label, ["order", "status", "completion"], errors):
        status[cells["order"]] = cells["status"]
        try:
            completion[cells["order"]] = dt.date.fromisoformat(cells["completion"]) if cells["completion"] else None
        except ValueError:
            errors.append(InputError(label, number, "completion", f"not a date (got {cells['completion']!r})"))
    if errors:
        raise InputErrors(errors)
    return Previous(folder, batches, status, completion)


def _csv_rows(
    path: Path, label: str, columns: list[str], errors: list[InputError]
) -> list[tuple[int, dict[str, str]]]:
    if not path.is_file():
        errors.append(InputError(label, None, None, "file not found; --plan must be a plan folder"))
        return []
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        for column in missing:
            errors.append(InputError(label, 1, column, "missing column"))
        if missing:
            return []
        return [
            (n, {c: restore((row.get(c) or "").strip()) for c in columns}) for n, row in enumerate(reader, start=2)
        ]


def read_status(path: Path, inst: Instance, as_of: dt.date) -> list[StatusRow]:
    """Read and check the status file against the data: known orders, steps and trains, sane dates."""
    path = Path(path)
    errors: list[InputError] = []
    if not path.is_file():
        raise InputErrors([InputError(path.name, None, None, "status file not found")])
    rows: list[StatusRow] = read_table(path, StatusRow, errors)
    steps = {s.key for s in inst.steps}
    trains = {t.train for t in inst.data.trains}
    seen: dict[tuple[str, str, int], int] = {}
    for r in rows:
        where = (path.name, r.row)
        if (r.order, r.step) not in steps:
            known = any(s.order.order == r.order for s in inst.steps)
            column, message = ("step", f"order {r.order} has no step {r.step}") if known else (
                "order", f"unknown order {r.order!r}")
            errors.append(InputError(*where, column, message))
        if r.train not in trains:
            errors.append(InputError(*where, "train", f"unknown train {r.train!r}"))
        if r.end <= r.start:
            errors.append(InputError(*where, "end", f"end {r.end} is not after start {r.start}"))
        if r.state != "failed" and r.start >= as_of:
            errors.append(InputError(
                *where, "start", f"a {r.state} batch must have started before the as-of date {as_of} (got {r.start})"
            ))
        if r.start < inst.start:
            errors.append(InputError(*where, "start", f"before the horizon start {inst.start}"))
        key = (r.order, r.step, r.batch)
        if key in seen:
            message = f"batch {r.batch} of {r.order}/{r.step} is already row {seen[key]}"
            errors.append(InputError(*where, "batch", message))
        seen.setdefault(key, r.row)
    if errors:
        raise InputErrors(errors)
    return rows


def freeze(inst: Instance, previous: Previous, as_of: dt.date, status: list[StatusRow]) -> Freeze:
    """Fix frozen work into the instance (chains, blocks, reduced demand) and record the previous future."""
    result = Freeze(as_of, previous)
    steps = {s.key: s for s in inst.steps}
    trains = {t.train: t for t in inst.data.trains}
    label = f"{previous.folder.name}/gantt.csv"
    errors: list[InputError] = []
    by_key = {(r.order, r.step, r.batch): r for r in status}
    result.failed = [r for r in status if r.state == "failed"]
    cut = inst.day(as_of)
    frozen: list[FrozenBatch] = []
    future: list[PreviousBatch] = []
    for b in previous.batches:
        key = (b.order, b.step, b.batch)
        if key in by_key:
            continue
        if (b.order, b.step) not in steps or b.train not in trains:
            gone_step = (b.order, b.step) not in steps
            what = f"order {b.order} step {b.step}" if gone_step else f"train {b.train}"
            if b.start < as_of:
                column = "order" if gone_step else "train"
                message = f"started batch on {what}, which the data no longer has"
                errors.append(InputError(label, b.row, column, message))
            continue
        if b.start < as_of:
            if b.start < inst.start:
                errors.append(InputError(label, b.row, "start", f"before the horizon start {inst.start}"))
                continue
            frozen.append(FrozenBatch(b.order, b.step, b.train, inst.day(b.start), inst.day(b.end), "started"))
        else:
            future.append(b)
    for r in status:
        if r.state != "failed":
            frozen.append(FrozenBatch(r.order, r.step, r.train, inst.day(r.start), inst.day(r.end), r.state))
    if errors:
        raise InputErrors(errors)
    inst.as_of = cut
    inst.frozen = result.frozen = sorted(frozen, key=lambda f: (f.train, f.start, f.order, f.step))
    _not_before(inst, cut)
    _chains_and_blocks(inst, steps)
    _reduce_demand(inst, steps)
    _started_deals_in_time(inst)
    _previous_future(inst, steps, future, result)
    return result


def _started_deals_in_time(inst: Instance) -> None:
    """A started deal must still be accepted whole and on time; if its frozen work already ends late, say so.

    Planning cannot fix that, and declining it would leave its batches in the plan, so the planner decides:
    make the order firm (late delivery is then weighed like any firm order) or move its due date.
    """
    where = inst.data.where("orders.csv")
    errors = [
        InputError(where, s.order.row, "firm",
                   f"tentative deal {s.order.order} has frozen batches ending {inst.date(s.completion_floor)}, after "
                   f"its due date {s.order.due}; make it firm or move its due date to replan it")
        for s in inst.steps
        if s.final and not s.order.firm and s.started and s.completion_floor > inst.day(s.order.due)
    ]
    if errors:
        raise InputErrors(errors)


def _not_before(inst: Instance, cut: int) -> None:
    """Nothing new starts before the as-of day: every option's window opens there at the earliest."""
    def later(options: list[Option], step: Step) -> list[Option]:
        kept = []
        for o in options:
            earliest = max(o.earliest, cut)
            if earliest + step.product.batch_days <= o.latest_end:
                kept.append(dataclasses.replace(o, earliest=earliest))
        return kept

    for step in inst.steps:
        step.options = later(step.options, step)
        step.all_options = later(step.all_options, step)


def _pool_of(inst: Instance) -> dict[str, Pool]:
    return {t: pool for pool in inst.pools for t in pool.trains}


def _chains_and_blocks(inst: Instance, steps: dict[tuple[str, str], Step]) -> None:
    """Per train with frozen work: its last regular mAb/AAV run becomes a chain, else the train is blocked."""
    pools = _pool_of(inst)
    by_train: dict[str, list[FrozenBatch]] = defaultdict(list)
    for f in inst.frozen:
        by_train[f.train].append(f)
    for train, batches in by_train.items():
        batches.sort(key=lambda f: (f.end, f.start))
        last = batches[-1]
        step = steps[(last.order, last.step)]
        pool = pools[train]
        cycle = step.product.batch_days + pool.turnaround_days
        run = [last]
        for f in reversed(batches[:-1]):
            if (f.order, f.step) != (last.order, last.step) or f.start != run[-1].start - cycle:
                break
            run.append(f)
        regular = all(f.end - f.start == step.product.batch_days for f in run)
        option = next((o for o in step.options if o.pool is pool), None)
        chain_ok = regular and option is not None and last.end <= option.latest_end
        if chain_ok:
            first = run[-1].start
            inst.chains.append(Chain(train, step, dataclasses.replace(option, earliest=first), first, len(run)))
            step.chain_output += len(run) * option.output
        else:
            tail = changeover_tail(step.product.product, pool, inst.changeovers)
            inst.blocks.append(Block(train, pool, last.start, last.end + tail))


def _output(step: Step, kg: float) -> int:
    if step.final and step.order.unit == "batches":
        return 1
    return batch_grams(kg)


def _reduce_demand(inst: Instance, steps: dict[tuple[str, str], Step]) -> None:
    """Frozen batches outside chains reduce demand; ADC keeps the unconsumed intermediate as stock (FIFO)."""
    trains = {t.train: t for t in inst.data.trains}
    in_chain = set()
    for chain in inst.chains:
        cycle = chain.step.product.batch_days + chain.option.pool.turnaround_days
        in_chain |= {(chain.train, chain.start + i * cycle) for i in range(chain.frozen)}
    kg: dict[FrozenBatch, float] = {}
    for f in inst.frozen:
        step = steps[(f.order, f.step)]
        kg[f] = step.product.kg_per_batch(trains[f.train].volume_l)
        if step.final:
            step.completion_floor = max(step.completion_floor, f.end)
        final = next(s for s in inst.steps_of(f.order) if s.final)
        final.started = True
        if (f.train, f.start) not in in_chain and step.final:
            step.demand = max(0, step.demand - _output(step, kg[f]))
    for step in inst.steps:
        if step.name == "intermediate":
            _intermediate_stock(inst, step, kg, in_chain)


def _intermediate_stock(
    inst: Instance, step: Step, kg: dict[FrozenBatch, float], in_chain: set[tuple[str, int]]
) -> None:
    """ADC: frozen intermediate outside chains, less what frozen conjugation outside chains consumed.

    Counted the way the model counts (floor grams made, ceil grams conjugated x ratio in thousandths), so
    the previous plan's own continuation stays feasible. The hold clock of the stock starts at the oldest
    batch not yet used up, first-in first-out as the checker pairs them.
    """
    order = step.order.order
    final = next(s for s in inst.steps_of(order) if s.final)
    supply = sorted((f for f in inst.frozen if f.order == order and f.step == "intermediate"),
                    key=lambda f: (f.end, f.train))
    if not supply:
        return
    step.frozen_last_end = max(f.end for f in supply)
    milli = ratio_milli(final.product)
    used = [f for f in inst.frozen if f.order == order and f.step == final.name and (f.train, f.start) not in in_chain]
    made = [f for f in supply if (f.train, f.start) not in in_chain]
    consumed = milli * sum(math.ceil(kg[f] * 1000) for f in used)
    step.stock_milli = 1000 * sum(_output(step, kg[f]) for f in made) - consumed
    left = consumed
    for f in made:
        take = min(left, 1000 * _output(step, kg[f]))
        left -= take
        if take < 1000 * _output(step, kg[f]):
            step.stock_first_end = f.end
            break


def _previous_future(
    inst: Instance, steps: dict[tuple[str, str], Step], future: list[PreviousBatch], result: Freeze
) -> None:
    """Group the previous plan's remaining batches into campaigns: stability targets, hints, train preference."""
    pools = _pool_of(inst)
    chains = {c.train: c for c in inst.chains}
    by_run: dict[tuple[tuple[str, str], str], list[int]] = defaultdict(list)
    for b in future:
        by_run[((b.order, b.step), b.train)].append(inst.day(b.start))
        result.previous_future.add((b.order, b.step, b.train, inst.day(b.start)))
    inst.previous = {}
    for (key, train), starts in sorted(by_run.items()):
        step, pool = steps[key], pools[train]
        cycle = step.product.batch_days + pool.turnaround_days
        starts.sort()
        runs: list[list[int]] = [[starts[0]]]
        for s in starts[1:]:
            if s == runs[-1][-1] + cycle:
                runs[-1].append(s)
            else:
                runs.append([s])
        chain = chains.get(train)
        for run in runs:
            if chain is not None and chain.step.key == key and run[0] == chain.start + chain.frozen * cycle:
                inst.previous_extension[train] = len(run)
                result.hints.append(ChosenCampaign(step, chain.option, chain.start, chain.frozen + len(run), train))
                continue
            inst.previous.setdefault((key, pool.id), []).append((run[0], len(run)))
            result.prefer.setdefault((key, run[0], len(run)), []).append(train)
            option = next((o for o in step.options if o.pool is pool), None)
            if option is not None:
                result.hints.append(ChosenCampaign(step, option, run[0], len(run)))
    hinted = {c.train for c in result.hints if c.train is not None}
    for chain in inst.chains:
        if chain.train not in hinted:
            result.hints.append(ChosenCampaign(chain.step, chain.option, chain.start, chain.frozen, chain.train))


def order_changes(previous: Previous, freeze_: Freeze, inst: Instance, tasks: list[Task]) -> dict[str, dict]:
    """Per order: the previous plan's status and completion, days the completion moved, batches moved."""
    moved: dict[str, int] = defaultdict(int)
    for t in tasks:
        fresh = t.kind == "batch" and not t.note.startswith("frozen")
        if fresh and (t.order, t.step, t.train, t.start) not in freeze_.previous_future:
            moved[t.order] += 1
    out: dict[str, dict] = {}
    for o in inst.data.orders:
        before = previous.completion.get(o.order)
        out[o.order] = {"previous_status": previous.status.get(o.order, ""), "previous_completion": before,
                        "moved_batches": moved.get(o.order, 0)}
    return out

