"""Request and response models of alert-service's HTTP API."""

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

from attain_contracts.types import DecimalString


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvaluateRequest(Input):
    as_of: AwareDatetime


class AlertPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    goal_id: str
    owner_id: str
    rule: str
    severity: str
    status: str
    opened_at: datetime
    resolved_at: datetime | None
    as_of: datetime
    # Fixed-point: asyncpg reads an unscaled numeric 100000 as Decimal('1.0E+5').
    actual: DecimalString
    expected: DecimalString
    target: DecimalString
    pace: DecimalString | None
    message: str


class AlertsPublic(BaseModel):
    data: list[AlertPublic]
    count: int


class AlertChangePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    alert_id: str
    goal_id: str
    owner_id: str
    rule: str
    transition: str
    severity: str
    status: str


class EvaluationPublic(BaseModel):
    as_of: datetime
    evaluated: int
    data: list[AlertChangePublic]
    count: int
