from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class GoalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ATTAIN_GOAL_", extra="ignore")

    service_name: str = "goal-service"
    # Asked for history (weights, funnel rates, SMART checks) and progress (re-plans).
    tracking_url: str = "http://127.0.0.1:8002"
    tracking_timeout_seconds: float = 10.0
    # A scope with fewer won deals than this borrows its parent's funnel rates.
    funnel_min_deals: int = 20
    # A plan larger than this is refused; a planner splits it into several.
    max_plan_goals: int = 500_000
