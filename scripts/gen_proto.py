"""Generate Python, gRPC and typing stubs for every .proto under proto/.

With --check, generate into a temporary directory and fail if the result differs from
what is committed, so CI catches a .proto edited without `make proto`.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PACKAGE = "clipsift"


def generate(out: Path) -> None:
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *protos,
    ]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    for directory in [out / PACKAGE, *(p for p in (out / PACKAGE).rglob("*") if p.is_dir())]:
        (directory / "__init__.py").touch()
    (out / PACKAGE / "py.typed").touch()


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    out: Path = args.out.resolve()
    if not args.check:
        shutil.rmtree(out / PACKAGE, ignore_errors=True)
        generate(out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        committed_root = out / PACKAGE
        fresh_root = fresh / PACKAGE
        expected, actual = tree(fresh_root), tree(committed_root) if committed_root.exists() else set()
        stale = sorted(
            name
            for name in expected | actual
            if name not in expected
            or name not in actual
            or not filecmp.cmp(fresh_root / name, committed_root / name, shallow=False)
        )
        if stale:
            sys.exit("generated stubs are stale, run `make proto`: " + ", ".join(stale))
        print(f"proto stubs up to date ({len(expected)} files)")


if __name__ == "__main__":
    main()
