from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class GoalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATTAIN_GOAL_", extra="ignore")

    service_name: str = "goal-service"
