"""The four services' REST APIs, called with the signed-in person's own token, so
each person sees exactly what the APIs allow them to.

`Attain(http, settings, token)` has `goals`, `tracking`, `alerts` and `incentives`,
each an `Upstream` with `get(path, **params)`, `post(path, json=...)`, `put(...)`
and `patch(...)` returning the parsed JSON. Errors: `Upstream404` (rendered as the
not-found page), `Upstream401` (sign in again), `UpstreamRejected(problem)` (another
4xx: show `problem.detail` beside `problem.field` in the form), and
`UpstreamUnavailable` (the service is down or answered 5xx: a 503 page)."""

from dashboard_service.clients.attain import (
    Attain,
    Problem,
    ReadCache,
    Upstream,
    Upstream401,
    Upstream404,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
)

__all__ = [
    "Attain",
    "Problem",
    "ReadCache",
    "Upstream",
    "Upstream401",
    "Upstream404",
    "UpstreamError",
    "UpstreamRejected",
    "UpstreamUnavailable",
]
