"""Rule settings: each rule's parameters per scope."""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from alert_service.store.tables import RuleSetting


class RuleSettings:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def all(self) -> list[RuleSetting]:
        return list((await self._session.execute(select(RuleSetting))).scalars())

    async def one(self, setting_id: str) -> RuleSetting | None:
        return await self._session.get(RuleSetting, setting_id)

    async def add(self, setting: RuleSetting) -> bool:
        """False when the rule already has a setting for that scope."""
        self._session.add(setting)
        try:
            await self._session.flush()
        except IntegrityError:
            return False
        return True

    async def delete(self, setting: RuleSetting) -> None:
        await self._session.delete(setting)
