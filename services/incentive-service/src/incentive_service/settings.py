from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class IncentiveSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATTAIN_INCENTIVE_", extra="ignore")

    service_name: str = "incentive-service"
