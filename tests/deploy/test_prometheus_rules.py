"""deploy/prometheus: the rules load (`promtool check rules`), their unit tests pass
(`promtool test rules`), every alert is tested firing and quiet, and every alert says how
severe it is, what it means and where its runbook is, a heading of deploy/README.md."""

import re
import subprocess

import pytest
import yaml
from observability import README, RULE_TESTS, RULES, alerts, binary

pytestmark = pytest.mark.unit


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary("promtool")), *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_rules_load() -> None:
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_rules_pass_their_unit_tests() -> None:
    assert RULE_TESTS, "no deploy/prometheus/tests/*.yml"
    tested = promtool("test", "rules", *map(str, RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_is_tested_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = {alert["alert"] for alert in alerts()}
    assert names - firing == set(), "never seen firing"
    assert names - quiet == set(), "never seen quiet"


def test_every_alert_has_a_severity_a_summary_a_description_and_its_runbook() -> None:
    for alert in alerts():
        name = alert["alert"]
        assert alert.get("labels", {}).get("severity") in {"critical", "warning", "info"}, name
        annotations = alert.get("annotations", {})
        assert annotations.get("summary") and annotations.get("description"), name
        assert annotations.get("runbook_url", "").endswith(f"deploy/README.md#{name.lower()}"), name


def test_every_alert_has_its_runbook_entry_in_deploy_readme() -> None:
    """A heading of the alert's name, whose anchor is the runbook_url's fragment."""
    assert README.exists(), f"{README} is missing"
    headings = set(re.findall(r"^#{2,4} +(\S+)\s*$", README.read_text(), flags=re.MULTILINE))
    missing = sorted({alert["alert"] for alert in alerts()} - headings)
    assert missing == [], f"no runbook heading in deploy/README.md for {missing}"
