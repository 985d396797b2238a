"""Print the third-party dependencies of workspace packages, one requirement per line.

The service images install dependencies before copying any code, so that a code change reuses the
dependency layer. This reads only the ``pyproject.toml`` files, drops the workspace's own packages
(``clipsift-*``, installed later from source with ``--no-deps``). Packages the Makefile installs
with ``--no-deps`` are installed the same way by the Dockerfiles that need them.

    python deploy/docker/pyproject_deps.py libs/common/pyproject.toml services/video/pyproject.toml
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pyprojects", nargs="+", type=Path)
    args = parser.parse_args()
    for requirement in third_party_dependencies(args.pyprojects):
        print(requirement)


if __name__ == "__main__":
    main()
