"""The shared calendar copy against PostgreSQL: Monday to Friday (or the service's
default) before the first event, then the newest version; an equal or older
version changes nothing, the newest of a batch wins."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncSession

from attain_contracts import CalendarUpdated
from attain_contracts.calendar import FiscalCalendar
from servicekit.calendarcopy import CalendarColumns, CalendarCopy
from servicekit.db import create_engine, create_sessionmaker

pytestmark = pytest.mark.integration

METADATA = MetaData()
FESTIVAL = [date(2026, 2, day) for day in range(15, 24)]
MAKE_UP = [date(2026, 2, 14), date(2026, 2, 28)]


class KitCalendar(CalendarColumns, table=True):
    metadata = METADATA
    __tablename__ = "calendar"
    __table_args__ = {"schema": "kit_calendar"}


@pytest.fixture
async def session(module_database: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(module_database)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE SCHEMA IF NOT EXISTS kit_calendar"))
        await conn.run_sync(METADATA.create_all)
    async with create_sessionmaker(engine)() as session:
        yield session
        await session.rollback()
    await engine.dispose()


def updated(version: int, working_weekends: list[date], month: int = 1) -> CalendarUpdated:
    return CalendarUpdated(
        timezone="Asia/Shanghai",
        fiscal_year_start_month=month,
        holidays=FESTIVAL,
        working_weekends=working_weekends,
        version=version,
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


async def test_the_newest_calendar_wins_and_a_late_one_changes_nothing(
    session: AsyncSession,
) -> None:
    copy = CalendarCopy(session, KitCalendar)
    april = FiscalCalendar(fiscal_year_start_month=4)
    assert await copy.calendar(april) == april
    assert not (await copy.calendar()).is_working_day(date(2026, 2, 14))

    assert await copy.apply([updated(1, []), updated(2, MAKE_UP), updated(1, [], month=7)])
    held = await copy.calendar(april)
    assert held.timezone == "Asia/Shanghai" and held.fiscal_year_start_month == 1
    assert held.is_working_day(date(2026, 2, 14))
    assert not held.is_working_day(date(2026, 2, 17))
    assert held.working_week.working_days(date(2026, 2, 1), date(2026, 2, 28)) == 16

    assert not await copy.apply([updated(2, [])])  # redelivered
    assert not await copy.apply([updated(1, [])])  # late
    assert (await copy.calendar()).working_weekends == frozenset(MAKE_UP)
    assert await copy.apply([updated(3, [])])
    assert (await copy.calendar()).working_weekends == frozenset()
