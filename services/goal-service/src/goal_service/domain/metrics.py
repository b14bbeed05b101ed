"""The metrics catalog of DOMAIN.md §2: what can be measured, how, and which
direction is good."""

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Metric:
    key: str
    kind: Literal["sum", "count", "ratio", "average"]
    money: bool = False
    lower_is_better: bool = False

    @property
    def direction(self) -> Literal["higher_is_better", "lower_is_better"]:
        return "lower_is_better" if self.lower_is_better else "higher_is_better"


CATALOG: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("revenue", "sum", money=True),
        Metric("deals_won", "count"),
        Metric("new_customers", "count"),
        Metric("collections", "sum", money=True),
        Metric("leads_created", "count"),
        Metric("opportunities_created", "count"),
        Metric("activities", "count"),
        Metric("win_rate", "ratio"),
        Metric("lead_conversion", "ratio"),
        Metric("avg_deal_size", "ratio", money=True),
        Metric("sales_cycle_days", "average", lower_is_better=True),
    )
}
