"""incentive-service's database: its tables and every query, grouped by what they
store, on one unit of work's session (`uow.store.statements.of_period(...)`)."""

from sqlalchemy.ext.asyncio import AsyncSession

from incentive_service.store.adjustments import AdjustmentQueries
from incentive_service.store.credits import CreditQueries
from incentive_service.store.goals import GoalQueries
from incentive_service.store.org import IncentiveOrg
from incentive_service.store.periods import PeriodQueries
from incentive_service.store.plans import PlanQueries
from incentive_service.store.queue import REPRICE_CHANNEL, QueueQueries
from incentive_service.store.recognition import BadgeQueries, ScorecardQueries
from incentive_service.store.statements import StatementQueries
from incentive_service.store.tables import Calendar
from servicekit.calendarcopy import CalendarCopy

__all__ = ["REPRICE_CHANNEL", "IncentiveStore"]


class IncentiveStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.org = IncentiveOrg(session)
        self.goals = GoalQueries(session)
        self.credits = CreditQueries(session)
        self.plans = PlanQueries(session)
        self.statements = StatementQueries(session)
        self.adjustments = AdjustmentQueries(session)
        self.periods = PeriodQueries(session)
        self.queue = QueueQueries(session)
        self.badges = BadgeQueries(session)
        self.scorecards = ScorecardQueries(session)
        self.calendar = CalendarCopy(session, Calendar)
        """Our copy of the organisation's calendar: fiscal periods and working days."""

    async def flush(self) -> None:
        """Write the rows changed so far, so the queries that follow see them."""
        await self._session.flush()
