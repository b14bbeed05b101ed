"""Org units, people, product lines and the calendar over HTTP (the use cases are
`service_layer.org`)."""

from fastapi import APIRouter

from goal_service.api.dependencies import Settings, Uow
from goal_service.api.models import (
    CalendarPublic,
    MemberList,
    MemberPublic,
    MembershipPublic,
    OrgUnitList,
    OrgUnitPublic,
    PersonPublic,
    ProductLineList,
    ProductLinePublic,
)
from goal_service.domain.smart import GROWTH_CEILING
from goal_service.service_layer import org
from goal_service.service_layer.inputs import CalendarPut, OrgUnitPut, PersonPut, ProductLinePut
from servicekit import roles
from servicekit.auth import CurrentPrincipal
from servicekit.paging import PagingDep, page_of

router = APIRouter(tags=["org"])


@router.put("/org-units/{org_unit_id}", dependencies=[roles.shapers], response_model=OrgUnitPublic)
async def put_org_unit(org_unit_id: str, body: OrgUnitPut, uow: Uow) -> OrgUnitPublic:
    unit, _ = await org.upsert_unit(uow, org_unit_id, body)
    await uow.commit()
    return OrgUnitPublic.model_validate(unit, from_attributes=True)


@router.get("/org-units", dependencies=[roles.people], response_model=OrgUnitList)
async def list_org_units(uow: Uow, paging: PagingDep, under: str | None = None) -> OrgUnitList:
    """The org tree, root first; `under` limits it to one unit's subtree."""
    page = page_of(await org.units(uow.store, under), paging, key=lambda u: u.id)
    return OrgUnitList(
        data=[OrgUnitPublic.model_validate(u, from_attributes=True) for u in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.get("/org-units/{org_unit_id}", dependencies=[roles.people], response_model=OrgUnitPublic)
async def get_org_unit(org_unit_id: str, uow: Uow) -> OrgUnitPublic:
    return OrgUnitPublic.model_validate(
        await org.unit(uow.store, org_unit_id), from_attributes=True
    )


@router.get(
    "/org-units/{org_unit_id}/members",
    # Who works where, by name: for those who read everything (the dashboard's development
    # sign-in lists people with an admin token), not every rep.
    dependencies=[roles.readers_of_everything],
    response_model=MemberList,
)
async def list_members(org_unit_id: str, uow: Uow, paging: PagingDep) -> MemberList:
    """The people in the unit today (not its subunits), by id."""
    page = page_of(await org.members(uow, org_unit_id), paging, key=lambda p: p.id)
    return MemberList(
        data=[MemberPublic(id=p.id, name=p.name) for p in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.put("/people/{person_id}", dependencies=[roles.shapers], response_model=PersonPublic)
async def put_person(person_id: str, body: PersonPut, uow: Uow) -> PersonPublic:
    record, _ = await org.upsert_person(uow, person_id, body)
    await uow.commit()
    return person_public(record)


@router.get("/people/{person_id}", dependencies=[roles.people], response_model=PersonPublic)
async def get_person(person_id: str, uow: Uow, principal: CurrentPrincipal) -> PersonPublic:
    return person_public(await org.person(uow.store, principal, person_id))


def person_public(record: org.PersonRecord) -> PersonPublic:
    person = record.person
    return PersonPublic(
        id=person.id,
        name=person.name,
        email=person.email,
        maturity=person.maturity,
        hired_on=person.hired_on,
        carries_quota=person.carries_quota,
        crm_ids=person.crm_ids,
        version=person.version,
        updated_at=person.updated_at,
        memberships=[
            MembershipPublic(
                org_unit_id=m.org_unit_id, valid_from=m.valid_from, valid_to=m.valid_to
            )
            for m in record.memberships
        ],
    )


@router.put(
    "/product-lines/{product_line_id}",
    dependencies=[roles.shapers],
    response_model=ProductLinePublic,
)
async def put_product_line(
    product_line_id: str, body: ProductLinePut, uow: Uow
) -> ProductLinePublic:
    line = await org.put_product_line(uow, product_line_id, body)
    await uow.commit()
    return ProductLinePublic.model_validate(line, from_attributes=True)


@router.get("/product-lines", dependencies=[roles.people], response_model=ProductLineList)
async def list_product_lines(uow: Uow, paging: PagingDep) -> ProductLineList:
    page = page_of(await org.product_lines(uow.store), paging, key=lambda line: line.id)
    return ProductLineList(
        data=[ProductLinePublic.model_validate(x, from_attributes=True) for x in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.put("/calendar", dependencies=[roles.shapers], response_model=CalendarPublic)
async def put_calendar(body: CalendarPut, uow: Uow) -> CalendarPublic:
    """The organisation's calendar; it applies to goals created or decomposed after."""
    row = await org.put_calendar(uow, body)
    await uow.commit()
    return CalendarPublic.model_validate(row, from_attributes=True)


@router.get("/calendar", dependencies=[roles.people], response_model=CalendarPublic)
async def get_calendar(uow: Uow, settings: Settings) -> CalendarPublic:
    row = await org.calendar(uow.store)
    if row is None:
        return CalendarPublic(
            timezone=settings.timezone,
            fiscal_year_start_month=1,
            holidays=[],
            working_weekends=[],
            growth_ceiling=GROWTH_CEILING,
            version=0,
        )
    return CalendarPublic.model_validate(row, from_attributes=True)
