"""Operations for admins: evaluate every goal at a chosen instant."""

from fastapi import APIRouter

from alert_service.api.dependencies import SettingsDep
from alert_service.api.models import AlertChangePublic, EvaluateRequest, EvaluationPublic
from alert_service.evaluation import apply_pace_rule
from alert_service.store import queries
from servicekit.app import UnitOfWorkDep
from servicekit.auth import Role, require_roles

router = APIRouter(tags=["admin"])


@router.post(
    "/admin/evaluate", dependencies=[require_roles(Role.ADMIN)], response_model=EvaluationPublic
)
async def evaluate(
    body: EvaluateRequest, uow: UnitOfWorkDep, settings: SettingsDep
) -> EvaluationPublic:
    """Time passing is an event too (ARCHITECTURE.md): a goal with no new
    progress still falls behind. Evaluates every goal's latest progress at
    `as_of`, exactly as the consumer does, and returns the alerts whose status
    or severity changed."""
    snapshots = await queries.lock_all_snapshots(uow.session)
    changes = await apply_pace_rule(uow, settings, [(s, body.as_of) for s in snapshots])
    await uow.commit()
    return EvaluationPublic(
        as_of=body.as_of,
        evaluated=len(snapshots),
        data=[AlertChangePublic.model_validate(change) for change in changes],
        count=len(changes),
    )
