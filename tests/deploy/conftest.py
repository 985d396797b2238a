"""Shared fixtures of the deploy tests: helm/kubectl from .cache/k8s-tools, rendering, validation.

Everything here runs offline once `make setup` has installed the pinned tools
(scripts/install_k8s_tools.sh) and kubernetes-validate (requirements/dev.txt).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".cache" / "k8s-tools" / "bin"
CHART = ROOT / "deploy" / "helm" / "clipsift"
STACK_CHART = ROOT / "deploy" / "helm" / "clipsift-stack"
VALUE_SETS = ROOT / "deploy" / "helm" / "values"
KUSTOMIZE = ROOT / "deploy" / "kustomize"
# The chart's kubeVersion floor and the newest API the pinned helm/kubectl speak.
KUBE_VERSIONS = ("1.27.0", "1.35.0")
# Custom resources: no schema in kubernetes-validate; the tests check their shape themselves.
CRD_KINDS = {"ServiceMonitor"}
# Chart value sets rendered by the tests: name -> values files (none: the chart's defaults).
CHART_VALUE_SETS = {
    "defaults": [],
    "cpu-only": [VALUE_SETS / "cpu-only.yaml"],
    "external-databases": [VALUE_SETS / "external-databases.yaml"],
    "all-enabled": [VALUE_SETS / "all-enabled.yaml"],
    "s3-bucket": [VALUE_SETS / "s3-bucket.yaml"],
    "bucket-workload-identity": [VALUE_SETS / "bucket-workload-identity.yaml"],
}
SERVICES = ("gateway", "text", "analytics", "audio", "vision", "video", "training")
GPU_SERVICES = ("text", "audio", "vision", "video", "training")

Manifest = dict[str, Any]


def tool(name: str) -> str:
    path = TOOLS / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make setup` (scripts/install_k8s_tools.sh installs it)")
    return str(path)


def run(*args: str, cwd: Path = ROOT, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr}{result.stdout}")
    return result


def parse(text: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


@functools.cache
def helm_template(
    chart: Path = CHART, files: tuple[Path, ...] = (), sets: tuple[str, ...] = ()
) -> list[Manifest]:
    """`helm template` of ``chart`` as release ``clipsift`` (cached: the same render serves many tests)."""
    args = [tool("helm"), "template", "clipsift", str(chart), "--namespace", "clipsift"]
    for file in files:
        args += ["-f", str(file)]
    for value in sets:
        args += ["--set", value]
    return parse(run(*args).stdout)


def render_value_set(name: str) -> list[Manifest]:
    return helm_template(CHART, tuple(CHART_VALUE_SETS[name]))


@functools.cache
def kustomize(path: Path) -> list[Manifest]:
    return parse(run(tool("kubectl"), "kustomize", str(path)).stdout)


def validate(manifests: list[Manifest]) -> None:
    """Every manifest against the Kubernetes OpenAPI schemas, strictly (unknown fields rejected)."""
    assert manifests, "nothing rendered"
    for manifest in manifests:
        if manifest["kind"] in CRD_KINDS:
            continue
        for version in KUBE_VERSIONS:
            try:
                kubernetes_validate.validate(manifest, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                name = f"{manifest['kind']}/{manifest['metadata']['name']}"
                pytest.fail(f"{name} is invalid for Kubernetes {version}: {exc.message} at {list(exc.path)}")


def by_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    """Manifests of ``kind`` keyed by their component label (or name when they have none)."""
    found = {}
    for manifest in manifests:
        if manifest["kind"] == kind:
            labels = manifest["metadata"].get("labels", {})
            found[labels.get("app.kubernetes.io/component", manifest["metadata"]["name"])] = manifest
    return found


def container(deployment: Manifest) -> Manifest:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, "one container per pod"
    return containers[0]  # type: ignore[no-any-return]


def env_names(deployment: Manifest) -> dict[str, Any]:
    return {entry["name"]: entry for entry in container(deployment).get("env", [])}


@pytest.fixture(params=tuple(CHART_VALUE_SETS))
def value_set(request: pytest.FixtureRequest) -> str:
    """Each chart value set in turn (a module-level list cannot be shared: see ``k8s``)."""
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def helm() -> str:
    return tool("helm")


@pytest.fixture(scope="session")
def kubectl() -> str:
    return tool("kubectl")


@pytest.fixture
def chart_copy(tmp_path: Path) -> Path:
    """A private copy of the chart (symlinks resolved), for tests that add files to it."""
    target = tmp_path / "clipsift"
    shutil.copytree(CHART, target, symlinks=False)
    return target


@pytest.fixture(scope="session")
def k8s() -> SimpleNamespace:
    """The helpers above, for test modules (conftest modules cannot be imported by name here)."""
    return SimpleNamespace(
        ROOT=ROOT,
        CHART=CHART,
        STACK_CHART=STACK_CHART,
        VALUE_SETS=VALUE_SETS,
        KUSTOMIZE=KUSTOMIZE,
        CHART_VALUE_SETS=CHART_VALUE_SETS,
        SERVICES=SERVICES,
        GPU_SERVICES=GPU_SERVICES,
        tool=tool,
        run=run,
        parse=parse,
        helm_template=helm_template,
        render_value_set=render_value_set,
        kustomize=kustomize,
        validate=validate,
        by_kind=by_kind,
        container=container,
        env_names=env_names,
    )
