"""Settings shared by every service. Each service subclasses `ServiceSettings`
with its own prefix (`ATTAIN_GOAL_`); a field not set under that prefix falls
back to the shared `ATTAIN_` one, so `ATTAIN_DATABASE_URL` configures all four."""

from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEVELOPMENT_SECRET = "attain-development-secret-change-me"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATTAIN_", extra="ignore")

    service_name: str = "attain"
    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/attain"
    database_pool_size: int = 10
    kafka_bootstrap: str = "127.0.0.1:9092"
    # On for Apache Kafka; the devstack turns it off for Tansu, which has no idempotent producer
    # for aiokafka (ARCHITECTURE.md). Consumers never rely on it: their inbox drops duplicates.
    kafka_idempotent_producer: bool = True
    jwt_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    jwt_audience: str = "attain"
    outbox_poll_seconds: float = 1.0
    outbox_batch_size: int = 500
    # A consumer group join waits for members' sessions; shorter sessions make
    # rebalances (and a dead replica's partitions moving on) faster. Apache Kafka accepts
    # sessions between its group.min.session.timeout.ms (6 s by default) and
    # group.max.session.timeout.ms (30 min); the heartbeat must be well under the session.
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    consumer_batch_size: int = 500
    consumer_max_attempts: int = 5
    consumer_retry_backoff_seconds: float = 0.2
    # Request bodies (servicekit.limits): plain JSON, the batch endpoint (10,000 records of a
    # few hundred bytes each, with room), and file imports.
    max_body_bytes: int = 1024 * 1024
    max_bulk_body_bytes: int = 32 * 1024 * 1024
    max_import_body_bytes: int = 8 * 1024 * 1024
    max_json_depth: int = 32
    # Rate limits (servicekit.ratelimit), per replica: generous, so a CRM's burst and a busy
    # dashboard never meet them; failed authentications alone are held tight.
    rate_limit_webhook_per_second: float = 2000
    rate_limit_webhook_burst: int = 20_000
    rate_limit_api_per_second: float = 200
    rate_limit_api_burst: int = 2000
    rate_limit_failed_auth_per_second: float = 1
    rate_limit_failed_auth_burst: int = 30
    base_currency: str = "CNY"
    timezone: str = "UTC"
    log_level: str = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        shared = EnvSettingsSource(settings_cls, env_prefix="ATTAIN_")
        return init_settings, env_settings, shared, dotenv_settings, file_secret_settings

    @model_validator(mode="after")
    def _no_default_secret_outside_development(self) -> "ServiceSettings":
        if self.environment == "production" and (
            self.jwt_secret.get_secret_value() == DEVELOPMENT_SECRET
        ):
            raise ValueError("jwt_secret must be set outside development")
        return self


class TopicSettings(BaseSettings):
    """How `python -m servicekit.topics` creates the Attain topics (`ATTAIN_TOPIC_…`)."""

    model_config = SettingsConfigDict(env_prefix="ATTAIN_TOPIC_", extra="ignore")

    # Partitions bound how many replicas of a consumer group share the work (ARCHITECTURE.md).
    partitions: int = 6
    replication_factor: int = 1
    retention_ms: int = 7 * 24 * 3600 * 1000
    # Dead letters wait for a person to look at them: longer than a holiday.
    dead_letter_retention_ms: int = 30 * 24 * 3600 * 1000
