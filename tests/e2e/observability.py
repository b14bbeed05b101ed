"""What the checks of deploy/prometheus and deploy/grafana share: where the rules, their
tests and the dashboards are, Debian's Prometheus binaries (a test without them is skipped
loudly, and fails under CI), the metric names that rules, panels and /metrics name, and a real
Prometheus scraping a stack with the rules loaded."""

import json
import os
import re
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "attain-rules.yml"
RULE_TESTS = sorted((ROOT / "deploy" / "prometheus" / "tests").glob("*.yml"))
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
README = ROOT / "deploy" / "README.md"
ARTIFACTS = ROOT / ".artifacts" / "prometheus"

# Series Prometheus makes itself, not a service.
BUILT_IN = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped", "ALERTS"})


def binary(name: str) -> Path:
    """Debian's `/usr/bin/<name>` (package prometheus). Missing, the test is skipped, and the
    run says so; in CI (`CI` set) it fails: .ci/run installs the package."""
    found = Path("/usr/bin") / name
    if found.exists():
        return found
    install = "Install it with `apt-get install -y prometheus` (.ci/run does)."
    if os.environ.get("CI"):
        pytest.fail(f"no {found}, and CI must run the Prometheus checks. {install}")
    reason = f"PROMETHEUS CHECKS SKIPPED: no {found}. {install}"
    warnings.warn(reason, stacklevel=2)
    pytest.skip(reason)


def rule_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load(RULES.read_text())["groups"]
    return groups


def alerts() -> list[dict[str, Any]]:
    return [rule for group in rule_groups() for rule in group["rules"] if "alert" in rule]


def recorded() -> set[str]:
    return {
        rule["record"] for group in rule_groups() for rule in group["rules"] if "record" in rule
    }


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in DASHBOARDS}


def panel_queries(board: dict[str, Any]) -> list[str]:
    return [
        target["expr"]
        for panel in board["panels"]
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACES = re.compile(r"\{[^}]*\}|\[[^\]]*\]")
# Label lists: `by (service, le)`, `on (instance)`, `group_left (x)`.
_LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w:$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?")
_KEYWORDS = frozenset({"and", "or", "unless", "offset", "bool", "inf", "nan", "Inf", "NaN"})


def metric_names(expr: str) -> set[str]:
    """The series a PromQL expression selects by name: what is left without strings, label
    matchers, ranges, label lists, functions and operators."""
    bare = _LABEL_LIST.sub(" ", _BRACES.sub(" ", _STRING.sub(" ", expr)))
    return {
        name
        for name, call in _NAME.findall(bare)
        if not call and name not in _KEYWORDS and not name.startswith("__")
    }


_SAMPLES_OF_TYPE = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
}


def exported_names(exposition: str) -> set[str]:
    """The sample names a /metrics page exports, those of metrics with no sample yet too:
    prometheus_client writes `# TYPE` for a labelled metric before its first `.labels()`
    (a counter's name there with `_total` or, in other versions, without)."""
    names: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            name = name.removesuffix("_total") if kind == "counter" else name
            names.update(name + suffix for suffix in _SAMPLES_OF_TYPE.get(kind, ("",)))
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_prometheus(targets: Mapping[str, str], name: str) -> Iterator[str]:
    """Debian's Prometheus scraping each `targets` URL (one job per service, named after it)
    every second, with the rules loaded and evaluated every second; its URL. Its log stays in
    .artifacts/prometheus/<name>.log; it is stopped on leaving, whatever happened."""
    prometheus = binary("prometheus")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {
                "job_name": job,
                "static_configs": [{"targets": [urlsplit(url).netloc]}],
            }
            for job, url in targets.items()
        ],
    }
    with tempfile.TemporaryDirectory(prefix="attain-prometheus-") as home:
        config_file = Path(home) / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config))
        with (ARTIFACTS / f"{name}.log").open("w") as log:
            process = subprocess.Popen(
                [
                    str(prometheus),
                    f"--config.file={config_file}",
                    f"--storage.tsdb.path={Path(home) / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                url = f"http://127.0.0.1:{port}"
                _wait_until_ready(url, process)
                yield url
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_until_ready(url: str, process: "subprocess.Popen[bytes]") -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited with {process.returncode}; see {ARTIFACTS}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"prometheus at {url} not ready in 30 s; see {ARTIFACTS}")
