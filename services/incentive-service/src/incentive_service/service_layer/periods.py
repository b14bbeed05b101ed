"""A period's whole population: the payout run (price every statement of a
period), closing it (lock its statements, award its badges), and its statements
for payroll."""

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from attain_contracts import Money, Period, StatementClosed
from attain_contracts.calendar import FiscalCalendar, Grain
from incentive_service.service_layer import Uow
from incentive_service.service_layer.badges import award_badges
from incentive_service.service_layer.loading import load_directory, load_plans
from incentive_service.service_layer.plan_periods import priced_period, statement_id
from incentive_service.service_layer.repricing import reprice
from incentive_service.store.tables import ClosedPeriod, Statement
from servicekit.clock import local_day
from servicekit.errors import Clash, Missing


@dataclass(frozen=True)
class PayoutRun:
    period_key: str
    statements: int
    changed: int
    total: Decimal
    digest: str  # equal on a re-run that found nothing new


async def payout_run(uow: Uow, calendar: FiscalCalendar, period_key: str) -> PayoutRun:
    """Price every person a plan applies to for the period, and every statement it already has."""
    store = uow.store
    period, grain = _plan_period(calendar, period_key)
    await store.periods.lock([period_key], shared=False)
    if period_key in await store.periods.closed():
        raise Clash(f"{period_key} is closed; its statements are locked", field="period_key")
    everyone = [person.id for person in await store.org.people()]
    plans = await load_plans(store)
    directory = await load_directory(store)
    keys = {
        (person_id, period_key)
        for person_id in everyone
        if plans.for_(directory.assignee(person_id, period.end), period, grain) is not None
    }
    keys.update((person, period_key) for person in await store.statements.people_in(period_key))
    changed = await reprice(uow, calendar, keys, period_held=True)
    priced = await store.statements.of_period(period_key)
    return PayoutRun(
        period_key=period_key,
        statements=len(priced),
        changed=changed,
        total=sum((s.total for s in priced), Decimal("0.00")),
        digest=_digest_of(priced),
    )


async def close_period(
    uow: Uow, calendar: FiscalCalendar, period_key: str, closed_by: str, *, force: bool = False
) -> tuple[PayoutRun, int]:
    """Price the period one last time, lock its statements, publish them as
    closed, and award its badges; the run and how many badges were awarded.
    A period that has not ended yet (by the organisation's calendar day) is
    closed only when `force`d: deals still to come in it would be corrections."""
    store = uow.store
    period, grain = _plan_period(calendar, period_key)
    now = uow.clock.now()
    today = local_day(now, calendar.timezone)
    if today <= period.end and not force:
        raise Clash(
            f"{period_key} has not ended: it runs until {period.end} and today is {today};"
            " close it early with force=true",
            field="force",
        )
    run = await payout_run(uow, calendar, period_key)
    await store.periods.add_closed(
        ClosedPeriod(
            period_key=period_key,
            period_kind=grain,
            period_start=period.start,
            period_end=period.end,
            closed_at=now,
            closed_by=closed_by,
            last_credit_seq=await store.credits.last_seq(),
        )
    )
    await store.statements.close(period_key, now)
    for statement in await store.statements.of_period(period_key):
        uow.publish(
            StatementClosed(
                statement_id=statement_id(statement.person_id, period_key),
                person_id=statement.person_id,
                period_key=period_key,
                total=Money(amount=statement.total, currency=statement.currency),
                closed_at=now,
            )
        )
    awarded = await award_badges(uow, calendar, period, grain)
    return run, awarded


@dataclass(frozen=True)
class PeriodExport:
    statements: list[Statement]
    names: dict[str, str]


async def statements_for_payroll(uow: Uow, period_key: str) -> PeriodExport:
    """The period's statements and the names of their people."""
    statements = await uow.store.statements.of_period(period_key)
    if not statements:
        raise Missing(f"no statements for {period_key}")
    people = await uow.store.org.people([s.person_id for s in statements])
    return PeriodExport(statements, {p.id: p.name for p in people})


def _plan_period(calendar: FiscalCalendar, period_key: str) -> tuple[Period, Grain]:
    return priced_period(
        calendar,
        period_key,
        field="period_key",
        refusal=f"{period_key} is not a month, quarter or year; plans price those",
    )


def _digest_of(statements: list[Statement]) -> str:
    content = "\n".join(
        f"{s.person_id} {s.digest}" for s in sorted(statements, key=lambda s: s.person_id)
    )
    return hashlib.sha256(content.encode()).hexdigest()
