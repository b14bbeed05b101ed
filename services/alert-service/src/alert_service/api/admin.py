"""Operations for admins: evaluate at a chosen instant (replay any date), and
send a failed delivery again."""

from fastapi import APIRouter

from alert_service.api.dependencies import Runtime, Uow
from alert_service.api.models import (
    AlertChangePublic,
    DeliveryPublic,
    EvaluateRequest,
    EvaluationPublic,
)
from alert_service.service_layer import deliveries
from alert_service.service_layer.evaluation import replay
from servicekit import roles

router = APIRouter(tags=["admin"])


@router.post("/admin/evaluate", dependencies=[roles.admins], response_model=EvaluationPublic)
async def evaluate(body: EvaluateRequest, uow: Uow, runtime: Runtime) -> EvaluationPublic:
    """Exactly what the sweep (or, with `goal_ids`, the consumer) does at `as_of`,
    escalations included for a full sweep; returns the alerts whose status or
    severity changed."""
    evaluation = await replay(uow, runtime.settings, body.as_of, body.goal_ids)
    await uow.commit()
    return EvaluationPublic(
        as_of=body.as_of,
        evaluated=evaluation.evaluated,
        data=[AlertChangePublic.model_validate(change) for change in evaluation.changes],
        count=len(evaluation.changes),
    )


@router.post(
    "/admin/deliveries/{delivery_id}/retry",
    dependencies=[roles.admins],
    response_model=DeliveryPublic,
)
async def retry_delivery(delivery_id: str, uow: Uow) -> DeliveryPublic:
    """A failed delivery (out of attempts, or refused for good) goes out again,
    e.g. after its URL was fixed; its attempts so far stay in its log."""
    delivery = await deliveries.retry(uow, delivery_id)
    await uow.commit()
    return DeliveryPublic.model_validate(delivery)
