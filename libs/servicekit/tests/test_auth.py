from datetime import UTC, datetime, timedelta

import jwt
import pytest

from servicekit.auth import Role, decode_token, mint_token
from servicekit.problems import Unauthorized

pytestmark = pytest.mark.unit

SECRET = "unit-test-secret-of-at-least-32-bytes"


def test_a_minted_token_names_the_person_and_roles() -> None:
    token = mint_token(SECRET, subject="u1", roles=[Role.MANAGER, Role.REP], person_id="p-7")
    principal = decode_token(token, SECRET)
    assert principal.person_id == "p-7"
    assert principal.roles == {Role.MANAGER, Role.REP}
    assert principal.has_any(Role.MANAGER) and not principal.has_any(Role.ADMIN)


@pytest.mark.parametrize(
    "token",
    [
        mint_token("another-secret-of-at-least-32-bytes!", subject="u1", roles=[Role.ADMIN]),
        mint_token(SECRET, subject="u1", roles=[Role.ADMIN], audience="someone-else"),
        mint_token(
            SECRET,
            subject="u1",
            roles=[Role.ADMIN],
            now=datetime.now(UTC) - timedelta(days=2),
            ttl=timedelta(hours=1),
        ),
        "not-a-jwt",
    ],
    ids=["wrong secret", "wrong audience", "expired", "garbage"],
)
def test_bad_tokens_are_unauthorized(token: str) -> None:
    with pytest.raises(Unauthorized):
        decode_token(token, SECRET)


def _signed(claims: dict[str, object]) -> str:
    base: dict[str, object] = {
        "sub": "u1",
        "aud": "attain",
        "exp": datetime.now(UTC) + timedelta(1),
    }
    return jwt.encode({**base, **claims}, SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"roles": {"rep": True, "admin": False}},
        {"roles": "admin"},
        {"roles": ["rep", "superuser"]},
        {"roles": ["rep", 1]},
        {"roles": None},
        {"roles": ["rep"], "person_id": 7},
        {"roles": ["rep"], "person_id": ["p-1"]},
        {"roles": ["rep"], "person_id": ""},
        {"roles": ["rep"], "sub": 42},
        {"roles": ["rep"], "sub": ""},
    ],
    ids=[
        "roles as an object",
        "roles as a string",
        "an unknown role",
        "a role not a string",
        "roles null",
        "numeric person_id",
        "person_id a list",
        "empty person_id",
        "numeric sub",
        "empty sub",
    ],
)
def test_claims_of_the_wrong_shape_are_unauthorized(claims: dict[str, object]) -> None:
    """A loosely read `roles` object granted every key in it (admin included), and a
    numeric person_id reached the queries and answered 500."""
    with pytest.raises(Unauthorized):
        decode_token(_signed(claims), SECRET)


def test_a_token_without_roles_or_person_is_a_principal_with_neither() -> None:
    principal = decode_token(_signed({}), SECRET)
    assert principal.roles == frozenset() and principal.person_id is None
