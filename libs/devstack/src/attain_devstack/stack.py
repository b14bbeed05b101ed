"""The infrastructure the services run on: the servers the environment names, or embedded ones."""

import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NamedTuple

from attain_devstack._process import run_blocking
from attain_devstack.broker import BrokerKind, chosen_broker, running_broker
from attain_devstack.postgres import asyncpg_url, start_embedded_postgres, stop_embedded_postgres
from servicekit.topics import ensure_topics

# What the services need to differ from their defaults (made for a production Kafka) on an
# embedded broker. Short sessions move a dead member's partitions on quickly; Tansu makes a
# group join wait half the session timeout, and the embedded Kafka allows sessions this short
# (kafka.SINGLE_NODE_SETTINGS). Tansu has no idempotent producer for aiokafka.
EMBEDDED_BROKER_SETTINGS: dict[BrokerKind, dict[str, str]] = {
    "kafka": {
        "ATTAIN_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "ATTAIN_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
    },
    "tansu": {
        "ATTAIN_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "ATTAIN_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "ATTAIN_KAFKA_IDEMPOTENT_PRODUCER": "false",
    },
}


class Infrastructure(NamedTuple):
    database_url: str
    kafka_bootstrap: str
    # The embedded broker's kind, or None for one the environment names.
    embedded_broker: BrokerKind | None

    def service_environment(self) -> dict[str, str]:
        """What a service process needs in its environment to use these servers."""
        embedded = EMBEDDED_BROKER_SETTINGS[self.embedded_broker] if self.embedded_broker else {}
        return {
            "ATTAIN_DATABASE_URL": self.database_url,
            "ATTAIN_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            **embedded,
        }

    def broker_description(self) -> str:
        """Which broker this is, for a person reading `make run`'s output."""
        described = {
            "kafka": "Apache Kafka (embedded; messages kept in the data folder)",
            "tansu": "Tansu (embedded; messages in memory only)",
        }
        name = described.get(self.embedded_broker or "", "the broker of ATTAIN_KAFKA_BOOTSTRAP")
        return f"{name} at {self.kafka_bootstrap}"


@contextmanager
def infrastructure(
    data_dir: Path, say: Callable[[str], None] = lambda _: None
) -> Iterator[Infrastructure]:
    """Yield the database URL (asyncpg) and Kafka bootstrap address to run the services against,
    with every topic created.

    `ATTAIN_DATABASE_URL` and `ATTAIN_KAFKA_BOOTSTRAP` name servers to use; what they do not name
    is started here, keeping its files in `data_dir`, and stopped on leaving. The database
    survives a restart; so do the messages of Apache Kafka, not those of Tansu (memory only).
    `ATTAIN_BROKER` (kafka or tansu) chooses the embedded broker (`broker.chosen_broker`).
    `say` is told each step as it is done, with the seconds it took.
    """
    with ExitStack() as started:
        step = time.monotonic()

        def done(what: str) -> None:
            nonlocal step
            say(f"{what} ({time.monotonic() - step:.1f} s)")
            step = time.monotonic()

        database_url = os.environ.get("ATTAIN_DATABASE_URL")
        if database_url:
            database_url = asyncpg_url(database_url)
        else:
            database_url = start_embedded_postgres(data_dir / "postgres")
            started.callback(stop_embedded_postgres, data_dir / "postgres")
            done("PostgreSQL is ready")
        kafka_bootstrap = os.environ.get("ATTAIN_KAFKA_BOOTSTRAP")
        embedded_broker: BrokerKind | None = None
        if not kafka_bootstrap:
            embedded_broker = chosen_broker()
            say(f"starting the broker, {embedded_broker} (Kafka's first start fetches its jars)")
            kafka_bootstrap = started.enter_context(running_broker(embedded_broker, data_dir))
            done(f"the broker is ready at {kafka_bootstrap}")
        run_blocking(ensure_topics(kafka_bootstrap))
        done("the topics exist")
        yield Infrastructure(database_url, kafka_bootstrap, embedded_broker)
