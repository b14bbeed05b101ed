"""alert-service's store: every table and query, grouped by what they store, on
one unit of work's session (`uow.store.alerts.page(...)`)."""

from sqlalchemy.ext.asyncio import AsyncSession

from alert_service.store.alerts import Alerts
from alert_service.store.deliveries import Deliveries
from alert_service.store.goals import Goals, Progress
from alert_service.store.org import AlertOrg
from alert_service.store.rules import RuleSettings
from alert_service.store.subscriptions import Subscriptions
from alert_service.store.tables import Calendar
from servicekit.calendarcopy import CalendarCopy


class AlertStore:
    def __init__(self, session: AsyncSession) -> None:
        self.org = AlertOrg(session)
        self.goals = Goals(session)
        self.progress = Progress(session)
        self.alerts = Alerts(session)
        self.rules = RuleSettings(session)
        self.subscriptions = Subscriptions(session)
        self.deliveries = Deliveries(session)
        self.calendar = CalendarCopy(session, Calendar)
        """Our copy of the organisation's calendar: the working days rules count."""


__all__ = ["AlertStore"]
