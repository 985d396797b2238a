"""The Helm chart's network policies, scaling and monitoring: who may talk to whom, HPAs, PDBs,
the ingress, ServiceMonitors, dashboards, tracing and scrape annotations."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any


def ingress_sources(policy: dict[str, Any]) -> dict[str, set[str]]:
    """Port name/number -> the components (or '*' / 'namespace:x') allowed in by ``policy``."""
    allowed: dict[str, set[str]] = {}
    for rule in policy["spec"].get("ingress", []):
        sources = set()
        for peer in rule.get("from", [{"*": True}]):
            if "*" in peer:
                sources.add("*")
            elif "podSelector" in peer and "namespaceSelector" not in peer:
                sources.add(peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"])
            else:
                sources.add("namespace:" + str(peer.get("namespaceSelector")))
        for port in rule["ports"]:
            allowed.setdefault(str(port["port"]), set()).update(sources)
    return allowed


def egress_destinations(policy: dict[str, Any]) -> set[str]:
    """Components reached by pod selector, and bare ports reached anywhere ('port:N')."""
    reached = set()
    for rule in policy["spec"].get("egress", []):
        ports = [p["port"] for p in rule["ports"]]
        if ports == [53, 53]:
            reached.add("dns")
            continue
        peers = rule.get("to")
        if not peers:
            reached.update(f"port:{p}" for p in ports)
            continue
        for peer in peers:
            labels = peer.get("podSelector", {}).get("matchLabels", {})
            if "app.kubernetes.io/component" in labels:
                reached.add(labels["app.kubernetes.io/component"])
            else:
                reached.update(f"port:{p}" for p in ports)
    return reached


def test_network_policies_admit_only_the_architecture(k8s: SimpleNamespace) -> None:
    manifests = k8s.render_value_set("defaults")
    policies = k8s.by_kind(manifests, "NetworkPolicy")
    deny = policies["clipsift-default-deny"]
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny["spec"]
    assert "egress" not in deny["spec"]
    assert deny["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "clipsift",
        "app.kubernetes.io/instance": "clipsift",
    }
    expected_ingress = {
        "gateway": {"http": {"*"}},
        "text": {"grpc": {"gateway", "video"}},  # video: clips checked against the text indexes
        "analytics": {"grpc": {"gateway"}},
        "video": {"grpc": {"gateway"}},
        "audio": {"grpc": {"video"}},
        "vision": {"grpc": {"gateway", "video"}},
        "training": {"grpc": {"gateway", "text"}},
        "migrations": {},
    }
    expected_egress = {
        "gateway": {"dns", "text", "analytics", "video", "vision", "training", "port:4222", "port:5432"},
        "text": {"dns", "training", "port:4222", "port:5432"},
        "analytics": {"dns", "port:4222", "port:5432"},
        "video": {"dns", "audio", "vision", "text", "port:4222", "port:5432"},
        "audio": {"dns"},
        "vision": {"dns", "port:5432"},
        "training": {"dns", "port:4222", "port:5432"},
        "migrations": {"dns", "port:5432"},
    }
    for component in expected_ingress:
        policy = policies[component]
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
        assert ingress_sources(policy) == expected_ingress[component], component
        assert egress_destinations(policy) == expected_egress[component], component
    # Only the gateway is reachable from outside the release.
    outside = [c for c, rules in expected_ingress.items() for s in rules.values() if "*" in s]
    assert outside == ["gateway"]


def test_network_policies_narrowed(k8s: SimpleNamespace) -> None:
    policies = k8s.by_kind(k8s.render_value_set("all-enabled"), "NetworkPolicy")
    gateway_in = ingress_sources(policies["gateway"])["http"]
    assert gateway_in == {"namespace:{'matchLabels': {'kubernetes.io/metadata.name': 'ingress-nginx'}}"}
    for component in ("gateway", "text"):
        assert "metrics" in ingress_sources(policies[component]), f"Prometheus may scrape {component}"
    # Whoever reaches the public port does not thereby reach the metrics port.
    assert ingress_sources(policies["gateway"])["metrics"] != gateway_in
    # NATS and PostgreSQL egress reach only this release's pods.
    gateway_out = policies["gateway"]["spec"]["egress"]
    selectors = [
        peer["podSelector"]["matchLabels"]
        for rule in gateway_out
        for peer in rule.get("to", [])
        if "podSelector" in peer
    ]
    assert {"app.kubernetes.io/name": "nats", "app.kubernetes.io/instance": "clipsift"} in selectors
    assert {"app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": "clipsift"} in selectors


def test_hpa_pdb_ingress_monitors_in_all_enabled(k8s: SimpleNamespace) -> None:
    manifests = k8s.render_value_set("all-enabled")
    deployments = k8s.by_kind(manifests, "Deployment")
    hpas = k8s.by_kind(manifests, "HorizontalPodAutoscaler")
    assert set(hpas) == set(k8s.SERVICES)
    for name, hpa in hpas.items():
        assert hpa["spec"]["scaleTargetRef"]["name"] == deployments[name]["metadata"]["name"]
        assert "replicas" not in deployments[name]["spec"], "the HPA owns replicas"
    pdbs = k8s.by_kind(manifests, "PodDisruptionBudget")
    assert set(pdbs) == set(k8s.SERVICES)
    for name, pdb in pdbs.items():
        assert pdb["spec"]["selector"]["matchLabels"] == deployments[name]["spec"]["selector"]["matchLabels"]
    ingress = next(m for m in manifests if m["kind"] == "Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "clipsift-gateway", "port": {"name": "http"}}
    monitors = k8s.by_kind(manifests, "ServiceMonitor")
    assert set(monitors) == set(k8s.SERVICES)
    services = k8s.by_kind(manifests, "Service")
    for name, monitor in monitors.items():
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert monitor["spec"]["selector"]["matchLabels"] == services[name]["spec"]["selector"]
        port_names = {p["name"] for p in services[name]["spec"]["ports"]}
        assert {e["port"] for e in monitor["spec"]["endpoints"]} == {"metrics"} <= port_names
    audio = deployments["audio"]
    assert k8s.env_names(audio)["CLIPSIFT_AUDIO_MODEL"]["value"] == "/models/whisper-large-v3"
    models = next(v for v in audio["spec"]["template"]["spec"]["volumes"] if v["name"] == "models")
    assert models["persistentVolumeClaim"] == {"claimName": "clipsift-models", "readOnly": True}


def test_every_dashboard_ships_in_a_labelled_configmap(k8s: SimpleNamespace, chart_copy: Path) -> None:
    on = ("grafana.dashboards.enabled=true",)
    folder = k8s.ROOT / "deploy" / "grafana" / "dashboards"
    files = sorted(folder.glob("*.json"))
    assert {f.name for f in files} >= {"platform-overview.json", "services.json"}
    config_maps = {
        m["metadata"]["name"]: m for m in k8s.helm_template(k8s.CHART, (), on) if m["kind"] == "ConfigMap"
    }
    k8s.validate(list(config_maps.values()))
    for file in files:
        name = "clipsift-dashboard-" + file.stem.lower().replace("_", "-")
        assert config_maps[name]["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert config_maps[name]["metadata"]["annotations"]["grafana_folder"] == "clipsift"
        assert config_maps[name]["data"] == {file.name: file.read_text(encoding="utf-8").rstrip("\n")}
    assert len(config_maps) == len(files)
    # A dashboard dropped into the folder ships too; with the switch off, none does.
    (chart_copy / "dashboards" / "Jobs_Overview.json").write_text('{"title": "Jobs"}\n', encoding="utf-8")
    added = [
        m for m in k8s.helm_template(chart_copy, (), on) if m["metadata"]["name"].endswith("jobs-overview")
    ]
    assert added[0]["data"] == {"Jobs_Overview.json": '{"title": "Jobs"}'}
    assert not [m for m in k8s.helm_template(chart_copy) if m["kind"] == "ConfigMap"], "switch off: none"


def test_tracing_endpoint_reaches_every_service(k8s: SimpleNamespace) -> None:
    endpoint = "http://otel-collector.observability:4317"
    sets = (f"tracing.otlpEndpoint={endpoint}", "tracing.sampleRatio=0.25")
    deployments = k8s.by_kind(k8s.helm_template(k8s.CHART, (), sets), "Deployment")
    assert deployments
    for name, deployment in deployments.items():
        env = k8s.env_names(deployment)
        prefix = f"CLIPSIFT_{name.upper()}_"
        assert env[prefix + "OTLP_ENDPOINT"]["value"] == endpoint
        assert env[prefix + "TRACE_SAMPLE_RATIO"]["value"] == "0.25"
    defaults = k8s.by_kind(k8s.render_value_set("defaults"), "Deployment")
    assert not [n for n, d in defaults.items() if any("OTLP" in e for e in k8s.env_names(d))]
    # Default-deny egress lets each service reach the collector's port, and only that port.
    manifests = k8s.helm_template(k8s.CHART, (), sets)
    k8s.validate(manifests)
    for name, policy in k8s.by_kind(manifests, "NetworkPolicy").items():
        if name in deployments:
            ports = [p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]]
            assert 4317 in ports, name
    plain = k8s.by_kind(k8s.render_value_set("defaults"), "NetworkPolicy")
    assert not [
        n
        for n, p in plain.items()
        for r in p["spec"].get("egress", [])
        for x in r["ports"]
        if x["port"] == 4317
    ]


def test_scrape_annotations_point_at_each_metrics_port(k8s: SimpleNamespace) -> None:
    deployments = k8s.by_kind(
        k8s.helm_template(k8s.CHART, (), ("metrics.scrapeAnnotations=true",)), "Deployment"
    )
    for deployment in deployments.values():
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        ports = {p["name"]: p["containerPort"] for p in k8s.container(deployment)["ports"]}
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(ports["metrics"])
        assert annotations["prometheus.io/path"] == "/metrics"


def test_dashboards_folder_is_wired(k8s: SimpleNamespace) -> None:
    link = k8s.CHART / "dashboards"
    assert link.is_symlink()
    assert link.resolve() == (k8s.ROOT / "deploy" / "grafana" / "dashboards").resolve()
