"""Model step: the CP-SAT formulation (see docs/model.md).

Decision unit is the *campaign*: consecutive batches of one order step on one train of a pool. Each
(step, pool) pair owns a few optional campaign slots; a slot chooses whether it runs, when it starts and how
many batches it holds. Its interval covers the batches plus a trailing cleaning reserve (`tail`), so that
pools can be modelled as cumulative resources and trains dealt out afterwards without breaking rule 4.

Built in the order variables → constraints (one function per rule family) → objective.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from planner.expand import Chain, Instance, Option, Step, ratio_milli
from planner.load import Weights


@dataclass(frozen=True)
class ChosenCampaign:
    """A campaign the solver decided to run: which step, which pool, first day, number of batches."""

    step: Step
    option: Option
    start: int
    batches: int
    train: str | None = None
    """Set for a replan's running chain: the campaign stays on this train (its first batches are frozen)."""


@dataclass
class Campaign:
    """Variables of one optional campaign slot of a step on a pool."""

    step: Step
    option: Option
    slot: int
    present: cp_model.IntVar
    batches: cp_model.IntVar
    start: cp_model.IntVar
    end: cp_model.IntVar
    interval: cp_model.IntervalVar
    chain: Chain | None = None

    @property
    def cycle(self) -> int:
        return self.step.product.batch_days + self.option.pool.turnaround_days

    def last_batch_end(self) -> cp_model.LinearExpr:
        """Day the campaign's last batch ends (exclusive), without the cleaning reserve."""
        return self.start + self.cycle * self.batches - self.option.pool.turnaround_days

    def last_batch_start(self) -> cp_model.LinearExpr:
        return self.start + self.cycle * self.batches - self.cycle


@dataclass
class StepVars:
    """Per-step aggregates: output and (final steps) completion, lateness, unmet share, acceptance."""

    step: Step
    campaigns: list[Campaign] = field(default_factory=list)
    supplied: cp_model.LinearExpr | int = 0
    completion: cp_model.IntVar | None = None
    days_late: cp_model.IntVar | None = None
    unmet: cp_model.IntVar | None = None
    unmet_permille: cp_model.IntVar | None = None
    accepted: cp_model.IntVar | None = None
    first_end: cp_model.IntVar | None = None
    last_end: cp_model.IntVar | None = None
    full: cp_model.IntVar | None = None


@dataclass
class PlanModel:
    """A built CP-SAT model plus the variables needed to read a plan back out of a solution."""

    instance: Instance
    weights: Weights
    model: cp_model.CpModel
    steps: dict[tuple[str, str], StepVars]
    campaigns: list[Campaign]
    objective_terms: dict[str, cp_model.LinearExpr] = field(default_factory=dict)
    objective: cp_model.LinearExpr | int = 0
    revenue_total: int = 0


def _campaign_variables(m: cp_model.CpModel, inst: Instance, step: Step, max_per_pool: int) -> list[Campaign]:
    campaigns: list[Campaign] = []
    for option in step.options:
        pool = option.pool
        cycle = step.product.batch_days + pool.turnaround_days
        slots = min(max_per_pool, pool.size, option.max_batches)
        for k in range(slots):
            name = f"{step.order.order}/{step.name}@{pool.id}#{k}"
            present = m.new_bool_var(f"x[{name}]")
            batches = m.new_int_var(0, option.max_batches, f"n[{name}]")
            start = m.new_int_var(option.earliest, option.latest_end - step.product.batch_days, f"s[{name}]")
            size = cycle * batches - pool.turnaround_days + option.tail
            end = m.new_int_var(option.earliest, inst.horizon + option.tail, f"e[{name}]")
            interval = m.new_optional_interval_var(start, size, end, present, f"i[{name}]")
            campaigns.append(Campaign(step, option, k, present, batches, start, end, interval))
    return campaigns


def _chain_variables(m: cp_model.CpModel, inst: Instance, chain: Chain) -> Campaign:
    """Replan: a train's running campaign, fixed where it started, which may grow by further batches."""
    step, option = chain.step, chain.option
    pool = option.pool
    cycle = step.product.batch_days + pool.turnaround_days
    name = f"{step.order.order}/{step.name}@{chain.train}#running"
    present = m.new_constant(1)
    extra = option.max_batches if chain.start + chain.frozen * cycle >= inst.as_of else 0
    batches = m.new_int_var(chain.frozen, chain.frozen + extra, f"n[{name}]")
    start = m.new_constant(chain.start)
    end = m.new_int_var(chain.start, inst.horizon + option.tail, f"e[{name}]")
    size = cycle * batches - pool.turnaround_days + option.tail
    interval = m.new_interval_var(start, size, end, f"i[{name}]")
    return Campaign(step, option, 0, present, batches, start, end, interval, chain)


def _campaign_shape(m: cp_model.CpModel, campaigns: list[Campaign]) -> None:
    """A present campaign holds ≥1 batch and ends inside its window; identical slots are ordered."""
    for c in campaigns:
        if c.chain is not None:
            m.add(c.last_batch_end() <= max(c.option.latest_end, c.chain.start + c.cycle * c.chain.frozen))
            continue
        m.add(c.batches >= 1).only_enforce_if(c.present)
        m.add(c.batches == 0).only_enforce_if(~c.present)
        m.add(c.last_batch_end() <= c.option.latest_end).only_enforce_if(c.present)
        m.add(c.start == c.option.earliest).only_enforce_if(~c.present)
    by_pool: dict[tuple, list[Campaign]] = {}
    for c in campaigns:
        if c.chain is None:
            by_pool.setdefault((c.step.key, c.option.pool.id), []).append(c)
    for slots in by_pool.values():
        for a, b in zip(slots, slots[1:], strict=False):
            m.add_implication(b.present, a.present)
            m.add(a.start <= b.start).only_enforce_if(b.present)


def _pool_capacity(m: cp_model.CpModel, inst: Instance, campaigns: list[Campaign]) -> None:
    """Rules 2 and 4 at pool level: at most `size` campaigns at once, none during downtime."""
    by_pool: dict[str, list[Campaign]] = {}
    for c in campaigns:
        by_pool.setdefault(c.option.pool.id, []).append(c)
    blocks: dict[str, list[cp_model.IntervalVar]] = {}
    for b in inst.blocks:
        if b.end > b.start:
            blocks.setdefault(b.pool.id, []).append(
                m.new_fixed_size_interval_var(b.start, b.end - b.start, f"frozen[{b.train}]")
            )
    for pool in inst.pools:
        used = by_pool.get(pool.id, [])
        if not used:
            continue
        down = [m.new_fixed_size_interval_var(lo, hi - lo, f"down[{pool.id}@{lo}]") for lo, hi in pool.down_spans()]
        reach = max(c.option.tail for c in used)
        m.add(
            sum(c.cycle * c.batches + (c.option.tail - pool.turnaround_days) * c.present for c in used)
            <= pool.size * (pool.available_days() + reach)
        )
        intervals = [c.interval for c in used] + blocks.get(pool.id, [])
        if pool.size == 1:
            m.add_no_overlap(intervals + down)
        else:
            m.add_cumulative(intervals + down, [1] * len(intervals) + [pool.size] * len(down), pool.size)


def _step_output(m: cp_model.CpModel, sv: StepVars) -> None:
    sv.supplied = sum(c.option.output * c.batches for c in sv.campaigns)


def _demand(m: cp_model.CpModel, inst: Instance, sv: StepVars) -> None:
    """Rule 1 and the firm/tentative split: firm shortfall is measured, tentative is all or nothing."""
    step = sv.step
    order = step.order
    surplus = max((c.option.output for c in sv.campaigns), default=1) - 1
    m.add(sv.supplied <= step.demand + surplus)
    if order.firm:
        sv.unmet = m.new_int_var(0, step.demand, f"unmet[{order.order}]")
        m.add(sv.unmet >= step.demand - sv.supplied)
        sv.unmet_permille = m.new_int_var(0, 1000, f"unmet_pm[{order.order}]")
        m.add(sv.unmet_permille * step.demand >= 1000 * sv.unmet)
    else:
        sv.accepted = m.new_bool_var(f"accept[{order.order}]")
        m.add(sv.supplied >= step.demand).only_enforce_if(sv.accepted)
        for c in sv.campaigns:
            m.add_implication(c.present, sv.accepted)
        if step.started:
            m.add(sv.accepted == 1)
        elif not sv.campaigns:
            m.add(sv.accepted == 0)


def _completion(m: cp_model.CpModel, inst: Instance, sv: StepVars) -> None:
    """Completion is the end of the last final-step batch; lateness counts days past due."""
    order = sv.step.order
    due = inst.day(order.due)
    sv.completion = m.new_int_var(sv.step.completion_floor, inst.horizon, f"done[{order.order}]")
    for c in sv.campaigns:
        m.add(sv.completion >= c.last_batch_end()).only_enforce_if(c.present)
    sv.days_late = m.new_int_var(0, max(0, inst.horizon - due), f"late[{order.order}]")
    m.add(sv.days_late >= sv.completion - due)
    if sv.accepted is not None:
        m.add(sv.completion <= due).only_enforce_if(sv.accepted)


def fastest_completion(
    step: Step, demand: int, cap: int | None, not_before: int = 0, optimistic: bool = False
) -> int | None:
    """Earliest day a step could deliver `demand` units if its trains ran from their earliest day on.

    Ignores other orders, downtime and pool capacity, so it is a lower bound on completion; None when the
    options cannot deliver that much at all. With `cap` it counts the model's campaign slots per pool (a bound
    for the campaign model); with `cap=None` and `optimistic` every train of the pool and rounded-up output
    (a bound for any plan that obeys the rules).
    """
    if demand <= 0:
        return not_before
    events: list[tuple[int, int]] = []
    bd = step.product.batch_days
    for o in step.all_options if cap is None else step.options:
        cycle = bd + o.pool.turnaround_days
        first = max(o.earliest, not_before)
        counts_batches = step.final and step.order.unit == "batches"
        output = o.grams_ceil if optimistic and not counts_batches else o.output
        trains = o.pool.size if cap is None else min(cap, o.pool.size, o.max_batches)
        for _ in range(trains):
            for i in range(o.max_batches):
                end = first + i * cycle + bd
                if end > o.latest_end:
                    break
                events.append((end, output))
    events.sort()
    total = 0
    for end, output in events:
        total += output
        if total >= demand:
            return end
    return None


def rules_lower_bound(inst: Instance, weights: Weights) -> float:
    """A lower bound on the objective of *any* plan obeying rules 1-6, not just of campaign-model plans.

    Each firm order either is served in full — then it is at least as late as if it had every eligible
    train to itself from its earliest day (no downtime, no other orders) — or leaves at least one per-mille
    unmet. Changeover days are ≥ 0 and at most all tentative revenue can be won.
    """
    bound = 0.0
    revenue = 0.0
    by_order: dict[str, list[Step]] = {}
    for step in inst.steps:
        by_order.setdefault(step.order.order, []).append(step)
    for steps in by_order.values():
        final = next(s for s in steps if s.final)
        order = final.order
        if not order.firm:
            revenue += round(order.revenue) * weights.revenue_k
            continue
        done = _rules_completion(final, next((s for s in steps if s.name == "intermediate"), None))
        if done is None:
            bound += weights.unmet_permille
            continue
        late = max(0, done - inst.day(order.due)) * round(order.weight * weights.late_day)
        bound += min(late, weights.unmet_permille)
    return bound - revenue


def _rules_completion(final: Step, inter: Step | None) -> int | None:
    alone = fastest_completion(final, final.remaining, None, optimistic=True)
    if alone is None:
        return None
    alone = max(alone, final.completion_floor)
    if inter is None or final.remaining == 0:
        return alone
    product = final.product
    ratio = product.intermediate_kg_per_kg or 1.0
    if final.order.unit == "batches":
        kg = min((o.kg_per_batch for o in final.all_options), default=0.0)
        exact = final.remaining * kg * 1000 * ratio
    else:
        exact = (final.remaining - 1) * ratio  # remaining is the demand in grams rounded up
    need = math.ceil(exact - 1e-6) - _available_grams(inter)
    if need <= 0:
        return alone
    inter_done = fastest_completion(inter, need, None, optimistic=True)
    if inter_done is None:
        return None
    return max(alone, inter_done + (product.release_days or 0) + product.batch_days)


def _forced_lateness(m: cp_model.CpModel, inst: Instance, sv: StepVars, lower_completion: int | None) -> None:
    """Tell the LP the lateness no plan can avoid when a firm order is served in full (a valid cut).

    Without it the relaxation sees no cost in lateness and the reported bound is far from the plan.
    """
    if lower_completion is None or sv.unmet_permille is None or sv.days_late is None:
        return
    forced = lower_completion - inst.day(sv.step.order.due)
    if forced <= 0:
        return
    full = m.new_bool_var(f"full[{sv.step.order.order}]")
    m.add(sv.unmet_permille == 0).only_enforce_if(full)
    m.add(sv.unmet_permille >= 1).only_enforce_if(~full)
    m.add(sv.days_late >= forced).only_enforce_if(full)
    sv.full = full


def _adc_link(m: cp_model.CpModel, inst: Instance, conj: StepVars, inter: StepVars) -> None:
    """Rule 5: enough intermediate, released before and held no longer than allowed before conjugation.

    Sufficient for FIFO consumption: every conjugation batch starts ≥ release after the *last*
    intermediate end and ≤ max_hold after the *first* intermediate end, so any pairing is valid.
    """
    product = conj.step.product
    milli = ratio_milli(product)
    need = sum(c.option.grams_ceil * c.batches for c in conj.campaigns)
    stock = inter.step.stock_milli
    m.add(1000 * inter.supplied + stock >= milli * need)
    surplus = max((c.option.output for c in inter.campaigns), default=1)
    new = [c for c in inter.campaigns if c.chain is None]
    making = m.new_bool_var(f"int_made[{conj.step.order.order}]")
    m.add_max_equality(making, [c.present for c in new] or [0])
    m.add(1000 * inter.supplied + stock < milli * need + 1000 * surplus).only_enforce_if(making)
    name = conj.step.order.order
    first_end = inter.first_end = m.new_int_var(0, inst.horizon, f"int_first_end[{name}]")
    last_end = inter.last_end = m.new_int_var(inter.step.frozen_last_end, inst.horizon, f"int_last_end[{name}]")
    if stock > 0 and inter.step.stock_first_end is not None:
        m.add(first_end <= inter.step.stock_first_end)
    for c in inter.campaigns:
        m.add(first_end <= c.start + c.step.product.batch_days).only_enforce_if(c.present)
        m.add(last_end >= c.last_batch_end()).only_enforce_if(c.present)
    conj_present = sum(c.present for c in conj.campaigns)
    for c in new:
        m.add(conj_present >= 1).only_enforce_if(c.present)
    release, hold = product.release_days or 0, product.max_hold_days or 0
    for c in conj.campaigns:
        if c.chain is None:
            m.add(c.start >= last_end + release).only_enforce_if(c.present)
            m.add(c.last_batch_start() <= first_end + hold).only_enforce_if(c.present)
            continue
        # a running conjugation campaign: only the batches added after the as-of day are constrained
        grows = m.new_bool_var(f"grows[{c.interval.name}]")
        m.add(c.batches >= c.chain.frozen + 1).only_enforce_if(grows)
        m.add(c.batches == c.chain.frozen).only_enforce_if(~grows)
        m.add(c.start + c.cycle * c.chain.frozen >= last_end + release).only_enforce_if(grows)
        m.add(c.last_batch_start() <= first_end + hold).only_enforce_if(grows)


def _available_grams(inter: StepVars | Step | None) -> int:
    """Replan: grams of intermediate already there for new conjugation (stock, rounded up, plus chains)."""
    if inter is None:
        return 0
    step = inter.step if isinstance(inter, StepVars) else inter
    return -(-step.stock_milli // 1000) + step.chain_output


def _objective(m: cp_model.CpModel, pm: PlanModel) -> None:
    """Weighted sum realising the priority: unmet firm ≫ firm lateness ≫ tentative revenue ≫ changeovers."""
    w = pm.weights
    finals = [sv for sv in pm.steps.values() if sv.step.final]
    unmet = sum(sv.unmet_permille for sv in finals if sv.unmet_permille is not None)
    late = sum(round(sv.step.order.weight * w.late_day) * sv.days_late for sv in finals if sv.step.order.firm)
    revenue = sum(round(sv.step.order.revenue) * sv.accepted for sv in finals if sv.accepted is not None)
    changeover = sum(c.option.pool.changeover_days * c.present for c in pm.campaigns)
    pm.objective_terms = {
        "unmet_permille": unmet,
        "late": late,
        "revenue": revenue,
        "changeover_days": changeover,
    }
    pm.objective = w.unmet_permille * unmet + late - w.revenue_k * revenue + w.changeover_day * changeover
    if pm.instance.previous is not None:
        moved, shifted = _stability(m, pm)
        pm.objective_terms |= {"moved_batches": moved, "shifted_days": shifted}
        pm.objective += w.moved_batch * moved + w.shifted_day * shifted
    pm.revenue_total = w.revenue_k * sum(round(sv.step.order.revenue) for sv in finals if sv.accepted is not None)
    m.minimize(pm.objective)


def _stability(m: cp_model.CpModel, pm: PlanModel) -> tuple[cp_model.LinearExpr, cp_model.LinearExpr]:
    """Replan: batches the previous plan had in a campaign that no longer holds them, and days campaigns shifted.

    Slots of a (step, pool) are matched to the previous campaigns there in start order, the way the previous
    plan's hint fills them, so keeping the previous plan costs exactly zero; a running chain is matched to the
    batches the previous plan added to it. Previous campaigns beyond the slots count as moved in full.
    """
    inst = pm.instance
    previous = inst.previous or {}
    groups: dict[tuple, list[Campaign]] = {}
    for c in pm.campaigns:
        if c.chain is None:
            groups.setdefault((c.step.key, c.option.pool.id), []).append(c)
    moved_terms: list[cp_model.LinearExpr | int] = []
    shifted_terms: list[cp_model.IntVar] = []
    for key, runs in previous.items():
        slots = groups.get(key, [])
        runs = sorted(runs)
        moved_terms += [n for _, n in runs[len(slots):]]
        for c, (start, before) in zip(slots, runs, strict=False):
            lost = m.new_int_var(0, before, f"moved[{c.interval.name}]")
            m.add(lost >= before - c.batches)
            moved_terms.append(lost)
            shift = m.new_int_var(0, inst.horizon, f"shift[{c.interval.name}]")
            m.add(shift >= c.start - start).only_enforce_if(c.present)
            m.add(shift >= start - c.start).only_enforce_if(c.present)
            shifted_terms.append(shift)
    for c in pm.campaigns:
        before = inst.previous_extension.get(c.chain.train, 0) if c.chain is not None else 0
        if c.chain is not None and before:
            lost = m.new_int_var(0, before, f"moved[{c.interval.name}]")
            m.add(lost >= before - (c.batches - c.chain.frozen))
            moved_terms.append(lost)
    return sum(moved_terms), sum(shifted_terms)


def _lower_completion(final: StepVars, inter: StepVars | None, cap: int) -> int | None:
    """Lower bound on the completion of a fully served order (ADC: intermediate, release, then conjugation)."""
    step = final.step
    if inter is None:
        chained = any(c.chain is not None for c in final.campaigns)
        done = fastest_completion(step, step.remaining, None if chained else cap)
        return None if done is None else max(done, step.completion_floor)
    if step.remaining == 0:
        return step.completion_floor
    product = step.product
    grams = min((o.grams_ceil for o in step.options), default=0)
    need_grams = step.remaining * grams if step.order.unit == "batches" else step.remaining
    need = int(need_grams * (product.intermediate_kg_per_kg or 1.0)) - _available_grams(inter)
    chained = any(c.chain is not None for c in final.campaigns + inter.campaigns)
    cap_or_all = None if chained else cap
    inter_done = fastest_completion(inter.step, need, cap_or_all) if need > 0 else 0
    if inter_done is None:
        return None
    return fastest_completion(step, step.remaining, cap_or_all, inter_done + (product.release_days or 0))


def build_model(inst: Instance, weights: Weights, max_campaigns_per_pool: int = 3) -> PlanModel:
    """Build the full CP-SAT model for an expanded instance."""
    m = cp_model.CpModel()
    steps: dict[tuple[str, str], StepVars] = {}
    campaigns: list[Campaign] = []
    for step in inst.steps:
        sv = StepVars(step, _campaign_variables(m, inst, step, max_campaigns_per_pool))
        steps[step.key] = sv
        campaigns += sv.campaigns
    for chain in inst.chains:
        c = _chain_variables(m, inst, chain)
        steps[chain.step.key].campaigns.append(c)
        campaigns.append(c)
    pm = PlanModel(inst, weights, m, steps, campaigns)
    _campaign_shape(m, campaigns)
    _pool_capacity(m, inst, campaigns)
    for sv in steps.values():
        _step_output(m, sv)
    for sv in steps.values():
        if sv.step.final:
            _demand(m, inst, sv)
            _completion(m, inst, sv)
            inter = steps.get((sv.step.order.order, "intermediate"))
            if inter is not None:
                _adc_link(m, inst, sv, inter)
            _forced_lateness(m, inst, sv, _lower_completion(sv, inter, max_campaigns_per_pool))
    _objective(m, pm)
    return pm


def add_hints(pm: PlanModel, chosen: list[ChosenCampaign]) -> None:
    """Give CP-SAT a complete, feasible starting plan (e.g. the greedy one) so it never starts from nothing."""
    inst = pm.instance
    by_slot: dict[tuple, list[ChosenCampaign]] = {}
    on_chain: dict[str, ChosenCampaign] = {}
    for c in chosen:
        if c.train is not None:
            on_chain[c.train] = c
        else:
            by_slot.setdefault((c.step.key, c.option.pool.id), []).append(c)
    for group in by_slot.values():
        group.sort(key=lambda c: c.start)
    value: dict[int, tuple[int, int]] = {}
    for c in pm.campaigns:
        if c.chain is not None:
            hint = on_chain.get(c.chain.train)
            value[id(c)] = (c.chain.start, hint.batches if hint is not None else c.chain.frozen)
            continue
        group = by_slot.get((c.step.key, c.option.pool.id), [])
        if c.slot < len(group):
            value[id(c)] = (group[c.slot].start, group[c.slot].batches)
    for c in pm.campaigns:
        start, batches = value.get(id(c), (c.option.earliest, 0))
        m = pm.model
        if c.chain is not None:
            m.add_hint(c.batches, batches)
            m.add_hint(c.end, start + c.cycle * batches - c.option.pool.turnaround_days + c.option.tail)
            continue
        m.add_hint(c.present, batches > 0)
        m.add_hint(c.batches, batches)
        m.add_hint(c.start, start)
        size = c.cycle * batches - c.option.pool.turnaround_days + c.option.tail
        m.add_hint(c.end, start + size if batches else c.option.earliest)
    for sv in pm.steps.values():
        runs = [value[id(c)] for c in sv.campaigns if id(c) in value]
        ends = [s + (sv.step.product.batch_days + c.option.pool.turnaround_days) * n - c.option.pool.turnaround_days
                for c in sv.campaigns if id(c) in value for s, n in [value[id(c)]]]
        supplied = sum(c.option.output * value[id(c)][1] for c in sv.campaigns if id(c) in value)
        if sv.completion is not None:
            done = max([*ends, sv.step.completion_floor])
            pm.model.add_hint(sv.completion, done)
            pm.model.add_hint(sv.days_late, max(0, done - inst.day(sv.step.order.due)))
        if sv.unmet is not None:
            unmet = max(0, sv.step.demand - supplied)
            pm.model.add_hint(sv.unmet, unmet)
            pm.model.add_hint(sv.unmet_permille, -(-1000 * unmet // sv.step.demand) if sv.step.demand else 0)
            if sv.full is not None:
                pm.model.add_hint(sv.full, unmet == 0)
        if sv.accepted is not None:
            pm.model.add_hint(sv.accepted, sv.step.started or (bool(runs) and supplied >= sv.step.demand))
        if sv.first_end is not None:
            firsts = [s + sv.step.product.batch_days for c in sv.campaigns if id(c) in value for s, _ in [value[id(c)]]]
            stock = [sv.step.stock_first_end] if sv.step.stock_milli > 0 and sv.step.stock_first_end is not None else []
            pm.model.add_hint(sv.first_end, min([*firsts, *stock], default=0))
            pm.model.add_hint(sv.last_end, max([*ends, sv.step.frozen_last_end]))
