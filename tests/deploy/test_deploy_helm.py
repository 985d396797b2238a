"""The Helm chart itself: lint, render every value set, validate offline, the values' schema and docs.

Workloads are checked in test_deploy_helm_workloads, network policies and monitoring in
test_deploy_helm_network; ``value_set`` (conftest) runs a test once per chart value set.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest


def test_helm_lint_strict(k8s: SimpleNamespace, value_set: str) -> None:
    files = [arg for f in k8s.CHART_VALUE_SETS[value_set] for arg in ("-f", str(f))]
    k8s.run(k8s.tool("helm"), "lint", "--strict", str(k8s.CHART), *files)


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


def test_defaults_keep_optional_parts_off(k8s: SimpleNamespace) -> None:
    kinds = {m["kind"] for m in k8s.render_value_set("defaults")}
    assert not kinds & {"Ingress", "ServiceMonitor", "ConfigMap", "Secret"}


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
