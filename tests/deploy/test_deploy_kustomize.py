"""Kustomize: the generated base is current; every overlay and component combination is valid."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

ADDITIVE = ("network-policies", "monitoring")
# gpu-pool and cpu-only are alternatives: at most one of them.
SCHEDULING: tuple[str | None, ...] = (None, "gpu-pool", "cpu-only")
COMBINATIONS = [
    tuple(c for c in (scheduling, *extra) if c)
    for scheduling in SCHEDULING
    for n in range(len(ADDITIVE) + 1)
    for extra in itertools.combinations(ADDITIVE, n)
]


def combination(k8s: SimpleNamespace, tmp_path: Path, components: tuple[str, ...]) -> list[dict[str, Any]]:
    root = tmp_path / "-".join(components or ("base",))
    root.mkdir()
    # Kustomize takes bases and components by relative path only.
    relative = Path(os.path.relpath(k8s.KUSTOMIZE, root))
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": "clipsift",
        "resources": [str(relative / "base")],
        "components": [str(relative / "components" / c) for c in components],
    }
    (root / "kustomization.yaml").write_text(yaml.safe_dump(kustomization), encoding="utf-8")
    return k8s.kustomize(root)  # type: ignore[no-any-return]


def test_generated_files_are_current(k8s: SimpleNamespace) -> None:
    """deploy/kustomize/base and the generated components equal a fresh render of the chart."""
    k8s.run(str(k8s.ROOT / ".venv" / "bin" / "python"), "scripts/render_kustomize.py", "--check")


@pytest.mark.parametrize("components", COMBINATIONS, ids=lambda c: "+".join(c) or "base")
def test_component_combination_is_valid(
    k8s: SimpleNamespace, tmp_path: Path, components: tuple[str, ...]
) -> None:
    manifests = combination(k8s, tmp_path, components)
    k8s.validate(manifests)
    kinds = {m["kind"] for m in manifests}
    assert ("NetworkPolicy" in kinds) == ("network-policies" in components)
    assert ("ServiceMonitor" in kinds) == ("monitoring" in components)
    deployments = k8s.by_kind(manifests, "Deployment")
    assert set(deployments) == set(k8s.SERVICES)
    for name, deployment in deployments.items():
        limits = k8s.container(deployment)["resources"].get("limits", {})
        spec = deployment["spec"]["template"]["spec"]
        on_gpu = "gpu-pool" in components and name in k8s.GPU_SERVICES
        assert ("nvidia.com/gpu" in limits) == on_gpu, name
        assert bool(spec.get("tolerations")) == on_gpu, name
        assert bool(spec.get("nodeSelector")) == on_gpu, name
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert k8s.container(deployment)["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_overlay_is_valid(k8s: SimpleNamespace, overlay: str) -> None:
    manifests = k8s.kustomize(k8s.KUSTOMIZE / "overlays" / overlay)
    k8s.validate(manifests)
    namespaces = {m["metadata"].get("namespace") for m in manifests}
    assert namespaces == {"clipsift-dev" if overlay == "dev" else "clipsift"}
    for deployment in k8s.by_kind(manifests, "Deployment").values():
        image = k8s.container(deployment)["image"]
        assert image.endswith(":dev" if overlay == "dev" else ":0.1.0"), image


def test_dev_overlay_is_self_sufficient_on_cpu(k8s: SimpleNamespace) -> None:
    manifests = k8s.kustomize(k8s.KUSTOMIZE / "overlays" / "dev")
    assert "nvidia.com/gpu" not in str(manifests)
    secret = next(m for m in manifests if m["kind"] == "Secret")
    assert secret["metadata"]["name"] == "clipsift-database"
    claim = next(m for m in manifests if m["kind"] == "PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]


def test_prod_overlay_matches_the_chart_gpu_profile(k8s: SimpleNamespace) -> None:
    """components/gpu-pool yields the same GPU scheduling and settings as the chart's defaults."""
    kustomized = k8s.by_kind(k8s.kustomize(k8s.KUSTOMIZE / "overlays" / "prod"), "Deployment")
    charted = k8s.by_kind(k8s.render_value_set("defaults"), "Deployment")
    for name in k8s.SERVICES:
        ours, theirs = kustomized[name], charted[name]
        for key in ("nodeSelector", "tolerations"):
            assert ours["spec"]["template"]["spec"].get(key) == theirs["spec"]["template"]["spec"].get(key), (
                name
            )
        assert k8s.container(ours)["resources"] == k8s.container(theirs)["resources"], name
        env = {e["name"]: e.get("value") for e in k8s.container(ours)["env"] if "value" in e}
        chart_env = {e["name"]: e.get("value") for e in k8s.container(theirs)["env"] if "value" in e}
        assert env == chart_env, name


def test_prod_overlay_exposes_only_the_gateway(k8s: SimpleNamespace) -> None:
    manifests = k8s.kustomize(k8s.KUSTOMIZE / "overlays" / "prod")
    ingress = next(m for m in manifests if m["kind"] == "Ingress")
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"clipsift-gateway"}
    policies = k8s.by_kind(manifests, "NetworkPolicy")
    assert policies["gateway"]["spec"]["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]
    services = [m for m in manifests if m["kind"] == "Service"]
    assert all(s["spec"]["type"] == "ClusterIP" for s in services)


def test_cpu_only_component_matches_the_chart_cpu_profile(k8s: SimpleNamespace, tmp_path: Path) -> None:
    kustomized = k8s.by_kind(combination(k8s, tmp_path, ("cpu-only",)), "Deployment")["audio"]
    charted = k8s.by_kind(k8s.render_value_set("cpu-only"), "Deployment")["audio"]
    assert k8s.container(kustomized)["resources"] == k8s.container(charted)["resources"]
    env = {e["name"]: e.get("value") for e in k8s.container(kustomized)["env"]}
    assert env["CLIPSIFT_AUDIO_DEVICE"] == "cpu"
    assert env["CLIPSIFT_AUDIO_CPU_THREADS"] == "4"


def test_s3_bucket_component_matches_the_chart_bucket_mode(k8s: SimpleNamespace, tmp_path: Path) -> None:
    """components/s3-bucket: no claim, the bucket from the overlay's ConfigMap, keys from the Secret,
    HTTPS egress — the same env names, volumes and egress ports as the chart in bucket mode."""
    root = tmp_path / "s3-overlay"
    root.mkdir()
    relative = Path(os.path.relpath(k8s.KUSTOMIZE, root))
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": "clipsift",
        "resources": [str(relative / "base")],
        "components": [str(relative / "components" / c) for c in ("network-policies", "s3-bucket")],
        "configMapGenerator": [
            {
                "name": "clipsift-blobs",
                "literals": ["url=s3://media/clipsift", 'options={"aws_region": "eu-west-1"}'],
            }
        ],
    }
    (root / "kustomization.yaml").write_text(yaml.safe_dump(kustomization), encoding="utf-8")
    manifests = k8s.kustomize(root)
    k8s.validate(manifests)
    assert not [m for m in manifests if m["kind"] == "PersistentVolumeClaim"]
    [config] = [m for m in manifests if m["kind"] == "ConfigMap"]
    assert config["data"]["url"] == "s3://media/clipsift"
    charted = k8s.helm_template(
        files=(k8s.KUSTOMIZE / "helm-values.yaml",),
        sets=(
            "blobs.url=s3://media/clipsift",
            "blobs.options.aws_region=eu-west-1",
            "blobs.existingSecret=clipsift-blobs",
            "networkPolicy.enabled=true",
        ),
    )
    ours, theirs = k8s.by_kind(manifests, "Deployment"), k8s.by_kind(charted, "Deployment")
    for name in k8s.SERVICES:
        env = k8s.env_names(ours[name])
        assert set(env) == set(k8s.env_names(theirs[name])), name
        volumes = {v["name"] for v in ours[name]["spec"]["template"]["spec"]["volumes"]}
        assert volumes == {v["name"] for v in theirs[name]["spec"]["template"]["spec"]["volumes"]}, name
        for key, entry in env.items():
            if key.endswith(("_BLOB_URL", "_BLOB_OPTIONS")):
                assert entry["valueFrom"]["configMapKeyRef"]["name"] == config["metadata"]["name"]
            if key.startswith("AWS_"):
                assert entry["valueFrom"]["secretKeyRef"] == {"name": "clipsift-blobs", "key": key}
    policies, charted_policies = (
        k8s.by_kind(manifests, "NetworkPolicy"),
        k8s.by_kind(charted, "NetworkPolicy"),
    )
    for name, policy in policies.items():
        ports = sorted(p["port"] for rule in policy["spec"].get("egress", []) for p in rule["ports"])
        expected = sorted(
            p["port"] for rule in charted_policies[name]["spec"].get("egress", []) for p in rule["ports"]
        )
        assert ports == expected, name
