"""The figures planning needs from history (DOMAIN.md §5.1, §5.2 and §5.6), each
with the sample behind it, so a planner can tell a rate from an accident."""

from dataclasses import dataclass
from decimal import Decimal

from attain_contracts.progress import PLACES


@dataclass(frozen=True)
class Rate:
    value: Decimal | None
    numerator: Decimal
    denominator: Decimal
    sample: int


def rate(numerator: Decimal, denominator: Decimal, sample: Decimal | None = None) -> Rate:
    """`numerator / denominator` (None without a sample); `sample` is how many
    observations stand behind it (the denominator unless given)."""
    observed = denominator if sample is None else sample
    value = None if denominator == 0 else (numerator / denominator).quantize(PLACES)
    return Rate(value, numerator, denominator, int(observed))


def funnel_rates(totals: dict[str, Decimal]) -> dict[str, Rate]:
    def total(metric: str) -> Decimal:
        return totals.get(metric, Decimal(0))

    won, lost = total("deals_won"), total("deals_lost")
    return {
        "avg_deal_size": rate(total("revenue"), won),
        "win_rate": rate(won, won + lost),
        "lead_conversion": rate(total("opportunities_created"), total("leads_created")),
        "activities_per_opportunity": rate(total("activities"), total("opportunities_created")),
        "sales_cycle_days": rate(total("sales_cycle_days"), won),
    }
