"""The five services (the dashboard and the four APIs) as separate processes, on
free ports, against one new database and the session's broker."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from attain_devstack.processes import Stack, running_stack
from attain_devstack.stack import Infrastructure

__all__ = ["Stack"]


@pytest.fixture(scope="module")
def service_environment() -> dict[str, str]:
    """Settings of the module's own for the services, e.g. alert-service's SMTP server: a
    module overrides this fixture."""
    return {}


# The services' logs of each module's stack, kept after the run (git-ignored) to read when a
# test failed.
KEPT_LOGS = Path(__file__).resolve().parents[2] / ".artifacts" / "e2e"


@pytest.fixture(scope="module")
def stack(
    infrastructure: Infrastructure,
    service_environment: dict[str, str],
    request: pytest.FixtureRequest,
) -> Iterator[Stack]:
    kept = KEPT_LOGS / request.module.__name__.rsplit(".", 1)[-1]
    with running_stack(infrastructure, service_environment, kept) as running:
        yield running
