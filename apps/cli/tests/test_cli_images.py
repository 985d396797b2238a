"""``clipsift analyze`` and ``clipsift dedup --images`` against a gateway with a real vision service."""

from __future__ import annotations

from pathlib import Path

import pytest
from clipsift_testing.media import jpeg
from skimage import data

from .conftest import Gateway


async def test_cli_analyze_dispatches_on_file_type_and_dedups_an_image_folder(
    gateway: Gateway, live: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from clipsift_cli.main import build_parser

    photo = tmp_path / "photo.data"  # no image suffix: recognised by its JPEG signature
    photo.write_bytes(jpeg(data.astronaut()))
    folder = tmp_path / "album"
    (folder / "nested").mkdir(parents=True)
    coffee = data.coffee()
    (folder / "coffee.jpg").write_bytes(jpeg(coffee))
    (folder / "nested" / "coffee-copy.png").write_bytes(jpeg(coffee, 50))
    (folder / "rocket.jpg").write_bytes(jpeg(data.rocket()))
    (folder / "notes.txt").write_text("not an image")
    common = ["--gateway-url", live, "--api-key", gateway.keys["acme"]]

    def run(*argv: str) -> int:
        args = build_parser().parse_args(list(argv))
        return int(args.func(args))

    assert (
        await asyncio.to_thread(run, "analyze", str(photo), "--features", "faces,quality,hashes", *common)
        == 0
    )
    out = capsys.readouterr().out
    assert "image        512x512 JPEG" in out
    assert out.count("face ") == 1
    assert "exposure ok" in out
    assert await asyncio.to_thread(run, "dedup", "--images", str(folder), *common) == 0
    out = capsys.readouterr().out
    assert "1 clusters of near-duplicates among 3 images" in out
    assert (
        "coffee.jpg ~ nested/coffee-copy.png: pHash" in out
        or "nested/coffee-copy.png ~ coffee.jpg: pHash" in out
    )
