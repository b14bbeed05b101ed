from datetime import UTC, datetime, timedelta

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
