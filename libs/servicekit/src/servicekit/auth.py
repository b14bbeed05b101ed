"""Bearer JWTs with the caller's person id and roles (HS256 in development).
Run `python -m servicekit.auth --role admin --person p-1` to mint a development token."""

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from servicekit.problems import Problem, Unauthorized
from servicekit.settings import ServiceSettings

ALGORITHM = "HS256"


class Role(StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    MANAGER = "manager"
    REP = "rep"
    INTEGRATION = "integration"
    VIEWER = "viewer"


KNOWN_ROLES = frozenset(role.value for role in Role)


@dataclass(frozen=True)
class Principal:
    subject: str
    person_id: str | None
    roles: frozenset[Role]

    def has_any(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)


def mint_token(
    secret: str,
    *,
    subject: str,
    roles: list[Role],
    person_id: str | None = None,
    audience: str = "attain",
    ttl: timedelta = timedelta(hours=12),
    now: datetime | None = None,
) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "sub": subject,
        "aud": audience,
        "iat": issued,
        "exp": issued + ttl,
        "roles": [str(role) for role in roles],
    }
    if person_id:
        claims["person_id"] = person_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str, audience: str = "attain") -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience,
            options={"require": ["sub", "exp", "aud"]},
        )
    except jwt.PyJWTError as error:
        raise Unauthorized(f"invalid bearer token: {error}") from error
    return principal_of(claims)


def principal_of(claims: dict[str, Any]) -> Principal:
    """The one place that decides what a verified token's claims mean. Anything but the
    documented shapes is refused: a `roles` object would otherwise grant every key in
    it, and a numeric `person_id` would reach the queries."""
    subject, roles, person_id = claims.get("sub"), claims.get("roles", []), claims.get("person_id")
    if not isinstance(subject, str) or not subject:
        raise Unauthorized("invalid bearer token: `sub` must be a non-empty string")
    if not isinstance(roles, list) or not all(
        isinstance(r, str) and r in KNOWN_ROLES for r in roles
    ):
        raise Unauthorized(
            f"invalid bearer token: `roles` must be a list of {', '.join(sorted(KNOWN_ROLES))}"
        )
    if person_id is not None and (not isinstance(person_id, str) or not person_id):
        raise Unauthorized("invalid bearer token: `person_id` must be a non-empty string")
    return Principal(subject=subject, person_id=person_id, roles=frozenset(Role(r) for r in roles))


# Declared through FastAPI's security class so that every operation which needs a
# principal says so in its OpenAPI document (Swagger's Authorize button), and only
# those: health checks and signed webhooks never depend on it.
bearer_scheme = HTTPBearer(
    bearerFormat="JWT",
    auto_error=False,
    description="a JWT with `sub`, `roles` and `person_id` (`make token` in development)",
)


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    settings: ServiceSettings = request.app.state.settings
    if credentials is None or not credentials.credentials:
        raise Unauthorized("a bearer token is required")
    return decode_token(
        credentials.credentials, settings.jwt_secret.get_secret_value(), settings.jwt_audience
    )


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


class NotPermitted(Problem):
    """Answered as 404: a caller without the right role learns nothing about what exists."""

    status, code, title = 404, "not-found", "Not found"


def require_roles(*roles: Role):
    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(*roles):
            raise NotPermitted("no such resource")
        return principal

    return Depends(check)


def main() -> None:
    parser = argparse.ArgumentParser(description="Mint a development bearer token.")
    parser.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    parser.add_argument("--person", default=None, help="the caller's person id")
    parser.add_argument("--subject", default=None)
    parser.add_argument("--hours", type=float, default=12)
    args = parser.parse_args()
    settings = ServiceSettings()
    print(
        mint_token(
            settings.jwt_secret.get_secret_value(),
            subject=args.subject or args.person or "dev",
            roles=[Role(r) for r in args.role],
            person_id=args.person,
            audience=settings.jwt_audience,
            ttl=timedelta(hours=args.hours),
        )
    )


if __name__ == "__main__":
    main()
