"""The one SSE connection a page opens: `/live?page=<token>`. It carries only
"this key changed" signals (event `goal-<id>`, data `changed`) for the keys the
page's token names; htmx then re-fetches that fragment with the person's cookie."""

from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Header, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from dashboard_service.api.dependencies import PageNotFound, ViewerDep, settings_of
from dashboard_service.domain.live import event_name
from dashboard_service.service_layer.live import InvalidPageToken, LiveHub, page_grant

router = APIRouter(tags=["live"])


@router.get("/live", name="live_stream")
async def live_stream(
    request: Request,
    viewer: ViewerDep,
    page: str,
    last_event_id: Annotated[str | None, Header()] = None,
) -> EventSourceResponse:
    settings = settings_of(request)
    try:
        grant = page_grant(settings.jwt_secret.get_secret_value(), page, viewer.principal.subject)
    except InvalidPageToken as error:
        raise PageNotFound() from error
    hub: LiveHub = request.app.state.hub
    since = grant.rendered_at
    if last_event_id:
        # A malformed id only means no replay beyond the page's render time.
        with suppress(ValueError):
            since = max(since, float(last_event_id))
    subscription = hub.subscribe(grant.keys, since)

    async def signals() -> AsyncIterator[ServerSentEvent]:
        # The first comment tells the browser (and a test) the stream is subscribed.
        yield ServerSentEvent(comment="subscribed")
        async for changed in hub.changes(subscription, settings.live_heartbeat_seconds):
            if not changed:
                yield ServerSentEvent(comment="heartbeat")
            # The id is when the page last heard: a reconnecting browser sends it back.
            heard_at = f"{hub.now():.3f}"
            for key in sorted(changed):
                yield ServerSentEvent(data="changed", event=event_name(key), id=heard_at)

    # A page that stops reading is dropped rather than holding its stream open.
    return EventSourceResponse(
        signals(),
        headers={"Cache-Control": "no-store"},
        send_timeout=2 * settings.live_heartbeat_seconds,
    )
