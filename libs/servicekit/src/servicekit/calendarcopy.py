"""The copy of goal-service's organisation calendar that tracking, alert and
incentive keep in their own schemas, from `CalendarUpdated`: one row, the newest
version wins (as with the org copy, servicekit.orgcopy), so a redelivered or late
event changes nothing. Read back as the `FiscalCalendar` every working-day
computation counts on; before the first event, the service's default applies.

A service declares its table on `CalendarColumns`, in its own schema."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Date, Table
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, select

from attain_contracts import CalendarUpdated
from attain_contracts.calendar import FiscalCalendar

ROW_ID = 1


class CalendarColumns(SQLModel):
    id: int = Field(default=ROW_ID, primary_key=True)
    timezone: str
    fiscal_year_start_month: int
    holidays: list[date] = Field(sa_type=ARRAY(Date))
    working_weekends: list[date] = Field(sa_type=ARRAY(Date))
    version: int


class CalendarCopy:
    """The calendar copy on one session."""

    def __init__(self, session: AsyncSession, model: type[CalendarColumns]) -> None:
        self.session = session
        self.model = model

    @property
    def _table(self) -> Table:
        return self.model.__table__  # type: ignore[attr-defined]

    async def apply(self, events: Sequence[CalendarUpdated]) -> bool:
        """The newest event applied where it is newer than the copy; whether it was."""
        if not events:
            return False
        newest = max(events, key=lambda event: event.version)
        row = {
            "id": ROW_ID,
            "timezone": newest.timezone,
            "fiscal_year_start_month": newest.fiscal_year_start_month,
            "holidays": sorted(set(newest.holidays)),
            "working_weekends": sorted(set(newest.working_weekends)),
            "version": newest.version,
        }
        stmt = insert(self._table).values(row)
        upsert = stmt.on_conflict_do_update(
            index_elements=[self._table.c.id],
            set_={name: stmt.excluded[name] for name in row if name != "id"},
            where=self._table.c.version < stmt.excluded.version,
        ).returning(self._table.c.id)
        return (await self.session.execute(upsert)).first() is not None

    async def calendar(self, default: FiscalCalendar | None = None) -> FiscalCalendar:
        """The organisation's calendar as last heard, else `default` (Monday to Friday, UTC)."""
        query = select(self.model).execution_options(populate_existing=True)
        row = (await self.session.execute(query)).scalars().first()
        if row is None:
            return default or FiscalCalendar()
        return FiscalCalendar(
            timezone=row.timezone,
            fiscal_year_start_month=row.fiscal_year_start_month,
            holidays=frozenset(row.holidays),
            working_weekends=frozenset(row.working_weekends),
        )
