"""CRM sources: how each authenticates (a Standard Webhooks secret, HubSpot's
client secret, a Salesforce organization id and token) and, optionally, how its
payloads map to our shapes."""

import re
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from servicekit import roles
from servicekit.inputs import InputModel
from servicekit.paging import Page, PagingDep, page_of
from tracking_service.api.dependencies import Runtime, Uow
from tracking_service.domain.mapping import SourceMapping
from tracking_service.service_layer import sources
from tracking_service.service_layer.sources import SourceTerms
from tracking_service.service_layer.unit import Source

router = APIRouter(tags=["sources"])

STANDARD_WEBHOOKS_SECRET = r"^whsec_[A-Za-z0-9+/]{24,}={0,2}$"


class SourcePut(InputModel):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["generic", "hubspot", "salesforce"] = "generic"
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=500,
        description="generic: a Standard Webhooks secret (generated when omitted); hubspot: "
        "the app's client secret; salesforce: the token in the endpoint URL (generated)",
    )
    organization_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$", description="salesforce"
    )
    mapping: SourceMapping | None = Field(
        default=None, description="per kind, our field → a JMESPath into the source's record"
    )

    @model_validator(mode="after")
    def _complete(self) -> "SourcePut":
        if (
            self.kind == "generic"
            and self.secret
            and not re.match(STANDARD_WEBHOOKS_SECRET, self.secret)
        ):
            raise ValueError("a generic source's secret is a Standard Webhooks secret (whsec_...)")
        if self.kind == "hubspot" and not self.secret:
            raise ValueError("a HubSpot source needs the app's client secret")
        if self.kind == "salesforce" and not self.organization_id:
            raise ValueError("a Salesforce source needs its organization_id")
        return self


class SourcePublic(BaseModel):
    id: str
    name: str
    kind: str
    secret: str
    organization_id: str | None
    mapping: dict[str, Any] | None


@router.put("/sources/{source_id}", dependencies=[roles.admins], response_model=SourcePublic)
async def put_source(source_id: str, body: SourcePut, uow: Uow, runtime: Runtime) -> Source:
    mapping = body.mapping.model_dump(mode="json", by_alias=True) if body.mapping else None
    terms = SourceTerms(body.name, body.kind, body.secret, body.organization_id, mapping)
    source = await sources.put_source(uow, source_id, terms)
    await uow.commit()
    sources.forget_source(runtime, source_id)
    return source


class SourceList(Page[SourcePublic]):
    """By id."""


@router.get("/sources", dependencies=[roles.admins], response_model=SourceList)
async def list_sources(uow: Uow, paging: PagingDep) -> SourceList:
    page = page_of(await sources.sources(uow.store), paging, key=lambda s: s.id)
    return SourceList(
        data=[SourcePublic.model_validate(s, from_attributes=True) for s in page.data],
        count=page.count,
        next_after=page.next_after,
    )


@router.get("/sources/{source_id}", dependencies=[roles.admins], response_model=SourcePublic)
async def get_source(source_id: str, uow: Uow) -> Source:
    return await sources.source(uow.store, source_id)
