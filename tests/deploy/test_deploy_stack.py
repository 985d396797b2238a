"""The clipsift-stack umbrella chart, rendered offline with its remote dependencies left out.

NATS, PostgreSQL and Redis charts cannot be downloaded here, so the test renders a copy of the
umbrella whose Chart.yaml keeps only the local clipsift dependency: that checks the umbrella's
values against the clipsift chart (schema, templated URLs and Secrets, dev profile) without them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml


def test_dependencies_are_switchable(k8s: SimpleNamespace) -> None:
    chart = yaml.safe_load((k8s.STACK_CHART / "Chart.yaml").read_text(encoding="utf-8"))
    deps = {d["name"]: d for d in chart["dependencies"]}
    assert deps["clipsift"]["repository"] == "file://../clipsift"
    assert deps["nats"]["repository"] == "https://nats-io.github.io/k8s/helm/charts/"
    assert (
        deps["postgresql"]["repository"]
        == deps["redis"]["repository"]
        == "oci://registry-1.docker.io/bitnamicharts"
    )
    for name in ("nats", "postgresql", "redis"):
        assert deps[name]["condition"] == f"{name}.enabled"
    values = yaml.safe_load((k8s.STACK_CHART / "values.yaml").read_text(encoding="utf-8"))
    assert values["nats"]["config"]["jetstream"]["enabled"] is True
    assert values["redis"]["enabled"] is False, "nothing reads Redis yet"
    clipsift = yaml.safe_load((k8s.CHART / "Chart.yaml").read_text(encoding="utf-8"))
    assert "dependencies" not in clipsift, "the app chart must lint and render without downloads"
    assert deps["clipsift"]["version"] == clipsift["version"]


@pytest.fixture(scope="module")
def offline_stack(tmp_path_factory: pytest.TempPathFactory, k8s: SimpleNamespace) -> Path:
    root = tmp_path_factory.mktemp("stack")
    shutil.copytree(k8s.CHART, root / "clipsift", symlinks=False)
    stack = root / "clipsift-stack"
    shutil.copytree(k8s.STACK_CHART, stack)
    chart = yaml.safe_load((stack / "Chart.yaml").read_text(encoding="utf-8"))
    chart["dependencies"] = [d for d in chart["dependencies"] if d["repository"].startswith("file://")]
    (stack / "Chart.yaml").write_text(yaml.safe_dump(chart), encoding="utf-8")
    k8s.run(k8s.tool("helm"), "dependency", "build", str(stack))
    return stack


@pytest.mark.parametrize("values", [None, "dev.yaml"])
def test_stack_renders(k8s: SimpleNamespace, offline_stack: Path, values: str | None) -> None:
    files = (k8s.VALUE_SETS / values,) if values else ()
    manifests = k8s.helm_template(offline_stack, files)
    k8s.validate(manifests)
    deployments = k8s.by_kind(manifests, "Deployment")
    assert set(deployments) == set(k8s.SERVICES)
    gateway = k8s.env_names(deployments["gateway"])
    assert gateway["CLIPSIFT_GATEWAY_NATS_URL"]["value"] == "nats://clipsift-nats:4222"
    assert gateway["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "clipsift-postgresql",
        "key": "password",
    }
    secret = next(m for m in manifests if m["kind"] == "Secret")
    assert secret["stringData"]["url"] == "postgresql://clipsift@clipsift-postgresql:5432/clipsift"
    if values == "dev.yaml":
        assert "nvidia.com/gpu" not in str(manifests)
        claim = next(m for m in manifests if m["kind"] == "PersistentVolumeClaim")
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert not k8s.by_kind(manifests, "PodDisruptionBudget")
        assert not k8s.by_kind(manifests, "HorizontalPodAutoscaler")
