"""The planner's views, assembled from goal-service as the signed-in person sees
it: the top goals of a unit, a goal's tree with its sums, a plan's preview and
its application, the re-plan proposals waiting for a decision, the imports of
org trees and targets, and a goal's versions. Nothing here decides who may do
what: goal-service refuses (404) what this person may not see or apply."""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from dashboard_service.clients import Attain, Problem, Upstream, UpstreamRejected
from dashboard_service.domain.forms import FormError
from dashboard_service.domain.planning import (
    FieldRef,
    GoalNode,
    PlanDraft,
    PlanForm,
    Preview,
    TreeRow,
    plan_draft,
    preview,
    tree_rows,
)

PAGE_SIZE = 1000  # goal-service's largest page
SUMMABLE_KINDS = ("sum", "count")
ImportKind = Literal["org", "goals"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Catalog:
    """What goal-service's metrics catalog says the pages need: which metrics
    add up over children, and which are money."""

    summable: frozenset[str]
    money: frozenset[str]


@dataclass(frozen=True)
class UnitChoice:
    id: str
    name: str
    depth: int


@dataclass(frozen=True)
class PlanningHome:
    units: list[UnitChoice]
    org_unit_id: str | None
    period_key: str | None
    goals: list[GoalNode]  # the unit's goals that no other goal is above

    @property
    def names(self) -> dict[str, str]:
        return {unit.id: unit.name for unit in self.units}


@dataclass(frozen=True)
class Proposal:
    id: str
    trigger: str | None
    created_by: str
    created_at: datetime
    table: Preview


@dataclass(frozen=True)
class TreeView:
    root: GoalNode
    rows: list[TreeRow]
    names: dict[str, str]
    catalog: Catalog
    proposals: list[Proposal]


@dataclass
class PlanOutcome:
    """What the plan builder shows after a submit: the preview table, or why
    the form or the API refused it (the field, and the API's words)."""

    form: PlanForm
    table: Preview | None = None
    error_field: str | None = None  # a form field, or "" for the form as a whole
    error_within: str | None = None  # for the JSON editor: the path inside it
    fault: str | None = None  # our reading of the form failed: why (forms.Fault)
    problem: Problem | None = None  # the API refused it
    applied: dict[str, Any] | None = None

    @property
    def refused(self) -> bool:
        return self.fault is not None or self.problem is not None

    @property
    def refusal(self) -> dict[str, Any] | None:
        """As the form helpers show it (templates/_forms.html)."""
        if not self.refused:
            return None
        if self.problem is None:
            return {"field": self.error_field, "fault": self.fault, "detail": self.error_within}
        # The problem itself: the page says it in its own language (_names.html).
        return {
            "field": self.error_field,
            "fault": None,
            "detail": None,
            "problem": self.problem,
            "within": self.error_within,
        }


@dataclass(frozen=True)
class ImportRow:
    line: int
    status: str
    id: str | None
    ref: str | None
    field: str | None
    reason: str | None
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class ImportReport:
    kind: ImportKind
    filename: str
    applied: int
    unchanged: int
    rejected: int
    rows: list[ImportRow]
    problem: Problem | None = None  # the file as a whole was refused
    whole_file_refused: bool = False


@dataclass(frozen=True)
class Version:
    version: int
    target: Decimal
    previous_target: Decimal | None
    status: str
    owner_id: str
    fields: tuple[str, ...]
    changed_by: str
    changed_at: datetime
    reason: str | None
    plan_id: str | None


@dataclass(frozen=True)
class HistoryView:
    goal: GoalNode
    versions: list[Version] = field(default_factory=list)


async def catalog(goals: Upstream) -> Catalog:
    metrics = await goals.every("/catalog/metrics")
    return Catalog(
        summable=frozenset(m["key"] for m in metrics if m["kind"] in SUMMABLE_KINDS),
        money=frozenset(m["key"] for m in metrics if m["money"]),
    )


async def names(goals: Upstream) -> dict[str, str]:
    """Org units' names by id (people and product lines show by id)."""
    return {unit["id"]: unit["name"] for unit in await goals.every("/org-units")}


async def planning_home(
    attain: Attain, org_unit_id: str | None, period_key: str | None
) -> PlanningHome:
    units = await attain.goals.every("/org-units")
    choices = [UnitChoice(u["id"], u["name"], len(u["path"]) - 1) for u in units]
    chosen = org_unit_id or next((u["id"] for u in units if u["parent_id"] is None), None)
    goals: list[GoalNode] = []
    if chosen is not None:
        page = await attain.goals.get(
            "/goals", org_unit_id=chosen, period_key=period_key or None, limit=PAGE_SIZE
        )
        goals = sorted(
            (
                GoalNode.of(g)
                for g in page["goals"]
                if g["parent_id"] is None and g["status"] in ("draft", "active")
            ),
            key=lambda g: (g.period_start, g.metric, g.person_id or "", g.id),
        )
    return PlanningHome(choices, chosen, period_key, goals)


async def goal_tree(attain: Attain, goal_id: str) -> TreeView:
    tree, metrics, labels, proposed = await asyncio.gather(
        attain.goals.get(f"/goals/{goal_id}/tree"),
        catalog(attain.goals),
        names(attain.goals),
        attain.goals.every(f"/goals/{goal_id}/plans", status="proposed"),
    )
    goals = [GoalNode.of(g) for g in tree["goals"]]
    root = next(g for g in goals if g.id == goal_id)
    return TreeView(
        root=root,
        rows=tree_rows(goals, goal_id, metrics.summable),
        names=labels,
        catalog=metrics,
        proposals=[
            Proposal(
                id=plan["id"],
                trigger=plan.get("trigger"),
                created_by=plan["created_by"],
                created_at=datetime.fromisoformat(plan["created_at"]),
                table=preview(
                    plan, root, money_metrics=metrics.money, summable=metrics.summable, names=labels
                ),
            )
            for plan in proposed
        ],
    )


async def submit_plan(
    attain: Attain, view: TreeView, form: PlanForm, *, apply: bool
) -> PlanOutcome:
    """Preview the plan (goal-service's dry run) or apply it. A form that
    cannot be read, or a plan goal-service refuses, comes back naming the field."""
    outcome = PlanOutcome(form)
    try:
        draft = plan_draft(form)
    except FormError as error:
        outcome.error_field, outcome.fault, outcome.error_within = (
            error.field,
            error.fault,
            error.detail,
        )
        return outcome
    if not draft.steps:
        outcome.error_field, outcome.fault = "", "required"
        return outcome
    try:
        answer = await attain.goals.post(
            f"/goals/{view.root.id}/plans", json=draft.request(dry_run=not apply)
        )
    except UpstreamRejected as refused:
        _place(outcome, draft, refused.problem)
        return outcome
    if apply:
        outcome.applied = answer
    else:
        outcome.table = preview(
            answer,
            view.root,
            money_metrics=view.catalog.money,
            summable=view.catalog.summable,
            names=view.names,
        )
    return outcome


def _place(outcome: PlanOutcome, draft: PlanDraft, problem: Problem) -> None:
    where: FieldRef = draft.form_field(problem.field)
    outcome.problem = problem
    outcome.error_field = where.field or ""
    outcome.error_within = where.within


async def decide_proposal(attain: Attain, plan_id: str, *, accept: bool) -> dict[str, Any]:
    decided: dict[str, Any] = await attain.goals.post(
        f"/plans/{plan_id}/{'accept' if accept else 'reject'}"
    )
    return decided


async def goal_history(attain: Attain, goal_id: str) -> HistoryView:
    goal, history = await asyncio.gather(
        attain.goals.get(f"/goals/{goal_id}"), attain.goals.get(f"/goals/{goal_id}/history")
    )
    versions = [
        Version(
            version=v["version"],
            target=Decimal(str(v["target"])),
            previous_target=(
                Decimal(str(v["previous_target"])) if v["previous_target"] is not None else None
            ),
            status=v["status"],
            owner_id=v["owner_id"],
            fields=tuple(v["fields"]),
            changed_by=v["changed_by"],
            changed_at=datetime.fromisoformat(v["changed_at"]),
            reason=v["reason"],
            plan_id=v["plan_id"],
        )
        for v in history["versions"]
    ]
    return HistoryView(GoalNode.of(goal), sorted(versions, key=lambda v: -v.version))


async def import_file(
    attain: Attain, kind: ImportKind, filename: str, content: bytes
) -> ImportReport:
    """Send the spreadsheet on as it came (goal-service reads CSV and XLSX) and
    show its answer a row at a time; a file refused as a whole (no row applies,
    or it cannot be read) shows the rows' reasons too when there are any."""
    content_type = XLSX if filename.lower().endswith(".xlsx") else "text/csv"
    try:
        report = await attain.goals.post_content(f"/imports/{kind}", content, content_type)
    except UpstreamRejected as refused:
        rows = [_import_row(r) for r in refused.problem.errors if "line" in r]
        return ImportReport(
            kind,
            filename,
            applied=0,
            unchanged=0,
            rejected=len(rows),
            rows=rows,
            problem=refused.problem,
            whole_file_refused=True,
        )
    return ImportReport(
        kind,
        filename,
        applied=report["applied"],
        unchanged=report["unchanged"],
        rejected=report["rejected"],
        rows=[_import_row(r) for r in report["rows"]],
    )


def _import_row(row: dict[str, Any]) -> ImportRow:
    return ImportRow(
        line=int(row["line"]),
        status=row["status"],
        id=row.get("id"),
        ref=row.get("ref"),
        field=row.get("field"),
        reason=row.get("reason"),
        warnings=tuple(w["message"] for w in row.get("warnings", [])),
    )
