from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class TrackingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATTAIN_TRACKING_", extra="ignore")

    service_name: str = "tracking-service"
    projection_batch_size: int = 5000
    source_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="how long a replica keeps a source as read; another replica's change to it "
        "(a new secret) takes effect here within this time",
    )
    public_base_url: str | None = Field(
        default=None,
        description="how CRMs reach us (scheme and host), when behind a proxy: HubSpot signs it",
    )
