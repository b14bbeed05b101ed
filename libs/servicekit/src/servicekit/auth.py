"""Bearer JWTs with the caller's person id and roles: in production signed by the identity
provider (RS256/ES256, keys from its JWKS URL), in development and tests HS256 with the shared
secret. Each app holds one `TokenVerifier` (`token_verifier(app)`), so the provider's keys are
fetched and cached once per process for every request and the rate limiter alike.
Run `python -m servicekit.auth --role admin --person p-1` to mint a development token."""

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Protocol

import jwt
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import State

from servicekit.errors import Unreachable
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


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Principal:
        """The token's principal, or Unauthorized. May fetch the provider's keys over the
        network: call it from a thread (a sync dependency), never on the event loop."""
        ...

    def cached_principal(self, token: str) -> Principal | None:
        """The principal when the token verifies with the keys at hand, else None; never does
        I/O, so the async middleware may call it."""
        ...


class SharedSecretVerifier:
    """Development and tests: HS256 tokens minted with the shared secret (`make token`)."""

    def __init__(self, secret: str, audience: str) -> None:
        self._secret = secret
        self._audience = audience

    def verify(self, token: str) -> Principal:
        return decode_token(token, self._secret, self._audience)

    def cached_principal(self, token: str) -> Principal | None:
        try:
            return self.verify(token)
        except Unauthorized:
            return None


# A request waits for the provider's keys at most this long.
JWKS_TIMEOUT_SECONDS = 5.0


class JwksVerifier:
    """Tokens signed by the identity provider with a key its JWKS URL publishes, named by the
    token's `kid`. The key set is cached for `cache_seconds`; a `kid` not in it refetches the set
    once (the provider rotated its key), at most once per `refetch_cooldown_seconds`, and is
    refused if still unknown. Per-key caching (PyJWKClient's `cache_keys`) stays off: that
    cache never expires, so a key the provider withdrew would be trusted until a restart."""

    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        algorithms: list[str],
        cache_seconds: float,
        refetch_cooldown_seconds: float,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._algorithms = list(algorithms)
        self._keys = jwt.PyJWKClient(
            jwks_url,
            cache_jwk_set=True,
            lifespan=cache_seconds,
            cooldown_duration=refetch_cooldown_seconds,
            timeout=JWKS_TIMEOUT_SECONDS,
        )

    def verify(self, token: str) -> Principal:
        return principal_of(self.claims(token))

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of any token this provider signs for `audience` (the
        dashboard's sign-in checks its ID tokens this way). May fetch keys, as `verify`."""
        kid = self._key_id(token)
        try:
            key = self._keys.get_signing_key(kid)
        except (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError) as error:
            raise Unreachable(
                "identity-provider-unavailable",
                "The identity provider did not answer",
                f"its keys could not be fetched to check the token: {error}",
            ) from error
        except jwt.PyJWKClientError as error:
            raise Unauthorized(
                f"invalid bearer token: the identity provider publishes no key `{kid}`"
            ) from error
        return self._claims(token, key)

    def cached_principal(self, token: str) -> Principal | None:
        cache = self._keys.jwk_set_cache
        keys = cache.get() if cache is not None else None
        if keys is None:
            return None
        try:
            kid = self._key_id(token)
            key = next(
                k for k in keys.keys if k.key_id == kid and k.public_key_use in ("sig", None)
            )
            return principal_of(self._claims(token, key))
        except (Unauthorized, StopIteration):
            return None

    def _key_id(self, token: str) -> str:
        """The token's `kid`, once its `alg` is one we accept: a token saying HS256 (perhaps
        signed with our public key as its secret) or `none` is refused before any key is
        looked up, and costs no refetch."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthorized(f"invalid bearer token: {error}") from error
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self._algorithms:
            raise Unauthorized(
                f"invalid bearer token: `alg` {alg!r} is not accepted "
                f"(only {', '.join(self._algorithms)})"
            )
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("invalid bearer token: `kid` is missing")
        return kid

    def _claims(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        if key.algorithm_name not in self._algorithms:
            raise Unauthorized(
                f"invalid bearer token: key `{key.key_id}` is for {key.algorithm_name}, "
                f"which is not accepted"
            )
        try:
            # A PyJWK binds its algorithm: a token whose `alg` is not the key's is refused.
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["sub", "exp", "aud", "iss"]},
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(f"invalid bearer token: {error}") from error
        return claims


def verifier_for(settings: ServiceSettings) -> TokenVerifier:
    if settings.jwt_jwks_url:
        assert settings.jwt_issuer, "ServiceSettings refuses a JWKS URL without an issuer"
        return JwksVerifier(
            settings.jwt_jwks_url,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            algorithms=settings.jwt_algorithms,
            cache_seconds=settings.jwt_jwks_cache_seconds,
            refetch_cooldown_seconds=settings.jwt_jwks_refetch_cooldown_seconds,
        )
    if settings.environment == "production":
        raise ValueError("production verifies tokens against a JWKS URL, never a shared secret")
    return SharedSecretVerifier(settings.jwt_secret.get_secret_value(), settings.jwt_audience)


def token_verifier(app: FastAPI) -> TokenVerifier:
    """The app's one verifier (made by servicekit.app; made here from the app's settings for an
    app built by hand, as tests do)."""
    state: State = app.state
    verifier: TokenVerifier | None = getattr(state, "token_verifier", None)
    if verifier is None:
        verifier = state.token_verifier = verifier_for(state.settings)
    return verifier


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    # A sync dependency: FastAPI runs it in a thread, where fetching the provider's keys
    # does not hold up the event loop.
    if credentials is None or not credentials.credentials:
        raise Unauthorized("a bearer token is required")
    return token_verifier(request.app).verify(credentials.credentials)


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
