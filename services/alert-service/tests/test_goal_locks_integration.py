"""A sweep of W locks every active goal (about 18,000) in one transaction: more
advisory locks than PostgreSQL's shared lock table holds, unless they are bucketed."""

from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from alert_service.store.goals import lock_goals

pytestmark = pytest.mark.integration


async def test_a_sweep_sized_set_of_goals_locks_in_one_transaction(
    fresh_database: Callable[[], str],
) -> None:
    engine = create_async_engine(fresh_database())
    try:
        async with AsyncSession(engine) as session, session.begin():
            await lock_goals(session, [f"goal_{i}" for i in range(40_000)])
    finally:
        await engine.dispose()
