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
    with pytest.raises(ValidationError, match="jwt_secret"):
        GoalSettings()
    monkeypatch.setenv("ATTAIN_JWT_SECRET", "a-real-secret")
    assert GoalSettings().environment == "production"
