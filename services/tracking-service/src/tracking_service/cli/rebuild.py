"""Recompute every goal's progress from the ledger and report where it differs
from the live figures: `python -m tracking_service.cli.rebuild [--repair]`.

Safe while the service runs: it holds the projector's lock, so it compares the
live figures with exactly the ledger rows already folded into them."""

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from decimal import Decimal

from servicekit.clock import SystemClock
from servicekit.db import create_engine, create_sessionmaker
from servicekit.uow import UnitOfWork
from tracking_service.service_layer.ingest import credit_all_new_customers
from tracking_service.service_layer.recount import recount
from tracking_service.settings import TrackingSettings
from tracking_service.store import TrackingStore
from tracking_service.store.tables import MESSAGING

SHOWN = 20


@dataclass(frozen=True)
class Rebuild:
    goals: int
    differences: list[tuple[str, Decimal, Decimal, Decimal, Decimal]]
    seconds: float


async def rebuild(
    database_url: str,
    repair: bool = False,
    new_customers: bool = False,
    base_currency: str = "CNY",
) -> Rebuild:
    engine = create_engine(database_url)
    unit = UnitOfWork(
        create_sessionmaker(engine),
        MESSAGING,
        source="/attain/tracking-service/rebuild",
        clock=SystemClock(),
        store=TrackingStore,
    )
    try:
        if new_customers:
            # Its rows go to the projector's queue: the recount compares what it folded.
            async with unit as uow:
                await credit_all_new_customers(uow, base_currency)
                await uow.commit()
        async with unit as uow:
            started = time.perf_counter()
            result = await recount(uow, repair)
            await uow.commit()
            return Rebuild(result.goals, result.differences, time.perf_counter() - started)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None, help="default: ATTAIN_DATABASE_URL")
    parser.add_argument("--repair", action="store_true", help="set live figures to the ledger's")
    parser.add_argument(
        "--new-customers",
        action="store_true",
        help="first credit new_customers to each customer's first won deal as recorded",
    )
    args = parser.parse_args()
    settings = TrackingSettings()
    url = args.database_url or settings.database_url
    result = asyncio.run(rebuild(url, args.repair, args.new_customers, settings.base_currency))
    print(f"goals: {result.goals}")
    print(f"differences: {len(result.differences)}")
    for goal_id, n, d, rn, rd in result.differences[:SHOWN]:
        print(f"  {goal_id}: live {n}/{d}, ledger {rn}/{rd}")
    print(f"seconds: {result.seconds:.2f}")
    if result.differences and not args.repair:
        sys.exit(1)


if __name__ == "__main__":
    main()
