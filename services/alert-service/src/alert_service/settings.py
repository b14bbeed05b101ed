from decimal import Decimal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class AlertSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATTAIN_ALERT_", extra="ignore")

    service_name: str = "alert-service"
    # DOMAIN.md §6, rule `pace`: warning below 1 - 10%, critical below 1 - 25%,
    # silent during the first 15% of the period.
    pace_threshold: Decimal = Field(default=Decimal("0.10"), gt=0, lt=1)
    pace_critical_threshold: Decimal = Field(default=Decimal("0.25"), gt=0, lt=1)
    pace_grace_share: Decimal = Field(default=Decimal("0.15"), ge=0, lt=1)

    @model_validator(mode="after")
    def _critical_beyond_warning(self) -> "AlertSettings":
        if self.pace_critical_threshold <= self.pace_threshold:
            raise ValueError("pace_critical_threshold must be larger than pace_threshold")
        return self
