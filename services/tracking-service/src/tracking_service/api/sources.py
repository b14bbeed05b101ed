"""CRM sources: each has the secret its webhooks are signed with."""

import base64
import secrets

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from servicekit.app import UnitOfWorkDep
from servicekit.auth import Role, require_roles
from servicekit.problems import NotFound
from tracking_service.store import queries
from tracking_service.store.tables import Source

router = APIRouter(tags=["sources"])
admin_only = require_roles(Role.ADMIN)


class SourcePut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    secret: str | None = Field(
        default=None,
        pattern=r"^whsec_[A-Za-z0-9+/]{24,}={0,2}$",
        description="a Standard Webhooks secret; a new one is generated when omitted",
    )


class SourcePublic(BaseModel):
    id: str
    name: str
    secret: str


@router.put("/sources/{source_id}", dependencies=[admin_only], response_model=SourcePublic)
async def put_source(source_id: str, body: SourcePut, uow: UnitOfWorkDep) -> Source:
    source = await queries.source(uow.session, source_id)
    secret = body.secret or "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    if source is None:
        source = Source(id=source_id, name=body.name, secret=secret, created_at=uow.clock.now())
        uow.session.add(source)
    else:
        source.name = body.name
        if body.secret:
            source.secret = body.secret
    await uow.commit()
    return source


@router.get("/sources/{source_id}", dependencies=[admin_only], response_model=SourcePublic)
async def get_source(source_id: str, uow: UnitOfWorkDep) -> Source:
    source = await queries.source(uow.session, source_id)
    if source is None:
        raise NotFound(f"no source {source_id}")
    return source
