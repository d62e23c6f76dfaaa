"""The Grafana dashboards under ``dashboards/``: valid dashboard JSON, and every metric a panel
or a template variable queries is one that ``/metrics`` of a real server exports after sample
traces (the real producers' captured requests) were ingested. No panel may point at nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from operate.promtext import names, scrape
from operate.samples import post_samples

DASHBOARDS = sorted((Path(__file__).resolve().parents[2] / "dashboards").glob("*.json"))
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "le", "inf", "nan",
}  # fmt: skip
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
BRACES = re.compile(r"\{[^{}]*\}")
RANGE = re.compile(r"\[[^\]]*\]")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not functions, labels or keywords)."""
    text = expr.replace("$__rate_interval", "5m").replace("$__range", "1h")
    text = STRING.sub('""', text)
    text = BRACES.sub("", text)
    text = RANGE.sub("", text)
    text = GROUPING.sub("", text)
    out = set()
    for match in IDENT.finditer(text):
        rest = text[match.end() :].lstrip()
        word = match.group()
        if rest.startswith("(") or word.lower() in PROMQL_WORDS:
            continue
        out.add(word)
    return out


def test_metric_names_parser() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, model) (rate(foo_bucket{job=~"$job", x="a b"}'
        "[$__rate_interval]))) / on (model) group_left sum(bar_total) * 3600"
    )
    assert metric_names(expr) == {"foo_bucket", "bar_total"}
    assert metric_names("label_values(gen_ai_client_token_usage_count, model)") == {
        "gen_ai_client_token_usage_count",
        "model",
    }


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) of every panel target and every query variable."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r}", target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            text = query["query"] if isinstance(query, dict) else query
            # label_values(metric, label): only the metric is a metric.
            match = re.fullmatch(r"label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*\w+\s*\)", text)
            assert match, text
            yield f"variable {variable['name']!r}", match.group(1)


@pytest.fixture(scope="module")
def exported(launch_shared_tracepond: Callable[..., Any]) -> set[str]:
    server = launch_shared_tracepond()
    post_samples(server)
    return names(scrape(server))


def test_there_are_two_dashboards() -> None:
    assert [p.name for p in DASHBOARDS] == ["tracepond-ingest.json", "tracepond-llm.json"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_is_valid_grafana_json(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert "datasource" in variables
    for panel in panels(dashboard):
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"])
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            # Every $variable a query uses is defined (Grafana's built-ins aside).
            for used in re.findall(r"\$(\w+)", target["expr"]):
                assert used.startswith("__") or used in variables, (panel["title"], used)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_queried_metric_is_exported(path: Path, exported: set[str]) -> None:
    dashboard = json.loads(path.read_text())
    used: dict[str, set[str]] = {}
    for where, expr in queries(dashboard):
        found = metric_names(expr)
        assert found, (where, expr)
        for name in found:
            used.setdefault(name, set()).add(where)
    missing = {name: sorted(places) for name, places in used.items() if name not in exported}
    assert not missing, f"queried but not exported by /metrics: {missing}"
