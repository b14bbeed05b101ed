"""Our copy of goal-service's org tree and people (servicekit's org copy), with
the people's names that leaderboards and exports show."""

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from incentive_service.store.tables import ORG, OrgUnit, Person
from servicekit.orgcopy import OrgCopy


class IncentiveOrg(OrgCopy[OrgUnit]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, ORG)

    async def people(self, person_ids: Collection[str] | None = None) -> list[Person]:
        # Refreshed: the org copy is written by SQL statements the session does not track.
        query = select(Person).order_by(col(Person.id)).execution_options(populate_existing=True)
        if person_ids is not None:
            query = query.where(col(Person.id).in_(person_ids))
        return list((await self.session.execute(query)).scalars())
