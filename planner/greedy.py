"""Greedy plan: earliest-due-date dispatch of batches onto the earliest free eligible train.

Used as the warm start of the CP-SAT search (a complete, feasible hint) and as a baseline on its own. It
places campaigns in the same shape as the model (consecutive batches of one step on one train, with the
cleaning reserve after them), so every greedy plan is a feasible point of the model.

Order of work: firm orders by due date, then tentative deals by revenue; a deal is kept only if it is
complete and on time, otherwise its batches are taken back.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from planner.expand import Instance, Option, Step
from planner.model import ChosenCampaign


@dataclass
class _Campaign:
    step: Step
    option: Option
    train: str
    start: int
    batches: int = 1

    @property
    def cycle(self) -> int:
        return self.step.product.batch_days + self.option.pool.turnaround_days

    def reserve_end(self, batches: int | None = None) -> int:
        n = self.batches if batches is None else batches
        return self.start + self.cycle * n - self.option.pool.turnaround_days + self.option.tail


@dataclass
class _State:
    free_at: dict[str, int]
    last: dict[str, _Campaign | None]
    campaigns: list[_Campaign] = field(default_factory=list)


def _clear_of_downtime(option: Option, lo: int, hi: int) -> int | None:
    """End of the first downtime overlapping [lo, hi), or None when the span is clear."""
    for a, b, _ in option.pool.downtime:
        if a < hi and lo < b:
            return b
    return None


def _first_start(option: Option, earliest: int, length: int) -> int:
    start = earliest
    while (blocked := _clear_of_downtime(option, start, start + length)) is not None:
        start = blocked
    return start


@dataclass(frozen=True)
class _Window:
    """Extra limits on a step's batches: latest batch end (deals on time) and latest batch start (ADC hold)."""

    earliest: int = 0
    latest_end: int | None = None
    latest_start: int | None = None


def _place_step(state: _State, step: Step, demand: int, window: _Window, cap: int) -> int:
    """Place batches one at a time where the next batch ends earliest; return the units still missing."""
    remaining = demand
    biggest = max((o.output for o in step.options), default=1)
    slots: dict[str, int] = {}
    mine: dict[str, _Campaign] = {}
    while remaining > 0:
        best: tuple | None = None
        for option in step.options:
            pool = option.pool
            bd = step.product.batch_days
            latest_end = min(option.latest_end, window.latest_end if window.latest_end is not None else 10**9)
            latest_start = window.latest_start if window.latest_start is not None else 10**9
            earliest = max(option.earliest, window.earliest)
            open_slots = min(cap, pool.size, option.max_batches) - slots.get(pool.id, 0)
            for train in pool.trains:
                c = mine.get(train)
                if c is not None and state.last[train] is c and c.batches < option.max_batches:
                    start = c.start + c.cycle * c.batches
                    ok = start + bd <= latest_end and start <= latest_start
                    if ok and _clear_of_downtime(option, c.reserve_end(), c.reserve_end(c.batches + 1)) is None:
                        key = (start + bd * biggest / option.output, 0, -option.output)
                        if best is None or key < best[0]:
                            best = (key, option, train, c)
                if open_slots > 0:
                    start = _first_start(option, max(earliest, state.free_at[train]), bd + option.tail)
                    if start + bd <= latest_end and start <= latest_start:
                        key = (start + bd * biggest / option.output, 1, -option.output)
                        if best is None or key < best[0]:
                            best = (key, option, train, start)
        if best is None:
            break
        _, option, train, where = best
        if isinstance(where, _Campaign):
            where.batches += 1
            campaign = where
        else:
            campaign = _Campaign(step, option, train, where)
            state.campaigns.append(campaign)
            slots[option.pool.id] = slots.get(option.pool.id, 0) + 1
            mine[train] = campaign
        state.last[train] = campaign
        state.free_at[train] = campaign.reserve_end()
        remaining -= option.output
    return max(0, remaining)


def _place_order(inst: Instance, state: _State, steps: list[Step], cap: int) -> bool:
    """Place every step of one order; return False when the final demand is not fully met."""
    final = next(s for s in steps if s.final)
    inter = next((s for s in steps if s.name == "intermediate"), None)
    order = final.order
    due_limit = None if order.firm else inst.day(order.due)
    if inter is None:
        return _place_step(state, final, final.demand, _Window(latest_end=due_limit), cap) == 0
    if not final.options or not inter.options:
        return False
    product = final.product
    conj_option = max(final.options, key=lambda o: o.output)
    conj_batches = -(-final.demand // conj_option.output)
    ratio_milli = round((product.intermediate_kg_per_kg or 1.0) * 1000 + 0.4999)
    need = -(-ratio_milli * conj_batches * conj_option.grams_ceil // 1000)
    before = len(state.campaigns)
    if _place_step(state, inter, need, _Window(), cap) > 0:
        return False
    made = state.campaigns[before:]
    first_end = min(c.start + c.step.product.batch_days for c in made)
    last_end = max(c.start + c.cycle * c.batches - c.option.pool.turnaround_days for c in made)
    window = _Window(
        earliest=last_end + (product.release_days or 0),
        latest_end=due_limit,
        latest_start=first_end + (product.max_hold_days or 0),
    )
    restricted = copy.copy(final)
    restricted.options = [o for o in final.options if o.output == conj_option.output]
    placed_from = len(state.campaigns)
    missing = _place_step(state, restricted, final.demand, window, cap)
    for c in state.campaigns[placed_from:]:
        c.step = final
    return missing == 0


def greedy_campaigns(inst: Instance, max_campaigns_per_pool: int = 3) -> list[ChosenCampaign]:
    """EDD dispatch of every order; firm orders are placed as far as capacity allows, deals all-or-nothing."""
    trains = [t for pool in inst.pools for t in pool.trains]
    state = _State(free_at={t: 0 for t in trains}, last={t: None for t in trains})
    by_order: dict[str, list[Step]] = {}
    for s in inst.steps:
        by_order.setdefault(s.order.order, []).append(s)
    firm = sorted((o for o in inst.data.orders if o.firm), key=lambda o: (o.due, -o.weight, o.order))
    deals = sorted((o for o in inst.data.orders if not o.firm), key=lambda o: (-o.revenue, o.due, o.order))
    for order in firm + deals:
        snapshot = copy.copy(state.free_at), copy.copy(state.last), len(state.campaigns)
        complete = _place_order(inst, state, by_order[order.order], max_campaigns_per_pool)
        if not complete and (not order.firm or _is_adc_with_intermediate(by_order[order.order])):
            state.free_at, state.last = snapshot[0], snapshot[1]
            del state.campaigns[snapshot[2]:]
    return [ChosenCampaign(c.step, c.option, c.start, c.batches) for c in state.campaigns]


def _is_adc_with_intermediate(steps: list[Step]) -> bool:
    """A partly placed ADC order is taken back whole: its intermediate and conjugation must match."""
    return any(s.name == "intermediate" for s in steps)
