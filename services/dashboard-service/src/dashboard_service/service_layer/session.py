"""Development sign-in: who can be chosen, and the token minted for the choice."""

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import httpx

from dashboard_service.clients import Attain
from dashboard_service.settings import DashboardSettings
from servicekit.auth import Role, mint_token

SESSION_TTL = timedelta(hours=12)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    manages: bool


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    kind: str
    depth: int
    people: list[Person]


def development_token(settings: DashboardSettings, person_id: str | None, roles: list[Role]) -> str:
    return mint_token(
        settings.jwt_secret.get_secret_value(),
        subject=person_id or "dashboard-development",
        roles=roles,
        person_id=person_id,
        audience=settings.jwt_audience,
        ttl=SESSION_TTL,
    )


async def people_to_choose(http: httpx.AsyncClient, settings: DashboardSettings) -> list[Team]:
    """Every org unit with its members, read from goal-service as a development admin."""
    admin = Attain(http, settings, development_token(settings, None, [Role.ADMIN]))
    units = await admin.goals.every("/org-units")
    managers = {unit["manager_id"] for unit in units if unit.get("manager_id")}
    members = await asyncio.gather(
        *(admin.goals.every(f"/org-units/{unit['id']}/members") for unit in units)
    )
    return [
        Team(
            id=unit["id"],
            name=unit["name"],
            kind=unit["kind"],
            depth=len(unit["path"]) - 1,
            people=[Person(p["id"], p["name"], p["id"] in managers) for p in people],
        )
        for unit, people in zip(units, members, strict=True)
    ]
