import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings

pytestmark = pytest.mark.unit


class GoalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATTAIN_GOAL_")


def test_service_prefix_wins_over_the_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTAIN_DATABASE_URL", "postgresql+asyncpg://shared/db")
    monkeypatch.setenv("ATTAIN_KAFKA_BOOTSTRAP", "shared:9092")
    monkeypatch.setenv("ATTAIN_GOAL_KAFKA_BOOTSTRAP", "goal:9092")
    settings = GoalSettings()
    assert settings.database_url == "postgresql+asyncpg://shared/db"
    assert settings.kafka_bootstrap == "goal:9092"


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTAIN_GOAL_ENVIRONMENT", "production")
    monkeypatch.setenv("ATTAIN_JWT_JWKS_URL", "https://id.example.com/jwks")
    monkeypatch.setenv("ATTAIN_JWT_ISSUER", "https://id.example.com")
    with pytest.raises(ValidationError, match="jwt_secret"):
        GoalSettings()
    monkeypatch.setenv("ATTAIN_JWT_SECRET", "a-real-secret")
    assert GoalSettings().environment == "production"


def test_production_refuses_to_start_without_the_identity_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ATTAIN_GOAL_ENVIRONMENT", "production")
    monkeypatch.setenv("ATTAIN_JWT_SECRET", "a-real-secret")
    with pytest.raises(ValidationError, match="jwt_jwks_url and jwt_issuer"):
        GoalSettings()
    monkeypatch.setenv("ATTAIN_JWT_JWKS_URL", "https://id.example.com/jwks")
    with pytest.raises(ValidationError, match="jwt_jwks_url and jwt_issuer"):
        GoalSettings()
    monkeypatch.setenv("ATTAIN_JWT_ISSUER", "https://id.example.com")
    assert GoalSettings().jwt_algorithms == ["RS256", "ES256"]


@pytest.mark.parametrize("algorithms", ["HS256", "RS256,HS256", "none", "ES256,HS512"])
def test_a_jwks_url_refuses_shared_secret_algorithms(
    monkeypatch: pytest.MonkeyPatch, algorithms: str
) -> None:
    monkeypatch.setenv("ATTAIN_GOAL_ENVIRONMENT", "production")
    monkeypatch.setenv("ATTAIN_JWT_SECRET", "a-real-secret")
    monkeypatch.setenv("ATTAIN_JWT_JWKS_URL", "https://id.example.com/jwks")
    monkeypatch.setenv("ATTAIN_JWT_ISSUER", "https://id.example.com")
    monkeypatch.setenv("ATTAIN_JWT_ALGORITHMS", algorithms)
    with pytest.raises(ValidationError, match="jwt_algorithms refuses"):
        GoalSettings()


def test_algorithms_are_read_as_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTAIN_JWT_ALGORITHMS", "ES256, RS256")
    assert GoalSettings().jwt_algorithms == ["ES256", "RS256"]


def test_a_jwks_url_needs_an_issuer_in_any_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTAIN_JWT_JWKS_URL", "https://id.example.com/jwks")
    with pytest.raises(ValidationError, match="needs jwt_issuer"):
        GoalSettings()
