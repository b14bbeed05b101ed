"""Operations for admins: evaluate at a chosen instant (replay any date), and
send a failed delivery again."""

from fastapi import APIRouter

from alert_service.api.dependencies import Runtime, Tracking, Uow
from alert_service.api.models import (
    AlertChangePublic,
    DecisionPublic,
    DeliveryPublic,
    EvaluateRequest,
    EvaluationPublic,
)
from alert_service.service_layer import deliveries
from alert_service.service_layer.evaluation import Decision, replay
from servicekit import roles

router = APIRouter(tags=["admin"])


@router.post("/admin/evaluate", dependencies=[roles.admins], response_model=EvaluationPublic)
async def evaluate(
    body: EvaluateRequest, uow: Uow, runtime: Runtime, tracking: Tracking
) -> EvaluationPublic:
    """What the sweep (or, with `goal_ids`, the consumer) does at `as_of`,
    escalations included for a full sweep, each goal judged by its progress as of
    `as_of` (tracking-service's, where our copy is of a later day); returns the
    alerts whose status or severity changed. A dry run returns each rule's
    decision instead, and writes, publishes and notifies nothing."""
    evaluation = await replay(
        uow, runtime.settings, body.as_of, body.goal_ids, tracking, dry_run=body.dry_run
    )
    if not body.dry_run:
        # A dry run's transaction (it wrote nothing) rolls back with the request.
        await uow.commit()
    return EvaluationPublic(
        as_of=body.as_of,
        evaluated=evaluation.evaluated,
        dry_run=body.dry_run,
        data=[AlertChangePublic.model_validate(change) for change in evaluation.changes],
        count=len(evaluation.changes),
        decisions=[_decision(d) for d in evaluation.decisions],
    )


def _decision(decision: Decision) -> DecisionPublic:
    finding = decision.finding
    return DecisionPublic(
        goal_id=decision.goal_id,
        rule=decision.rule,
        verdict=decision.verdict,
        transition=decision.transition,
        resolution=decision.resolution,
        **(
            {}
            if finding is None
            else {
                "severity": finding.severity,
                "detail": finding.detail,
                "actual": finding.actual,
                "expected": finding.expected,
                "target": finding.target,
                "pace": finding.pace,
                "figures": finding.figures,
            }
        ),
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
