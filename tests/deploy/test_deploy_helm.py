"""The Helm chart: lint, render every value set, validate offline, and check what matters."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from analytics_svc.settings import AnalyticsSettings
from audio_svc.settings import AudioSettings
from gateway_svc.settings import AdminSettings, GatewaySettings
from text_svc.predict.settings import PredictSettings
from text_svc.settings import TextSettings
from training_svc.settings import TrainingSettings
from video_svc.settings import VideoSettings
from vision_svc.settings import VisionSettings


class TextProcessSettings(TextSettings, PredictSettings):
    """Everything the text process reads: its own settings and Predict's (the same prefix)."""


VALUE_SETS = ("defaults", "cpu-only", "external-databases", "all-enabled")
SETTINGS: dict[str, type[BaseSettings]] = {
    "gateway": GatewaySettings,
    "text": TextProcessSettings,
    "analytics": AnalyticsSettings,
    "audio": AudioSettings,
    "vision": VisionSettings,
    "video": VideoSettings,
    "training": TrainingSettings,
}


def prefix(service: str) -> str:
    return f"CLIPSIFT_{service.upper()}_"


def field_envs(settings: type[BaseSettings], service: str) -> set[str]:
    return {prefix(service) + name.upper() for name in settings.model_fields}


def required_envs(settings: type[BaseSettings], service: str) -> set[str]:
    return {prefix(service) + name.upper() for name, f in settings.model_fields.items() if f.is_required()}


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_helm_lint_strict(k8s: SimpleNamespace, value_set: str) -> None:
    files = [arg for f in k8s.CHART_VALUE_SETS[value_set] for arg in ("-f", str(f))]
    k8s.run(k8s.tool("helm"), "lint", "--strict", str(k8s.CHART), *files)


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_rendered_manifests_are_valid(k8s: SimpleNamespace, value_set: str) -> None:
    manifests = k8s.render_value_set(value_set)
    k8s.validate(manifests)
    names = [(m["kind"], m["metadata"]["name"]) for m in manifests]
    assert len(names) == len(set(names)), "duplicate resources"
    assert set(k8s.by_kind(manifests, "Deployment")) == set(k8s.SERVICES)
    assert set(k8s.by_kind(manifests, "Service")) == set(k8s.SERVICES)


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [
        (["services.audio.gpu.count=0"], "/services/audio/gpu/count"),
        (["services.text.protocol=tcp"], "/services/text/protocol"),
        (["database.existingSecret="], "/database"),
        (["nats.url=http://nats:4222"], "/nats/url"),
        (["securityContext.readOnlyRootFilesystem=false"], "/securityContext/readOnlyRootFilesystem"),
        (["services.gateway.replicaCount=-1"], "/services/gateway/replicaCount"),
        (["logLevel=LOUD"], "/logLevel"),
        (["unknownTopLevel=1"], "unknownTopLevel"),
    ],
)
def test_bad_values_are_rejected(k8s: SimpleNamespace, bad: list[str], complaint: str) -> None:
    """values.schema.json turns these away in both helm lint and helm template."""
    sets = [arg for value in bad for arg in ("--set", value)]
    for command in (["lint", "--strict"], ["template"]):
        result = k8s.run(k8s.tool("helm"), *command, str(k8s.CHART), *sets, check=False)
        assert result.returncode != 0, f"helm {command} accepted {bad}"
        assert complaint in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [
        (["services.video.targets.audio_target=speech"], "not a service"),
        (["services.text.enabled=false"], "which is disabled"),
    ],
)
def test_inconsistent_services_fail_to_render(k8s: SimpleNamespace, bad: list[str], complaint: str) -> None:
    """Cross-field rules the schema cannot express fail the render (helm lint ignores `fail`)."""
    sets = [arg for value in bad for arg in ("--set", value)]
    result = k8s.run(k8s.tool("helm"), "template", str(k8s.CHART), *sets, check=False)
    assert result.returncode != 0, f"helm template accepted {bad}"
    assert complaint in result.stderr


def gpu_traits(deployment: dict[str, Any], k8s: SimpleNamespace) -> tuple[bool, bool, bool]:
    spec = deployment["spec"]["template"]["spec"]
    limits = k8s.container(deployment).get("resources", {}).get("limits", {})
    requests = k8s.container(deployment).get("resources", {}).get("requests", {})
    has_gpu = "nvidia.com/gpu" in limits or "nvidia.com/gpu" in requests
    tolerates = any(t.get("key") == "nvidia.com/gpu" for t in spec.get("tolerations", []))
    on_pool = any(
        key.startswith(("nvidia.com/", "cloud.google.com/gke-accelerator"))
        for key in spec.get("nodeSelector", {})
    )
    return has_gpu, tolerates, on_pool


@pytest.mark.parametrize("value_set", ["defaults", "all-enabled", "external-databases"])
def test_gpu_services_are_on_the_gpu_pool(k8s: SimpleNamespace, value_set: str) -> None:
    deployments = k8s.by_kind(k8s.render_value_set(value_set), "Deployment")
    for name, deployment in deployments.items():
        traits = gpu_traits(deployment, k8s)
        if name in k8s.GPU_SERVICES:
            assert traits == (True, True, True), (
                f"{name} must request a GPU, tolerate the taint, select the pool"
            )
            assert k8s.container(deployment)["resources"]["limits"]["nvidia.com/gpu"] == 1
        else:
            assert traits == (False, False, False), f"{name} needs no GPU"
    audio_env = k8s.env_names(deployments["audio"])
    assert audio_env["CLIPSIFT_AUDIO_DEVICE"]["value"] == "cuda"


def test_cpu_only_has_no_gpu_anywhere(k8s: SimpleNamespace) -> None:
    manifests = k8s.render_value_set("cpu-only")
    for name, deployment in k8s.by_kind(manifests, "Deployment").items():
        assert gpu_traits(deployment, k8s) == (False, False, False), name
    assert "nvidia" not in str(manifests)
    audio_env = k8s.env_names(k8s.by_kind(manifests, "Deployment")["audio"])
    assert "CLIPSIFT_AUDIO_DEVICE" not in audio_env  # the setting's default: cpu


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_pod_is_locked_down(k8s: SimpleNamespace, value_set: str) -> None:
    manifests = k8s.render_value_set(value_set)
    pods = [m["spec"]["template"]["spec"] for m in manifests if m["kind"] in ("Deployment", "Job")]
    assert pods
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["automountServiceAccountToken"] is False
        # Service links would inject CLIPSIFT_<SERVICE>_PORT-style variables into the settings' namespace.
        assert pod["enableServiceLinks"] is False
        for c in pod["containers"] + pod.get("initContainers", []):
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert "memory" in c["resources"]["limits"]
            assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"], "writable /tmp"


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_probes_and_ports_match_the_settings(k8s: SimpleNamespace, value_set: str) -> None:
    manifests = k8s.render_value_set(value_set)
    deployments = k8s.by_kind(manifests, "Deployment")
    services = k8s.by_kind(manifests, "Service")
    for name, deployment in deployments.items():
        c = k8s.container(deployment)
        env = k8s.env_names(deployment)
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        service_ports = {p["name"]: p for p in services[name]["spec"]["ports"]}
        metrics_port = int(env[prefix(name) + "METRICS_PORT"]["value"])
        assert metrics_port == 9090
        assert service_ports["metrics"]["port"] == metrics_port
        if name == "gateway":
            # /metrics on its own port: the public one serves the API only.
            port = int(env["CLIPSIFT_GATEWAY_HTTP_PORT"]["value"])
            assert ports == {"http": port, "metrics": metrics_port}
            assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
            assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
            assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
            assert service_ports["http"]["port"] == port
            assert service_ports["http"]["targetPort"] == "http"
        else:
            grpc_port = int(env[prefix(name) + "GRPC_PORT"]["value"])
            assert ports == {"grpc": grpc_port, "metrics": metrics_port}
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert c[probe]["grpc"] == {"port": grpc_port}, f"{name} {probe}"
            assert service_ports["grpc"]["port"] == grpc_port
            assert service_ports["grpc"]["targetPort"] == "grpc"
            assert service_ports["grpc"]["appProtocol"] == "grpc"
        assert services[name]["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    # Audio's startup probe leaves time for a large model to load onto the GPU.
    startup = k8s.container(deployments["audio"])["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_env_names_real_settings_and_covers_required_ones(k8s: SimpleNamespace, value_set: str) -> None:
    manifests = k8s.render_value_set(value_set)
    deployments = k8s.by_kind(manifests, "Deployment")
    for name, deployment in deployments.items():
        settings = SETTINGS[name]
        env = k8s.env_names(deployment)
        ours = {key for key in env if key.startswith("CLIPSIFT_")}
        assert ours <= field_envs(settings, name), (
            f"{name}: unknown settings {ours - field_envs(settings, name)}"
        )
        assert required_envs(settings, name) <= ours, f"{name}: required settings missing"
        assert ours == {key for key in env if key.startswith("CLIPSIFT")}, "no other CLIPSIFT* names"
    for job in k8s.by_kind(manifests, "Job").values():
        env = {e["name"] for c in job["spec"]["template"]["spec"]["containers"] for e in c["env"]}
        ours = {key for key in env if key.startswith("CLIPSIFT_")}
        assert ours <= field_envs(GatewaySettings, "gateway")
        assert required_envs(AdminSettings, "gateway") <= ours


def test_targets_point_at_the_services(k8s: SimpleNamespace) -> None:
    manifests = k8s.render_value_set("defaults")
    deployments = k8s.by_kind(manifests, "Deployment")
    services = k8s.by_kind(manifests, "Service")

    def target(service: str) -> str:
        return f"{services[service]['metadata']['name']}:{services[service]['spec']['ports'][0]['port']}"

    gateway = k8s.env_names(deployments["gateway"])
    assert gateway["CLIPSIFT_GATEWAY_TEXT_TARGET"]["value"] == target("text")
    assert gateway["CLIPSIFT_GATEWAY_ANALYTICS_TARGET"]["value"] == target("analytics")
    assert gateway["CLIPSIFT_GATEWAY_VIDEO_TARGET"]["value"] == target("video")
    assert gateway["CLIPSIFT_GATEWAY_VISION_TARGET"]["value"] == target("vision")
    assert gateway["CLIPSIFT_GATEWAY_TRAINING_TARGET"]["value"] == target("training")
    text = k8s.env_names(deployments["text"])
    assert text["CLIPSIFT_TEXT_TRAINING_TARGET"]["value"] == target("training")
    video = k8s.env_names(deployments["video"])
    assert video["CLIPSIFT_VIDEO_AUDIO_TARGET"]["value"] == target("audio")
    assert video["CLIPSIFT_VIDEO_VISION_TARGET"]["value"] == target("vision")


def test_blob_store_is_one_shared_rwx_claim(k8s: SimpleNamespace) -> None:
    manifests = k8s.render_value_set("defaults")
    claim = next(m for m in manifests if m["kind"] == "PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    mounts = {}
    for name, deployment in k8s.by_kind(manifests, "Deployment").items():
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        if "blobs" in volumes:
            assert volumes["blobs"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
            mount = next(m for m in k8s.container(deployment)["volumeMounts"] if m["name"] == "blobs")
            assert k8s.env_names(deployment)[prefix(name) + "BLOB_DIR"]["value"] == mount["mountPath"]
            mounts[name] = mount["mountPath"]
    assert set(mounts) == {"gateway", "text", "analytics", "audio", "video", "training"}
    assert len(set(mounts.values())) == 1, "the same path in every pod"
    external = k8s.render_value_set("external-databases")
    assert not [m for m in external if m["kind"] == "PersistentVolumeClaim"], "existingClaim: none created"


def test_database_url_only_from_secrets(k8s: SimpleNamespace) -> None:
    for value_set in VALUE_SETS:
        manifests = k8s.render_value_set(value_set)
        for deployment in k8s.by_kind(manifests, "Deployment").values():
            for key, entry in k8s.env_names(deployment).items():
                if key.endswith("DATABASE_URL") or key == "PGPASSWORD":
                    assert "secretKeyRef" in entry["valueFrom"], f"{value_set}: {key} must come from a Secret"
    all_enabled = k8s.by_kind(k8s.render_value_set("all-enabled"), "Deployment")
    assert all_enabled["analytics"]["spec"]["template"]["spec"]["containers"][0]["env"]
    pg = k8s.env_names(all_enabled["analytics"])["PGPASSWORD"]["valueFrom"]["secretKeyRef"]
    assert pg == {"name": "clipsift-postgresql", "key": "password"}
    nats = k8s.env_names(all_enabled["analytics"])["CLIPSIFT_ANALYTICS_NATS_URL"]["value"]
    assert nats == "nats://clipsift-nats:4222", "URLs are templated"


def test_production_nats_is_replicated_authenticated_and_verified(k8s: SimpleNamespace) -> None:
    deployments = k8s.by_kind(k8s.render_value_set("external-databases"), "Deployment")
    for name in ("gateway", "text", "video", "training", "analytics"):
        env = k8s.env_names(deployments[name])
        variable = prefix(name) + "NATS_"
        assert env[variable + "STREAM_REPLICAS"]["value"] == "3"
        assert env[variable + "USER"]["value"] == name, "each service is its own NATS user"
        password = env[variable + "PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert password == {"name": "clipsift-nats", "key": name}
        assert env[variable + "INBOX_PREFIX"]["value"] == f"_INBOX.{name}"
        assert env[variable + "TLS_CA_FILE"]["value"] == "/etc/clipsift/nats-tls/ca.crt"
        pod = deployments[name]["spec"]["template"]["spec"]
        mounts = {m["name"]: m for m in k8s.container(deployments[name])["volumeMounts"]}
        assert mounts["nats-tls"]["mountPath"] == "/etc/clipsift/nats-tls"
        assert mounts["nats-tls"]["readOnly"] is True
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["nats-tls"]["secret"] == {"secretName": "clipsift-nats-tls"}
    # Services off the bus get neither credentials nor the mount.
    for name in ("audio", "vision"):
        assert not [key for key in k8s.env_names(deployments[name]) if "_NATS_" in key]
    defaults = k8s.by_kind(k8s.render_value_set("defaults"), "Deployment")
    assert "CLIPSIFT_GATEWAY_NATS_USER" not in k8s.env_names(defaults["gateway"])
    assert "CLIPSIFT_GATEWAY_NATS_STREAM_REPLICAS" not in k8s.env_names(defaults["gateway"])


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


def test_defaults_keep_optional_parts_off(k8s: SimpleNamespace) -> None:
    kinds = {m["kind"] for m in k8s.render_value_set("defaults")}
    assert not kinds & {"Ingress", "ServiceMonitor", "ConfigMap", "Secret"}


def test_migrations_job_is_a_hook(k8s: SimpleNamespace) -> None:
    job = next(m for m in k8s.render_value_set("defaults") if m["kind"] == "Job")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install,pre-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    c = job["spec"]["template"]["spec"]["containers"][0]
    assert c["command"] == ["python", "-m", "gateway_svc.admin", "migrate"]
    assert c["image"].rsplit(":", 1)[0].endswith("clipsift-gateway")
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


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


def test_notes_tell_ops_how_to_start(k8s: SimpleNamespace, tmp_path: Path) -> None:
    """NOTES.txt, rendered by a client-side dry-run install (no cluster is contacted)."""
    result = subprocess.run(
        [k8s.tool("helm"), "install", "clipsift", str(k8s.CHART), "-n", "media", "--dry-run=client"],
        env={**os.environ, "KUBECONFIG": str(tmp_path / "none")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    notes = result.stdout.split("NOTES:", 1)[1]
    assert "kubectl -n media exec deploy/clipsift-gateway -- \\\n" in notes
    assert "python -m gateway_svc.admin create-key --tenant acme" in notes
    assert "kubectl -n media port-forward svc/clipsift-gateway 8080:8080" in notes
    assert "create secret generic clipsift-database" in notes


def test_every_value_is_documented(k8s: SimpleNamespace) -> None:
    """helm-docs style: every value carries a `# --` comment, on itself or on an enclosing key."""
    lines = (k8s.CHART / "values.yaml").read_text(encoding="utf-8").splitlines()
    undocumented = []
    documented_at: list[int] = []  # indents of enclosing keys that carry a `# --` comment
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "-")) or ":" not in stripped:
            continue
        indent = len(line) - len(line.lstrip())
        documented_at = [level for level in documented_at if level < indent]
        previous = index - 1
        while previous >= 0 and lines[previous].strip().startswith("#") and "# --" not in lines[previous]:
            previous -= 1
        has_doc = previous >= 0 and "# --" in lines[previous] and lines[previous].strip().startswith("#")
        if has_doc:
            documented_at.append(indent)
            continue
        if documented_at:
            continue
        key, _, rest = stripped.partition(":")
        following = lines[index + 1] if index + 1 < len(lines) else ""
        opens_mapping = not rest.strip() and len(following) - len(following.lstrip()) > indent
        if opens_mapping and not following.strip().startswith("-"):
            continue  # its children are checked one by one
        undocumented.append(f"line {index + 1}: {key}")
    assert not undocumented, undocumented
