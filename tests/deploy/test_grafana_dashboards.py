"""deploy/grafana/dashboards: each parses, is one provisioned dashboard of its own (uid),
and every panel queries the `prometheus` data source; which metrics they name the running
services export is tests/e2e/test_prometheus_alerts.py's check."""

import pytest
from observability import dashboards, metric_names, panel_queries

pytestmark = pytest.mark.unit

DATA_SOURCE = {"type": "prometheus", "uid": "prometheus"}
EXPECTED = {"service-health.json", "event-flow.json", "business.json"}


def test_the_three_dashboards_parse_each_with_its_own_uid() -> None:
    boards = dashboards()
    assert set(boards) == EXPECTED
    uids = [board["uid"] for board in boards.values()]
    assert len(set(uids)) == len(uids)
    assert all(board["title"] and board["panels"] for board in boards.values())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_panel_queries_prometheus_for_a_metric(name: str) -> None:
    board = dashboards()[name]
    panels = [panel for panel in board["panels"] if panel["type"] != "row"]
    assert panels
    ids = [panel["id"] for panel in board["panels"]]
    assert len(set(ids)) == len(ids)
    for panel in panels:
        assert panel["datasource"] == DATA_SOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATA_SOURCE, panel["title"]
            assert metric_names(target["expr"]), (panel["title"], target["expr"])
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
    for variable in board["templating"]["list"]:
        assert variable["datasource"] == DATA_SOURCE, variable["name"]
    assert len(panel_queries(board)) >= len(panels)
