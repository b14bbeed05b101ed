"""A period as payroll sees it: price everyone (the payout run), close it, and
export its statements line by line."""

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from incentive_service.api.dependencies import Calendar, Uow
from incentive_service.api.models import PayoutRunPublic, PeriodClosed
from incentive_service.service_layer.periods import (
    close_period,
    payout_run,
    statements_for_payroll,
)
from incentive_service.service_layer.plan_periods import statement_id
from servicekit import roles
from servicekit.auth import CurrentPrincipal

router = APIRouter(tags=["periods"])

CSV_COLUMNS = (
    "statement_id",
    "person_id",
    "person_name",
    "period_key",
    "status",
    "plan_id",
    "line",
    "kind",
    "component_id",
    "source",
    "basis",
    "rate",
    "amount",
    "currency",
    "formula",
)


@router.post(
    "/periods/{period_key}/payout-run", dependencies=[roles.shapers], response_model=PayoutRunPublic
)
async def run_payout(period_key: str, uow: Uow, calendar: Calendar) -> PayoutRunPublic:
    """Price every statement of the period now; a re-run with nothing new changes nothing."""
    run = await payout_run(uow, calendar, period_key)
    await uow.commit()
    return PayoutRunPublic.model_validate(run, from_attributes=True)


@router.post(
    "/periods/{period_key}/close", dependencies=[roles.admins], response_model=PeriodClosed
)
async def close(
    period_key: str,
    uow: Uow,
    principal: CurrentPrincipal,
    calendar: Calendar,
    force: Annotated[
        bool, Query(description="close a period that has not ended yet (refused otherwise)")
    ] = False,
) -> PeriodClosed:
    run, badges = await close_period(uow, calendar, period_key, principal.subject, force=force)
    closed_at = uow.clock.now()
    await uow.commit()
    return PeriodClosed(
        **PayoutRunPublic.model_validate(run, from_attributes=True).model_dump(),
        closed_at=closed_at,
        badges_awarded=badges,
    )


@router.get("/periods/{period_key}/statements.csv", dependencies=[roles.admins])
async def export_statements(period_key: str, uow: Uow) -> Response:
    """One row per statement line, for payroll; a statement without lines is
    one row with an empty line, so nobody is missing from the file."""
    export = await statements_for_payroll(uow, period_key)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for statement in export.statements:
        base = [
            statement_id(statement.person_id, period_key),
            statement.person_id,
            export.names.get(statement.person_id, ""),
            period_key,
            statement.status,
            statement.plan_id or "",
        ]
        if not statement.lines:
            writer.writerow([*base, "", "", "", "", "", "", "0.00", statement.currency, ""])
        for number, line in enumerate(statement.lines, start=1):
            writer.writerow(
                [
                    *base,
                    number,
                    line["kind"],
                    line["component_id"] or "",
                    line["source"],
                    line["basis"],
                    line["rate"] or "",
                    line["amount"],
                    statement.currency,
                    line["formula"],
                ]
            )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="statements-{period_key}.csv"'},
    )
