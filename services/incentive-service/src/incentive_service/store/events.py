"""The integration events that describe a statement as it now is."""

from datetime import datetime

from attain_contracts import EarningsUpdated, Money
from incentive_service.store.queries import PeriodTotal


def earnings_updated(total: PeriodTotal, at: datetime) -> EarningsUpdated:
    return EarningsUpdated(
        statement_id=f"{total.person_id}:{total.period_key}",
        person_id=total.person_id,
        period_key=total.period_key,
        total=Money(amount=total.amount, currency=total.currency),
        version=total.lines,
        updated_at=at,
    )
