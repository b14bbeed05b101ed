"""tracking-service's store: every table and query, grouped by what it stores, on
one unit of work's session (`uow.store.ledger.append(...)`)."""

from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.calendarcopy import CalendarCopy
from tracking_service.store.figures import Figures
from tracking_service.store.fx import Rates
from tracking_service.store.goals import Goals
from tracking_service.store.ledger import Ledger
from tracking_service.store.org import Org
from tracking_service.store.projection import Projection
from tracking_service.store.records import Records
from tracking_service.store.sources import Sources
from tracking_service.store.statistics import Statistics
from tracking_service.store.tables import ORG, Calendar


class TrackingStore:
    def __init__(self, session: AsyncSession) -> None:
        self.sources = Sources(session)
        """The CRMs that push to us."""
        self.records = Records(session)
        """CRM records, their versions, the parked ones."""
        self.ledger = Ledger(session)
        """The ledger rows and the projection queue."""
        self.rates = Rates(session)
        """FX rates."""
        self.goals = Goals(session)
        """Our copy of the goals, with their live figures."""
        self.figures = Figures(session)
        """The ledger summed for one goal."""
        self.projection = Projection(session)
        """Folding the ledger into goals' live figures, and recounting them."""
        self.statistics = Statistics(session)
        """Ledger aggregates over an org unit's subtree."""
        self.org = Org(session, ORG)
        """Our copy of the org tree and memberships."""
        self.calendar = CalendarCopy(session, Calendar)
        """Our copy of the organisation's calendar: the working days progress counts."""
