"""A flat-rate commission plan (DOMAIN.md §7, before tiers): every credited
amount earns the plan's one rate, each line rounded to the cent half-up."""

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol, TypeVar

CENT = Decimal("0.01")


class EffectiveDated(Protocol):
    """A plan version as far as choosing it goes: `effective_to` is exclusive, open when None."""

    @property
    def id(self) -> str: ...

    @property
    def effective_from(self) -> date: ...

    @property
    def effective_to(self) -> date | None: ...


PlanT = TypeVar("PlanT", bound=EffectiveDated)


def earning(amount: Decimal, rate: Decimal) -> Decimal:
    """The line for a credited amount. ROUND_HALF_UP rounds ties away from zero,
    so a reversal (the same amount, negated) earns exactly the negated line and
    the two net to zero."""
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def in_force(plan: EffectiveDated, day: date) -> bool:
    return plan.effective_from <= day and (plan.effective_to is None or day < plan.effective_to)


def plan_in_force(plans: Iterable[PlanT], day: date) -> PlanT | None:
    """The plan that prices a credit on `day`: of those in force, the one that took
    effect last. The id breaks a tie, so the choice never depends on list order."""
    candidates = [plan for plan in plans if in_force(plan, day)]
    return max(candidates, key=lambda plan: (plan.effective_from, plan.id), default=None)


def period_key(day: date) -> str:
    """The month a credit falls in, as the calendar names it (`2026-03`)."""
    return f"{day.year:04d}-{day.month:02d}"


def formula(base_amount: Decimal, rate: Decimal, amount: Decimal) -> str:
    """How a line was computed, for the person reading it:
    `12000.00 × 5% = 600.00`."""  # noqa: RUF002
    return f"{_money(base_amount)} × {_percent(rate)} = {_money(amount)}"  # noqa: RUF001


def _money(value: Decimal) -> str:
    # At least the cents, and every digit beyond them that was credited.
    shown = value.quantize(CENT) if value.as_tuple().exponent >= -2 else value  # type: ignore[operator]
    return format(shown, "f")


def _percent(rate: Decimal) -> str:
    return format((rate * 100).normalize(), "f") + "%"
