"""What people read about an alert: which goal, how far off, what was expected
by now, and the target. Plain words and grouped figures, no ids to decode."""

from calendar import monthrange
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from alert_service.domain.rules import title


def period_label(start: date, end: date) -> str:
    """`2026-03` for a calendar month, `2026-W09` for an ISO week, else the dates."""
    if start.day == 1 and end == start.replace(day=monthrange(start.year, start.month)[1]):
        return f"{start:%Y-%m}"
    if start.isoweekday() == 1 and (end - start).days == 6:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start.isoformat()} to {end.isoformat()}"


def goal_label(
    metric: str, start: date, end: date, unit_name: str | None, person_name: str | None
) -> str:
    """e.g. "revenue 2026-03 of Alice Chen (Team A)"."""
    scope = unit_name or "the organisation"
    if person_name is not None:
        scope = f"{person_name} ({scope})"
    return f"{metric} {period_label(start, end)} of {scope}"


def alert_message(
    label: str, detail: str, actual: Decimal, expected: Decimal, target: Decimal, day: date
) -> str:
    return (
        f"{label[0].upper()}{label[1:]}: {detail}. {shown(actual)} so far, "
        f"{shown(expected)} expected by {day.isoformat()}, target {shown(target)}."
    )


def notification_title(severity: str, event: str, rule: str, label: str) -> str:
    prefix = "Escalated: " if event == "escalated" else ""
    return f"[{severity}] {prefix}{label}: {title(rule)}"


def notification_text(message: str, event: str, owner_name: str) -> str:
    """Every channel adds the link to the goal in its own way."""
    lines = [message]
    if event == "escalated":
        lines.append(f"Nobody has acknowledged this critical alert of {owner_name} yet.")
    elif event == "raised":
        lines.append("It has become more serious since it was first raised.")
    return "\n".join(lines)


def shown(value: Decimal) -> str:
    """Grouped, at most two decimals, no trailing zeros: 43,000 or 1,234.5."""
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    return f"{rounded:,f}"
