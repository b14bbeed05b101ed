"""Input goal-service cannot store is a 4xx naming the field, never a 500: NUL bytes in the
path, the query and the body, text past its length, a growth ceiling past its column, a CSV
with a bare carriage return, a body past its limit; and a person moved back to a unit on a
day they were there continues that stint."""

from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest

from attain_devstack.testing import TEST_SECRET, bearer, migrate, running
from goal_service.main import create_app
from goal_service.settings import GoalSettings
from servicekit.auth import Role

pytestmark = pytest.mark.integration

PLANNER = bearer(Role.PLANNER, person_id="planner")
ADMIN = bearer(Role.ADMIN, person_id="admin")


@pytest.fixture(scope="module")
async def client(module_database: str, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    await migrate("goal_service", module_database)
    settings = GoalSettings(
        database_url=module_database,
        kafka_bootstrap=kafka_bootstrap,
        jwt_secret=TEST_SECRET,  # type: ignore[arg-type]
        outbox_poll_seconds=0.2,
    )
    async with running(create_app(settings)) as client:
        yield client


async def team(client: httpx.AsyncClient) -> str:
    unit = f"east-{uuid4().hex[:6]}"
    response = await client.put(f"/org-units/{unit}", json={"name": "East"}, headers=PLANNER)
    assert response.status_code == 200, response.text
    return unit


def assert_refused(response: httpx.Response, status: int, field: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("GET", "/goals?org_unit_id=a%00b", None, "org_unit_id"),
        ("GET", "/org-units/a%00b", None, "org_unit_id"),
        ("PUT", "/org-units/x-nul", {"name": "A\x00B"}, "name"),
        ("PUT", "/org-units/x-nul", {"name": "A", "manager_id": "m\x00"}, "manager_id"),
        ("PUT", "/product-lines/p-nul", {"name": "\x00"}, "name"),
    ],
)
async def test_a_nul_byte_anywhere_is_422_naming_the_field(
    client: httpx.AsyncClient, method: str, url: str, body: object, field: str
) -> None:
    response = await client.request(method, url, json=body, headers=PLANNER)
    assert_refused(response, 422, field)


async def test_text_past_its_maximum_length_is_422(client: httpx.AsyncClient) -> None:
    unit = await team(client)
    response = await client.put(
        "/people/long-mail",
        json={"name": "Ann", "org_unit_id": unit, "email": "a" * 5000 + "@example.com"},
        headers=PLANNER,
    )
    assert_refused(response, 422, "email")


async def test_a_growth_ceiling_past_its_column_is_422(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/calendar", json={"timezone": "UTC", "growth_ceiling": "1e10"}, headers=ADMIN
    )
    assert_refused(response, 422, "growth_ceiling")


async def test_a_csv_with_a_bare_carriage_return_in_its_header_is_read_as_a_spreadsheet_would(
    client: httpx.AsyncClient,
) -> None:
    unit = f"cr-{uuid4().hex[:6]}"
    response = await client.post(
        "/imports/org",
        content=f"type,id,name\runit,{unit},Carriage\r".encode(),
        headers={**PLANNER, "content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert (await client.get(f"/org-units/{unit}", headers=PLANNER)).json()["name"] == "Carriage"
    response = await client.post(
        "/imports/org",
        content=b'type,"i\rd",name\nunit,x,y\n',
        headers={**PLANNER, "content-type": "text/csv"},
    )
    assert response.status_code == 422, response.text


async def test_a_json_body_past_the_limit_is_413_and_an_import_may_be_larger(
    client: httpx.AsyncClient,
) -> None:
    big = {"name": "x" * (2 * 1024 * 1024)}
    response = await client.put("/org-units/x-big", json=big, headers=PLANNER)
    assert response.status_code == 413, response.text
    assert response.json()["status"] == 413
    assert (await client.get("/org-units/x-big", headers=PLANNER)).status_code == 404
    rows = "".join(f"unit,big-{i},{'n' * 100}\n" for i in range(15_000))
    response = await client.post(
        "/imports/org",
        content=f"type,id,name\n{rows}".encode(),
        headers={**PLANNER, "content-type": "text/csv"},
    )
    assert_refused(response, 422, "file")  # read, and refused for its rows, not its size


async def test_moving_a_person_back_to_a_unit_on_a_day_they_were_there_continues_that_stint(
    client: httpx.AsyncClient,
) -> None:
    east, west = await team(client), await team(client)
    person = f"ann-{uuid4().hex[:6]}"
    for unit, since in ((east, "2026-02-01"), (west, "2026-03-01"), (east, "2026-02-01")):
        response = await client.put(
            f"/people/{person}",
            json={"name": "Ann", "org_unit_id": unit, "member_since": since},
            headers=PLANNER,
        )
        assert response.status_code == 200, response.text
    memberships = response.json()["memberships"]
    assert memberships == [{"org_unit_id": east, "valid_from": "2026-02-01", "valid_to": None}]
