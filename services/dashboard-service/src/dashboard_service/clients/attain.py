import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from dashboard_service.settings import DashboardSettings
from servicekit.logs import CORRELATION_HEADER, current_correlation_id
from servicekit.paging import MAX_LIMIT as PAGE_LIMIT


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem an upstream answered with."""

    status: int
    title: str
    detail: str | None
    field: str | None
    errors: tuple[dict[str, Any], ...] = ()  # per item, when the API lists them (imports)
    code: str | None = None  # the machine code: the last part of the problem's `type`

    @property
    def reason_code(self) -> str | None:
        """The first listed fault's own code (a validation error's `missing`,
        `decimal_parsing`, ...), when it has one."""
        code = self.errors[0].get("code") if self.errors else None
        return code if isinstance(code, str) else None

    @classmethod
    def of(cls, response: httpx.Response) -> "Problem":
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return cls(
            status=response.status_code,
            title=str(body.get("title") or response.reason_phrase),
            detail=body.get("detail"),
            field=body.get("field"),
            errors=tuple(e for e in body.get("errors") or () if isinstance(e, dict)),
            code=str(body["type"]).rstrip("/").rsplit("/", 1)[-1] if body.get("type") else None,
        )


class UpstreamError(Exception):
    def __init__(self, service: str, problem: Problem) -> None:
        super().__init__(f"{service}: {problem.status} {problem.detail or problem.title}")
        self.service = service
        self.problem = problem


class Upstream404(UpstreamError):
    """The API does not show this to this person: it does not exist for them."""


class Upstream401(UpstreamError):
    """The token was refused (expired, or signed with another key): sign in again."""


class UpstreamRejected(UpstreamError):
    """A 4xx other than 401/404: the input was refused; `problem.field` names it."""


class UpstreamUnavailable(UpstreamError):
    """The service did not answer, or answered 5xx."""


class ReadCache:
    """Answers of reads that change seldom (the org tree, the calendar, people's names),
    kept a few seconds per token: a person paging through their team asks for them on
    every page. Keyed by the token, so nobody is answered from another person's read;
    concurrent misses of one key share one upstream call; failures are not kept."""

    def __init__(self, seconds: float, entries: int = 2048) -> None:
        self._seconds = seconds
        self._entries = entries
        self._kept: OrderedDict[tuple[Any, ...], tuple[float, asyncio.Future[Any]]] = OrderedDict()

    async def get(self, key: tuple[Any, ...], load: Callable[[], Awaitable[Any]]) -> Any:
        now = time.monotonic()
        kept = self._kept.get(key)
        if kept is not None and kept[0] > now:
            return await asyncio.shield(kept[1])
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._kept[key] = (now + self._seconds, future)
        while len(self._kept) > self._entries:
            self._kept.popitem(last=False)
        try:
            future.set_result(await load())
        except BaseException as error:
            self._kept.pop(key, None)
            future.set_exception(error)
            future.exception()  # retrieved: those waiting get it, nobody else must
            raise
        return future.result()


class Upstream:
    def __init__(
        self,
        http: httpx.AsyncClient,
        service: str,
        base_url: str,
        token: str,
        cache: ReadCache | None = None,
    ) -> None:
        self._http = http
        self.service = service
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._cache = cache

    async def kept(self, how: str, path: str, **params: Any) -> Any:
        """`get` (how="get") or `every` (how="every"), answered from the read cache
        for a few seconds after the first call with this token."""
        read = self.every if how == "every" else self.get
        if self._cache is None:
            return await read(path, **params)
        key = (self._token, self.service, how, path, tuple(sorted(params.items())))
        return await self._cache.get(key, lambda: read(path, **params))

    async def get(self, path: str, **params: Any) -> Any:
        query = {name: value for name, value in params.items() if value is not None}
        return await self._call("GET", path, params=query)

    async def every(self, path: str, **params: Any) -> list[Any]:
        """Every item of a paged list (`{data, count, next_after}`), following its cursor."""
        items: list[Any] = []
        after = None
        while True:
            page = await self.get(path, limit=PAGE_LIMIT, after=after, **params)
            items.extend(page["data"])
            after = page.get("next_after")
            if not after:
                return items

    async def post(self, path: str, json: Any = None) -> Any:
        return await self._call("POST", path, json=json)

    async def put(self, path: str, json: Any = None) -> Any:
        return await self._call("PUT", path, json=json)

    async def patch(self, path: str, json: Any = None) -> Any:
        return await self._call("PATCH", path, json=json)

    async def post_content(self, path: str, content: bytes, content_type: str) -> Any:
        """A file sent on as the body (a CSV or XLSX import)."""
        return await self._call(
            "POST", path, content=content, headers={"Content-Type": content_type}
        )

    async def open_stream(self, path: str, **params: Any) -> httpx.Response:
        """An answer to pass on as it arrives (a file); the caller closes it. A
        refusal is raised before any of it is passed on, like every other call."""
        return await self._send("GET", path, params=params, stream=True)

    async def text(self, path: str, **params: Any) -> str:
        """A non-JSON answer (CSV), as text."""
        response = await self._send("GET", path, params=params)
        return response.text

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._send(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {**(headers or {}), "Authorization": f"Bearer {self._token}"}
        correlation_id = current_correlation_id()
        if correlation_id:
            headers[CORRELATION_HEADER] = correlation_id
        try:
            request = self._http.build_request(
                method, self._base_url + path, headers=headers, **kwargs
            )
            response = await self._http.send(request, stream=stream)
            if stream and response.status_code >= 400:
                await response.aread()
                await response.aclose()
        except httpx.HTTPError as error:
            raise UpstreamUnavailable(
                self.service, Problem(503, "Service unavailable", repr(error), None)
            ) from error
        if response.status_code < 400:
            return response
        problem = Problem.of(response)
        if response.status_code == 404:
            raise Upstream404(self.service, problem)
        if response.status_code == 401:
            raise Upstream401(self.service, problem)
        if response.status_code >= 500:
            raise UpstreamUnavailable(self.service, problem)
        raise UpstreamRejected(self.service, problem)


class Attain:
    """The four APIs as one person (or, for development sign-in, as an admin) sees them."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: DashboardSettings,
        token: str,
        cache: ReadCache | None = None,
    ) -> None:
        self.goals = Upstream(http, "goal-service", settings.goal_url, token, cache)
        self.tracking = Upstream(http, "tracking-service", settings.tracking_url, token, cache)
        self.alerts = Upstream(http, "alert-service", settings.alert_url, token, cache)
        self.incentives = Upstream(http, "incentive-service", settings.incentive_url, token, cache)
