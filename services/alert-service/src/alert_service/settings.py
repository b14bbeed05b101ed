from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from attain_contracts.types import Severity
from servicekit.settings import ServiceSettings


class AlertSettings(ServiceSettings):
    """Rule thresholds are not here: they are data (`/rules`), per metric, org
    unit or goal, with DOMAIN.md §6's defaults."""

    model_config = SettingsConfigDict(env_prefix="ATTAIN_ALERT_", extra="ignore")

    service_name: str = "alert-service"
    # DOMAIN.md §6: a critical alert nobody acknowledged goes to the owner's manager.
    escalation_delay_seconds: float = Field(default=24 * 3600, ge=0)
    # How often every active goal is evaluated, and due escalations sent.
    sweep_interval_seconds: float = Field(default=300, gt=0)
    # Deliveries wake on NOTIFY; this is the fallback poll and the retry clock.
    delivery_poll_seconds: float = Field(default=5, gt=0)
    delivery_batch_size: int = Field(default=50, ge=1)
    delivery_retry_base_seconds: float = Field(default=30, gt=0)
    # An owner with no subscription of their own is e-mailed from this severity up.
    default_min_severity: Severity = "warning"
    # Where a notification links to; {goal_id} is filled in.
    goal_link_template: str = "http://localhost:8001/goals/{goal_id}"
    http_timeout_seconds: float = Field(default=10, gt=0)
    # A replay of a past instant asks tracking-service for the progress as of then.
    tracking_url: str = "http://127.0.0.1:8002"
    tracking_timeout_seconds: float = Field(default=30, gt=0)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "attain@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
