"""Print the third-party dependencies of workspace packages, one requirement per line.

The service images install dependencies before copying any code, so that a code change reuses the
dependency layer. This reads only the ``pyproject.toml`` files, drops the workspace's own packages
(``clipsift-*``, installed later from source with ``--no-deps``). The packages of
requirements/no-deps.txt (all of which the Makefile installs with ``--no-deps``) are installed the
same way by the image of each service their comment names.

    python deploy/docker/pyproject_deps.py libs/common/pyproject.toml services/video/pyproject.toml
    python deploy/docker/pyproject_deps.py --no-deps-for video requirements/no-deps.txt
"""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

WORKSPACE_PREFIX = "clipsift-"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(requirement: str) -> str:
    """The normalised project name of a PEP 508 requirement string."""
    match = _NAME.match(requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def third_party_dependencies(pyprojects: list[Path]) -> list[str]:
    """Dependencies declared by ``pyprojects`` minus workspace packages, first occurrence kept, sorted."""
    seen: dict[str, str] = {}
    for path in pyprojects:
        project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
        for requirement in project.get("dependencies", []):
            name = requirement_name(requirement)
            if not name.startswith(WORKSPACE_PREFIX):
                seen.setdefault(name, requirement.strip())
    return [seen[name] for name in sorted(seen)]


def no_deps_packages(path: Path) -> dict[str, set[str]]:
    """requirements/no-deps.txt: each package with the services whose images need it
    (``package  # svc1, svc2: why``)."""
    packages: dict[str, set[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement, _, comment = line.partition("#")
        services, colon, _ = comment.partition(":")
        if not colon:
            raise ValueError(f"{path}: no 'services:' comment on {line!r}")
        packages[requirement.strip()] = {s.strip() for s in services.split(",") if s.strip()}
    return packages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-deps-for", metavar="SERVICE", help="read FILES as no-deps lists for SERVICE")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    if args.no_deps_for:
        for path in args.files:
            for package, services in no_deps_packages(path).items():
                if args.no_deps_for in services:
                    print(package)
        return
    for requirement in third_party_dependencies(args.files):
        print(requirement)


if __name__ == "__main__":
    main()
