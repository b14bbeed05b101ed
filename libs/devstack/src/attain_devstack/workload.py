"""The reference workload W of BENCHMARKS.md, and its smaller versions `W/10` and `W/100`: an org
tree, its people, their goals and a year of deals, the same for the same seed.

    workload = Workload("W/100", seed=1)
    workload.org_units(), workload.people(), workload.goals()  # goal-service's events
    workload.deliveries()  # deal versions in the order a CRM sends them, as generic deal dicts
    workload.expected_actuals(goal_ids)  # what each goal's actual is once every delivery is in
    workload.affected_goal_ids(owner_id, closed_on)  # the goals a won deal counts towards

`python -m attain_devstack.workload --scale W/100 --out DIR` writes them as JSON Lines.

Choices where BENCHMARKS.md is silent:
- Every org unit's manager is a person too (`mgr-<unit id>`, experienced, a member of that unit);
  a unit's goals are owned by its manager. Reps (`rep-0001`...) belong to a team since
  1 January of the year before.
- Goal trees: year → quarter → month, and an ISO week's parent is the month holding its
  Thursday (the ISO rule for which year a week belongs to), so a week may reach a few days
  into the next or previous month. Targets are whole currency units (or whole deals): the
  year split over months by `MONTH_SHARES`, quarters the sum of their months, and a month split
  over the weeks it overlaps by days, all by largest remainder.
- A rep's annual target is the org's expected output split by what the planner assumes (an
  experienced rep 1, a new rep `NEW_REP_PLANNED`); their deals come in proportion to that times
  a skill the planner does not know (log-normal), so the average rep needs 100% of the average
  output while some fall clearly behind. An org unit's target is the sum of its reps'.
- Deals close on the days of the year, months in proportion to `MONTH_SHARES`, the days of a month
  evenly. A deal's first delivery (version 1, won) is on its close date; an edit (amount), a
  reassignment (to a teammate) and a cancellation follow 1 to 30 days after the version before,
  in that order, each drawn independently, and are delivered before that day's new deals.
"""

import argparse
import functools
import heapq
import itertools
import json
import math
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

from attain_contracts import GoalUpserted, OrgUnitUpserted, Period, PersonUpserted
from attain_contracts.types import Membership
from servicekit.money import largest_remainder

Deal = dict[str, Any]
"""A generic deal as tracking-service's webhook and batch API take it (`DealIn`)."""

SCALES = {"W": 1, "W/10": 10, "W/100": 100}
METRICS = ("revenue", "deals_won")
CURRENCY = "CNY"

REGIONS, TEAMS, REPS, DEALS = 20, 200, 2_000, 1_000_000
NEW_REP_SHARE = 0.10
EDITED_SHARE, REASSIGNED_SHARE, CANCELLED_SHARE = 0.10, 0.03, 0.02
MONTH_SHARES = (6, 6, 8, 8, 8, 10, 8, 8, 8, 10, 10, 10)  # percent of the year's deals
MEDIAN_AMOUNT, AMOUNT_SIGMA = 8_000.0, 0.8  # log-normal deal amounts, in CNY
SKILL_SIGMA = 0.3  # log-normal spread of the reps' output around what was planned
NEW_REP_PLANNED = 0.5  # a new rep's quota, relative to an experienced rep's
EDIT_FACTORS = (0.7, 1.3)  # an edited amount is the old one times a factor in this range
MAX_FOLLOW_UP_DAYS = 30
PRODUCT_LINES = ("core", "add-ons", "services")
PRODUCT_LINE_WEIGHTS = (6, 3, 1)
DEALS_PER_CUSTOMER = 4


@dataclass(frozen=True)
class Size:
    regions: int
    teams: int
    reps: int
    deals: int


def size_of(scale: str) -> Size:
    """The counts of a scale: W divided by 10 or 100, keeping at least one of each level."""
    try:
        divisor = SCALES[scale]
    except KeyError:
        raise ValueError(f"unknown scale {scale!r}; one of {', '.join(SCALES)}") from None
    return Size(
        regions=max(1, REGIONS // divisor),
        teams=max(1, TEAMS // divisor),
        reps=max(1, REPS // divisor),
        deals=DEALS // divisor,
    )


@dataclass(frozen=True)
class PlanPeriod:
    key: str
    start: date
    end: date
    parent: str | None


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    kind: str
    path: tuple[str, ...]

    @property
    def manager_id(self) -> str:
        return f"mgr-{self.id}"


@dataclass(frozen=True)
class Rep:
    id: str
    team: Unit
    new: bool
    planned: float  # the weight of the rep's quota: 1, or NEW_REP_PLANNED for a new rep
    output: float  # planned times a skill the planner does not know: the weight of their deals


class Workload:
    def __init__(self, scale: str = "W", seed: int = 1, year: int = 2026) -> None:
        self.scale = scale
        self.size = size_of(scale)
        self.seed = seed
        self.year = year
        self.published_at = datetime(year - 1, 12, 1, tzinfo=UTC)
        self.periods = plan_periods(year)
        self.units = _org_tree(self.size)
        self.reps = _reps(self.size, self.units, Random(f"{seed}:reps"))
        self._reps_by_team: dict[str, list[Rep]] = {}
        for rep in self.reps:
            self._reps_by_team.setdefault(rep.team.id, []).append(rep)
        self._rep_by_id = {rep.id: rep for rep in self.reps}

    # --- goal-service's events -------------------------------------------------------------

    def org_units(self) -> Iterator[OrgUnitUpserted]:
        for unit in self.units:
            yield OrgUnitUpserted(
                org_unit_id=unit.id,
                name=unit.name,
                kind=unit.kind,
                parent_id=unit.path[-2] if len(unit.path) > 1 else None,
                manager_id=unit.manager_id,
                path=list(unit.path),
                version=1,
                updated_at=self.published_at,
            )

    def people(self) -> Iterator[PersonUpserted]:
        """The managers of the org units, top down, then the reps."""
        since = date(self.year - 1, 1, 1)
        for unit in self.units:
            yield self._person(unit.manager_id, f"Manager of {unit.name}", unit.id, False, since)
        for rep in self.reps:
            yield self._person(rep.id, f"Rep {rep.id[4:]}", rep.team.id, rep.new, since)

    def goals(self) -> Iterator[GoalUpserted]:
        """Every org unit's goals, top down, then every rep's; a parent goal before its children."""
        rep_targets = self._rep_targets()
        for unit in self.units:
            members = [rep.id for rep in self.reps if unit.id in rep.team.path]
            for metric in METRICS:
                of_members = [rep_targets[member][metric] for member in members]
                targets = [sum(t) for t in zip(*of_members, strict=True)]
                yield from self._goals_of(unit.id, unit.manager_id, unit.id, None, metric, targets)
        for rep in self.reps:
            for metric in METRICS:
                targets = rep_targets[rep.id][metric]
                yield from self._goals_of(rep.id, rep.id, rep.team.id, rep.id, metric, targets)

    def goal_count(self) -> int:
        return len(METRICS) * len(self.periods) * (len(self.units) + len(self.reps))

    # --- deals -----------------------------------------------------------------------------

    def deliveries(self) -> Iterator[Deal]:
        """Every deal version in delivery order; only the versions still to come are held."""
        pending: list[tuple[date, int, Deal]] = []
        order = itertools.count()
        for (closed_on, first), *later in self._deal_histories():
            while pending and pending[0][0] <= closed_on:
                yield heapq.heappop(pending)[2]
            yield first
            for delivered_on, version in later:
                heapq.heappush(pending, (delivered_on, next(order), version))
        while pending:
            yield heapq.heappop(pending)[2]

    def delivery_batches(self, size: int = 10_000) -> Iterator[list[Deal]]:
        deliveries = self.deliveries()
        while batch := list(itertools.islice(deliveries, size)):
            yield batch

    def final_deals(self) -> Iterator[Deal]:
        """The last version of every deal, in the order the deals close."""
        for history in self._deal_histories():
            yield history[-1][1]

    def expected_actuals(self, goal_ids: Collection[str] | None = None) -> dict[str, Decimal]:
        """The actual of these goals (all when None) once every delivery is in: the final state of
        every won deal, credited to its owner and every org unit on the owner's path."""
        actuals = dict.fromkeys(goal_ids if goal_ids is not None else self._goal_ids(), Decimal(0))
        for deal in self.final_deals():
            if deal["stage"] != "won":
                continue
            credit = {"revenue": Decimal(deal["amount"]), "deals_won": Decimal(1)}
            for metric, ids in self.affected_goal_ids(deal["owner_id"], deal["closed_on"]).items():
                for goal in ids:
                    if goal in actuals:
                        actuals[goal] += credit[metric]
        return actuals

    def affected_goal_ids(self, owner_id: str, closed_on: date | str) -> dict[str, list[str]]:
        """By metric, the goals a won deal of `owner_id` closed on that day counts towards: the
        rep's own and those of every org unit on the rep's path, whose period holds the day."""
        day = date.fromisoformat(closed_on) if isinstance(closed_on, str) else closed_on
        scopes = (owner_id, *self._rep_by_id[owner_id].team.path)
        keys = [p.key for p in self.periods if p.start <= day <= p.end]
        return {m: [goal_id(s, m, key) for s in scopes for key in keys] for m in METRICS}

    # --- how it is made --------------------------------------------------------------------

    def _person(
        self, person_id: str, name: str, unit_id: str, new: bool, since: date
    ) -> PersonUpserted:
        return PersonUpserted(
            person_id=person_id,
            name=name,
            email=f"{person_id}@example.com",
            maturity="new" if new else "experienced",
            memberships=[Membership(org_unit_id=unit_id, valid_from=since)],
            version=1,
            updated_at=self.published_at,
        )

    def _rep_targets(self) -> dict[str, dict[str, list[int]]]:
        """Each rep's target per metric, aligned with `periods`."""
        expected_won = self.size.deals * (1 - CANCELLED_SHARE)
        mean_amount = MEDIAN_AMOUNT * math.exp(AMOUNT_SIGMA**2 / 2)
        org_totals = {"revenue": expected_won * mean_amount, "deals_won": expected_won}
        planned = [rep.planned for rep in self.reps]
        annual = {m: _split(round(total), planned) for m, total in org_totals.items()}
        return {
            rep.id: {m: period_targets(self.periods, annual[m][r]) for m in METRICS}
            for r, rep in enumerate(self.reps)
        }

    def _goals_of(
        self,
        scope: str,
        owner_id: str,
        org_unit_id: str,
        person_id: str | None,
        metric: str,
        targets: list[int],
    ) -> Iterator[GoalUpserted]:
        for period, target in zip(self.periods, targets, strict=True):
            yield GoalUpserted(
                goal_id=goal_id(scope, metric, period.key),
                parent_id=goal_id(scope, metric, period.parent) if period.parent else None,
                metric=metric,
                direction="higher_is_better",
                org_unit_id=org_unit_id,
                person_id=person_id,
                owner_id=owner_id,
                period=Period(key=period.key, start=period.start, end=period.end),
                timezone="UTC",
                target=Decimal(target),
                currency=CURRENCY if metric == "revenue" else None,
                status="active",
                method="workload",
                version=1,
                updated_at=self.published_at,
            )

    def _goal_ids(self) -> Iterator[str]:
        scopes = [unit.id for unit in self.units] + [rep.id for rep in self.reps]
        for scope, metric, period in itertools.product(scopes, METRICS, self.periods):
            yield goal_id(scope, metric, period.key)

    def _deal_histories(self) -> Iterator[list[tuple[date, Deal]]]:
        """Each deal's versions with the day each is delivered, deals in the order they close."""
        rng = Random(f"{self.seed}:deals")
        rep_ids = [rep.id for rep in self.reps]
        cumulative_output = list(itertools.accumulate(rep.output for rep in self.reps))
        customers = max(1, self.size.deals // DEALS_PER_CUSTOMER)
        number = itertools.count(1)
        for day, count in deals_per_day(self.year, self.size.deals):
            for owner_id in rng.choices(rep_ids, cum_weights=cumulative_output, k=count):
                won: Deal = {
                    "id": f"D-{next(number):07d}",
                    "version": 1,
                    "stage": "won",
                    "amount": _money(rng.lognormvariate(math.log(MEDIAN_AMOUNT), AMOUNT_SIGMA)),
                    "currency": CURRENCY,
                    "owner_id": owner_id,
                    "closed_on": day.isoformat(),
                    "created_on": (day - timedelta(days=rng.randint(7, 120))).isoformat(),
                    "product_line": rng.choices(PRODUCT_LINES, PRODUCT_LINE_WEIGHTS)[0],
                    "customer_id": f"C-{rng.randrange(customers):06d}",
                }
                yield self._later_versions(rng, day, won)

    def _later_versions(self, rng: Random, day: date, won: Deal) -> list[tuple[date, Deal]]:
        edited, reassigned, cancelled = (rng.random() for _ in range(3))
        history = [(day, won)]

        def then(**changes: Any) -> None:
            delivered_on, last = history[-1]
            delivered_on += timedelta(days=rng.randint(1, MAX_FOLLOW_UP_DAYS))
            history.append((delivered_on, {**last, "version": last["version"] + 1, **changes}))

        if edited < EDITED_SHARE:
            then(amount=_money(float(won["amount"]) * rng.uniform(*EDIT_FACTORS)))
        if reassigned < REASSIGNED_SHARE:
            team = self._reps_by_team[self._rep_by_id[won["owner_id"]].team.id]
            teammates = [rep.id for rep in team if rep.id != won["owner_id"]]
            if teammates:
                then(owner_id=rng.choice(teammates))
        if cancelled < CANCELLED_SHARE:
            then(stage="cancelled")
        return history


def goal_id(scope: str, metric: str, period_key: str) -> str:
    """`g-<rep or org unit id>-<metric>-<period key>`, e.g. `g-rep-0001-revenue-2026-03`."""
    return f"g-{scope}-{metric}-{period_key}"


def plan_periods(year: int) -> list[PlanPeriod]:
    """The year, its quarters, months and ISO weeks, each with its parent's key."""
    fiscal_year = f"FY{year}"
    periods = [PlanPeriod(fiscal_year, date(year, 1, 1), date(year, 12, 31), None)]
    for quarter in range(1, 5):
        start = date(year, 3 * quarter - 2, 1)
        periods.append(
            PlanPeriod(
                f"{fiscal_year}-Q{quarter}", start, _month_end(year, 3 * quarter), fiscal_year
            )
        )
    for month in range(1, 13):
        parent = f"{fiscal_year}-Q{(month + 2) // 3}"
        periods.append(
            PlanPeriod(f"{year}-{month:02d}", date(year, month, 1), _month_end(year, month), parent)
        )
    monday = date.fromisocalendar(year, 1, 1)
    while (thursday := monday + timedelta(days=3)).year == year:
        week = monday.isocalendar().week
        parent = f"{year}-{thursday.month:02d}"
        periods.append(
            PlanPeriod(f"{year}-W{week:02d}", monday, monday + timedelta(days=6), parent)
        )
        monday += timedelta(days=7)
    return periods


def period_targets(periods: list[PlanPeriod], annual: int) -> list[int]:
    """The target of each period of `plan_periods`, from the annual one (see the module's doc)."""
    by_month = dict(zip(range(1, 13), _split(annual, MONTH_SHARES), strict=True))
    by_week: dict[str, int] = {}
    for month, weeks in _weeks_by_month(tuple(periods)).items():
        shares = _split(by_month[month], [days for _, days in weeks])
        for (key, _), share in zip(weeks, shares, strict=True):
            by_week[key] = by_week.get(key, 0) + share
    targets = []
    for period in periods:
        if period.parent is None:
            targets.append(annual)
        elif "-Q" in period.key:
            quarter = int(period.key[-1])
            targets.append(sum(by_month[m] for m in range(3 * quarter - 2, 3 * quarter + 1)))
        elif "-W" in period.key:
            targets.append(by_week[period.key])
        else:
            targets.append(by_month[period.start.month])
    return targets


@functools.cache
def _weeks_by_month(periods: tuple[PlanPeriod, ...]) -> dict[int, list[tuple[str, int]]]:
    """For each month of the year, the weeks that overlap it and by how many of its days."""
    year = periods[0].start.year
    overlaps: dict[int, dict[str, int]] = {month: {} for month in range(1, 13)}
    for week in (p for p in periods if "-W" in p.key):
        for day in _days(week.start, week.end):
            if day.year == year:
                overlaps[day.month][week.key] = overlaps[day.month].get(week.key, 0) + 1
    return {month: list(weeks.items()) for month, weeks in overlaps.items()}


def deals_per_day(year: int, deals: int) -> Iterator[tuple[date, int]]:
    """How many deals close on each day of the year: months by `MONTH_SHARES`, days evenly."""
    for month, in_month in enumerate(_split(deals, MONTH_SHARES), start=1):
        days = list(_days(date(year, month, 1), _month_end(year, month)))
        yield from zip(days, _split(in_month, [1] * len(days)), strict=True)


def _org_tree(size: Size) -> list[Unit]:
    company = Unit("company", "Company", "company", ("company",))
    regions = [
        Unit(f"region-{r:02d}", f"Region {r:02d}", "region", (company.id, f"region-{r:02d}"))
        for r in range(1, size.regions + 1)
    ]
    teams = []
    for t in range(size.teams):
        region = regions[t * size.regions // size.teams]
        team_id = f"team-{t + 1:03d}"
        teams.append(Unit(team_id, f"Team {t + 1:03d}", "team", (*region.path, team_id)))
    return [company, *regions, *teams]


def _reps(size: Size, units: list[Unit], rng: Random) -> list[Rep]:
    teams = [unit for unit in units if unit.kind == "team"]
    new = set(rng.sample(range(size.reps), round(size.reps * NEW_REP_SHARE)))
    reps = []
    for r in range(size.reps):
        planned = NEW_REP_PLANNED if r in new else 1.0
        skill = rng.lognormvariate(0, SKILL_SIGMA)
        team = teams[r * size.teams // size.reps]
        reps.append(Rep(f"rep-{r + 1:04d}", team, r in new, planned, planned * skill))
    return reps


def _split(total: int, weights: Iterable[float]) -> list[int]:
    shares = largest_remainder(Decimal(total), [Decimal(w) for w in weights], unit=Decimal(1))
    return [int(share) for share in shares]


def _money(amount: float) -> str:
    return f"{max(amount, 1.0):.2f}"


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def _days(start: date, end: date) -> Iterator[date]:
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def write_json_lines(workload: Workload, out: Path) -> dict[str, int]:
    """org.jsonl, people.jsonl, goals.jsonl (events' data) and deals.jsonl (deliveries) in
    `out`; returns how many lines each file got."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "org.jsonl": (e.model_dump_json() for e in workload.org_units()),
        "people.jsonl": (e.model_dump_json() for e in workload.people()),
        "goals.jsonl": (e.model_dump_json() for e in workload.goals()),
        "deals.jsonl": (json.dumps(d) for d in workload.deliveries()),
    }
    counts = {}
    for name, lines in files.items():
        with (out / name).open("w") as file:
            counts[name] = sum(1 for line in lines if file.write(line + "\n"))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the reference workload as JSON Lines.")
    parser.add_argument("--scale", choices=list(SCALES), default="W/100")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    counts = write_json_lines(Workload(args.scale, args.seed, args.year), args.out)
    for name, count in counts.items():
        print(f"{args.out / name}: {count:,} lines")


if __name__ == "__main__":
    main()
