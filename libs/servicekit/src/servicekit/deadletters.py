"""Dead letters an operator can act on: what is in `attain.dead-letter`, and a replay of chosen
entries to their original topic once the cause is fixed.

    python -m servicekit.deadletters list [--group G] [--json] [--bootstrap HOST:PORT]
    python -m servicekit.deadletters replay --entry PARTITION:OFFSET [--entry ...] [--force]
    python -m servicekit.deadletters replay --group G --all [--force]

The broker is ATTAIN_KAFKA_BOOTSTRAP unless `--bootstrap` names one. `replay` exits 1 and
replays nothing when any entry is unknown or was replayed before (without `--force`); 2 when
the broker does not answer.

An entry is named by where it sits on the dead-letter topic (`PARTITION:OFFSET`, as `list`
shows). The consumer runtime (servicekit.consumer) wrote it with the error, the consumer group it
failed in, and the original topic, partition and offset in `dlq_*` headers, and the original
key, value and headers as they were.

A replay is applied once, by the group it is for:
- the record goes back to its original topic with its key, value and headers, and a
  `replay_group` header: every other group reading that topic ignores it (they applied the event
  long ago and may have pruned its inbox row since, servicekit.retention), and the group it is for
  never applied it (the failed transaction rolled its inbox row back with it);
- that group's inbox absorbs the same replay done twice (two operators, a retry after a crash);
- each replay is recorded on the dead-letter topic itself, as a marker record naming the entry
  (`dlq_replay_of`), so the state lives as long as the entries do (the topic's 30 days) and in no
  new table; `list` shows an entry as replayed and `replay` refuses it again unless forced.

A replayed event is appended to its partition, after events of the same key that came later: the
services never rely on arrival order (ARCHITECTURE.md, Order)."""

import argparse
import asyncio
import json
import sys
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from attain_contracts import Envelope, topics
from servicekit import metrics
from servicekit.kafka import create_producer
from servicekit.settings import ServiceSettings

REPLAY_GROUP_HEADER = "replay_group"
"""On a replayed record: the one consumer group that applies it."""
REPLAY_OF_HEADER = "replay_of"
"""On a replayed record: the dead-letter entry it came from, so a second failure says so."""
MARKER_HEADER = "dlq_replay_of"
"""On the dead-letter topic: this record marks the named entry as replayed."""

READ_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Replay:
    """One replay of an entry: when, for which group, and where the record went."""

    replayed_at: datetime
    group: str
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    dead_lettered_at: datetime
    error: str
    group: str
    topic: str
    original_partition: int | None
    original_offset: int | None
    event_type: str | None
    event_id: str | None
    event_time: datetime | None
    replay_of: str | None
    key: bytes | None = field(repr=False)
    value: bytes | None = field(repr=False)
    headers: tuple[tuple[str, bytes], ...] = field(repr=False)
    replays: tuple[Replay, ...] = ()

    @property
    def entry(self) -> str:
        return f"{self.partition}:{self.offset}"

    def summary(self) -> dict[str, Any]:
        """What the listing shows: everything but the record's bytes."""
        shown = asdict(self)
        for raw in ("key", "value", "headers"):
            del shown[raw]
        return {"entry": self.entry, **shown, "key": _text(self.key)}


@dataclass(frozen=True)
class Refusal:
    """Why the entry at `index` of a replay request cannot be replayed."""

    index: int
    entry: str
    code: str  # unknown, not-this-service, already-replayed
    reason: str


async def read_dead_letters(bootstrap: str) -> list[DeadLetter]:
    """Every entry on the dead-letter topic, oldest first, with its replays folded in."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        client_id="attain-dead-letters",
    )
    try:
        async with asyncio.timeout(READ_TIMEOUT_SECONDS):
            await consumer.start()
            records = await _whole_topic(consumer, topics.DEAD_LETTER)
    finally:
        await consumer.stop()
    return _folded(records)


async def _whole_topic(
    consumer: AIOKafkaConsumer, topic: str
) -> list[ConsumerRecord[bytes, bytes]]:
    """From the beginning of every partition to its end offset of now."""
    await consumer._client.force_metadata_update()
    partitions = [
        TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
    ]
    if not partitions:
        return []
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    ends = await consumer.end_offsets(partitions)
    records: list[ConsumerRecord[bytes, bytes]] = []
    remaining = [tp for tp in partitions if await consumer.position(tp) < ends[tp]]
    while remaining:
        fetched = await consumer.getmany(*remaining, timeout_ms=500)
        for tp, batch in fetched.items():
            records.extend(record for record in batch if record.offset < ends[tp])
        remaining = [tp for tp in remaining if await consumer.position(tp) < ends[tp]]
    return records


def _folded(records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[DeadLetter]:
    entries: dict[str, DeadLetter] = {}
    replays: dict[str, list[Replay]] = {}
    for record in records:
        headers = _headers(record)
        if MARKER_HEADER in headers:
            replays.setdefault(headers[MARKER_HEADER], []).append(_replay_of(record, headers))
        elif "dlq_group" in headers and "dlq_topic" in headers:
            letter = _dead_letter(record, headers)
            entries[letter.entry] = letter
    letters = [
        replace(letter, replays=tuple(replays.get(entry, ()))) for entry, letter in entries.items()
    ]
    return sorted(letters, key=lambda d: (d.dead_lettered_at, d.partition, d.offset))


def _dead_letter(record: ConsumerRecord[bytes, bytes], headers: dict[str, str]) -> DeadLetter:
    try:
        envelope: Envelope | None = Envelope.from_bytes(record.value or b"")
    except ValueError:  # the record that was never an envelope is dead-lettered too
        envelope = None
    return DeadLetter(
        partition=record.partition,
        offset=record.offset,
        dead_lettered_at=_instant(record.timestamp),
        error=headers.get("dlq_error", ""),
        group=headers["dlq_group"],
        topic=headers["dlq_topic"],
        original_partition=_number(headers.get("dlq_partition")),
        original_offset=_number(headers.get("dlq_offset")),
        event_type=envelope.type if envelope else None,
        event_id=str(envelope.id) if envelope else None,
        event_time=envelope.time if envelope else None,
        replay_of=headers.get(REPLAY_OF_HEADER),
        key=record.key,
        value=record.value,
        headers=tuple(record.headers or ()),
    )


def _replay_of(record: ConsumerRecord[bytes, bytes], headers: dict[str, str]) -> Replay:
    topic, _, place = headers.get("dlq_replayed_to", "").rpartition("@")
    partition, _, offset = place.partition(":")
    return Replay(
        replayed_at=_instant(record.timestamp),
        group=headers.get("dlq_replay_group", ""),
        topic=topic,
        partition=_number(partition) or 0,
        offset=_number(offset) or 0,
    )


def replayable(
    letters: Sequence[DeadLetter],
    entries: Sequence[str],
    *,
    groups: Collection[str] | None = None,
    force: bool = False,
) -> tuple[list[DeadLetter], list[Refusal]]:
    """The letters `entries` name, each once, and why any of them cannot be replayed: not on the
    topic, of a group not in `groups` (when given), or replayed already (unless `force`)."""
    by_entry = {letter.entry: letter for letter in letters}
    chosen: dict[str, DeadLetter] = {}
    refusals: list[Refusal] = []
    for index, entry in enumerate(entries):
        letter = by_entry.get(entry)
        if letter is None:
            refusals.append(Refusal(index, entry, "unknown", f"no dead-letter entry {entry}"))
        elif groups is not None and letter.group not in groups:
            reason = f"entry {entry} failed in group {letter.group}, not in this service"
            refusals.append(Refusal(index, entry, "not-this-service", reason))
        elif letter.replays and not force:
            last = letter.replays[-1]
            reason = (
                f"entry {entry} was replayed at {last.replayed_at.isoformat()} "
                f"(to {last.topic}@{last.partition}:{last.offset}); force to replay it again"
            )
            refusals.append(Refusal(index, entry, "already-replayed", reason))
        else:
            chosen.setdefault(entry, letter)
    return list(chosen.values()), refusals


async def replay(
    producer: AIOKafkaProducer, letters: Sequence[DeadLetter], *, service: str
) -> list[Replay]:
    """Put each letter back on its original topic for the group it failed in, then mark it
    replayed. A crash between the two leaves it unmarked: replayed again, the group's inbox
    drops the second copy."""
    done = []
    for letter in letters:
        headers = [
            (name, value)
            for name, value in letter.headers
            if not name.startswith("dlq_") and name not in (REPLAY_GROUP_HEADER, REPLAY_OF_HEADER)
        ]
        headers += [
            (REPLAY_GROUP_HEADER, letter.group.encode()),
            (REPLAY_OF_HEADER, letter.entry.encode()),
        ]
        sent = await producer.send_and_wait(
            letter.topic, value=letter.value, key=letter.key, headers=headers
        )
        where = f"{letter.topic}@{sent.partition}:{sent.offset}"
        marker = {"replayed": letter.entry, "group": letter.group, "to": where}
        await producer.send_and_wait(
            topics.DEAD_LETTER,
            value=json.dumps(marker).encode(),
            key=letter.key,
            headers=[
                (MARKER_HEADER, letter.entry.encode()),
                ("dlq_replay_group", letter.group.encode()),
                ("dlq_replayed_to", where.encode()),
            ],
        )
        metrics.DEAD_LETTERS_REPLAYED.labels(service, letter.group).inc()
        done.append(
            Replay(datetime.now(UTC), letter.group, letter.topic, sent.partition, sent.offset)
        )
    return done


def is_replayed_for_another_group(record: ConsumerRecord[bytes, bytes], group: str) -> bool:
    """Whether `record` is a replay meant for another consumer group than `group`."""
    for name, value in record.headers or ():
        if name == REPLAY_GROUP_HEADER:
            return value.decode(errors="replace") != group
    return False


def _headers(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {name: value.decode(errors="replace") for name, value in record.headers or ()}


def _instant(timestamp_ms: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isdecimal() else None


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode(errors="replace")


# The command.


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m servicekit.deadletters", description=__doc__.split("\n\n")[0]
    )
    broker = argparse.ArgumentParser(add_help=False)
    broker.add_argument("--bootstrap", help="the broker (default: ATTAIN_KAFKA_BOOTSTRAP)")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", parents=[broker], help="show the entries, oldest first")
    listing.add_argument("--group", help="only the entries of this consumer group")
    listing.add_argument("--json", action="store_true", help="one JSON document, every field")
    replaying = commands.add_parser(
        "replay", parents=[broker], help="re-publish entries to their original topic"
    )
    replaying.add_argument(
        "--entry", action="append", default=[], metavar="PARTITION:OFFSET", help="repeatable"
    )
    replaying.add_argument("--group", help="with --all: every entry of this group")
    replaying.add_argument("--all", action="store_true", help="every entry of --group")
    replaying.add_argument("--force", action="store_true", help="replay entries replayed before")
    args = parser.parse_args(argv)
    if args.command == "replay" and bool(args.entry) == bool(args.all and args.group):
        replaying.error("replay takes --entry PARTITION:OFFSET ... or --group G --all")
    settings = ServiceSettings()
    if args.bootstrap:
        settings = settings.model_copy(update={"kafka_bootstrap": args.bootstrap})
    try:
        if args.command == "list":
            return asyncio.run(_list(settings, args.group, as_json=args.json))
        return asyncio.run(_replay(settings, args.entry, args.group, force=args.force))
    except (KafkaError, TimeoutError) as error:
        print(
            f"the broker at {settings.kafka_bootstrap} did not answer: {error!r}", file=sys.stderr
        )
        return 2


async def _list(settings: ServiceSettings, group: str | None, *, as_json: bool) -> int:
    letters = [
        letter
        for letter in await read_dead_letters(settings.kafka_bootstrap)
        if group is None or letter.group == group
    ]
    if as_json:
        print(json.dumps([letter.summary() for letter in letters], default=str, indent=2))
        return 0
    if not letters:
        print("no dead letters" + (f" of group {group}" if group else ""))
        return 0
    for letter in letters:
        original = f"{letter.topic}@{letter.original_partition}:{letter.original_offset}"
        replayed = (
            f"replayed {letter.replays[-1].replayed_at:%Y-%m-%d %H:%M:%S}"
            if letter.replays
            else "not replayed"
        )
        print(
            f"{letter.entry}  {letter.dead_lettered_at:%Y-%m-%d %H:%M:%S}Z  "
            f"group={letter.group}  from={original}  "
            f"event={letter.event_type or '-'} {letter.event_id or ''}  {replayed}"
        )
        print(f"    {(letter.error.splitlines() or [''])[0][:300]}")
    print(f"dead letters: {len(letters)}")
    return 0


async def _replay(
    settings: ServiceSettings, entries: list[str], group: str | None, *, force: bool
) -> int:
    letters = await read_dead_letters(settings.kafka_bootstrap)
    if not entries:
        entries = [
            letter.entry
            for letter in letters
            if letter.group == group and (force or not letter.replays)
        ]
    chosen, refusals = replayable(letters, entries, force=force)
    for refusal in refusals:
        print(f"refused: {refusal.reason}", file=sys.stderr)
    if refusals:
        print("nothing replayed", file=sys.stderr)
        return 1
    producer = create_producer(settings)
    await producer.start()
    try:
        done = await replay(producer, chosen, service=settings.service_name)
    finally:
        await producer.stop()
    for letter, replayed in zip(chosen, done, strict=True):
        print(
            f"replayed {letter.entry} for group {letter.group} "
            f"to {replayed.topic}@{replayed.partition}:{replayed.offset}"
        )
    print(f"replayed: {len(done)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
