"""The infrastructure the services run on: the servers the environment names, or embedded ones."""

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NamedTuple

from attain_devstack.broker import ensure_topics, running_broker
from attain_devstack.postgres import asyncpg_url, start_embedded_postgres, stop_embedded_postgres

# Tansu makes a group join wait half the session timeout, so the embedded broker
# gets short sessions. Apache Kafka refuses sessions under 6 s by default, so a
# named broker keeps the services' defaults.
EMBEDDED_BROKER_SETTINGS = {
    "ATTAIN_KAFKA_SESSION_TIMEOUT_MS": "2000",
    "ATTAIN_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
}


class Infrastructure(NamedTuple):
    database_url: str
    kafka_bootstrap: str
    embedded_broker: bool

    def service_environment(self) -> dict[str, str]:
        """What a service process needs in its environment to use these servers."""
        return {
            "ATTAIN_DATABASE_URL": self.database_url,
            "ATTAIN_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            **(EMBEDDED_BROKER_SETTINGS if self.embedded_broker else {}),
        }


@contextmanager
def infrastructure(data_dir: Path) -> Iterator[Infrastructure]:
    """Yield the database URL (asyncpg) and Kafka bootstrap address to run the services against,
    with every topic created.

    `ATTAIN_DATABASE_URL` and `ATTAIN_KAFKA_BOOTSTRAP` name servers to use; what they do not name
    is started here, keeping its files in `data_dir` (the database survives a restart, the broker's
    messages do not), and stopped on leaving.
    """
    with ExitStack() as started:
        database_url = os.environ.get("ATTAIN_DATABASE_URL")
        if database_url:
            database_url = asyncpg_url(database_url)
        else:
            database_url = start_embedded_postgres(data_dir / "postgres")
            started.callback(stop_embedded_postgres, data_dir / "postgres")
        kafka_bootstrap = os.environ.get("ATTAIN_KAFKA_BOOTSTRAP")
        embedded_broker = not kafka_bootstrap
        if not kafka_bootstrap:
            kafka_bootstrap = started.enter_context(running_broker(data_dir / "tansu.log"))
        ensure_topics(kafka_bootstrap)
        yield Infrastructure(database_url, kafka_bootstrap, embedded_broker)
