"""Apache Kafka 4 for development and tests: the broker's jars resolved from Maven Central by
Maven, once, and a single KRaft node (broker and controller in one process) on free loopback
ports, its log directory in a data folder so its messages and committed offsets survive a
restart."""

import base64
import hashlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

from attain_devstack.broker import (
    BrokerDidNotStart,
    free_port,
    start_server,
    stop_server,
    wait_until_ready,
)

# A JVM start, log recovery and the first metadata commit on a busy two-core machine.
STARTUP_TIMEOUT_SECONDS = 120.0
# A controlled shutdown moves nothing on a single node; past this the log is recovered on start.
STOP_TIMEOUT_SECONDS = 30.0
JVM_OPTIONS = (
    "-Xms128m",
    "-Xmx512m",
    # One collector thread and the quick compiler only: on a busy two-core machine this halves
    # the time to start (the optimising compiler competes for the cores), and a development
    # broker's throughput does not need it.
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
    "-Dorg.slf4j.simpleLogger.showDateTime=true",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
    "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.common.config=warn",
    "-Dorg.slf4j.simpleLogger.log.kafka.server.KafkaConfig=warn",
)
# Settings for one node that is both the whole cluster and its whole quorum.
SINGLE_NODE_SETTINGS = {
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "6",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    # A new group's first join waits this long for more members (3 s by default): in tests,
    # every consumer would pay it.
    "group.initial.rebalance.delay.ms": "0",
    # Kafka refuses sessions under 6 s by default; the embedded broker's consumers use 2 s
    # sessions (stack.EMBEDDED_BROKER_SETTINGS) so a dead member's partitions move on quickly.
    "group.min.session.timeout.ms": "1000",
    # Topics are created by attain_devstack.topics with their settings, never by a typo.
    "auto.create.topics.enable": "false",
}


class ApacheKafka:
    """One Apache Kafka node whose files live in `data_dir`. `start` and `stop` may alternate:
    it comes back on the same port with the messages and offsets it had."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.port = free_port()
        self._controller_port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "kafka.log"

    def start(self) -> None:
        """Start the node, formatting its storage first if it has none, and return once it
        answers metadata requests.

        On Linux the node also stops if the thread that started it dies without calling `stop`
        (say, by SIGKILL), so start it from a thread that lives as long as it should."""
        classpath = kafka_classpath()
        config = self._write_config()
        if not (self.data_dir / "logs" / "meta.properties").exists():
            self._format(classpath, config)
        self._process = start_server(
            ["java", *JVM_OPTIONS, "-cp", classpath, "kafka.Kafka", str(config)], self.log_path
        )
        try:
            wait_until_ready(
                self._process, self.bootstrap, self.log_path, "Kafka", STARTUP_TIMEOUT_SECONDS
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._process is not None:
            stop_server(self._process, timeout=STOP_TIMEOUT_SECONDS)
            self._process = None

    def _write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self._controller_port}",
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self._controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir / "logs"),
            **SINGLE_NODE_SETTINGS,
        }
        config = self.data_dir / "server.properties"
        config.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        return config

    def _format(self, classpath: str, config: Path) -> None:
        formatted = subprocess.run(
            [
                "java",
                *JVM_OPTIONS,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "--cluster-id",
                self._cluster_id(),
                "--config",
                str(config),
                "--ignore-formatted",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        if formatted.returncode != 0:
            raise BrokerDidNotStart(f"formatting Kafka's storage failed: {formatted.stderr}")

    def _cluster_id(self) -> str:
        """The cluster id kept in the data folder, made on first use."""
        kept = self.data_dir / "cluster-id"
        if not kept.exists():
            kept.write_text(new_cluster_id())
        return kept.read_text().strip()


@contextmanager
def running_kafka(data_dir: Path) -> Iterator[ApacheKafka]:
    """An `ApacheKafka` node started in `data_dir`, stopped on leaving."""
    broker = ApacheKafka(data_dir)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def new_cluster_id() -> str:
    """A cluster id as Kafka makes them: 16 random bytes, URL-safe base64 without padding, never
    starting with '-' (a command line would read it as an option)."""
    while True:
        made = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not made.startswith("-"):
            return made


def kafka_classpath() -> str:
    """The classpath of the broker's jars, resolved by Maven on first use and kept in the tools
    folder under a name made from the pom, so a changed pom is resolved again."""
    pom = files("attain_devstack.kafka").joinpath("pom.xml").read_bytes()
    folder = tools_dir() / "kafka" / hashlib.sha256(pom).hexdigest()[:12]
    kept = folder / "classpath.txt"
    if kept.exists():
        classpath = kept.read_text().strip()
        if all(Path(jar).exists() for jar in classpath.split(os.pathsep)):
            return classpath
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise BrokerDidNotStart("Apache Kafka needs java and mvn on PATH (or ATTAIN_BROKER=tansu)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pom.xml").write_bytes(pom)
    resolving = folder / f"classpath.{os.getpid()}.txt"
    resolved = subprocess.run(
        [
            "mvn",
            "--batch-mode",
            "--quiet",
            "--file",
            str(folder / "pom.xml"),
            "dependency:build-classpath",
            f"-Dmdep.outputFile={resolving}",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if resolved.returncode != 0:
        raise BrokerDidNotStart(f"Maven could not resolve Kafka's jars:\n{resolved.stdout}")
    # Renamed into place: a process that finds the file finds all of it.
    resolving.replace(kept)
    return kept.read_text().strip()


def tools_dir() -> Path:
    """The workspace's git-ignored `.tools/` (next to uv.lock), or a cache folder outside one."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "uv.lock").exists():
            return folder / ".tools"
    return Path.home() / ".cache" / "attain"
