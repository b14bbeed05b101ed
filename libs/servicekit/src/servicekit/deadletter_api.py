"""The dead letters of one service over HTTP, for admins: `GET /admin/dead-letters` lists the
entries of the service's consumer groups, `POST /admin/dead-letters/replay` re-publishes chosen
ones (servicekit.deadletters). `create_service_app` includes it in every service with a database."""

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from servicekit import metrics, roles
from servicekit.deadletters import DeadLetter, Refusal, read_dead_letters, replay, replayable
from servicekit.errors import Unreachable
from servicekit.problems import Conflict, InvalidInput
from servicekit.settings import ServiceSettings

Entry = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,9}:[0-9]{1,18}$",
        description="an entry's PARTITION:OFFSET on attain.dead-letter, as the listing shows it",
        examples=["0:12"],
    ),
]


class ReplayDone(BaseModel):
    replayed_at: datetime
    group: str
    topic: str
    partition: int
    offset: int


class DeadLetterEntry(BaseModel):
    entry: Entry
    dead_lettered_at: datetime
    error: str
    group: str = Field(description="the consumer group it failed in, and is replayed for")
    topic: str = Field(description="the topic it came from and is replayed to")
    original_partition: int | None
    original_offset: int | None
    event_type: str | None = Field(description="from the envelope, when it is one")
    event_id: str | None
    event_time: datetime | None
    key: str | None
    replay_of: str | None = Field(description="the entry this one failed again after replaying")
    replays: list[ReplayDone] = Field(description="empty until it is replayed")


class DeadLetterList(BaseModel):
    count: int = Field(
        description="every entry of the groups asked for; `data` holds the first `limit`"
    )
    data: list[DeadLetterEntry]


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: list[Entry] = Field(min_length=1, max_length=100)
    force: bool = Field(default=False, description="replay entries that were replayed before")


class ReplayedEntry(BaseModel):
    entry: Entry
    group: str
    topic: str
    partition: int = Field(description="where the record went on `topic`")
    offset: int


class ReplayedList(BaseModel):
    count: int
    data: list[ReplayedEntry]


def dead_letter_router(service: str, groups: Sequence[str]) -> APIRouter:
    """The routes for `service`, whose consumer groups are `groups`."""
    router = APIRouter(prefix="/admin/dead-letters", tags=["admin"])
    ours = frozenset(groups)
    for group in ours:  # exported from the start, at 0, like every counter a rule may watch
        metrics.DEAD_LETTERS_REPLAYED.labels(service, group)

    @router.get("", dependencies=[roles.admins], response_model=DeadLetterList)
    async def list_dead_letters(
        request: Request,
        group: Annotated[str | None, Query(description="one of this service's groups")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> DeadLetterList:
        """What this service's consumer groups dead-lettered, oldest first."""
        if group is not None and group not in ours:
            raise InvalidInput(
                f"{group} is not a consumer group of this service; its groups: "
                f"{', '.join(sorted(ours)) or 'none'}",
                field="group",
            )
        wanted = {group} if group is not None else ours
        letters = [d for d in await _dead_letters(request) if d.group in wanted]
        return DeadLetterList(
            count=len(letters),
            data=[DeadLetterEntry.model_validate(d.summary()) for d in letters[:limit]],
        )

    @router.post("/replay", dependencies=[roles.admins], response_model=ReplayedList)
    async def replay_dead_letters(request: Request, body: ReplayRequest) -> ReplayedList:
        """Re-publish the entries to their original topic, for the group each failed in; every
        entry must be this service's and not replayed before (unless `force`), or none is."""
        letters, refusals = replayable(
            await _dead_letters(request), body.entries, groups=ours, force=body.force
        )
        if refusals:
            raise _refused(refusals)
        settings: ServiceSettings = request.app.state.settings
        try:
            done = await replay(
                request.app.state.runtime.producer, letters, service=settings.service_name
            )
        except KafkaError as error:
            raise _broker_unavailable(error) from error
        return ReplayedList(
            count=len(done),
            data=[
                ReplayedEntry(
                    entry=letter.entry,
                    group=r.group,
                    topic=r.topic,
                    partition=r.partition,
                    offset=r.offset,
                )
                for letter, r in zip(letters, done, strict=True)
            ],
        )

    return router


async def _dead_letters(request: Request) -> list[DeadLetter]:
    settings: ServiceSettings = request.app.state.settings
    try:
        return await read_dead_letters(settings.kafka_bootstrap)
    except (KafkaError, TimeoutError) as error:
        raise _broker_unavailable(error) from error


def _refused(refusals: list[Refusal]) -> InvalidInput | Conflict:
    """A 422 naming each entry that does not exist or is not this service's; a 409 when the
    only fault is entries replayed before."""
    errors = [{"field": f"entries.{r.index}", "code": r.code, "reason": r.reason} for r in refusals]
    invalid = [r for r in refusals if r.code != "already-replayed"]
    first = (invalid or refusals)[0]
    problem = InvalidInput if invalid else Conflict
    return problem(first.reason, field=f"entries.{first.index}", errors=errors)


def _broker_unavailable(error: Exception) -> Unreachable:
    return Unreachable(
        "broker-unavailable", "The broker did not answer", f"reading dead letters: {error!r}"
    )
