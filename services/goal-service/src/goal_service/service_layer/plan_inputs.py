"""What a plan fetches, each once per plan: the org (through `Scopes`), product
lines and people from the store, the children's proposals, and the history behind
weights, profiles and funnel rates from tracking-service."""

from datetime import date
from decimal import Decimal

from attain_contracts.calendar import year_before
from goal_service.clients.tracking import Statistics, TrackingClient
from goal_service.domain import funnel
from goal_service.service_layer import plan_requests as rq
from goal_service.service_layer.plan_scopes import Scope, Scopes
from goal_service.service_layer.plan_tree import Node
from goal_service.store import GoalStore
from goal_service.store.tables import ProductLine


class PlanInputs:
    def __init__(self, store: GoalStore, tracking: TrackingClient) -> None:
        self._store = store
        self._tracking = tracking
        self.scopes = Scopes(store)
        self._statistics: dict[tuple[str, date, date, str], Statistics] = {}
        self._proposals: dict[str, dict[str, Decimal]] = {}

    async def product_lines(self) -> dict[str, ProductLine]:
        return {line.id: line for line in await self._store.org.product_lines()}

    async def is_person(self, person_id: str) -> bool:
        return await self._store.org.person(person_id) is not None

    async def proposed(self, leaf: Node) -> dict[str, Decimal]:
        """The children's bottom-up proposals for an existing goal, by scope."""
        if leaf.existing is None:
            return {}
        if leaf.id not in self._proposals:
            rows = await self._store.plans.proposals(leaf.id)
            self._proposals[leaf.id] = {row.scope: row.value for row in rows}
        return self._proposals[leaf.id]

    async def history(
        self, leaf: Node, children: list[Scope], reference: rq.Window | None
    ) -> list[Decimal | None]:
        """Each child's actuals over the window (default: the same period a year earlier)."""
        window = reference or year_before(leaf.period)
        stats = await self._stats(leaf.org_unit_id, window.start, window.end, leaf.metric)
        by_kind = {"person": stats.by_person, "unit": stats.by_child, "line": stats.by_product_line}
        return [by_kind[child.kind].get(child.id) for child in children]

    async def last_year_by_month(self, leaf: Node) -> dict[int, Decimal]:
        """The leaf's actuals a year earlier, by month of the year."""
        last_year = year_before(leaf.period)
        stats = await self._stats(leaf.org_unit_id, last_year.start, last_year.end, leaf.metric)
        by_month: dict[int, Decimal] = {}
        for month, amount in stats.by_month.items():
            number = int(month[5:7])
            by_month[number] = by_month.get(number, Decimal(0)) + amount
        return by_month

    async def rates_chain(self, leaf: Node, start: date, end: date) -> list[funnel.Rates]:
        """Funnel rates of the leaf's unit and each unit above it, nearest first."""
        chain = []
        for unit_id in reversed(await self.scopes.path(leaf.org_unit_id)):
            stats = await self._stats(unit_id, start, end, "revenue")
            chain.append(_rates(await self.scopes.name_of(unit_id), stats))
        return chain

    async def _stats(self, unit_id: str, start: date, end: date, metric: str) -> Statistics:
        key = (unit_id, start, end, metric)
        if key not in self._statistics:
            self._statistics[key] = await self._tracking.statistics(unit_id, start, end, metric)
        return self._statistics[key]


def _rates(scope: str, stats: Statistics) -> funnel.Rates:
    def value(name: str) -> Decimal | None:
        rate = stats.rates.get(name)
        return rate.value if rate else None

    won = stats.rates.get("avg_deal_size")
    return funnel.Rates(
        avg_deal_size=value("avg_deal_size"),
        win_rate=value("win_rate"),
        lead_conversion=value("lead_conversion"),
        activities_per_opportunity=value("activities_per_opportunity"),
        sales_cycle_days=value("sales_cycle_days"),
        deals_sample=won.sample if won else 0,
        scope=scope,
    )
