"""Creates every Attain topic that does not exist yet, with the partitions, replication factor
and retention of `TopicSettings`: `python -m servicekit.topics [--bootstrap HOST:PORT]`.

One command for `make run`, the tests and a deployment alike. Running it again changes nothing:
a topic that exists is left as it is (its partitions cannot shrink, and adding some would move
keys to other partitions)."""

import argparse
import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from attain_contracts import topics
from servicekit.settings import ServiceSettings, TopicSettings


def wanted_topics(settings: TopicSettings) -> list[NewTopic]:
    def retention(name: str) -> int:
        if name == topics.DEAD_LETTER:
            return settings.dead_letter_retention_ms
        return settings.retention_ms

    return [
        NewTopic(
            name,
            settings.partitions,
            settings.replication_factor,
            topic_configs={"retention.ms": str(retention(name))},
        )
        for name in topics.ALL
    ]


async def ensure_topics(bootstrap: str, settings: TopicSettings | None = None) -> list[str]:
    """Create the missing topics; return the names of those created."""
    wanted = wanted_topics(settings or TopicSettings())
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        response = await admin.create_topics(wanted)
    finally:
        await admin.close()
    failures = [
        f"{topic} (error {code}: {details[0] if details else ''})"
        for topic, code, *details in response.topic_errors
        if code not in (0, TopicAlreadyExistsError.errno)
    ]
    if failures:
        raise KafkaError(f"could not create topics: {'; '.join(failures)}")
    return [topic for topic, code, *_ in response.topic_errors if code == 0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", help="the broker (default: ATTAIN_KAFKA_BOOTSTRAP)")
    bootstrap = parser.parse_args().bootstrap or ServiceSettings().kafka_bootstrap
    created = asyncio.run(ensure_topics(bootstrap))
    print(f"topics created on {bootstrap}: {', '.join(created) or 'none, all existed'}")


if __name__ == "__main__":
    main()
