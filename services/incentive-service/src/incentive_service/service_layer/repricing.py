"""Pricing statements again (DOMAIN.md §7): load what a batch of (person, period)
is priced from, price it, and keep what changed; closed periods are restated
instead. Also what a what-if estimate and a changed plan price."""

from collections.abc import Collection
from datetime import UTC, datetime, time, timedelta
from typing import cast

from attain_contracts.calendar import FiscalCalendar, Grain
from incentive_service.domain import pricing
from incentive_service.domain.plans import PlanTerms
from incentive_service.service_layer import Uow
from incentive_service.service_layer.loading import (
    Directory,
    Periods,
    Plans,
    load_directory,
    load_inputs,
    load_plans,
)
from incentive_service.service_layer.plan_periods import Key, plan_period
from incentive_service.service_layer.pricing import (
    Cutoff,
    Pricing,
    clawback_days,
    corrections,
    price,
)
from incentive_service.service_layer.writing import carry_forward, keep
from incentive_service.store.tables import ClosedPeriod, Plan
from servicekit.errors import Missing


async def reprice(
    uow: Uow, calendar: FiscalCalendar, keys: Collection[Key], *, period_held: bool = False
) -> int:
    """Price the given statements; how many changed. `period_held`: the caller
    holds their period exclusively (a payout run, a close), so nobody else
    prices them and no lock per statement is needed."""
    store = uow.store
    periods = {key: found for key in keys if (found := plan_period(calendar, key[1])) is not None}
    if not periods:
        return 0
    if not period_held:
        await store.periods.lock({key[1] for key in periods}, shared=True)
        await store.statements.lock(periods)
    closed = await store.periods.closed()
    plans = await load_plans(store)
    directory = await load_directory(store, {person for person, _ in periods})
    open_keys = {key: p for key, p in periods.items() if key[1] not in closed}
    closed_keys = {key: p for key, p in periods.items() if key[1] in closed}
    changed = 0
    if open_keys:
        inputs = await load_inputs(store, open_keys, plans, directory)
        changed += await keep(uow, price(open_keys, inputs, plans, cutoffs={}))
    if closed_keys:
        await _restate(uow, calendar, closed_keys, closed, plans, directory)
    return changed


async def reprice_queued(uow: Uow, calendar: FiscalCalendar, batch_size: int) -> tuple[int, int]:
    """Price up to a batch of queued statements: how many were taken, how many changed."""
    keys = await uow.store.queue.claim(batch_size)
    changed = await reprice(uow, calendar, keys) if keys else 0
    return len(keys), changed


async def _restate(
    uow: Uow,
    calendar: FiscalCalendar,
    keys: Periods,
    closed: dict[str, ClosedPeriod],
    plans: Plans,
    directory: Directory,
) -> None:
    """Price closed statements again, and carry any difference from what was
    paid into the next open period, within the plan's clawback window."""
    paid = await uow.store.statements.by_keys(keys)
    cutoffs = {}
    for key, (period, grain) in keys.items():
        days = clawback_days(plans, directory, key, period, grain)
        window_end = datetime.combine(period.end + timedelta(days=1 + days), time(), UTC)
        cutoffs[key] = Cutoff(closed[key[1]].last_credit_seq, window_end)
    inputs = await load_inputs(uow.store, keys, plans, directory)
    await carry_forward(
        uow,
        calendar,
        price(keys, inputs, plans, cutoffs),
        paid,
        closed,
        corrections(keys, inputs, cutoffs),
        cutoffs,
    )


async def estimate(
    uow: Uow, calendar: FiscalCalendar, key: Key, deals: list[pricing.Credit]
) -> tuple[Pricing, Pricing, PlanTerms | None]:
    """The statement as it stands and as it would with `deals` credited, and
    the terms that price it: nothing is stored."""
    found = plan_period(calendar, key[1])
    if found is None:
        raise ValueError(f"{key[1]} is not a month, quarter or year")
    keys = {key: found}
    plans = await load_plans(uow.store)
    directory = await load_directory(uow.store, [key[0]])
    inputs = await load_inputs(uow.store, keys, plans, directory)
    now, then = [
        next(iter(price(keys, inputs, plans, {}, extra)), None) for extra in ({}, {key: deals})
    ]
    if now is None or then is None or now.plan is None or now.effective_from is None:
        raise Missing(f"no plan applies to {key[0]} in {key[1]}")
    return now, then, plans.terms[(now.plan.id, now.effective_from)]


async def reprice_plan(uow: Uow, calendar: FiscalCalendar, plan: Plan) -> None:
    """After a plan or its terms changed: its open statements, and those of
    everyone it now applies to, for the current period of its kind too."""
    store = uow.store
    plans = await load_plans(store)
    directory = await load_directory(store)
    today = uow.clock.now().date()
    grain = cast(Grain, plan.period_kind)
    current = calendar.containing(today, grain)
    applies = [
        person.id
        for person in await store.org.people()
        if (found := plans.for_(directory.assignee(person.id, current.end), current, grain))
        and found[0].id == plan.id
    ]
    keys = set(await store.statements.open_keys(plan.id, applies))
    keys.update((person, current.key or "") for person in applies)
    await store.queue.enqueue(keys)
