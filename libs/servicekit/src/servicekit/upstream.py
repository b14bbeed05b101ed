"""Reading another Attain service's REST API as a service: a viewer token of the caller's own
on each call, and one error when the other service does not answer (a 502 that names it:
`tracking-unavailable`). In development the token is minted with the shared secret; where
tokens come from the identity provider (a JWKS URL) it is the provider's, fetched with the
service's client credentials (RFC 6749, 4.4) and reused until shortly before it expires."""

import time
from datetime import timedelta
from typing import Any, Protocol

import httpx
from pydantic import SecretStr

from servicekit.auth import Role, mint_token
from servicekit.errors import Unreachable

TOKEN_TTL = timedelta(minutes=5)
# A token fetched from the provider is replaced this long before it expires, so a call never
# carries one that lapses on the way.
TOKEN_RENEW_SECONDS = 30.0
TOKEN_FETCH_TIMEOUT_SECONDS = 10.0


class UpstreamUnavailable(Unreachable):
    def __init__(self, service: str, reason: str) -> None:
        code = f"{service.removesuffix('-service')}-unavailable"
        super().__init__(code, f"{service} did not answer", reason)


class ServiceTokens(Protocol):
    async def token(self) -> str: ...


class DevelopmentTokens:
    """A viewer token minted with the shared secret on each call (development and tests)."""

    def __init__(self, secret: str, *, caller: str, audience: str) -> None:
        self._secret = secret
        self._caller = caller
        self._audience = audience

    async def token(self) -> str:
        return mint_token(
            self._secret,
            subject=self._caller,
            roles=[Role.VIEWER],
            audience=self._audience,
            ttl=TOKEN_TTL,
        )


# The provider's tokens by (token URL, client id), for every reader of the process: a reader
# lives for one request or batch, and fetching a token for each would load the provider.
_fetched_tokens: dict[tuple[str, str], tuple[str, float]] = {}


class ClientCredentialsTokens:
    """The identity provider's token for this service, by the client-credentials grant. Two
    readers that find it expired at once both fetch one; either token serves."""

    def __init__(self, token_url: str, client_id: str, client_secret: str) -> None:
        self._token_url = token_url
        self._credentials = (client_id, client_secret)

    async def token(self) -> str:
        key = (self._token_url, self._credentials[0])
        cached = _fetched_tokens.get(key)
        if cached is not None and time.monotonic() < cached[1]:
            return cached[0]
        token, lifetime = await self._fetched()
        _fetched_tokens[key] = (token, time.monotonic() + lifetime - TOKEN_RENEW_SECONDS)
        return token

    async def _fetched(self) -> tuple[str, float]:
        try:
            async with httpx.AsyncClient(timeout=TOKEN_FETCH_TIMEOUT_SECONDS) as http:
                response = await http.post(
                    self._token_url,
                    data={"grant_type": "client_credentials"},
                    auth=self._credentials,
                )
            response.raise_for_status()
            body = response.json()
            return str(body["access_token"]), float(body.get("expires_in") or 0)
        except (httpx.HTTPError, ValueError, KeyError) as error:
            raise Unreachable(
                "identity-provider-unavailable",
                "The identity provider did not answer",
                f"no service token from {self._token_url}: {error!r}",
            ) from error


class SignsInAsAService(Protocol):
    """The settings (ServiceSettings') a service's own tokens come from."""

    @property
    def jwt_secret(self) -> SecretStr: ...
    @property
    def jwt_audience(self) -> str: ...
    @property
    def jwt_jwks_url(self) -> str | None: ...
    @property
    def oauth_token_url(self) -> str | None: ...
    @property
    def oauth_client_id(self) -> str | None: ...
    @property
    def oauth_client_secret(self) -> SecretStr | None: ...


def service_tokens(settings: SignsInAsAService, caller: str) -> ServiceTokens:
    if not settings.jwt_jwks_url:
        return DevelopmentTokens(
            settings.jwt_secret.get_secret_value(), caller=caller, audience=settings.jwt_audience
        )
    if not (settings.oauth_token_url and settings.oauth_client_id and settings.oauth_client_secret):
        raise ValueError(
            f"{caller} reads another service: with jwt_jwks_url it needs oauth_token_url, "
            "oauth_client_id and oauth_client_secret (its client at the identity provider)"
        )
    return ClientCredentialsTokens(
        settings.oauth_token_url,
        settings.oauth_client_id,
        settings.oauth_client_secret.get_secret_value(),
    )


class ServiceReader:
    def __init__(
        self,
        service: str,
        base_url: str,
        tokens: ServiceTokens,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._service = service
        self._tokens = tokens
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def close(self) -> None:
        await self._http.aclose()

    async def get(self, path: str, params: Any, *, none_if_missing: bool = False) -> Any:
        """The JSON body of GET `path`; None for a 404 when `none_if_missing`."""
        token = await self._tokens.token()
        try:
            response = await self._http.get(
                path, params=params, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as error:
            raise UpstreamUnavailable(self._service, f"GET {path}: {error!r}") from error
        if none_if_missing and response.status_code == 404:
            return None
        if response.is_error:
            raise UpstreamUnavailable(
                self._service, f"GET {path}: {response.status_code} {response.text[:200]}"
            )
        return response.json()


class ReadsTracking(SignsInAsAService, Protocol):
    """The settings of a service that reads tracking-service."""

    @property
    def tracking_url(self) -> str: ...
    @property
    def tracking_timeout_seconds(self) -> float: ...


def tracking_reader(
    settings: ReadsTracking, caller: str, transport: httpx.AsyncBaseTransport | None = None
) -> ServiceReader:
    return ServiceReader(
        "tracking-service",
        settings.tracking_url,
        service_tokens(settings, caller),
        timeout=settings.tracking_timeout_seconds,
        transport=transport,
    )
