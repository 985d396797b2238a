"""render_clip and thumbnail: output format, atomic writes and failures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from video_svc.model import CropKeyframe, CropPath, KeepRange
from video_svc.reframe import plan_crop
from video_svc.render import RenderError, escape_filter_value, render_clip, thumbnail

if TYPE_CHECKING:
    from conftest import Media

CENTRE = CropPath(202, 360, (CropKeyframe(0.0, 219.0, 0.0),))


@pytest.fixture(scope="module")
def source(media: type[Media], tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Luma grows left to right (16 + x/3), so a frame tells where it was cropped.
    path = tmp_path_factory.mktemp("source") / "ramp.mp4"
    media.ffmpeg(
        *("-f", "lavfi", "-i", "color=c=black:s=640x360:r=25:d=3,geq=lum='16+X/3':cb=128:cr=128"),
        *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=3"),
        *(
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "0",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            str(path),
        ),
    )
    return path


def test_veryfast_clip_is_high_profile_aac_128k_with_faststart(
    media: type[Media], source: Path, tmp_path: Path
) -> None:
    out = tmp_path / "clip.mp4"
    render_clip(source, [KeepRange(0.5, 2.5)], CENTRE, (180, 320), None, out, preset="veryfast")

    video, audio = media.stream(out, "video"), media.stream(out, "audio")
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (video["width"], video["height"]) == (180, 320)
    assert audio["codec_name"] == "aac"
    assert int(audio["bit_rate"]) == pytest.approx(128_000, rel=0.1)
    assert float(media.probe(out)["format"]["duration"]) == pytest.approx(2.0, abs=0.1)
    atoms = media.top_level_atoms(out)
    assert atoms.index("moov") < atoms.index("mdat")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]  # no temporary left behind


def test_crop_position_reaches_the_output(media: type[Media], source: Path, tmp_path: Path) -> None:
    out = tmp_path / "right.mp4"
    right_edge = CropPath(202, 360, (CropKeyframe(0.0, 438.0, 0.0),))
    render_clip(source, [KeepRange(0.0, 1.0)], right_edge, (202, 360), None, out, preset="ultrafast")
    frame = media.frame_rgb(out, 0.5).astype(float)
    # Columns 438..639 of the source: full-range values (x / 3) * 255 / 219.
    assert frame[:, 5].mean() == pytest.approx((438 + 5) / 3 * 255 / 219, abs=4)
    assert frame[:, 196].mean() == pytest.approx((438 + 196) / 3 * 255 / 219, abs=4)


def test_thumbnail_is_cropped_like_the_clip(media: type[Media], source: Path, tmp_path: Path) -> None:
    out = tmp_path / "thumb.jpg"
    thumbnail(source, 1.0, CropKeyframe(0.0, 100.0, 0.0), (202, 360), (180, 320), out)
    video = media.stream(out, "video")
    assert (video["codec_name"], video["width"], video["height"]) == ("mjpeg", 180, 320)
    frame = media.frame_rgb(out, 0.0).astype(float)
    assert frame[:, 2].mean() == pytest.approx(101 / 3 * 255 / 219, abs=6)
    assert frame[:, -3].mean() == pytest.approx(300 / 3 * 255 / 219, abs=6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thumb.jpg"]


def test_missing_source_raises_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    with pytest.raises(RenderError, match="ffmpeg failed") as caught:
        render_clip(
            tmp_path / "missing.mp4", [KeepRange(0, 1)], CENTRE, (180, 320), None, out, preset="ultrafast"
        )
    assert "missing.mp4" in caught.value.stderr_tail
    assert list(tmp_path.iterdir()) == []


def test_corrupt_source_raises_and_leaves_nothing(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    out = tmp_path / "clip.mp4"
    with pytest.raises(RenderError) as caught:
        render_clip(corrupt, [KeepRange(0, 1)], CENTRE, (180, 320), None, out, preset="ultrafast")
    assert caught.value.stderr_tail
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.mp4"]


def test_failure_keeps_an_existing_output(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"previous clip")
    with pytest.raises(RenderError):
        render_clip(
            source, [KeepRange(0, 1)], CENTRE, (180, 320), tmp_path / "no-such.ass", out, preset="ultrafast"
        )
    assert out.read_bytes() == b"previous clip"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_timeout_raises_and_leaves_nothing(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    with pytest.raises(RenderError, match="ran past"):
        render_clip(
            source, [KeepRange(0, 3)], CENTRE, (720, 1280), None, out, preset="veryslow", timeout=0.05
        )
    assert list(tmp_path.iterdir()) == []


def test_missing_ffmpeg_binary_is_a_render_error(source: Path, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="cannot run"):
        render_clip(
            source,
            [KeepRange(0, 1)],
            CENTRE,
            (180, 320),
            None,
            tmp_path / "c.mp4",
            ffmpeg=str(tmp_path / "nope"),
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "ranges",
    [
        [],
        [KeepRange(1.0, 1.0)],
        [KeepRange(2.0, 3.0), KeepRange(0.0, 1.0)],
        [KeepRange(0.0, 2.0), KeepRange(1.0, 3.0)],
    ],
)
def test_bad_ranges_are_rejected(ranges: list[KeepRange], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="range"):
        render_clip(tmp_path / "x.mp4", ranges, CENTRE, (180, 320), None, tmp_path / "c.mp4")


def test_clip_start_after_the_first_range_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="clip_start"):
        render_clip(
            tmp_path / "x.mp4",
            [KeepRange(1.0, 2.0)],
            CENTRE,
            (180, 320),
            None,
            tmp_path / "c.mp4",
            clip_start=1.5,
        )


def test_filter_values_are_escaped_for_both_parsing_levels() -> None:
    assert escape_filter_value("/tmp/plain.ass") == "/tmp/plain.ass"
    assert escape_filter_value("a:b") == "a\\\\:b"
    assert escape_filter_value("it's") == "it\\\\\\'s"
    assert escape_filter_value("[x],y;z") == "\\[x\\]\\,y\\;z"


def test_centre_path_for_a_clip_without_faces_renders(
    media: type[Media], source: Path, tmp_path: Path
) -> None:
    path = plan_crop([], 640, 360, (1, 1), 1.0, 2.0)
    out = tmp_path / "square.mp4"
    render_clip(source, [KeepRange(1.0, 2.0)], path, (360, 360), None, out, preset="ultrafast")
    assert (media.stream(out, "video")["width"], media.stream(out, "video")["height"]) == (360, 360)


def test_crop_path_runs_on_clip_time_across_cuts(media: type[Media], source: Path, tmp_path: Path) -> None:
    # Clip from 1.0 s; the window jumps right at clip time 1.0 (source 2.0). Two kept parts:
    # source 1.2-1.8 (clip 0.2-0.8, left window) and 2.2-2.8 (clip 1.2-1.8, right window).
    path = CropPath(
        202, 360, (CropKeyframe(0.0, 0.0, 0.0), CropKeyframe(0.999, 0.0, 0.0), CropKeyframe(1.0, 438.0, 0.0))
    )
    out = tmp_path / "cut.mp4"
    ranges = [KeepRange(1.2, 1.8), KeepRange(2.2, 2.8)]
    render_clip(source, ranges, path, (202, 360), None, out, preset="ultrafast", clip_start=1.0)
    left, right = media.frame_rgb(out, 0.3).astype(float), media.frame_rgb(out, 0.9).astype(float)
    assert left[:, 5].mean() == pytest.approx(5 / 3 * 255 / 219, abs=4)
    assert right[:, 5].mean() == pytest.approx(443 / 3 * 255 / 219, abs=4)
