"""Value types every event uses, so money and periods read the same everywhere."""

from collections.abc import Callable
from datetime import date, datetime
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_UP, Context, Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    field_serializer,
    model_validator,
)

from attain_contracts.progress import formula

DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"

# Money and quantities travel as decimal strings: a JSON number would be read
# back as a float by most consumers and lose cents.
DecimalString = Annotated[
    Decimal,
    PlainSerializer(lambda value: format(value, "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN}),
]

# --- How a figure is written -------------------------------------------------------
# Storage and arithmetic keep their precision; only the written form is fixed, the
# same in every API response and event: money in its currency's minor units, counts
# as whole numbers, ratios (attainment, pace, rates, shares) at RATIO_PLACES.

# ISO 4217 exponents that are not 2; any other code, and money whose currency the
# record does not carry, is written with 2.
MINOR_UNITS: dict[str, int] = {
    "BHD": 3,
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "RWF": 0,
    "TND": 3,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
}
DEFAULT_MINOR_UNITS = 2
RATIO_PLACES = 4
QUANTITY_PLACES = 2

FigureKind = Literal["money", "count", "ratio", "quantity"]

# What a goal metric's figures (actual, target, expected, projection) are: the
# catalog of DOMAIN.md §2. A metric outside it counts ledger rows.
MONEY_METRICS = frozenset({"revenue", "collections", "avg_deal_size"})
RATIO_METRICS = frozenset({"win_rate", "lead_conversion"})
AVERAGE_METRICS = frozenset({"sales_cycle_days"})


def minor_units(currency: str | None) -> int:
    return MINOR_UNITS.get(currency, DEFAULT_MINOR_UNITS) if currency else DEFAULT_MINOR_UNITS


# Wide enough for every digit of any result (precision bounds digits, it costs nothing).
_WIDE = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, rounding=ROUND_HALF_UP)
_UNITS: dict[int, Decimal] = {}


def write_places(value: Decimal, places: int) -> str:
    """`value` rounded half up to `places` decimals, without exponent or negative zero."""
    unit = _UNITS.get(places)
    if unit is None:
        unit = _UNITS[places] = Decimal(1).scaleb(-places)
    rounded = value.quantize(unit, context=_WIDE)
    if rounded.is_zero():
        rounded = abs(rounded)
    return format(rounded, "f")


def write_money(value: Decimal, currency: str | None = None) -> str:
    return write_places(value, minor_units(currency))


def write_count(value: Decimal) -> str:
    return write_places(value, 0)


def write_ratio(value: Decimal) -> str:
    return write_places(value, RATIO_PLACES)


def metric_kind(metric: str) -> FigureKind:
    if metric in MONEY_METRICS:
        return "money"
    if metric in RATIO_METRICS:
        return "ratio"
    if metric in AVERAGE_METRICS:
        return "quantity"
    return "count"


def write_numerator(value: Decimal | None, metric: str) -> str | None:
    """What a ratio or average metric divides (revenue for the average deal size,
    deals won for the win rate); a summed metric's numerator is its actual."""
    parts = formula(metric)
    return write_metric(value, parts.numerator[0] if parts.is_ratio else metric)


def write_instant(value: datetime) -> str:
    """An aware instant as the models write it: ISO 8601, UTC as `Z` (offsets of whole minutes,
    as every time zone has had since 1972)."""
    written = value.isoformat()
    return written[:-6] + "Z" if written.endswith("+00:00") else written


def write_figure(value: Decimal, kind: FigureKind, currency: str | None = None) -> str:
    if kind == "money":
        return write_money(value, currency)
    if kind == "ratio":
        return write_ratio(value)
    if kind == "count":
        return write_count(value)
    return write_places(value, QUANTITY_PLACES)


def write_metric(value: Decimal | None, metric: str, currency: str | None = None) -> str | None:
    """A figure of a goal metric (actual, target, expected, projection), as the
    metric reads: money, a count, a ratio or an average."""
    return None if value is None else write_figure(value, metric_kind(metric), currency)


# The written form's schema, for a model's own `field_serializer` that picks the
# writer from another field (a goal metric's figures, money beside its currency).
DecimalText = Annotated[str, WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN})]


def _writer(write: Callable[[Decimal], str], description: str) -> list[object]:
    return [
        PlainSerializer(write, return_type=str, when_used="json"),
        WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN, "description": description}),
    ]


# Read as any decimal (as DecimalString), written the one way.
MoneyString = Annotated[
    Decimal, *_writer(write_money, "money, in the minor units of its currency (2 when not given)")
]
CountString = Annotated[Decimal, *_writer(write_count, "a count: a whole number")]
RatioString = Annotated[Decimal, *_writer(write_ratio, f"a ratio, at {RATIO_PLACES} places")]

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

    @field_serializer("amount", when_used="json")
    def _write_amount(self, amount: Decimal) -> DecimalText:
        return write_money(amount, self.currency)


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
