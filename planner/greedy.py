"""Greedy plan: earliest-due-date dispatch of batches onto the earliest free eligible train.

A train's idle gaps are back-filled: a campaign goes into the first gap long enough for its first batch and
cleaning reserve, and grows batch by batch while the next gap allows.

Used as the warm start of the CP-SAT search (a complete, feasible hint) and as a baseline on its own. It
places campaigns in the same shape as the model (consecutive batches of one step on one train, with the
cleaning reserve after them), so every greedy plan is a feasible point of the model.

Order of work: a replan's started deals first (they can no longer be declined), then firm orders by due
date, then tentative deals by revenue; a deal is kept only if it is complete and on time, otherwise its
batches are taken back.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from planner.expand import Chain, Instance, Option, Step, ratio_milli
from planner.model import ChosenCampaign

ADC_SHARES = (1.0, 0.75, 0.5, 0.25)
"""A firm ADC order whose intermediate and conjugation cannot all be placed is retried at these shares:
partial delivery beats none, and its intermediate must match what is conjugated."""
ADC_DELAYS = tuple(range(0, 366, 14))
"""When the conjugation suite is busy, an intermediate made at once would exceed its hold time before
conjugation: the intermediate is retried later, two weeks at a time, up to a year."""


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


@dataclass(frozen=True)
class _Frozen:
    """Replan: a train busy with frozen work; shaped like a campaign so gap search treats it alike."""

    start: int
    end: int

    def reserve_end(self) -> int:
        return self.end


@dataclass
class _State:
    busy: dict[str, list[_Campaign | _Frozen]]
    campaigns: list[_Campaign] = field(default_factory=list)


def _blocked(
    option: Option, busy: list[_Campaign | _Frozen], lo: int, hi: int, skip: _Campaign | None = None
) -> int | None:
    """End of the first downtime or reserved campaign overlapping [lo, hi) on a train, None when clear."""
    for a, b, _ in option.pool.downtime:
        if a < hi and lo < b:
            return b
    for c in busy:
        if c is not skip and c.start < hi and lo < c.reserve_end():
            return c.reserve_end()
    return None


def _first_start(option: Option, busy: list[_Campaign | _Frozen], earliest: int, length: int) -> int:
    """Earliest gap of `length` days on a train from `earliest` on: back-fills idle time between campaigns."""
    start = earliest
    while (blocked := _blocked(option, busy, start, start + length)) is not None:
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
        open_all = sum(max(0, min(cap, o.pool.size, o.max_batches) - slots.get(o.pool.id, 0)) for o in step.options)
        for option in step.options:
            pool = option.pool
            bd = step.product.batch_days
            latest_end = min(option.latest_end, window.latest_end if window.latest_end is not None else 10**9)
            latest_start = window.latest_start if window.latest_start is not None else 10**9
            earliest = max(option.earliest, window.earliest)
            open_slots = min(cap, pool.size, option.max_batches) - slots.get(pool.id, 0)
            for train in pool.trains:
                busy = state.busy[train]
                c = mine.get(train)
                if c is not None and c.batches < option.max_batches:
                    start = c.start + c.cycle * c.batches
                    ok = start + bd <= latest_end and start <= latest_start
                    if ok and _blocked(option, busy, c.reserve_end(), c.reserve_end(c.batches + 1), c) is None:
                        key = (start + bd * biggest / option.output, 0, -option.output)
                        if best is None or key < best[0]:
                            best = (key, option, train, c)
                if open_slots > 0:
                    # look for a gap long enough for this train's share of the remaining batches
                    batches_left = math.ceil(remaining / option.output)
                    run = min(option.max_batches, math.ceil(batches_left / max(1, open_all)))
                    start = _first_start(option, busy, earliest, run * (bd + pool.turnaround_days) + option.tail)
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
            state.busy[train].append(campaign)
            slots[option.pool.id] = slots.get(option.pool.id, 0) + 1
            mine[train] = campaign
        remaining -= option.output
    return max(0, remaining)


def _place_order(inst: Instance, state: _State, steps: list[Step], cap: int, share: float = 1.0) -> bool:
    """Place every step of one order (ADC: `share` of its conjugation batches); False when that falls short."""
    final = next(s for s in steps if s.final)
    inter = next((s for s in steps if s.name == "intermediate"), None)
    order = final.order
    due_limit = None if order.firm else inst.day(order.due)
    if inter is None:
        return _place_step(state, final, final.remaining, _Window(latest_end=due_limit), cap) == 0
    if final.remaining == 0:
        return True
    if not final.options:
        return False
    product = final.product
    conj_option = max(final.options, key=lambda o: (o.output, o.grams_ceil))
    conj_batches = max(1, math.ceil(share * -(-final.remaining // conj_option.output)))
    target = min(final.remaining, conj_batches * conj_option.output)
    milli = ratio_milli(product)
    running_conj = sum(ch.frozen * ch.option.grams_ceil for ch in inst.chains if ch.step is final)
    milli = milli * (conj_batches * conj_option.grams_ceil + running_conj) - inter.stock_milli
    need = -(-milli // 1000) - inter.chain_output
    inter_chains = [ch for ch in inst.chains if ch.step is inter]
    if need > 0 and not inter.options:
        return False
    restricted = copy.copy(final)
    restricted.options = [  # the intermediate is sized for these suites' batch size, so only they may be used
        o for o in final.options if (o.output, o.grams_ceil) == (conj_option.output, conj_option.grams_ceil)
    ]
    for delay in ADC_DELAYS:
        before = len(state.campaigns)
        if _place_adc(state, inter, need, final, restricted, target, delay, due_limit, cap, inter_chains):
            return True
        for c in state.campaigns[before:]:
            state.busy[c.train].remove(c)
        del state.campaigns[before:]
    return False


def _place_adc(
    state: _State, inter: Step, need: int, final: Step, restricted: Step, target: int, delay: int,
    due_limit: int | None, cap: int, inter_chains: list[Chain],
) -> bool:
    """Intermediate from `delay` days after its earliest day, then conjugation inside its release/hold window."""
    product = final.product
    made: list[_Campaign] = []
    if need > 0:
        start = min(o.earliest for o in inter.options) + delay
        before = len(state.campaigns)
        if _place_step(state, inter, need, _Window(earliest=start), cap) > 0:
            return False
        made = state.campaigns[before:]
    elif delay:
        return False
    stock = [inter.stock_first_end] if inter.stock_milli > 0 and inter.stock_first_end is not None else []
    running = [ch.start + inter.product.batch_days for ch in inter_chains]
    first_end = min([c.start + c.step.product.batch_days for c in made] + stock + running, default=0)
    last_end = max([c.start + c.cycle * c.batches - c.option.pool.turnaround_days for c in made]
                   + [inter.frozen_last_end])
    window = _Window(
        earliest=last_end + (product.release_days or 0),
        latest_end=due_limit,
        latest_start=first_end + (product.max_hold_days or 0),
    )
    placed_from = len(state.campaigns)
    missing = _place_step(state, restricted, target, window, cap)
    for c in state.campaigns[placed_from:]:
        c.step = final
    return missing == 0


def greedy_campaigns(inst: Instance, max_campaigns_per_pool: int = 3) -> list[ChosenCampaign]:
    """EDD dispatch of every order; firm orders are placed as far as capacity allows, deals all-or-nothing."""
    trains = [t for pool in inst.pools for t in pool.trains]
    state = _State(busy={t: [] for t in trains})
    for b in inst.blocks:
        state.busy[b.train].append(_Frozen(b.start, b.end))
    running: list[ChosenCampaign] = []
    for chain in inst.chains:
        pool = chain.option.pool
        cycle = chain.step.product.batch_days + pool.turnaround_days
        state.busy[chain.train].append(
            _Frozen(chain.start, chain.start + cycle * chain.frozen - pool.turnaround_days + chain.option.tail)
        )
        running.append(ChosenCampaign(chain.step, chain.option, chain.start, chain.frozen, chain.train))
    by_order: dict[str, list[Step]] = {}
    for s in inst.steps:
        by_order.setdefault(s.order.order, []).append(s)
    started = {s.order.order for s in inst.steps if s.started and not s.order.firm}
    committed = sorted((o for o in inst.data.orders if o.order in started), key=lambda o: (o.due, o.order))
    firm = sorted((o for o in inst.data.orders if o.firm), key=lambda o: (o.due, -o.weight, o.order))
    deals = sorted((o for o in inst.data.orders if not o.firm and o.order not in started),
                   key=lambda o: (-o.revenue, o.due, o.order))
    for order in committed + firm + deals:  # a replan's started deals cannot be declined any more: first
        steps = by_order[order.order]
        adc = any(s.name == "intermediate" for s in steps)
        for share in ADC_SHARES if adc and order.firm else (1.0,):
            busy = {t: list(cs) for t, cs in state.busy.items()}
            placed = len(state.campaigns)
            if _place_order(inst, state, steps, max_campaigns_per_pool, share):
                break
            if adc or not order.firm:
                state.busy = busy
                del state.campaigns[placed:]
    return running + [ChosenCampaign(c.step, c.option, c.start, c.batches) for c in state.campaigns]

