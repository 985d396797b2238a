"""Every Grafana dashboard queries metrics the services really export, through provisioned datasources.

Each service's module is imported in a fresh interpreter (as ``python -m <service>`` would, minus
``main()``) and its Prometheus registry rendered in the exposition format: the metric families
there are what its /metrics serves. Each panel's PromQL is parsed by a real PromQL parser
(promql-parser, the Rust crate behind GreptimeDB) after Grafana's variable interpolation, and every
metric it selects must be one of those families' sample names.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
# The module each service's __main__ builds it with (gateway: the app, where its HTTP metrics live).
SERVICE_MODULES = {
    "gateway": "gateway_svc.app",
    "text": "text_svc.wiring",
    "analytics": "analytics_svc.wiring",
    "audio": "audio_svc.wiring",
    "vision": "vision_svc.wiring",
    "video": "video_svc.wiring",
}
_DUMP = (
    "import importlib, sys; importlib.import_module(sys.argv[1]); "
    "from prometheus_client import REGISTRY, generate_latest; "
    "sys.stdout.write(generate_latest(REGISTRY).decode())"
)
# Grafana replaces these before a query reaches Prometheus; any value of the right shape parses the same.
_GRAFANA_DURATIONS = re.compile(
    r"\$(__rate_interval|__interval|__range)|\$\{(__rate_interval|__interval|__range)\}"
)
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "gauge": ("",),
    "info": ("_info",),
    "untyped": ("",),
}


def sample_names(exposition: str) -> set[str]:
    """Every sample name the families of an exposition can carry (``x_bucket`` for histogram ``x``)."""
    names: set[str] = set()
    for line in exposition.splitlines():
        if not line.startswith("# TYPE "):
            continue
        _, _, family, kind = line.split(" ", 3)
        base = family.removesuffix("_total") if kind == "counter" else family
        names.update(base + suffix for suffix in _SUFFIXES[kind])
    return names


@pytest.fixture(scope="module")
def exported() -> dict[str, set[str]]:
    """Sample names on each service's /metrics, from its own freshly imported registry."""
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-c", _DUMP, module], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for name, module in SERVICE_MODULES.items()
    }
    names: dict[str, set[str]] = {}
    for name, process in processes.items():
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, f"{name}: {err}"
        names[name] = sample_names(out)
    return names


def dashboards() -> list[Path]:
    return sorted(DASHBOARDS.glob("*.json"))


def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from panels(item.get("panels", []))  # rows hold their panels when collapsed


def prometheus_queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every Prometheus target and query variable of a dashboard."""
    for panel in panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            source = target.get("datasource") or panel.get("datasource") or {}
            if source.get("type") == "prometheus":
                yield f"panel {panel['title']!r} {target['refId']}", target["expr"]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query" and variable.get("datasource", {}).get("type") == "prometheus":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            label_values = re.fullmatch(r"label_values\((.+),\s*\w+\)", query.strip())
            yield f"variable {variable['name']!r}", label_values.group(1) if label_values else query


def selected_metrics(expr: str) -> set[str]:
    """The metric names a PromQL expression selects, after Grafana's interpolation."""
    tree = promql_parser.parse(_GRAFANA_DURATIONS.sub("5m", expr))
    names: set[str] = set()

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            names.update(m.value for m in node.matchers.matchers if m.name == "__name__")
        return True

    promql_parser.walk(tree, visit)
    return names


def unknown_metrics(dashboard: dict[str, Any], known: set[str]) -> list[str]:
    problems = []
    for where, expr in prometheus_queries(dashboard):
        names = selected_metrics(expr)
        if not names:
            problems.append(f"{where}: selects no metric: {expr}")
        problems += [f"{where}: {name} is exported by no service" for name in sorted(names - known)]
    return problems


def test_the_checker_catches_an_unknown_metric_and_grafana_variables_parse() -> None:
    known = {"clipsift_jobs_finished_total"}
    good = 'sum by (kind) (rate(clipsift_jobs_finished_total{kind=~"$kind"}[$__rate_interval]))'
    board = {
        "panels": [
            {"title": "t", "targets": [{"refId": "A", "datasource": {"type": "prometheus"}, "expr": good}]}
        ]
    }
    assert unknown_metrics(board, known) == []
    board["panels"][0]["targets"][0]["expr"] = good.replace("finished", "finsihed")
    assert unknown_metrics(board, known) == [
        "panel 't' A: clipsift_jobs_finsihed_total is exported by no service"
    ]
    with pytest.raises(ValueError, match="parenthesis"):  # not PromQL: fails rather than skips the panel
        selected_metrics("sum(rate(clipsift_jobs_finished_total[5m])")


def test_the_overview_and_services_dashboards_exist() -> None:
    names = {path.name for path in dashboards()}
    assert {"platform-overview.json", "services.json"} <= names


@pytest.mark.parametrize("path", dashboards(), ids=lambda p: p.stem)
def test_every_panel_queries_exported_metrics(path: Path, exported: dict[str, set[str]]) -> None:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    known = set().union(*exported.values())
    assert unknown_metrics(dashboard, known) == []


@pytest.mark.parametrize("path", dashboards(), ids=lambda p: p.stem)
def test_every_datasource_is_provisioned_and_uids_are_unique(path: Path) -> None:
    provisioned = yaml.safe_load((PROVISIONING / "datasources" / "clipsift.yaml").read_text(encoding="utf-8"))
    uids = {source["uid"]: source["type"] for source in provisioned["datasources"]}
    assert uids == {"clipsift-prometheus": "prometheus", "clipsift-postgres": "grafana-postgresql-datasource"}
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    used = [
        source
        for panel in panels(dashboard.get("panels", []))
        for source in [panel.get("datasource"), *(t.get("datasource") for t in panel.get("targets", []))]
        if isinstance(source, dict)
    ]
    assert used, "a dashboard with no query"
    assert {s["uid"] for s in used} <= set(uids), {s["uid"] for s in used}
    others = [json.loads(p.read_text(encoding="utf-8"))["uid"] for p in dashboards() if p != path]
    assert dashboard["uid"] not in others


def test_the_dashboard_provider_loads_this_folder() -> None:
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "clipsift.yaml").read_text(encoding="utf-8"))
    (clipsift,) = provider["providers"]
    assert clipsift["type"] == "file"
    assert clipsift["options"]["path"] == "/var/lib/grafana/dashboards/clipsift"


def test_every_service_exports_the_platform_metrics(exported: dict[str, set[str]]) -> None:
    for service, names in exported.items():
        # Process CPU/memory and GPU families on every /metrics; circuit breakers wherever clients live.
        assert {"process_cpu_seconds_total", "process_resident_memory_bytes"} <= names, service
        assert {"clipsift_gpu_utilization_ratio", "clipsift_gpu_memory_used_bytes"} <= names, service
        assert "clipsift_circuit_breaker_state" in names, service
        if service != "gateway":  # gRPC services
            assert {
                "clipsift_grpc_server_handled_total",
                "clipsift_grpc_server_handling_seconds_bucket",
            } <= names
    assert {"clipsift_http_requests_total", "clipsift_http_request_seconds_bucket"} <= exported["gateway"]
    assert "clipsift_http_requests_total" not in exported["text"]
    for worker in ("text", "video"):
        assert {"clipsift_job_duration_seconds_bucket", "clipsift_nats_consumer_pending"} <= exported[worker]
    assert "clipsift_batch_size_bucket" in exported["vision"]
