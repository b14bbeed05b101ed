"""Org units and people. Each change publishes the event other services keep
their copy of the org tree from."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter

from goal_service.api.models import (
    CalendarPublic,
    CalendarPut,
    MemberList,
    MemberPublic,
    MembershipPublic,
    OrgUnitList,
    OrgUnitPublic,
    OrgUnitPut,
    PersonPublic,
    PersonPut,
    ProductLineList,
    ProductLinePublic,
    ProductLinePut,
)
from goal_service.api.visibility import sees_person, visibility
from goal_service.domain.smart import GROWTH_CEILING
from goal_service.store import events, queries
from goal_service.store.tables import CalendarSettings, OrgUnit, Person, ProductLine
from servicekit.app import RuntimeDep, UnitOfWorkDep
from servicekit.auth import CurrentPrincipal, Role, require_roles
from servicekit.paging import PagingDep, page_of
from servicekit.problems import InvalidInput, NotFound
from servicekit.uow import UnitOfWork

router = APIRouter(tags=["org"])
can_shape = require_roles(Role.ADMIN, Role.PLANNER)
can_read = require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER, Role.REP, Role.VIEWER)
# Who works where, by name: for those who read everything (the dashboard's development
# sign-in lists people with an admin token), not every rep.
can_list_members = require_roles(Role.ADMIN, Role.PLANNER, Role.VIEWER)


@router.put("/org-units/{org_unit_id}", dependencies=[can_shape], response_model=OrgUnitPublic)
async def put_org_unit(org_unit_id: str, body: OrgUnitPut, uow: UnitOfWorkDep) -> OrgUnit:
    unit, _ = await upsert_org_unit(uow, org_unit_id, body)
    await uow.commit()
    return unit


async def upsert_org_unit(
    uow: UnitOfWork, org_unit_id: str, body: OrgUnitPut
) -> tuple[OrgUnit, bool]:
    """Create or change one org unit and publish it; the caller commits. Every check
    comes before the first write, so a refusal leaves nothing behind. The flag is
    False when the unit already reads so: no new version, no event."""
    session = uow.session
    parent_path: list[str] = []
    if body.parent_id is not None:
        parent = await queries.org_unit(session, body.parent_id)
        if parent is None:
            raise InvalidInput(f"no org unit {body.parent_id}", field="parent_id")
        if org_unit_id in parent.path:
            raise InvalidInput("an org unit cannot be placed under itself", field="parent_id")
        parent_path = parent.path
    if body.manager_id is not None and await queries.person(session, body.manager_id) is None:
        raise InvalidInput(f"no person {body.manager_id}", field="manager_id")
    now = uow.clock.now()
    fields = body.model_dump()
    path = [*parent_path, org_unit_id]
    unit = await queries.org_unit(session, org_unit_id)
    if unit is None:
        unit = OrgUnit(id=org_unit_id, path=path, updated_at=now, **fields)
        session.add(unit)
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


@router.get("/org-units", dependencies=[can_read], response_model=OrgUnitList)
async def list_org_units(
    uow: UnitOfWorkDep, paging: PagingDep, under: str | None = None
) -> OrgUnitList:
    """The org tree, root first; `under` limits it to one unit's subtree."""
    page = page_of(await queries.org_units(uow.session, under), paging, key=lambda u: u.id)
    return OrgUnitList(
        data=[OrgUnitPublic.model_validate(u, from_attributes=True) for u in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.get("/org-units/{org_unit_id}", dependencies=[can_read], response_model=OrgUnitPublic)
async def get_org_unit(org_unit_id: str, uow: UnitOfWorkDep) -> OrgUnit:
    unit = await queries.org_unit(uow.session, org_unit_id)
    if unit is None:
        raise NotFound(f"no org unit {org_unit_id}")
    return unit


@router.get(
    "/org-units/{org_unit_id}/members", dependencies=[can_list_members], response_model=MemberList
)
async def list_members(org_unit_id: str, uow: UnitOfWorkDep, paging: PagingDep) -> MemberList:
    """The people in the unit today (not its subunits), by id."""
    if await queries.org_unit(uow.session, org_unit_id) is None:
        raise NotFound(f"no org unit {org_unit_id}")
    members = await queries.members(uow.session, org_unit_id, uow.clock.now().date())
    page = page_of(members, paging, key=lambda p: p.id)
    return MemberList(
        data=[MemberPublic(id=p.id, name=p.name) for p in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.put("/people/{person_id}", dependencies=[can_shape], response_model=PersonPublic)
async def put_person(person_id: str, body: PersonPut, uow: UnitOfWorkDep) -> PersonPublic:
    person, _ = await upsert_person(uow, person_id, body)
    await uow.commit()
    return person


async def upsert_person(
    uow: UnitOfWork, person_id: str, body: PersonPut
) -> tuple[PersonPublic, bool]:
    """Create or change one person and their membership, and publish them; the caller
    commits. Every check comes before the first write. The flag is False when the
    person already reads so and is a member of that unit: no new version, no event."""
    session = uow.session
    if await queries.org_unit(session, body.org_unit_id) is None:
        raise InvalidInput(f"no org unit {body.org_unit_id}", field="org_unit_id")
    now = uow.clock.now()
    person = await queries.person(session, person_id)
    fields = body.model_dump(include={"name", "email", "maturity", "hired_on"})
    if person is None:
        person = Person(id=person_id, updated_at=now, **fields)
        session.add(person)
    else:
        memberships = await queries.memberships(session, person_id)
        if all(getattr(person, n) == v for n, v in fields.items()) and any(
            m.valid_to is None and m.org_unit_id == body.org_unit_id for m in memberships
        ):
            return _person_public(person, memberships), False
        for name, value in fields.items():
            setattr(person, name, value)
        person.version += 1
        person.updated_at = now
    await session.flush()
    await queries.change_membership(
        session, person_id, body.org_unit_id, body.member_since or now.date()
    )
    await session.flush()
    memberships = await queries.memberships(session, person_id)
    uow.publish(events.person_upserted(person, memberships))
    return _person_public(person, memberships), True


@router.get("/people/{person_id}", dependencies=[can_read], response_model=PersonPublic)
async def get_person(
    person_id: str, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> PersonPublic:
    session = uow.session
    person = await queries.person(session, person_id)
    memberships = await queries.memberships(session, person_id)
    if person is None or not await sees_person(
        session, await visibility(session, principal), person_id, memberships
    ):
        raise NotFound(f"no person {person_id}")
    return _person_public(person, memberships)


def _person_public(person: Person, memberships: list) -> PersonPublic:
    return PersonPublic(
        id=person.id,
        name=person.name,
        email=person.email,
        maturity=person.maturity,
        hired_on=person.hired_on,
        version=person.version,
        updated_at=person.updated_at,
        memberships=[
            MembershipPublic(
                org_unit_id=m.org_unit_id, valid_from=m.valid_from, valid_to=m.valid_to
            )
            for m in memberships
        ],
    )


@router.put(
    "/product-lines/{product_line_id}", dependencies=[can_shape], response_model=ProductLinePublic
)
async def put_product_line(
    product_line_id: str, body: ProductLinePut, uow: UnitOfWorkDep
) -> ProductLine:
    line = await queries.product_line(uow.session, product_line_id)
    now = uow.clock.now()
    if line is None:
        line = ProductLine(id=product_line_id, updated_at=now, **body.model_dump())
        uow.session.add(line)
    elif body.model_dump() != {"name": line.name, "maturity": line.maturity}:
        line.name, line.maturity = body.name, body.maturity
        line.version += 1
        line.updated_at = now
    await uow.commit()
    return line


@router.get("/product-lines", dependencies=[can_read], response_model=ProductLineList)
async def list_product_lines(uow: UnitOfWorkDep, paging: PagingDep) -> ProductLineList:
    page = page_of(await queries.product_lines(uow.session), paging, key=lambda line: line.id)
    return ProductLineList(
        data=[ProductLinePublic.model_validate(x, from_attributes=True) for x in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.put("/calendar", dependencies=[can_shape], response_model=CalendarPublic)
async def put_calendar(body: CalendarPut, uow: UnitOfWorkDep) -> CalendarSettings:
    """The organisation's calendar; it applies to goals created or decomposed after."""
    try:
        ZoneInfo(body.timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidInput(f"unknown time zone {body.timezone}", field="timezone") from error
    row = await queries.calendar_settings(uow.session)
    now = uow.clock.now()
    fields = body.model_dump()
    fields["holidays"] = sorted(set(body.holidays))
    if row is None:
        row = CalendarSettings(updated_at=now, **fields)
        uow.session.add(row)
    else:
        for name, value in fields.items():
            setattr(row, name, value)
        row.version += 1
        row.updated_at = now
    await uow.commit()
    return row


@router.get("/calendar", dependencies=[can_read], response_model=CalendarPublic)
async def get_calendar(uow: UnitOfWorkDep, runtime: RuntimeDep) -> CalendarPublic:
    row = await queries.calendar_settings(uow.session)
    if row is None:
        return CalendarPublic(
            timezone=runtime.settings.timezone,
            fiscal_year_start_month=1,
            holidays=[],
            growth_ceiling=GROWTH_CEILING,
            version=0,
        )
    return CalendarPublic.model_validate(row, from_attributes=True)
