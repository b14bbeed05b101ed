"""The CloudEvents 1.0 envelope (JSON structured mode) every event travels in."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict

from attain_contracts.events import EVENT_TYPES, Event


class UnknownEventType(ValueError):
    pass


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: UUID
    source: str
    type: str
    time: AwareDatetime
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    correlationid: str | None = None
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        source: str,
        time: datetime,
        correlation_id: str | None = None,
        event_id: UUID | None = None,
    ) -> "Envelope":
        return cls(
            id=event_id or uuid4(),
            source=source,
            type=event.type,
            time=time,
            subject=event.key(),
            correlationid=correlation_id,
            data=event.model_dump(mode="json"),
        )

    def event(self) -> Event:
        """The typed event inside; raises UnknownEventType for a type we do not know."""
        try:
            model = EVENT_TYPES[self.type]
        except KeyError:
            raise UnknownEventType(self.type) from None
        return model.model_validate(self.data)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Envelope":
        return cls.model_validate_json(raw)
