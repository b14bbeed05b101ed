"""Org units, people, product lines and the calendar. Each change of a unit, a
person or the calendar publishes the event other services keep their copy from.
Every check comes before the first write, so a refusal leaves nothing behind; the
caller commits."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from goal_service.service_layer import events
from goal_service.service_layer.inputs import CalendarPut, OrgUnitPut, PersonPut, ProductLinePut
from goal_service.service_layer.visibility import sees_person, visibility
from goal_service.store import GoalStore
from goal_service.store.tables import CalendarSettings, Membership, OrgUnit, Person, ProductLine
from servicekit.auth import Principal
from servicekit.errors import FieldError, Missing
from servicekit.uow import UnitOfWork


@dataclass(frozen=True)
class PersonRecord:
    person: Person
    memberships: list[Membership]


async def upsert_unit(
    uow: UnitOfWork[GoalStore], org_unit_id: str, body: OrgUnitPut
) -> tuple[OrgUnit, bool]:
    """Create or change one org unit and publish it. The flag is False when the unit
    already reads so: no new version, no event."""
    store = uow.store
    parent_path: list[str] = []
    if body.parent_id is not None:
        parent = await store.org.unit(body.parent_id)
        if parent is None:
            raise FieldError("parent_id", f"no org unit {body.parent_id}")
        if org_unit_id in parent.path:
            raise FieldError("parent_id", "an org unit cannot be placed under itself")
        parent_path = parent.path
    if body.manager_id is not None and await store.org.person(body.manager_id) is None:
        raise FieldError("manager_id", f"no person {body.manager_id}")
    now = uow.clock.now()
    fields = body.model_dump()
    path = [*parent_path, org_unit_id]
    unit = await store.org.unit(org_unit_id)
    if unit is None:
        unit = OrgUnit(id=org_unit_id, path=path, updated_at=now, **fields)
        store.add(unit)
    elif unit.path == path and all(getattr(unit, n) == v for n, v in fields.items()):
        return unit, False
    else:
        for name, value in fields.items():
            setattr(unit, name, value)
        unit.path = path
        unit.version += 1
        unit.updated_at = now
    uow.publish(events.org_unit_upserted(unit))
    return unit, True


async def units(store: GoalStore, under: str | None) -> list[OrgUnit]:
    return await store.org.units(under)


async def unit(store: GoalStore, org_unit_id: str) -> OrgUnit:
    found = await store.org.unit(org_unit_id)
    if found is None:
        raise Missing(f"no org unit {org_unit_id}")
    return found


async def members(uow: UnitOfWork[GoalStore], org_unit_id: str) -> list[Person]:
    """The people in the unit today (not its subunits), by id."""
    await unit(uow.store, org_unit_id)
    return await uow.store.org.members(org_unit_id, uow.clock.now().date())


async def upsert_person(
    uow: UnitOfWork[GoalStore], person_id: str, body: PersonPut
) -> tuple[PersonRecord, bool]:
    """Create or change one person and their membership, and publish them. The flag
    is False when the person already reads so and is a member of that unit: no new
    version, no event."""
    store = uow.store
    if await store.org.unit(body.org_unit_id) is None:
        raise FieldError("org_unit_id", f"no org unit {body.org_unit_id}")
    now = uow.clock.now()
    person = await store.org.person(person_id)
    fields = body.model_dump(include={"name", "email", "maturity", "hired_on", "carries_quota"})
    if body.crm_ids is not None:
        fields["crm_ids"] = body.crm_ids
    if person is None:
        person = Person(id=person_id, updated_at=now, **fields)
        store.add(person)
    else:
        memberships = await store.org.memberships(person_id)
        if all(getattr(person, n) == v for n, v in fields.items()) and any(
            m.valid_to is None and m.org_unit_id == body.org_unit_id for m in memberships
        ):
            return PersonRecord(person, memberships), False
        for name, value in fields.items():
            setattr(person, name, value)
        person.version += 1
        person.updated_at = now
    await store.flush()
    await store.org.change_membership(person_id, body.org_unit_id, body.member_since or now.date())
    await store.flush()
    memberships = await store.org.memberships(person_id)
    uow.publish(events.person_upserted(person, memberships))
    return PersonRecord(person, memberships), True


async def person(store: GoalStore, principal: Principal, person_id: str) -> PersonRecord:
    found = await store.org.person(person_id)
    memberships = await store.org.memberships(person_id)
    if found is None or not await sees_person(
        store, await visibility(store, principal), person_id, memberships
    ):
        raise Missing(f"no person {person_id}")
    return PersonRecord(found, memberships)


async def put_product_line(
    uow: UnitOfWork[GoalStore], product_line_id: str, body: ProductLinePut
) -> ProductLine:
    line = await uow.store.org.product_line(product_line_id)
    now = uow.clock.now()
    if line is None:
        line = ProductLine(id=product_line_id, updated_at=now, **body.model_dump())
        uow.store.add(line)
    elif body.model_dump() != {"name": line.name, "maturity": line.maturity}:
        line.name, line.maturity = body.name, body.maturity
        line.version += 1
        line.updated_at = now
    return line


async def product_lines(store: GoalStore) -> list[ProductLine]:
    return await store.org.product_lines()


async def put_calendar(uow: UnitOfWork[GoalStore], body: CalendarPut) -> CalendarSettings:
    """The organisation's calendar; it applies to goals created or decomposed after."""
    try:
        ZoneInfo(body.timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise FieldError("timezone", f"unknown time zone {body.timezone}") from error
    row = await uow.store.org.calendar_settings()
    now = uow.clock.now()
    fields = body.model_dump()
    fields["holidays"] = sorted(set(body.holidays))
    fields["working_weekends"] = sorted(set(body.working_weekends))
    for day in fields["working_weekends"]:
        if day.weekday() < 5:
            raise FieldError("working_weekends", f"{day} is a weekday: a working day already")
        if day in body.holidays:
            raise FieldError("working_weekends", f"{day} is a holiday too")
    if row is None:
        row = CalendarSettings(updated_at=now, **fields)
        uow.store.add(row)
    else:
        for name, value in fields.items():
            setattr(row, name, value)
        row.version += 1
        row.updated_at = now
    uow.publish(events.calendar_updated(row))
    return row


async def calendar(store: GoalStore) -> CalendarSettings | None:
    """The calendar as set, or None while the defaults apply."""
    return await store.org.calendar_settings()
