"""Reading another Attain service's REST API as a service: a short-lived viewer token of the
caller's own on each call, and one error when the other service does not answer (a 502 that
names it: `tracking-unavailable`)."""

from datetime import timedelta
from typing import Any, Protocol

import httpx
from pydantic import SecretStr

from servicekit.auth import Role, mint_token
from servicekit.errors import Unreachable

TOKEN_TTL = timedelta(minutes=5)


class UpstreamUnavailable(Unreachable):
    def __init__(self, service: str, reason: str) -> None:
        code = f"{service.removesuffix('-service')}-unavailable"
        super().__init__(code, f"{service} did not answer", reason)


class ServiceReader:
    def __init__(
        self,
        service: str,
        base_url: str,
        secret: str,
        *,
        caller: str,
        audience: str = "attain",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._service = service
        self._caller = caller
        self._secret = secret
        self._audience = audience
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)

    async def close(self) -> None:
        await self._http.aclose()

    async def get(self, path: str, params: Any, *, none_if_missing: bool = False) -> Any:
        """The JSON body of GET `path`; None for a 404 when `none_if_missing`."""
        token = mint_token(
            self._secret,
            subject=self._caller,
            roles=[Role.VIEWER],
            audience=self._audience,
            ttl=TOKEN_TTL,
        )
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


class ReadsTracking(Protocol):
    """The settings of a service that reads tracking-service."""

    @property
    def tracking_url(self) -> str: ...
    @property
    def jwt_secret(self) -> SecretStr: ...
    @property
    def jwt_audience(self) -> str: ...
    @property
    def tracking_timeout_seconds(self) -> float: ...


def tracking_reader(
    settings: ReadsTracking, caller: str, transport: httpx.AsyncBaseTransport | None = None
) -> ServiceReader:
    return ServiceReader(
        "tracking-service",
        settings.tracking_url,
        settings.jwt_secret.get_secret_value(),
        caller=caller,
        audience=settings.jwt_audience,
        timeout=settings.tracking_timeout_seconds,
        transport=transport,
    )
