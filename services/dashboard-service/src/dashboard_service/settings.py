from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings

# Where `make install` puts the npm packages (services/dashboard-service/assets/node_modules).
DEFAULT_VENDOR_DIR = Path(__file__).resolve().parents[2] / "assets" / "node_modules"


class DashboardSettings(ServiceSettings):
    """The dashboard keeps no business data: it needs the four APIs, the broker for
    live signals, and the secret the session cookie's token is signed with."""

    model_config = SettingsConfigDict(env_prefix="ATTAIN_DASHBOARD_", extra="ignore")

    service_name: str = "dashboard-service"
    goal_url: str = "http://127.0.0.1:8001"
    tracking_url: str = "http://127.0.0.1:8002"
    # Where CRMs reach tracking-service's webhooks, shown to admins registering a
    # source; empty: tracking_url (in production the public host, not the internal one).
    tracking_public_url: str = ""
    alert_url: str = "http://127.0.0.1:8003"
    incentive_url: str = "http://127.0.0.1:8004"
    upstream_timeout_seconds: float = Field(default=10, gt=0)
    # How long the org tree, the calendar and people's names are reused per token (0: not).
    read_cache_seconds: float = Field(default=30, ge=0)
    session_cookie: str = "attain_session"
    # Browsers keep Secure cookies on http://127.0.0.1 and localhost too, so this stays
    # on in development; turn it off only behind a proxy that serves plain http elsewhere.
    secure_cookie: bool = True
    locale_cookie: str = "attain_lang"
    default_locale: str = "zh"
    live_heartbeat_seconds: float = Field(default=15, gt=0)
    page_token_ttl_seconds: int = Field(default=12 * 3600, gt=0)
    vendor_dir: Path = DEFAULT_VENDOR_DIR
    # Production sign-in (service_layer/oidc.py): OpenID Connect's authorization code with PKCE
    # at the identity provider whose access tokens the APIs accept (jwt_jwks_url, jwt_issuer).
    # Left unset, a proxy in front signs people in and passes their token on instead.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    # None for a public client, which PKCE alone protects.
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid profile"
    # Where browsers reach the dashboard; the provider sends them back to its /sign-in/callback.
    public_url: str | None = None

    @property
    def page_token_ttl(self) -> timedelta:
        return timedelta(seconds=self.page_token_ttl_seconds)

    @property
    def development(self) -> bool:
        return self.environment in ("development", "test")

    @property
    def oidc_redirect_uri(self) -> str:
        return f"{(self.public_url or '').rstrip('/')}/sign-in/callback"

    @model_validator(mode="after")
    def _a_whole_oidc_client(self) -> "DashboardSettings":
        if self.oidc_issuer and not (self.oidc_client_id and self.public_url):
            raise ValueError("oidc_issuer needs oidc_client_id and public_url (the redirect URI)")
        return self
