"""The SMART check with the history it needs: last year's actuals and the best
month, asked of tracking-service, and last year's resources from the goal of
the same scope a year earlier. A tracking-service that does not answer turns
the history checks into one warning; it never blocks a planner."""

from datetime import timedelta
from decimal import Decimal

from attain_contracts import Period
from attain_contracts.calendar import year_before
from goal_service.clients.tracking import TrackingClient, TrackingUnavailable
from goal_service.domain import smart
from goal_service.domain.metrics import CATALOG
from goal_service.store import GoalStore
from goal_service.store.tables import Goal

BEST_MONTH_YEARS = 3


async def smart_findings(
    store: GoalStore, tracking: TrackingClient, goal: Goal, parent: Goal | None
) -> list[smart.Finding]:
    metric = CATALOG.get(goal.metric)
    period = Period(key=goal.period_key, start=goal.period_start, end=goal.period_end)
    draft = smart.Draft(
        owner_id=goal.owner_id,
        metric_known=metric is not None,
        target=goal.target,
        period=period,
        parent_period=(
            Period(start=parent.period_start, end=parent.period_end) if parent else None
        ),
        months=Decimal((period.end - period.start).days + 1) / Decimal("30.4375"),
        resources=smart.Resources(goal.budget, goal.headcount),
        lower_is_better=metric is not None and metric.lower_is_better,
    )
    summable = metric is not None and metric.kind in ("sum", "count")
    below = [c for c in await store.goals.children(goal.id) if c.metric == goal.metric]
    children = [c.target for c in below]
    # The children one split made share its stretch; they add up to target x it.
    stretches = {c.split_stretch for c in below if c.split_stretch is not None}
    stretch = stretches.pop() if len(stretches) == 1 else Decimal(1)
    row = await store.org.calendar_settings()
    ceiling = row.growth_ceiling if row else smart.GROWTH_CEILING

    def check(past: smart.History | None = None) -> list[smart.Finding]:
        return smart.check(
            draft,
            growth_ceiling=ceiling,
            history=past,
            children_targets=children,
            adds_up=summable,
            stretch=stretch,
            unit=goal.unit,
        )

    findings = check()
    if not summable or any(f.severity == "error" for f in findings):
        return findings
    try:
        past = await _history(store, tracking, goal, period)
    except TrackingUnavailable as error:
        return [*findings, smart.Finding("warning", "history_unavailable", "target", error.reason)]
    return check(past)


async def _history(
    store: GoalStore, tracking: TrackingClient, goal: Goal, period: Period
) -> smart.History:
    last_period = year_before(period)
    last = await tracking.statistics(
        goal.org_unit_id, last_period.start, last_period.end, goal.metric
    )
    last_year = last.by_person.get(goal.person_id, Decimal(0)) if goal.person_id else last.total
    best_month = None
    if goal.person_id is None:  # tracking keeps months per unit, not per person
        ever = await tracking.statistics(
            goal.org_unit_id,
            period.start - timedelta(days=365 * BEST_MONTH_YEARS),
            period.start - timedelta(days=1),
            goal.metric,
        )
        best_month = max(ever.by_month.values(), default=None)
    return smart.History(
        last_year=last_year or None,
        best_month=best_month or None,
        last_year_resources=await _resources_a_year_earlier(store, goal, last_period),
    )


async def _resources_a_year_earlier(
    store: GoalStore, goal: Goal, last_period: Period
) -> smart.Resources | None:
    earlier = await store.goals.of_scope_in(
        metric=goal.metric,
        org_unit_id=goal.org_unit_id,
        person_id=goal.person_id,
        period=last_period,
    )
    return smart.Resources(earlier.budget, earlier.headcount) if earlier else None
