"""Fingerprints and alignment on real footage: pan-and-zoom videos over scikit-image photographs,
and copies derived from them with ffmpeg."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from clipsift_testing import footage

from video_svc.alignment import AlignParams, align
from video_svc.dedup_job import clusters, fingerprint_video
from video_svc.fingerprint import Fingerprint, content_box
from video_svc.settings import VideoSettings

pytestmark = pytest.mark.slow
SECONDS = 12.0


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> VideoSettings:
    return VideoSettings(
        nats_url="nats://unused",
        database_url="postgresql://unused",
        blob_dir=tmp_path_factory.mktemp("blobs"),
        audio_target="unused:1",
        vision_target="unused:1",
    )


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, footage.Copy]:
    folder = tmp_path_factory.mktemp("footage")
    made: dict[str, footage.Copy] = {}
    for index in range(2):
        original = footage.render(
            footage.distinct_shots(index, SECONDS), folder / f"v{index}.mp4", size=(320, 180)
        )
        made[f"v{index}"] = footage.Copy(original, "original", 0.0, SECONDS)
    for transform in ("trim", "combined", "letterbox"):
        made[f"v0-{transform}"] = footage.derive(
            made["v0"].path, SECONDS, transform, folder / f"v0-{transform}.mp4"
        )
    return made


@pytest.fixture(scope="module")
def prints(videos: dict[str, footage.Copy], settings: VideoSettings) -> dict[str, Fingerprint]:
    import asyncio

    async def run() -> dict[str, Fingerprint]:
        out = {}
        for name, copy in videos.items():
            out[name] = await fingerprint_video(copy.path, copy.original_end - copy.original_start, settings)
        return out

    return asyncio.run(run())


def test_fingerprint_samples_at_the_configured_rate(prints: dict[str, Fingerprint]) -> None:
    fp = prints["v0"]
    assert fp.fps == 2.0
    assert abs(fp.frames - SECONDS * 2) <= 1
    assert fp.valid.all()  # photographs have texture everywhere
    restored = Fingerprint.from_bytes(fp.fps, fp.duration, *fp.to_bytes())
    assert np.array_equal(restored.hashes, fp.hashes)
    assert np.array_equal(restored.valid, fp.valid)


@pytest.mark.parametrize("transform", ["trim", "combined", "letterbox"])
def test_copy_matches_its_original_with_the_time_ranges(
    transform: str, videos: dict[str, footage.Copy], prints: dict[str, Fingerprint]
) -> None:
    copy = videos[f"v0-{transform}"]
    match = align(prints["v0"], prints[f"v0-{transform}"], AlignParams())
    assert match is not None
    assert match.coverage_b > 0.85, match  # nearly all of the copy is found in the original
    first, last = match.segments[0], match.segments[-1]
    # Where the copy starts and ends in the original, to within a sampling step or so.
    assert first.a_start == pytest.approx(copy.original_start, abs=0.6), match
    assert last.a_end == pytest.approx(copy.original_end, abs=0.8), match
    assert first.b_start == pytest.approx(0.0, abs=0.6), match
    assert match.similarity > 0.7


def test_distinct_videos_do_not_match(prints: dict[str, Fingerprint]) -> None:
    for name in ("v0", "v0-trim", "v0-combined", "v0-letterbox"):
        assert align(prints[name], prints["v1"], AlignParams()) is None, name


def test_flat_frames_are_never_matched(tmp_path: Path, media: object, settings: VideoSettings) -> None:
    import asyncio

    from video_svc.probe import probe

    black = tmp_path / "black.mp4"
    grey = tmp_path / "grey.mp4"
    for path, colour in ((black, "black"), (grey, "gray")):
        media.colour_video(path, colour=colour, seconds=6.0)  # type: ignore[attr-defined]

    async def prints_of(path: Path) -> Fingerprint:
        info = await probe(path)
        return await fingerprint_video(path, info.duration, settings)

    a, b = asyncio.run(prints_of(black)), asyncio.run(prints_of(grey))
    assert not a.valid.any()
    assert align(a, b, AlignParams()) is None
    assert align(a, a, AlignParams()) is None


def test_content_box_finds_letterbox_bars() -> None:
    frames = np.zeros((3, 64, 64), np.uint8)
    frames[:, 8:56, :] = np.random.default_rng(0).integers(40, 255, (3, 48, 64))
    assert content_box(frames) == (8, 56, 0, 64)


def test_clusters_join_near_duplicate_pairs() -> None:
    pairs = [
        {"a": "x", "b": "y", "near_duplicate": True},
        {"a": "y", "b": "z", "near_duplicate": True},
        {"a": "p", "b": "q", "near_duplicate": False},
    ]
    assert clusters(["x", "y", "z", "p", "q"], pairs) == [["x", "y", "z"]]


def test_a_clip_cut_from_an_indexed_video_is_a_repeat(prints: dict[str, Fingerprint], settings) -> None:
    from video_svc.candidates import Candidate
    from video_svc.fingerprint_store import IndexedVideo
    from video_svc.model import Sentence, Word
    from video_svc.repeats import RepeatFinder, excerpt

    source = prints["v0-letterbox"]  # a re-encoded, letterboxed copy of v0, the indexed video
    part = excerpt(source, 2.0, 10.0)
    assert part.frames == round(8.0 * settings.fingerprint_fps)
    assert (part.hashes == source.hashes[4:20]).all()
    finder = RepeatFinder(settings, text=None, store=None)
    inside = Candidate((Sentence((Word("a", 2.0, 2.5), Word("b", 9.5, 10.0))),))
    indexed = [IndexedVideo("other", "Other", prints["v1"]), IndexedVideo("talk-2025", "Talk", prints["v0"])]
    found = finder._align(source, indexed, [inside], settings.align_params())
    assert found[id(inside)].id == "talk-2025"
    assert found[id(inside)].coverage >= 0.8
    assert "of its frames match 'talk-2025' (Talk) in the video index" in found[id(inside)].reason
    assert finder._align(source, indexed[:1], [inside], settings.align_params()) == {}
