"""The services' consumer groups moved to the end of every topic, before a stack of the services
starts on a new database against a broker that earlier stacks used.

A consumer group outlives the processes in it: the broker keeps its committed offsets. A stack on
a new database would otherwise start where the previous stack's group stopped, and first apply,
to its own empty database, every event of the earlier stacks that their services had not read
yet: end-to-end modules after `test_demo` each inherited the demo's backlog (goal-service read
414 of its alerts; tracking-service took all its partitions and applied nothing of the test's
own for 40 s). A group the broker has not heard of would start at the earliest offsets, the
integration tier's events included. Moved to the end first, each stack reads exactly the events
written after it started."""

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from attain_contracts import topics
from servicekit.kafka import partitions_of

# The group ids of the four services' consumers (`ConsumerSpec` in each service's main.py); the
# dashboard's consumer has none.
SERVICE_GROUPS = ("goal-service", "tracking-service", "alert-service", "incentive-service")
# A member of a stack killed with SIGKILL leaves its group only when its session ends (2 s on the
# embedded brokers); until then the broker refuses a commit from outside the group.
RETRY_SECONDS = 30.0


async def start_groups_at_the_end(
    bootstrap: str,
    groups: Sequence[str] = SERVICE_GROUPS,
    topic_names: Sequence[str] = topics.ALL,
    retry_seconds: float = RETRY_SECONDS,
) -> None:
    """Commit, for each of `groups`, the end offset of every partition of `topic_names` (every
    Attain topic). Each group must have no live member (its stack stopped)."""
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await probe.start()
    try:
        partitions = await partitions_of(probe, topic_names)
        ends = await probe.end_offsets(partitions)
    finally:
        await probe.stop()
    offsets = {tp: OffsetAndMetadata(ends[tp], "") for tp in partitions}
    for group in groups:
        deadline = asyncio.get_running_loop().time() + retry_seconds
        while True:
            committer = AIOKafkaConsumer(
                bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
            )
            await committer.start()
            try:
                committer.assign(partitions)
                await committer.commit(offsets)
                break
            except KafkaError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
            finally:
                await committer.stop()
            await asyncio.sleep(0.5)
