"""The SQL that folds ledger rows into goals' live numerators and denominators,
and that recounts them from the ledger. A ledger row counts for a goal when the
metric feeds the goal's metric (see `domain.progress.FORMULAS`), its credit date
lies in the goal's period, its person is the goal's person (a person's own goal)
or the goal's org unit is on its org path, and the product line matches when the
goal has one."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tracking_service.domain.progress import contributions

# One key for every transaction that moves live progress: the projector and the
# handlers that (re)count a goal. Counting a goal from the ledger rows already
# projected is only right while no projection runs beside it.
PROJECTION_LOCK = 0x7472_6163_6B00_0001


def _contributions_sql() -> str:
    rows = ", ".join(
        f"('{ledger}', '{goal}', {num}, {den})" for ledger, goal, num, den in contributions()
    )
    return f"(VALUES {rows}) AS c(ledger_metric, goal_metric, num, den)"


CONTRIBUTIONS = _contributions_sql()

# The rows' contributions summed per person (and per unit on their org path), metric, day and
# product line first: a batch's deals share their units and days, so each goal is looked up once
# per sum rather than once per row. Then goals matched by person and by unit, as two joins that
# each use an index (an OR across them would not).
_MATCHES = f"""
contrib AS (
    SELECT r.person_id, r.org_path, r.product_line, r.credited_on, c.goal_metric,
           r.amount * c.num AS num, r.amount * c.den AS den
    FROM rows r JOIN {CONTRIBUTIONS} ON c.ledger_metric = r.metric
),
person_sums AS (
    SELECT person_id, goal_metric, credited_on, product_line, sum(num) AS num, sum(den) AS den
    FROM contrib GROUP BY person_id, goal_metric, credited_on, product_line
),
unit_sums AS (
    SELECT u.org_unit_id, x.goal_metric, x.credited_on, x.product_line,
           sum(x.num) AS num, sum(x.den) AS den
    FROM contrib x CROSS JOIN LATERAL unnest(x.org_path) AS u(org_unit_id)
    GROUP BY u.org_unit_id, x.goal_metric, x.credited_on, x.product_line
),
matched AS (
    SELECT g.id, x.num, x.den
    FROM person_sums x JOIN tracking.goal g
      ON g.metric = x.goal_metric AND g.person_id = x.person_id
     AND x.credited_on BETWEEN g.period_start AND g.period_end
     AND (g.product_line IS NULL OR g.product_line = x.product_line)
    UNION ALL
    SELECT g.id, y.num, y.den
    FROM unit_sums y JOIN tracking.goal g
      ON g.metric = y.goal_metric AND g.person_id IS NULL AND g.org_unit_id = y.org_unit_id
     AND y.credited_on BETWEEN g.period_start AND g.period_end
     AND (g.product_line IS NULL OR g.product_line = y.product_line)
)"""

_FOLD = text(
    f"""
WITH rows AS (
    SELECT metric, person_id, org_path, product_line, credited_on, amount
    FROM tracking.ledger_entry WHERE seq = ANY(:seqs)
),
{_MATCHES},
totals AS (SELECT id, sum(num) AS num, sum(den) AS den FROM matched GROUP BY id)
UPDATE tracking.goal g
SET numerator = g.numerator + t.num, denominator = g.denominator + t.den,
    progress_sequence = g.progress_sequence + CASE WHEN g.status = 'active' THEN 1 ELSE 0 END
FROM totals t WHERE g.id = t.id
RETURNING g.id
"""
)


# Every goal's figures recounted from the projected ledger: rows summed per
# person or unit, metric, product line and day first, so each goal joins a few
# hundred daily sums instead of every ledger row.
_RECOUNT = f"""
WITH projected AS (
    SELECT l.* FROM tracking.ledger_entry l
    WHERE NOT EXISTS (SELECT 1 FROM tracking.projection_queue q WHERE q.entry_seq = l.seq)
),
person_days AS (
    SELECT person_id AS scope, metric, product_line, credited_on, sum(amount) AS amount
    FROM projected GROUP BY 1, 2, 3, 4
),
unit_days AS (
    SELECT u.unit AS scope, metric, product_line, credited_on, sum(amount) AS amount
    FROM projected CROSS JOIN LATERAL unnest(org_path) AS u(unit) GROUP BY 1, 2, 3, 4
),
matched AS (
    SELECT g.id, d.amount * c.num AS num, d.amount * c.den AS den
    FROM tracking.goal g JOIN {CONTRIBUTIONS} ON c.goal_metric = g.metric
    JOIN person_days d ON d.scope = g.person_id AND d.metric = c.ledger_metric
     AND d.credited_on BETWEEN g.period_start AND g.period_end
     AND (g.product_line IS NULL OR d.product_line = g.product_line)
    WHERE g.person_id IS NOT NULL
    UNION ALL
    SELECT g.id, d.amount * c.num, d.amount * c.den
    FROM tracking.goal g JOIN {CONTRIBUTIONS} ON c.goal_metric = g.metric
    JOIN unit_days d ON d.scope = g.org_unit_id AND d.metric = c.ledger_metric
     AND d.credited_on BETWEEN g.period_start AND g.period_end
     AND (g.product_line IS NULL OR d.product_line = g.product_line)
    WHERE g.person_id IS NULL
),
recounted AS (SELECT id, sum(num) AS num, sum(den) AS den FROM matched GROUP BY id)
SELECT g.id, g.numerator, g.denominator,
       coalesce(r.num, 0) AS recounted_numerator, coalesce(r.den, 0) AS recounted_denominator
FROM tracking.goal g LEFT JOIN recounted r ON r.id = g.id
WHERE g.numerator <> coalesce(r.num, 0) OR g.denominator <> coalesce(r.den, 0)
ORDER BY g.id
"""


_STATE = text(
    """
    SELECT (SELECT count(*) FROM tracking.ledger_entry),
           (SELECT count(*) FROM tracking.projection_queue),
           (SELECT count(*) FROM tracking.crm_record WHERE parked_reason IS NOT NULL)
    """
)


@dataclass(frozen=True)
class Claimed:
    seqs: list[int]
    # One instant per transaction that appended the rows.
    recorded: list[datetime]


class Projection:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self) -> None:
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": PROJECTION_LOCK}
        )

    async def claim(self, limit: int) -> Claimed:
        """Take up to `limit` ledger rows off the projection queue, oldest first, with when
        they were recorded (the freshness metric's start), in the one statement."""
        result = await self.session.execute(
            text(
                """
                WITH taken AS (
                    DELETE FROM tracking.projection_queue WHERE entry_seq IN (
                        SELECT entry_seq FROM tracking.projection_queue
                        ORDER BY entry_seq LIMIT :limit
                    ) RETURNING entry_seq
                )
                SELECT taken.entry_seq, entry.recorded_at
                FROM taken JOIN tracking.ledger_entry AS entry ON entry.seq = taken.entry_seq
                """
            ),
            {"limit": limit},
        )
        rows = result.all()
        return Claimed(
            seqs=[seq for seq, _ in rows], recorded=sorted({recorded for _, recorded in rows})
        )

    async def queued(self) -> int:
        """Ledger rows the projector has not folded yet."""
        return int(
            await self.session.scalar(text("SELECT count(*) FROM tracking.projection_queue")) or 0
        )

    async def fold(self, seqs: list[int]) -> list[str]:
        """Add these ledger rows to every goal they count for, and number the progress update
        of each active one (`progress_sequence`) in the same statement; returns their ids."""
        # With PostgreSQL's default costs the planner reads every goal into a hash for a batch of
        # a few deals (half of the fold's time at W/10); the goal indexes answer those in a
        # fraction of it, and a batch of thousands costs the same either way (bench/freshness.py).
        await self.session.execute(text("SELECT set_config('enable_seqscan', 'off', true)"))
        result = await self.session.execute(_FOLD, {"seqs": seqs})
        await self.session.execute(text("SELECT set_config('enable_seqscan', 'on', true)"))
        return [goal_id for (goal_id,) in result.all()]

    async def state(self) -> dict[str, int]:
        row = (await self.session.execute(_STATE)).one()
        return {"ledger_entries": row[0], "unprojected": row[1], "parked": row[2]}

    async def differences(
        self,
    ) -> list[tuple[str, Decimal, Decimal, Decimal, Decimal]]:
        """Goals whose live (numerator, denominator) differ from the ledger's:
        (goal id, live numerator, live denominator, recounted numerator, recounted denominator)."""
        rows = await self.session.execute(text(_RECOUNT))
        return [
            (g, Decimal(n), Decimal(d), Decimal(rn), Decimal(rd)) for g, n, d, rn, rd in rows.all()
        ]

    async def goal_count(self) -> int:
        return int(await self.session.scalar(text("SELECT count(*) FROM tracking.goal")) or 0)

    async def set_figures(self, goal_id: str, numerator: Decimal, denominator: Decimal) -> None:
        await self.session.execute(
            text("UPDATE tracking.goal SET numerator = :n, denominator = :d WHERE id = :id"),
            {"id": goal_id, "n": numerator, "d": denominator},
        )
