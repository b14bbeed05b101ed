"""The deployment files, checked without running them (issue 16, Checks): the kustomize
overlays render and validate against the Kubernetes schemas, the compose file against the
compose specification, and everything they and the Dockerfile name exists: packages, settings,
the rules Prometheus loads."""

import copy
import importlib
import importlib.metadata
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic_settings import BaseSettings

from alert_service.settings import AlertSettings
from attain_devstack.run import SERVICES
from dashboard_service.settings import DashboardSettings
from goal_service.settings import GoalSettings
from incentive_service.settings import IncentiveSettings
from servicekit.settings import ServiceSettings, TopicSettings
from tracking_service.settings import TrackingSettings

pytestmark = pytest.mark.unit

Render = Callable[[str], list[dict[str, Any]]]
Tool = Callable[[str, str], Path]

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("dev", "prod")

COMPOSE_DIR = DEPLOY / "compose"
COMPOSE = COMPOSE_DIR / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
RULES = DEPLOY / "prometheus" / "attain-rules.yml"
# The oldest Kubernetes the manifests are written for (deploy/README.md): the Pod lifecycle's
# sleep action and topology spread's matchLabelKeys are there.
KUBERNETES_VERSION = "1.32.0"
SERVICE_SETTINGS: dict[str, type[ServiceSettings]] = {
    "dashboard-service": DashboardSettings,
    "goal-service": GoalSettings,
    "tracking-service": TrackingSettings,
    "alert-service": AlertSettings,
    "incentive-service": IncentiveSettings,
}
# tracking-service runs as web replicas (the Deployment and compose service tracking-service,
# background work off) and workers (tracking-worker: the relay, the consumers, retention, the
# projector), as `make run` starts them (attain_devstack.run.SERVICES). Every Deployment and
# compose service, by the service whose settings it reads.
WORKERS = {service.name: service.worker_of for service in SERVICES if service.worker_of}
REPLICAS = {**{name: name for name in SERVICE_SETTINGS}, **WORKERS}
BACKGROUND = "ATTAIN_TRACKING_BACKGROUND_WORK"
# The Deployments whose consumer groups carry the load: their HPAs scale on lag too.
CONSUMER_HEAVY = ("tracking-worker", "alert-service", "incentive-service")
MIGRATED_PACKAGES = {service.package for service in SERVICES if service.migrated}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def compose_services() -> dict[str, dict[str, Any]]:
    """The five Attain services of the compose file and tracking-worker, by name."""
    services = compose()["services"]
    return {name: services[name] for name in REPLICAS}


def of_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def containers(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            for container in obj["spec"]["template"]["spec"]["containers"]:
                yield obj["metadata"]["name"], container


def pods(objects: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Each Deployment's pod labels, by the Deployment's name."""
    return {
        name: deployment["spec"]["template"]["metadata"]["labels"]
        for name, deployment in of_kind(objects, "Deployment").items()
    }


def config_map(objects: list[dict[str, Any]]) -> dict[str, str]:
    (found,) = [obj for obj in objects if obj["kind"] == "ConfigMap"]
    data: dict[str, str] = found["data"]
    return data


# --- Kubernetes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlay_renders_objects_valid_for_kubernetes(render: Render, overlay: str) -> None:
    objects = render(overlay)
    problems = []
    for obj in objects:
        where = f"{obj['kind']} {obj['metadata']['name']}"
        if obj["kind"] in CUSTOM_RESOURCES:
            problems += [f"{where}: {problem}" for problem in CUSTOM_RESOURCES[obj["kind"]](obj)]
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as e:
            problems.append(f"{where}: {e}")
    assert not problems, "\n".join(problems)
    kinds = {obj["kind"] for obj in objects}
    assert {
        "Namespace",
        "ConfigMap",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
        "Job",
        "ServiceMonitor",
        "PrometheusRule",
    } <= kinds
    assert set(of_kind(objects, "Deployment")) == set(REPLICAS)


def service_monitor_problems(obj: dict[str, Any]) -> list[str]:
    # No schema ships for the Prometheus Operator's resources: the shape the operator reads.
    spec = obj.get("spec", {})
    problems = [] if obj["apiVersion"] == "monitoring.coreos.com/v1" else ["apiVersion"]
    if not spec.get("selector", {}).get("matchLabels"):
        problems.append("spec.selector.matchLabels is missing")
    endpoints = spec.get("endpoints") or []
    if not endpoints or any({"port", "path"} - set(endpoint) for endpoint in endpoints):
        problems.append("every spec.endpoints[] needs a port and a path")
    return problems


def prometheus_rule_problems(obj: dict[str, Any]) -> list[str]:
    problems = [] if obj["apiVersion"] == "monitoring.coreos.com/v1" else ["apiVersion"]
    groups = obj.get("spec", {}).get("groups") or []
    if not groups:
        problems.append("spec.groups is empty")
    for group in groups:
        for rule in group.get("rules") or [{}]:
            if "expr" not in rule or len({"record", "alert"} & set(rule)) != 1:
                problems.append(f"group {group.get('name')}: rule {rule} needs expr and a name")
    return problems


CUSTOM_RESOURCES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "ServiceMonitor": service_monitor_problems,
    "PrometheusRule": prometheus_rule_problems,
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_prometheus_rule_carries_exactly_the_rules_file(render: Render, overlay: str) -> None:
    (rule,) = of_kind(render(overlay), "PrometheusRule").values()
    assert rule["spec"] == yaml.safe_load(RULES.read_text())


def test_the_generated_prometheus_rule_is_current() -> None:
    done = subprocess.run(
        [sys.executable, str(DEPLOY / "k8s" / "prometheusrule.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_probes_resources_and_runs_unprivileged(
    render: Render, overlay: str
) -> None:
    for name, deployment in of_kind(render(overlay), "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), (name, bound)
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_a_disruption_budget_and_an_autoscaler(
    render: Render, overlay: str
) -> None:
    objects = render(overlay)
    # Each budget covers the pods of one Deployment: web replicas and workers apart.
    budgets = {
        name: [
            deployment
            for deployment, labels in pods(objects).items()
            if selects(budget["spec"]["selector"], labels)
        ]
        for name, budget in of_kind(objects, "PodDisruptionBudget").items()
    }
    assert budgets == {name: [name] for name in REPLICAS}
    autoscalers = {
        hpa["spec"]["scaleTargetRef"]["name"]: hpa["spec"]
        for hpa in of_kind(objects, "HorizontalPodAutoscaler").values()
    }
    assert set(autoscalers) == set(REPLICAS)
    partitions = int(config_map(objects)["ATTAIN_TOPIC_PARTITIONS"])
    for name in CONSUMER_HEAVY:
        spec = autoscalers[name]
        # A group member beyond the topics' partitions would have no partition to read.
        assert spec["minReplicas"] <= spec["maxReplicas"] <= partitions, name
        external = [m["external"] for m in spec["metrics"] if m["type"] == "External"]
        assert [m["metric"]["name"] for m in external] == ["attain_consumer_lag"], name
        assert external[0]["metric"]["selector"]["matchLabels"] == {"service": REPLICAS[name]}
    # The web replicas consume nothing: more of them would not lower the lag.
    assert [m["type"] for m in autoscalers["tracking-service"]["metrics"]] == ["Resource"]
    # Two workers at least: one holds the projector's lock, the other is ready to take it.
    assert autoscalers["tracking-worker"]["minReplicas"] >= (2 if overlay == "prod" else 1)
    # The overlay's replica count reaches every Deployment, a service's workers too.
    replicas = {
        name: deployment["spec"]["replicas"]
        for name, deployment in of_kind(objects, "Deployment").items()
    }
    assert replicas == dict.fromkeys(REPLICAS, 3 if overlay == "prod" else 1)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_object_sends_to_the_pods_of_its_deployment_only(
    render: Render, overlay: str
) -> None:
    """The Service tracking-service reaches the web replicas, never a worker."""
    objects = render(overlay)
    reached = {
        name: [
            deployment
            for deployment, labels in pods(objects).items()
            if selects({"matchLabels": service["spec"]["selector"]}, labels)
        ]
        for name, service in of_kind(objects, "Service").items()
    }
    assert reached == {name: [name] for name in REPLICAS}
    # The worker's Service is only for Prometheus to find its pods: no address to call.
    assert of_kind(objects, "Service")["tracking-worker"]["spec"]["clusterIP"] == "None"
    urls = {value for key, value in config_map(objects).items() if key.endswith("_URL")}
    assert not [url for url in urls if "tracking-worker" in url]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_workers_of_tracking_service_do_its_background_work(
    render: Render, overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each Deployment's setting as its service reads it (ConfigMap, Secret, the container's
    env); the worker's pod is the web replicas' pod but for its component and that setting."""
    objects = render(overlay)
    (secret,) = of_kind(render("dev"), "Secret").values()
    shared = {**config_map(objects), **secret["stringData"]}
    deployments = of_kind(objects, "Deployment")
    background = {}
    for name, deployment in deployments.items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        own = {one["name"]: one["value"] for one in container.get("env", []) if "value" in one}
        settings = settings_from({**shared, **own}, monkeypatch)[REPLICAS[name]]
        background[name] = settings.background_work
    assert background == {name: name != "tracking-service" for name in REPLICAS}

    def split_apart(deployment: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        template = copy.deepcopy(deployment["spec"]["template"])
        component = template["metadata"]["labels"].pop("app.kubernetes.io/component")
        for container in template["spec"]["containers"]:
            container["env"] = [one for one in container["env"] if one["name"] != BACKGROUND]
        return component, template

    web, web_pod = split_apart(deployments["tracking-service"])
    worker, worker_pod = split_apart(deployments["tracking-worker"])
    assert (web, worker) == ("web", "worker")
    assert web_pod == worker_pod
    assert worker_pod["metadata"]["labels"]["app.kubernetes.io/name"] == "tracking-service"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_service_monitor_scrapes_every_deployment_as_the_job_of_its_service(
    render: Render, overlay: str
) -> None:
    """The workers too, under job tracking-service: the rules' `up{job=...}` covers them."""
    objects = render(overlay)
    (monitor,) = of_kind(objects, "ServiceMonitor").values()
    spec = monitor["spec"]
    ports = {endpoint["port"] for endpoint in spec["endpoints"]}
    jobs: dict[str, str] = {}
    for service in of_kind(objects, "Service").values():
        if not selects(spec["selector"], service["metadata"]["labels"]):
            continue
        assert ports <= {port["name"] for port in service["spec"]["ports"]}
        for deployment, labels in pods(objects).items():
            if selects({"matchLabels": service["spec"]["selector"]}, labels):
                jobs[deployment] = service["metadata"]["labels"][spec["jobLabel"]]
    assert jobs == REPLICAS


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels, matchExpressions with In) on a pod's labels."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def allows(
    rules: list[dict[str, Any]],
    side: str,
    peer: dict[str, str],
    port: int,
    namespace: dict[str, str] | None = None,
) -> bool:
    """Whether any rule lets `peer` through on `port`: a pod of the namespace, or with
    `namespace` (its namespace's labels) a pod of another. A rule without peers lets everyone;
    an ipBlock peer is outside the cluster."""

    def matches(one: dict[str, Any]) -> bool:
        if "ipBlock" in one or ("namespaceSelector" in one) != (namespace is not None):
            return False
        if namespace is not None and not selects(one["namespaceSelector"], namespace):
            return False
        return "podSelector" not in one or selects(one["podSelector"], peer)

    for rule in rules:
        if rule.get("ports") and port not in [p.get("port") for p in rule["ports"]]:
            continue
        peers = rule.get(side)
        if peers is None or any(matches(one) for one in peers):
            return True
    return False


def rules_of(policies: list[dict[str, Any]], kind: str, pod: dict[str, str]) -> list[Any]:
    """The Ingress or Egress rules of every policy that selects `pod`."""
    return [
        rule
        for policy in policies
        if kind in policy["policyTypes"] and selects(policy["podSelector"], pod)
        for rule in policy.get(kind.lower(), [])
    ]


def test_inside_the_namespace_only_what_must_talk_talks(render: Render) -> None:
    """Every pair of Attain pods that may open the API port (8000) to one another."""
    objects = render("prod")
    pods = {
        obj["metadata"]["name"]: obj["spec"]["template"]["metadata"]["labels"]
        for obj in objects
        if obj["kind"] in ("Deployment", "Job")
    }
    policies = [policy["spec"] for policy in of_kind(objects, "NetworkPolicy").values()]

    def may(source: dict[str, str], target: dict[str, str], port: int) -> bool:
        # Both ends must allow it: the source's egress and the target's ingress.
        out = rules_of(policies, "Egress", source)
        into = rules_of(policies, "Ingress", target)
        return allows(out, "to", target, port) and allows(into, "from", source, port)

    talking = {
        (source, target)
        for source, source_labels in pods.items()
        for target, target_labels in pods.items()
        if source != target and may(source_labels, target_labels, 8000)
    }
    apis = ("goal-service", "tracking-service", "alert-service", "incentive-service")
    # tracking-service is its web replicas: no pod of the namespace calls tracking-worker.
    assert talking == {
        *(("dashboard-service", api) for api in apis),
        ("goal-service", "tracking-service"),
        ("alert-service", "tracking-service"),
    }
    default_deny = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert default_deny in policies


def test_from_outside_the_namespace_each_pod_reaches_and_is_reached_by_what_it_needs(
    render: Render,
) -> None:
    """Prometheus scrapes every pod, workers too; the ingress controller reaches the dashboard
    and tracking-service's web replicas only; the workers reach PostgreSQL and the broker."""
    objects = render("prod")
    policies = [policy["spec"] for policy in of_kind(objects, "NetworkPolicy").values()]
    deployments = pods(objects)

    def reached_by(namespace: str, pod: dict[str, str]) -> set[str]:
        where = {"kubernetes.io/metadata.name": namespace}
        return {
            name
            for name, labels in deployments.items()
            if allows(rules_of(policies, "Ingress", labels), "from", pod, 8000, where)
        }

    assert reached_by("monitoring", {"app.kubernetes.io/name": "prometheus"}) == set(REPLICAS)
    ingress_controller = {"app.kubernetes.io/name": "ingress-nginx"}
    assert reached_by("ingress-nginx", ingress_controller) == {
        "dashboard-service",
        "tracking-service",
    }
    # PostgreSQL, the broker and the identity provider, wherever they run.
    elsewhere = {"kubernetes.io/metadata.name": "elsewhere"}
    reaches = {
        name: {
            port
            for port in (5432, 9092, 443)
            if allows(rules_of(policies, "Egress", labels), "to", {}, port, elsewhere)
        }
        for name, labels in deployments.items()
    }
    owners = ("goal-service", "tracking-service", "alert-service", "incentive-service")
    assert reaches == {
        "dashboard-service": {9092, 443},
        **{name: {5432, 9092, 443} for name in owners},
        # No requests, so no token to check at the identity provider.
        "tracking-worker": {5432, 9092},
    }


def test_production_creates_no_secret_and_the_example_names_every_key(render: Render) -> None:
    # Applying the overlay must never replace the real attain-secrets with placeholders.
    assert not of_kind(render("prod"), "Secret")
    (example,) = of_kind(render("dev"), "Secret").values()
    for overlay in OVERLAYS:
        for owner, container in containers(render(overlay)):
            for variable in container.get("env", []):
                key = variable.get("valueFrom", {}).get("secretKeyRef")
                if key:
                    assert key["name"] == "attain-secrets", owner
                    assert key["key"] in example["stringData"], (owner, key["key"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_services_accept_the_overlays_settings(
    render: Render, overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each service's settings, read from the overlay's ConfigMap and the example Secret,
    validate: production has its identity provider, nothing names a setting wrongly."""
    objects = render(overlay)
    (secret,) = of_kind(render("dev"), "Secret").values()
    environment = {**config_map(objects), **secret["stringData"]}
    settings = settings_from(environment, monkeypatch)
    expected = "production" if overlay == "prod" else "development"
    assert {one.environment for one in settings.values()} == {expected}
    if overlay == "prod":
        assert all(one.jwt_jwks_url and one.jwt_issuer for one in settings.values())
        assert settings["dashboard-service"].oidc_issuer  # type: ignore[attr-defined]
        # The two that read tracking-service do so as themselves (servicekit.upstream).
        for reader in ("goal-service", "alert-service"):
            assert settings[reader].oauth_token_url and settings[reader].oauth_client_id, reader
            assert settings[reader].oauth_client_secret, reader


def settings_from(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, ServiceSettings]:
    for name in list(os.environ):
        if name.startswith("ATTAIN_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return {name: settings() for name, settings in SERVICE_SETTINGS.items()}


# --- Compose ------------------------------------------------------------------------------------


def test_the_compose_file_follows_the_compose_specification(tool: Tool) -> None:
    checker = tool("check-jsonschema", "It is in the dev group: `uv sync --frozen`.")
    done = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_compose_service_is_health_checked_and_waits_for_migrate_and_topics() -> None:
    everything = compose()["services"]
    for name, service in compose_services().items():
        assert "/readyz" in " ".join(service["healthcheck"]["test"]), name
        for job in ("migrate", "topics"):
            assert service["depends_on"][job]["condition"] == "service_completed_successfully"
    assert everything["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert everything["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "healthcheck" in everything["postgres"]
    assert "healthcheck" in everything["kafka"]


def test_the_services_accept_the_compose_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """env.example as .env, with what compose.yaml sets on top: every service starts."""
    dotenv = env_example()
    for name, service in compose_services().items():
        environment = {
            **dotenv,
            **{
                key: interpolate(str(value), dotenv)
                for key, value in service["environment"].items()
            },
        }
        settings = settings_from(environment, monkeypatch)[REPLICAS[name]]
        assert settings.environment == "production", name
        if name != "dashboard-service":
            assert "@postgres:5432/" in settings.database_url
        # The web replica leaves the relay, consumers, retention and projector to the worker.
        assert settings.background_work is (name != "tracking-service"), name


def test_the_compose_worker_is_the_web_replica_with_background_work_and_no_caller() -> None:
    services = compose()["services"]
    web, worker = services["tracking-service"], services["tracking-worker"]
    same = ("command", "image", "env_file", "depends_on", "healthcheck", "read_only", "tmpfs")
    assert {key: worker[key] for key in same} == {key: web[key] for key in same}
    split = {key: value for key, value in web["environment"].items() if key != BACKGROUND}
    assert {key: value for key, value in worker["environment"].items() if key != BACKGROUND} == (
        split
    )
    # Outside traffic goes to the web replica; nothing is published for the worker, and no
    # service is pointed at it.
    assert "ports" not in worker
    urls = [
        str(value)
        for service in services.values()
        for key, value in (service.get("environment") or {}).items()
        if key.endswith("_URL")
    ]
    assert urls and not [url for url in urls if "tracking-worker" in url]


def test_prometheus_scrapes_each_service_as_a_job_of_its_name() -> None:
    """tracking-worker as a second target of job tracking-service: `up{job=...}` covers it."""
    config = yaml.safe_load((COMPOSE_DIR / "prometheus.yml").read_text())
    jobs = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert jobs == {
        service: [f"{replica}:8000" for replica, of in REPLICAS.items() if of == service]
        for service in SERVICE_SETTINGS
    }
    mounts = compose()["services"]["prometheus"]["volumes"]
    assert "../prometheus/attain-rules.yml:/etc/prometheus/rules/attain-rules.yml:ro" in mounts
    assert (COMPOSE_DIR / "../prometheus/attain-rules.yml").exists()


def test_prometheus_and_alertmanager_accept_their_configuration(tool: Tool) -> None:
    hint = "Install Debian's prometheus and prometheus-alertmanager packages (.ci/run)."
    promtool = tool("promtool", hint)
    amtool = tool("amtool", hint)
    for command in (
        [str(promtool), "check", "config", str(COMPOSE_DIR / "prometheus.yml")],
        [str(amtool), "check-config", str(COMPOSE_DIR / "alertmanager.yml")],
    ):
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (COMPOSE_DIR / "env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


def interpolate(value: str, dotenv: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}`, from the .env."""

    def one(match: re.Match[str]) -> str:
        name, operator, rest = match.group(1), match.group(2), match.group(3)
        if dotenv.get(name):
            return dotenv[name]
        assert operator == ":-", f"{name} must be set in .env"
        return rest

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, value)


# --- What the commands and settings name --------------------------------------------------------


def commands() -> Iterator[tuple[str, list[str]]]:
    for name, service in compose()["services"].items():
        if "command" in service and str(service.get("image", "")).startswith("${ATTAIN_IMAGE"):
            yield f"compose {name}", [str(part) for part in service["command"]]


def kubernetes_commands(render: Render) -> Iterator[tuple[str, list[str]]]:
    for overlay in OVERLAYS:
        for owner, container in containers(render(overlay)):
            yield f"{overlay} {owner}", [*container["command"], *container.get("args", [])]


def test_every_command_names_a_module_that_exists(render: Render) -> None:
    everywhere = [*commands(), *kubernetes_commands(render)]
    served: dict[str, set[str]] = {"compose": set(), "dev": set(), "prod": set()}
    migrated: dict[str, set[str]] = {"compose": set(), "dev": set(), "prod": set()}
    for where, argv in everywhere:
        origin = where.split()[0]
        if argv[0] == "uvicorn":
            module, _, factory = argv[1].partition(":")
            assert callable(getattr(importlib.import_module(module), factory)), where
            assert "--factory" in argv, where
            served[origin].add(module.split(".")[0])
        else:
            assert argv[:2] == ["python", "-m"], where
            importlib.import_module(argv[2])
            if argv[2] == "servicekit.migrations":
                assert argv[3] == "upgrade", where
                for package in argv[4:]:
                    assert files(package).joinpath("migrations", "env.py").is_file(), package
                migrated[origin] |= set(argv[4:])
    for origin in served:
        assert served[origin] == {service.package for service in SERVICES}, origin
        # The migration jobs name the packages make run migrates (attain_devstack.run.SERVICES).
        assert migrated[origin] == MIGRATED_PACKAGES, origin


def test_the_dockerfile_installs_every_service_from_the_lock() -> None:
    text = DOCKERFILE.read_text()
    (packages,) = re.findall(r'^ARG PACKAGES="([^"]+)"', text, re.MULTILINE)
    names = re.findall(r"--package ([\w-]+)", packages)
    # A worker replica is its service's package run with other settings.
    assert sorted(names) == sorted(service.name for service in SERVICES if not service.worker_of)
    for name in names:
        importlib.metadata.distribution(name)
    syncs = re.findall(r"uv sync ([^\n]+)", text)
    assert syncs and all("--frozen --no-dev --no-editable" in sync for sync in syncs)
    final = text[text.rindex("\nFROM ") :]
    assert final.startswith("\nFROM ${PYTHON_IMAGE}\n")
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", text, re.MULTILINE)
    assert re.search(r"^USER 10001:10001$", final, re.MULTILINE)
    assert "EXPOSE 8000" in final and "PYTHONDONTWRITEBYTECODE=1" in final
    # The dashboard finds the browser libraries where the node stage's node_modules land.
    assert "COPY --from=assets /assets/node_modules /app/assets/node_modules" in final
    assert "ATTAIN_DASHBOARD_VENDOR_DIR=/app/assets/node_modules" in final
    # Commented examples of the commands that choose the service.
    for line in re.findall(r"^#   (\S.*)$", text, re.MULTILINE):
        argv = line.split()
        if argv[0] == "uvicorn":
            importlib.import_module(argv[1].partition(":")[0])
        elif argv[:2] == ["python", "-m"]:
            importlib.import_module(argv[2])


def attain_variables(render: Render) -> Iterator[tuple[str, str]]:
    """Every ATTAIN_ variable the deployment files set, with where."""
    for name, service in compose()["services"].items():
        for variable in service.get("environment") or {}:
            yield f"compose {name}", variable
    for line in (COMPOSE_DIR / "env.example").read_text().splitlines():
        found = re.match(r"^#? ?(ATTAIN_\w+)=", line)
        if found:
            yield "env.example", found.group(1)
    for overlay in OVERLAYS:
        objects = render(overlay)
        for variable in config_map(objects):
            yield f"{overlay} ConfigMap", variable
        for secret in of_kind(objects, "Secret").values():
            for variable in secret["stringData"]:
                yield f"{overlay} Secret", variable
        for owner, container in containers(objects):
            for variable in container.get("env", []):
                yield f"{overlay} {owner}", variable["name"]
    for variable in re.findall(r"\b(ATTAIN_\w+)=", DOCKERFILE.read_text()):
        yield "Dockerfile", variable


def is_setting(variable: str) -> bool:
    """Whether a service reads `variable`: a field under its own prefix (ATTAIN_GOAL_...) or
    the shared one (ATTAIN_...), or a TopicSettings field (ATTAIN_TOPIC_...)."""
    rest = variable.removeprefix("ATTAIN_").lower()
    classes: list[tuple[str, type[BaseSettings]]] = [("topic_", TopicSettings)]
    classes += [
        (f"{name.removesuffix('-service')}_", settings)
        for name, settings in SERVICE_SETTINGS.items()
    ]
    for prefix, settings in classes:
        if rest.startswith(prefix) and rest.removeprefix(prefix) in settings.model_fields:
            return True
    return rest in ServiceSettings.model_fields


def test_every_attain_variable_is_a_setting_a_service_reads(render: Render) -> None:
    unknown = sorted(
        {
            f"{where}: {variable}"
            for where, variable in attain_variables(render)
            if variable.startswith("ATTAIN_") and not is_setting(variable)
        }
    )
    assert not unknown, "not a setting of any service:\n" + "\n".join(unknown)


def test_a_misspelt_setting_is_caught() -> None:
    assert is_setting("ATTAIN_DASHBOARD_GOAL_URL")
    assert is_setting("ATTAIN_TOPIC_REPLICATION_FACTOR")
    assert is_setting("ATTAIN_DATABASE_URL")
    assert not is_setting("ATTAIN_DASHBOARD_GOALS_URL")
    assert not is_setting("ATTAIN_TOPIC_REPLICATION")
