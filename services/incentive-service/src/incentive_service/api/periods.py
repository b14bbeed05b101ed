"""A period as payroll sees it: price everyone (the payout run), close it, and
export its statements line by line."""

import csv
import io

from fastapi import APIRouter, Request
from fastapi.responses import Response

from incentive_service.api.models import PayoutRunPublic, PeriodClosed
from incentive_service.api.plans import calendar_of
from incentive_service.periods import close_period, payout_run
from incentive_service.statements import statement_id
from incentive_service.store import queries
from servicekit.app import UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Role, require_roles
from servicekit.problems import NotFound

router = APIRouter(tags=["periods"])
can_run = require_roles(Role.ADMIN, Role.PLANNER)
admins = require_roles(Role.ADMIN)

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
    "/periods/{period_key}/payout-run", dependencies=[can_run], response_model=PayoutRunPublic
)
async def run_payout(period_key: str, uow: UnitOfWorkDep, request: Request) -> PayoutRunPublic:
    """Price every statement of the period now; a re-run with nothing new changes nothing."""
    run = await payout_run(uow, calendar_of(request), period_key)
    await uow.commit()
    return PayoutRunPublic.model_validate(run, from_attributes=True)


@router.post("/periods/{period_key}/close", dependencies=[admins], response_model=PeriodClosed)
async def close(
    period_key: str, uow: UnitOfWorkDep, principal: CurrentPrincipal, request: Request
) -> PeriodClosed:
    run, badges = await close_period(uow, calendar_of(request), period_key, principal.subject)
    closed_at = uow.clock.now()
    await uow.commit()
    return PeriodClosed(
        **PayoutRunPublic.model_validate(run, from_attributes=True).model_dump(),
        closed_at=closed_at,
        badges_awarded=badges,
    )


@router.get("/periods/{period_key}/statements.csv", dependencies=[admins])
async def export_statements(period_key: str, uow: UnitOfWorkDep) -> Response:
    """One row per statement line, for payroll; a statement without lines is
    one row with an empty line, so nobody is missing from the file."""
    statements = await queries.statements_of_period(uow.session, period_key)
    if not statements:
        raise NotFound(f"no statements for {period_key}")
    names = {
        p.id: p.name for p in await queries.people(uow.session, [s.person_id for s in statements])
    }
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for statement in statements:
        base = [
            statement_id(statement.person_id, period_key),
            statement.person_id,
            names.get(statement.person_id, ""),
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
