"""Settings shared by every service. Each service subclasses `ServiceSettings`
with its own prefix (`ATTAIN_GOAL_`); a field not set under that prefix falls
back to the shared `ATTAIN_` one, so `ATTAIN_DATABASE_URL` configures all four."""

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEVELOPMENT_SECRET = "attain-development-secret-change-me"
# What an identity provider signs with: only keys it publishes can verify these. A shared-secret
# algorithm (HS256) or `none` would let anyone holding the secret, or nobody, mint tokens.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)


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
    # Production tokens come from the identity provider (servicekit.auth): verified with the keys
    # its JWKS URL publishes, cached briefly so a rotated or withdrawn key is seen within minutes.
    # Without a JWKS URL (development and test only) tokens are HS256 with jwt_secret.
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_algorithms: Annotated[list[str], NoDecode] = ["RS256", "ES256"]
    jwt_jwks_cache_seconds: float = 300
    # A token naming an unknown key refetches the JWKS, at most once in this long: tokens
    # with made-up key ids must not turn into a flood of requests to the provider.
    jwt_jwks_refetch_cooldown_seconds: float = 30
    # A service that reads another's API (servicekit.upstream) signs in as itself where tokens
    # come from the provider: OAuth 2.0 client credentials at this token URL, a client per
    # service (ATTAIN_GOAL_OAUTH_CLIENT_ID, ...) whose tokens carry the `viewer` role.
    oauth_token_url: str | None = None
    oauth_client_id: str | None = None
    oauth_client_secret: SecretStr | None = None
    # Off makes a web replica: it serves the API and writes its events to the outbox, and runs no
    # relay, consumers, retention or service workers. A worker replica beside it (the same image
    # with this on) does those; both are woken by PostgreSQL's NOTIFY, so a deal's progress does
    # not wait on the replica that took its webhook. Splitting them gives each its own core.
    background_work: bool = True
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
    # Retention (servicekit.retention): published outbox rows and inbox rows older than this many
    # days are deleted, every interval, in batches. Never below the topics' retention
    # (TopicSettings, 7 days): the inbox must outlive every record a consumer may read again.
    retention_days: int = Field(default=7, ge=1)
    retention_interval_seconds: float = Field(default=3600, gt=0)
    retention_batch_size: int = Field(default=5000, ge=1)
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

    @field_validator("jwt_algorithms", mode="before")
    @classmethod
    def _algorithms_from_a_list_or_commas(cls, value: object) -> object:
        # ATTAIN_JWT_ALGORITHMS=RS256,ES256 reads as an operator writes it.
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @model_validator(mode="after")
    def _no_default_secret_outside_development(self) -> "ServiceSettings":
        if self.environment == "production" and (
            self.jwt_secret.get_secret_value() == DEVELOPMENT_SECRET
        ):
            raise ValueError("jwt_secret must be set outside development")
        return self

    @model_validator(mode="after")
    def _identity_provider_tokens_in_production(self) -> "ServiceSettings":
        if self.environment == "production" and not (self.jwt_jwks_url and self.jwt_issuer):
            raise ValueError(
                "jwt_jwks_url and jwt_issuer must be set in production: "
                "HS256 tokens with the shared secret are for development and tests only"
            )
        if self.jwt_jwks_url and not self.jwt_issuer:
            raise ValueError("jwt_jwks_url needs jwt_issuer: every token's `iss` is checked")
        if self.jwt_jwks_url:
            allowed = ", ".join(sorted(ASYMMETRIC_ALGORITHMS))
            refused = sorted(set(self.jwt_algorithms) - ASYMMETRIC_ALGORITHMS)
            if refused:
                raise ValueError(
                    f"jwt_algorithms refuses {', '.join(refused)} with a JWKS URL: "
                    f"only public-key algorithms ({allowed})"
                )
            if not self.jwt_algorithms:
                raise ValueError(f"jwt_algorithms must name at least one of {allowed}")
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
