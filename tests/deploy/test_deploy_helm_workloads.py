"""The Helm chart's workloads: GPU placement, locked-down pods, probes, ports and env against the
services' settings, targets, storage, secrets and the production NATS connection."""

from __future__ import annotations

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
    for value_set in k8s.CHART_VALUE_SETS:
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


def test_migrations_job_is_a_hook(k8s: SimpleNamespace) -> None:
    job = next(m for m in k8s.render_value_set("defaults") if m["kind"] == "Job")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install,pre-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    c = job["spec"]["template"]["spec"]["containers"][0]
    assert c["command"] == ["python", "-m", "gateway_svc.admin", "migrate"]
    assert c["image"].rsplit(":", 1)[0].endswith("clipsift-gateway")
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
