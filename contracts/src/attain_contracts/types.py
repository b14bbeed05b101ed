"""Value types every event uses, so money and periods read the same everywhere."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"

# Money and quantities travel as decimal strings: a JSON number would be read
# back as a float by most consumers and lose cents.
DecimalString = Annotated[
    Decimal,
    PlainSerializer(lambda value: format(value, "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN}),
]

# Validated as well as documented: a producer must not emit a code that the
# published schema rejects.
CurrencyCode = Annotated[
    str,
    StringConstraints(pattern=CURRENCY_PATTERN),
    WithJsonSchema({"type": "string", "pattern": CURRENCY_PATTERN, "description": "ISO 4217"}),
]

Direction = Literal["higher_is_better", "lower_is_better"]
Severity = Literal["info", "warning", "critical"]


class ContractModel(BaseModel):
    """Immutable; unknown fields are ignored so that additive changes within a
    version never break an older consumer."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Money(ContractModel):
    amount: DecimalString
    currency: CurrencyCode


class Period(ContractModel):
    """A goal's time box: `start` and `end` are both inclusive dates in the
    organisation's time zone; `key` is the calendar name when it has one."""

    key: str | None = None
    start: date
    end: date

    @model_validator(mode="after")
    def _end_not_before_start(self) -> "Period":
        if self.end < self.start:
            raise ValueError("period end is before its start")
        return self


class Milestone(ContractModel):
    on: date
    cumulative_target: DecimalString


class Membership(ContractModel):
    """A person's membership of one org unit, `valid_to` exclusive (open when None)."""

    org_unit_id: str
    valid_from: date
    valid_to: date | None = None
