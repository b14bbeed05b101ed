"""Operations for admins: evaluate at a chosen instant (replay any date), and
send a failed delivery again."""

from fastapi import APIRouter
from sqlalchemy import text

from alert_service.api.dependencies import SettingsDep
from alert_service.api.models import (
    AlertChangePublic,
    DeliveryPublic,
    EvaluateRequest,
    EvaluationPublic,
)
from alert_service.evaluation import evaluate_goals, sweep
from alert_service.metrics import EVALUATION_SECONDS
from alert_service.notifications import WAKE_CHANNEL
from alert_service.store.tables import Delivery, Subscription
from servicekit.app import UnitOfWorkDep
from servicekit.auth import Role, require_roles
from servicekit.problems import Conflict, NotFound

router = APIRouter(tags=["admin"])
admins = require_roles(Role.ADMIN)


@router.post("/admin/evaluate", dependencies=[admins], response_model=EvaluationPublic)
async def evaluate(
    body: EvaluateRequest, uow: UnitOfWorkDep, settings: SettingsDep
) -> EvaluationPublic:
    """Exactly what the sweep (or, with `goal_ids`, the consumer) does at `as_of`,
    escalations included for a full sweep; returns the alerts whose status or
    severity changed."""
    with EVALUATION_SECONDS.labels("replay").time():
        if body.goal_ids is None:
            evaluation = await sweep(uow, settings, body.as_of)
        else:
            evaluation = await evaluate_goals(
                uow, settings, dict.fromkeys(body.goal_ids, body.as_of)
            )
    await uow.commit()
    return EvaluationPublic(
        as_of=body.as_of,
        evaluated=evaluation.evaluated,
        data=[AlertChangePublic.model_validate(change) for change in evaluation.changes],
        count=len(evaluation.changes),
    )


@router.post(
    "/admin/deliveries/{delivery_id}/retry", dependencies=[admins], response_model=DeliveryPublic
)
async def retry_delivery(delivery_id: str, uow: UnitOfWorkDep) -> Delivery:
    """A failed delivery (out of attempts, or refused for good) goes out again,
    e.g. after its URL was fixed; its attempts so far stay in its log."""
    delivery = await uow.session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}")
    if delivery.status != "failed":
        raise Conflict(f"delivery {delivery_id} is {delivery.status}, not failed")
    subscription = (
        await uow.session.get(Subscription, delivery.subscription_id)
        if delivery.subscription_id
        else None
    )
    if subscription is not None:
        delivery.target, delivery.secret = subscription.target, subscription.secret
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, uow.clock.now()
    await uow.session.execute(text(f"SELECT pg_notify('{WAKE_CHANNEL}', '')"))
    await uow.commit()
    return delivery
