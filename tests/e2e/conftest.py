"""The five services (the dashboard and the four APIs) as separate processes, on
free ports, against one new database and the session's broker."""

from collections.abc import Iterator

import pytest

from attain_devstack.processes import Stack, running_stack
from attain_devstack.stack import Infrastructure

__all__ = ["Stack"]


@pytest.fixture(scope="module")
def service_environment() -> dict[str, str]:
    """Settings of the module's own for the services, e.g. alert-service's SMTP server: a
    module overrides this fixture."""
    return {}


@pytest.fixture(scope="module")
def stack(infrastructure: Infrastructure, service_environment: dict[str, str]) -> Iterator[Stack]:
    with running_stack(infrastructure, service_environment) as running:
        yield running
