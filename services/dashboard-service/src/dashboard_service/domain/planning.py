"""What the planner's pages compute from goal-service's answers: the goal tree
as rows (each target beside the sum of its children, and whether they add up),
the plan request a plan-builder form stands for, where an API refusal of that
request belongs in the form, and the preview table of a plan's dry run."""

import re
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from dashboard_service.domain.forms import (
    decimal_of,
    decimals_of,
    json_of,
    jsonable,
    pairs_of,
)
from servicekit.money import round_half_up

# --- the goal tree -------------------------------------------------------------------


@dataclass(frozen=True)
class GoalNode:
    id: str
    parent_id: str | None
    metric: str
    org_unit_id: str
    person_id: str | None
    product_line: str | None
    owner_id: str
    period_key: str | None
    period_start: date
    period_end: date
    target: Decimal
    currency: str | None
    status: str
    version: int
    unit: Decimal = Decimal(1)  # what its children's targets are rounded to

    @classmethod
    def of(cls, goal: Mapping[str, Any]) -> "GoalNode":
        """From goal-service's `GoalPublic`."""
        return cls(
            id=goal["id"],
            parent_id=goal.get("parent_id"),
            metric=goal["metric"],
            org_unit_id=goal["org_unit_id"],
            person_id=goal.get("person_id"),
            product_line=goal.get("product_line"),
            owner_id=goal["owner_id"],
            period_key=goal.get("period_key"),
            period_start=date.fromisoformat(goal["period_start"]),
            period_end=date.fromisoformat(goal["period_end"]),
            target=Decimal(str(goal["target"])),
            currency=goal.get("currency"),
            status=goal["status"],
            version=int(goal.get("version", 1)),
            unit=Decimal(str(goal.get("unit", 1))),
        )


@dataclass(frozen=True)
class TreeRow:
    goal: GoalNode
    depth: int
    children_sum: Decimal | None  # of the children measuring the same metric; None: none
    adds_up: bool | None  # None when there is nothing to add up (no such children, a ratio)


def tree_rows(goals: Sequence[GoalNode], root_id: str, summable: Collection[str]) -> list[TreeRow]:
    """Depth first from the root, children by period then scope. A goal whose
    parent is not among `goals` (the caller may not see it) starts a tree of
    its own after the root's, so every goal shows exactly once.

    `summable`: the metrics whose children add up to the parent (sums and
    counts; goal-service's catalog says which). The check is goal-service's
    SMART warning `children_do_not_add_up`: only children of the parent's
    metric count (a funnel's process goals are derived, not children)."""
    by_id = {goal.id: goal for goal in goals}
    children: dict[str, list[GoalNode]] = defaultdict(list)
    for goal in goals:
        if goal.parent_id is not None and goal.parent_id in by_id:
            children[goal.parent_id].append(goal)
    for siblings in children.values():
        siblings.sort(key=_tree_order)
    rows: list[TreeRow] = []
    shown: set[str] = set()

    def visit(goal: GoalNode, depth: int) -> None:
        if goal.id in shown:
            return
        shown.add(goal.id)
        same = [c.target for c in children[goal.id] if c.metric == goal.metric]
        total = sum(same, Decimal(0)) if same else None
        checked = total is not None and goal.metric in summable
        rows.append(TreeRow(goal, depth, total, (total == goal.target) if checked else None))
        for child in children[goal.id]:
            visit(child, depth + 1)

    starts = [by_id[root_id]] if root_id in by_id else []
    starts += sorted(
        (g for g in goals if g.id != root_id and (g.parent_id is None or g.parent_id not in by_id)),
        key=_tree_order,
    )
    for start in starts:
        visit(start, 0)
    for goal in sorted(goals, key=_tree_order):  # only a cycle in the data leaves any
        visit(goal, 0)
    return rows


def _tree_order(goal: GoalNode) -> tuple[date, date, str, str, str, str]:
    return (
        goal.period_start,
        goal.period_end,
        goal.org_unit_id,
        goal.person_id or "",
        goal.product_line or "",
        goal.id,
    )


# --- the plan builder ----------------------------------------------------------------

ORG_FIELDS = ("method", "to", "stretch", "weights", "floors", "caps", "alpha")


class Section(StrEnum):
    """The parts of the plan-builder form; each makes zero or more steps."""

    ORG = "org"
    TIME = "time"
    JSON = "steps_json"


@dataclass(frozen=True)
class PlanForm:
    """The plan builder as submitted: an org step and a time step with their
    main options, then any further steps as JSON (product_line, reconcile,
    funnel, levers, or more org and time steps)."""

    org: bool = False
    org_method: str = "equal"
    org_to: str = "auto"
    org_stretch: str = ""
    org_weights: str = ""
    org_floors: str = ""
    org_caps: str = ""
    org_alpha: str = ""
    time: bool = False
    time_grains: tuple[str, ...] = ()
    time_profile: str = "working_days"
    time_months: str = ""
    steps_json: str = ""
    reason: str = ""


@dataclass(frozen=True)
class PlanDraft:
    steps: list[dict[str, Any]]
    sections: tuple[Section, ...]  # the form section each step came from
    reason: str | None = None

    def request(self, *, dry_run: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"steps": jsonable(self.steps), "dry_run": dry_run}
        if self.reason:
            body["reason"] = self.reason
        return body

    def form_field(self, api_field: str | None) -> "FieldRef":
        """Where the API's refusal of `api_field` (`steps.1.profile.months`,
        `steps.0.org.stretch`, ...) belongs in the form."""
        if not api_field:
            return FieldRef(None, None)
        match = re.fullmatch(r"steps[.\[](\d+)\]?(?:\.(.*))?", api_field)
        if match is None:
            return FieldRef(api_field if api_field == "reason" else None, api_field)
        index, rest = int(match.group(1)), match.group(2) or ""
        if index >= len(self.steps):
            return FieldRef(None, api_field)
        kind = str(self.steps[index].get("kind", ""))
        parts = rest.split(".") if rest else []
        if parts and parts[0] == kind:  # pydantic names the union's tag in the location
            parts = parts[1:]
        section = self.sections[index]
        if section is Section.ORG:
            name = parts[0] if parts else ""
            return FieldRef(f"org_{name}" if name in ORG_FIELDS else "org", None)
        if section is Section.TIME:
            if parts[:1] == ["grains"]:
                return FieldRef("time_grains", None)
            if parts[:2] == ["profile", "months"]:
                return FieldRef("time_months", None)
            return FieldRef("time_profile", None)
        position = index - self.sections.index(Section.JSON)
        where = f"[{position}]" + "".join(f".{p}" if not p.isdigit() else f"[{p}]" for p in parts)
        return FieldRef(Section.JSON.value, where)


@dataclass(frozen=True)
class FieldRef:
    """A form field (None: the form as a whole) and, for the JSON editor, the
    path within what was typed."""

    field: str | None
    within: str | None


def plan_draft(form: PlanForm) -> PlanDraft:
    """The steps the form stands for, in the form's order. Raises `FormError`
    naming the field when a value cannot be read at all."""
    steps: list[dict[str, Any]] = []
    sections: list[Section] = []
    if form.org:
        steps.append(_org_step(form))
        sections.append(Section.ORG)
    if form.time:
        steps.append(_time_step(form))
        sections.append(Section.TIME)
    if form.steps_json.strip():
        typed = json_of(form.steps_json, Section.JSON.value, kind=list)
        steps += typed
        sections += [Section.JSON] * len(typed)
    return PlanDraft(steps, tuple(sections), form.reason.strip() or None)


def _org_step(form: PlanForm) -> dict[str, Any]:
    step: dict[str, Any] = {"kind": "org", "method": form.org_method, "to": form.org_to}
    stretch = decimal_of(form.org_stretch, "org_stretch")
    if stretch is not None:
        step["stretch"] = stretch
    alpha = decimal_of(form.org_alpha, "org_alpha")
    if alpha is not None:
        step["alpha"] = alpha
    for name in ("weights", "floors", "caps"):
        given = pairs_of(getattr(form, f"org_{name}"), f"org_{name}")
        if given:
            step[name] = given
    return step


def _time_step(form: PlanForm) -> dict[str, Any]:
    profile: dict[str, Any] = {"kind": form.time_profile}
    months = decimals_of(form.time_months, "time_months")
    if months:
        profile["months"] = months
    return {"kind": "time", "grains": list(form.time_grains), "profile": profile}


# --- the preview ---------------------------------------------------------------------


class WarningKind(StrEnum):
    NOTE = "note"  # what the plan says about a goal (a fallback, an assumption)
    CHILDREN_DO_NOT_ADD_UP = "children_do_not_add_up"


@dataclass(frozen=True)
class PlanWarning:
    kind: WarningKind
    text: str = ""
    children_sum: Decimal | None = None
    target: Decimal | None = None  # what they should add up to: the target x its stretch


@dataclass(frozen=True)
class PreviewRow:
    goal_id: str
    action: str  # create, update or keep
    parent: str  # scope and period of the parent (or of the goal a derived one comes from)
    child: str  # scope and period
    metric: str
    target: Decimal
    previous_target: Decimal | None
    currency: str | None
    method: str
    explanation: str
    warnings: tuple[PlanWarning, ...]


@dataclass(frozen=True)
class Preview:
    rows: list[PreviewRow]
    created: int
    updated: int
    kept: int
    left_alone: int
    warnings: tuple[PlanWarning, ...] = field(default=())  # about goals not in the table


def preview(
    answer: Mapping[str, Any],
    root: GoalNode,
    *,
    money_metrics: Collection[str],
    summable: Collection[str],
    names: Mapping[str, str],
) -> Preview:
    """The table of a plan's answer (`PlanPublic` with its `changes`), a row a
    goal the plan makes or changes, each with its warnings: the notes the plan
    made about it, and whether the targets proposed for its children add up to
    its own x the stretch their split applied (each change says its `stretch`;
    the sum is rounded half-up to the parent's `unit` as the split rounds it)."""
    changes = list(answer.get("changes") or [])
    labels = {
        root.id: _label(
            root.org_unit_id,
            root.person_id,
            root.product_line,
            root.period_key or f"{root.period_start}..{root.period_end}",
            names,
        )
    }
    targets = {root.id: (root.metric, root.target)}
    units = {root.id: root.unit}
    for change in changes:
        period = change["period"]
        labels[change["goal_id"]] = _label(
            change["org_unit_id"],
            change.get("person_id"),
            change.get("product_line"),
            period.get("key") or f"{period['start']}..{period['end']}",
            names,
        )
        targets[change["goal_id"]] = (change["metric"], Decimal(str(change["target"])))
        units[change["goal_id"]] = Decimal(str(change.get("unit") or 1))
    notes = _notes_by_goal(answer.get("summary", {}).get("notes", []))
    sums: dict[str, Decimal] = defaultdict(Decimal)
    stretches: dict[str, set[Decimal]] = defaultdict(set)
    for change in changes:
        parent_id = change.get("parent_id")
        if parent_id in targets and targets[parent_id][0] == change["metric"]:
            sums[parent_id] += Decimal(str(change["target"]))
            stretches[parent_id].add(Decimal(str(change.get("stretch") or 1)))
    warnings: dict[str, list[PlanWarning]] = defaultdict(list)
    for goal_id, texts in notes.items():
        warnings[goal_id] += [PlanWarning(WarningKind.NOTE, text) for text in texts]
    for parent_id, total in sums.items():
        metric, target = targets[parent_id]
        expected = _stretched(target, stretches[parent_id], units[parent_id])
        if metric in summable and total != expected:
            warnings[parent_id].append(
                PlanWarning(WarningKind.CHILDREN_DO_NOT_ADD_UP, children_sum=total, target=expected)
            )
    rows = []
    for change in changes:
        above = change.get("parent_id") or change.get("derived_from_id")
        rows.append(
            PreviewRow(
                goal_id=change["goal_id"],
                action=change["action"],
                parent=labels.get(above, above) if above else "",
                child=labels[change["goal_id"]],
                metric=change["metric"],
                target=Decimal(str(change["target"])),
                previous_target=(
                    Decimal(str(change["previous_target"]))
                    if change.get("previous_target") is not None
                    else None
                ),
                currency=root.currency if change["metric"] in money_metrics else None,
                method=change.get("method", ""),
                explanation=change.get("explanation", ""),
                warnings=tuple(warnings.pop(change["goal_id"], [])),
            )
        )
    summary = answer.get("summary", {})
    return Preview(
        rows=rows,
        created=int(summary.get("created", 0)),
        updated=int(summary.get("updated", 0)),
        kept=int(summary.get("kept", 0)),
        left_alone=int(summary.get("left_alone", 0)),
        warnings=tuple(w for ws in warnings.values() for w in ws),
    )


def _stretched(target: Decimal, stretches: Collection[Decimal], unit: Decimal) -> Decimal:
    """What the children of one split add up to: the target x the stretch they
    share (children of splits with different stretches: the target itself)."""
    if len(stretches) != 1:
        return target
    [stretch] = stretches
    return target if stretch == 1 else round_half_up(target * stretch, unit)


def _label(
    org_unit_id: str,
    person_id: str | None,
    product_line: str | None,
    period: str,
    names: Mapping[str, str],
) -> str:
    parts = [names.get(org_unit_id, org_unit_id)]
    if person_id:
        parts.append(names.get(person_id, person_id))
    if product_line:
        parts.append(names.get(product_line, product_line))
    return f"{' / '.join(parts)} · {period}"


def _notes_by_goal(notes: Sequence[str]) -> dict[str, list[str]]:
    """goal-service writes each note as `<goal id>: <what>`."""
    found: dict[str, list[str]] = defaultdict(list)
    for note in notes:
        goal_id, separator, text = note.partition(": ")
        if separator and goal_id.startswith("goal_"):
            found[goal_id].append(text)
        else:
            found[""].append(note)
    return found
