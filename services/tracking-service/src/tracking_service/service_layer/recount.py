"""Every goal's live figures recounted from the ledger, and repaired on request.
Safe while the service runs: it holds the projector's lock, so it compares the
live figures with exactly the ledger rows already folded into them."""

from dataclasses import dataclass
from decimal import Decimal

from tracking_service.service_layer.unit import Unit


@dataclass(frozen=True)
class Recount:
    goals: int
    differences: list[tuple[str, Decimal, Decimal, Decimal, Decimal]]
    """(goal, live numerator, live denominator, ledger's numerator, ledger's denominator)"""


async def recount(uow: Unit, repair: bool) -> Recount:
    await uow.store.projection.lock()
    goals = await uow.store.projection.goal_count()
    differences = await uow.store.projection.differences()
    if repair:
        for goal_id, _, _, numerator, denominator in differences:
            await uow.store.projection.set_figures(goal_id, numerator, denominator)
    return Recount(goals, differences)
