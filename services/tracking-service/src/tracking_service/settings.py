from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class TrackingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATTAIN_TRACKING_", extra="ignore")

    service_name: str = "tracking-service"
    projection_batch_size: int = 5000
