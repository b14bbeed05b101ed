"""Admin: CRM sources, parked records, FX rates, incentive plans, payout runs,
closing a period and the payroll file. Every call carries the admin's token;
tracking- and incentive-service refuse anyone else (shown as not found)."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from dashboard_service.api.dependencies import Viewer, ViewerDep, render, requires, settings_of
from dashboard_service.clients import UpstreamRejected
from dashboard_service.domain.forms import FormError
from dashboard_service.service_layer import admin
from servicekit.auth import Role

router = APIRouter(tags=["admin"], dependencies=[requires(Role.ADMIN)])

SOURCE_KINDS = ("generic", "hubspot", "salesforce")


def _webhook_base(request: Request) -> str:
    settings = settings_of(request)
    return settings.tracking_public_url or settings.tracking_url


def _refusal(error: FormError | UpstreamRejected) -> dict[str, Any]:
    """What a form shows beside the field it names."""
    if isinstance(error, FormError):
        return {"field": error.field, "fault": str(error.fault), "detail": error.detail}
    problem = error.problem
    return {"field": problem.field, "fault": None, "detail": None, "problem": problem}


@router.get("/admin", name="admin_home")
async def sources_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    listed = await admin.sources(viewer.attain, _webhook_base(request))
    return render(
        request,
        viewer,
        "admin/sources.html",
        {"sources": listed, "kinds": SOURCE_KINDS, "form": {}, "refused": None},
    )


@router.post("/admin/sources", name="admin_register_source")
async def register_source(
    request: Request,
    viewer: ViewerDep,
    source_id: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "generic",
    secret: Annotated[str, Form()] = "",
    organization_id: Annotated[str, Form()] = "",
) -> Response:
    base = _webhook_base(request)
    try:
        saved = await admin.register_source(
            viewer.attain,
            base,
            source_id=source_id,
            name=name,
            kind=kind,
            secret=secret,
            organization_id=organization_id,
        )
    except (FormError, UpstreamRejected) as error:
        listed = await admin.sources(viewer.attain, base)
        form = {
            "source_id": source_id,
            "name": name,
            "kind": kind,
            "organization_id": organization_id,
        }
        return render(
            request,
            viewer,
            "admin/sources.html",
            {"sources": listed, "kinds": SOURCE_KINDS, "form": form, "refused": _refusal(error)},
            status_code=422,
        )
    target = request.app.url_path_for("admin_source", source_id=saved.id)
    return RedirectResponse(target, status_code=303)


@router.get("/admin/sources/{source_id}", name="admin_source")
async def source_page(request: Request, viewer: ViewerDep, source_id: str) -> HTMLResponse:
    found = await admin.source(viewer.attain, source_id, _webhook_base(request))
    return render(request, viewer, "admin/source.html", {"source": found})


@router.get("/admin/parked", name="admin_parked")
async def parked_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    waiting = await admin.parked(viewer.attain)
    return render(request, viewer, "admin/parked.html", {"parked": waiting})


@router.get("/admin/fx", name="admin_fx")
async def fx_page(
    request: Request,
    viewer: ViewerDep,
    currency: str = "USD",
    start: date | None = None,
    end: date | None = None,
) -> HTMLResponse:
    return await _fx_page(request, viewer, currency, start, end, stored=None, refused=None)


@router.post("/admin/fx", name="admin_add_rate")
async def add_rate(
    request: Request,
    viewer: ViewerDep,
    currency: Annotated[str, Form()] = "",
    on: Annotated[str, Form()] = "",
    rate: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        stored = await admin.add_rate(viewer.attain, currency=currency, on=on, rate=rate)
    except (FormError, UpstreamRejected) as error:
        form = {"currency": currency, "on": on, "rate": rate}
        return await _fx_page(
            request,
            viewer,
            currency or "USD",
            None,
            None,
            stored=None,
            refused=_refusal(error),
            form=form,
            status_code=422,
        )
    return await _fx_page(
        request, viewer, currency.strip().upper(), None, None, stored=stored, refused=None
    )


async def _fx_page(
    request: Request,
    viewer: ViewerDep,
    currency: str,
    start: date | None,
    end: date | None,
    *,
    stored: dict[str, Any] | None,
    refused: dict[str, Any] | None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    today = date.today()  # noqa: DTZ011 - only the default end of the listed range
    try:
        view = await admin.fx_rates(viewer.attain, currency, start, end, today)
    except UpstreamRejected as error:
        view = admin.FxView(currency, start or today, end or today, [])
        refused = refused or _refusal(error)
        status_code = 422
    return render(
        request,
        viewer,
        "admin/fx.html",
        {"fx": view, "stored": stored, "refused": refused, "form": form or {}},
        status_code=status_code,
    )


@router.get("/admin/plans", name="admin_plans")
async def plans_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    listed = await admin.plans(viewer.attain)
    return render(
        request, viewer, "admin/plans.html", {"plans": listed, "form": {}, "refused": None}
    )


@router.post("/admin/plans", name="admin_save_plan")
async def save_plan(
    request: Request,
    viewer: ViewerDep,
    plan_id: Annotated[str, Form()] = "",
    plan_json: Annotated[str, Form()] = "",
    effective_from: Annotated[str, Form()] = "",
    terms_json: Annotated[str, Form()] = "",
) -> Response:
    try:
        saved = await admin.save_plan(
            viewer.attain,
            plan_id=plan_id,
            plan_json=plan_json,
            effective_from=effective_from,
            terms_json=terms_json,
        )
    except (FormError, UpstreamRejected) as error:
        listed = await admin.plans(viewer.attain)
        form = {
            "plan_id": plan_id,
            "plan_json": plan_json,
            "effective_from": effective_from,
            "terms_json": terms_json,
        }
        return render(
            request,
            viewer,
            "admin/plans.html",
            {"plans": listed, "form": form, "refused": _refusal(error)},
            status_code=422,
        )
    return RedirectResponse(
        request.app.url_path_for("admin_plan", plan_id=saved["id"]), status_code=303
    )


@router.get("/admin/plans/{plan_id}", name="admin_plan")
async def plan_page(request: Request, viewer: ViewerDep, plan_id: str) -> HTMLResponse:
    found = await admin.plan(viewer.attain, plan_id)
    return render(request, viewer, "admin/plan.html", {"plan": found})


def _periods(
    request: Request,
    viewer: Viewer,
    period_key: str,
    *,
    run: object = None,
    closed: object = None,
    refused: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The periods page, after a payout run, a close, or a refusal of either."""
    return render(
        request,
        viewer,
        "admin/periods.html",
        {"period_key": period_key, "run": run, "closed": closed, "refused": refused},
        status_code=422 if refused else 200,
    )


@router.get("/admin/periods", name="admin_periods")
async def periods_page(request: Request, viewer: ViewerDep, period_key: str = "") -> HTMLResponse:
    return _periods(request, viewer, period_key)


@router.post("/admin/periods/payout-run", name="admin_payout_run")
async def payout_run(
    request: Request, viewer: ViewerDep, period_key: Annotated[str, Form()] = ""
) -> HTMLResponse:
    run, refused = None, None
    try:
        run = await admin.payout_run(viewer.attain, period_key.strip())
    except UpstreamRejected as error:
        refused = _refusal(error)
    return _periods(request, viewer, period_key, run=run, refused=refused)


@router.post("/admin/periods/close", name="admin_close_period")
async def close_period(
    request: Request,
    viewer: ViewerDep,
    period_key: Annotated[str, Form()] = "",
    confirm_key: Annotated[str, Form()] = "",
    force: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    """Closing locks the period's statements for good: the admin types the
    period's key again to confirm, and ticks a box to close one that has not
    ended yet (incentive-service refuses that otherwise)."""
    closed, refused = None, None
    if not period_key.strip() or confirm_key.strip() != period_key.strip():
        refused = {"field": "confirm_key", "fault": "confirm", "detail": ""}
    else:
        try:
            closed = await admin.close_period(viewer.attain, period_key.strip(), force=force)
        except UpstreamRejected as error:
            refused = _refusal(error)
    return _periods(request, viewer, period_key, closed=closed, refused=refused)


@router.get("/admin/statements.csv", name="admin_statements_csv")
async def statements_csv(request: Request, viewer: ViewerDep, period_key: str) -> Response:
    """incentive-service's payroll file, passed through as it streams."""
    upstream = await admin.statements_csv(viewer.attain, period_key)
    return StreamingResponse(
        upstream.aiter_bytes(),
        media_type=upstream.headers.get("content-type", "text/csv; charset=utf-8"),
        headers={
            "Content-Disposition": upstream.headers.get(
                "content-disposition", f'attachment; filename="statements-{period_key}.csv"'
            )
        },
        background=BackgroundTask(upstream.aclose),
    )
