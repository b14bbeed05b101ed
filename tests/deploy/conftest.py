"""What the manifest checks (test_manifests.py) share: the tools they run and the rendered
overlays. A missing tool skips its tests and the run says so loudly; in CI (`CI` set) a missing
tool fails them, so a CI machine without kubectl cannot pass by skipping."""

import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# Where `uv sync` puts the Python tools of the dev group.
VENV_BIN = Path(sys.executable).parent

Tool = Callable[[str, str], Path]


def _tool(name: str, config: pytest.Config, hint: str) -> Path:
    found = shutil.which(name) or shutil.which(name, path=str(VENV_BIN))
    if found:
        return Path(found)
    missing = f"no {name} on PATH. {hint}"
    if os.environ.get("CI"):
        pytest.fail(f"DEPLOY CHECKS CANNOT RUN in CI: {missing}")
    reason = f"DEPLOY CHECKS SKIPPED: {missing}"
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\n!!! {reason} !!!\n", red=True, bold=True)
    warnings.warn(reason, stacklevel=2)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tool(pytestconfig: pytest.Config) -> Tool:
    """`tool(name, how to install it)`: its path, or the test is skipped (failed in CI)."""
    return lambda name, hint: _tool(name, pytestconfig, hint)


@pytest.fixture(scope="session")
def kubectl(tool: Tool) -> Path:
    return tool("kubectl", "Install kubectl (it renders kustomize).")


@pytest.fixture(scope="session")
def render(kubectl: Path) -> Callable[[str], list[dict[str, Any]]]:
    """The objects `kubectl kustomize deploy/k8s/overlays/<overlay>` renders."""

    @cache
    def rendered(overlay: str) -> list[dict[str, Any]]:
        done = subprocess.run(
            [str(kubectl), "kustomize", str(DEPLOY / "k8s" / "overlays" / overlay)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return [doc for doc in yaml.safe_load_all(done.stdout) if doc]

    return rendered
