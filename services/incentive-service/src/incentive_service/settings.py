from pydantic import Field
from pydantic_settings import SettingsConfigDict

from attain_contracts.calendar import FiscalCalendar
from servicekit.settings import ServiceSettings


class IncentiveSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATTAIN_INCENTIVE_", extra="ignore")

    service_name: str = "incentive-service"
    # Names periods the way goal-service does: FY2026-Q1 starts in this month.
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    # Statements priced per transaction by the repricer.
    reprice_batch_size: int = Field(default=500, ge=1)

    def calendar(self) -> FiscalCalendar:
        return FiscalCalendar(fiscal_year_start_month=self.fiscal_year_start_month)
