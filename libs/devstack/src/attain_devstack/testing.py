"""What service tests share: a migrated database, the app running in-process
with its relay and consumers, and bearer tokens."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from servicekit.auth import Role, mint_token
from servicekit.migrations import upgrade

TEST_SECRET = "attain-test-secret-of-at-least-32-bytes"


async def migrate(package: str, database_url: str) -> None:
    await asyncio.to_thread(upgrade, package, database_url)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (relay, consumers) running, and a client for it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def bearer(*roles: Role, person_id: str | None = None, secret: str = TEST_SECRET) -> dict[str, str]:
    token = mint_token(secret, subject=person_id or "test", roles=list(roles), person_id=person_id)
    return {"Authorization": f"Bearer {token}"}
