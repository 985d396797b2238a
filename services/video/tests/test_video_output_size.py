"""Output frame sizes of rendered clips."""

from __future__ import annotations

import pytest

from video_svc.clip_render import output_size, render_size
from video_svc.model import CropKeyframe, CropPath


@pytest.mark.parametrize(
    ("aspect", "long_side", "expected"),
    [((9, 16), 1920, (1080, 1920)), ((16, 9), 1920, (1920, 1080)), ((1, 1), 1920, (1080, 1080)),
     ((9, 16), 1280, (720, 1280)), ((9, 16), 640, (360, 640))],
)  # fmt: skip
def test_output_size_keeps_the_aspect_with_even_sides(
    aspect: tuple[int, int], long_side: int, expected: tuple[int, int]
) -> None:
    assert output_size(aspect, long_side) == expected


def _crop(width: int, height: int) -> CropPath:
    return CropPath(width, height, (CropKeyframe(0.0, 0.0, 0.0),))


def test_a_small_crop_is_not_upscaled_unless_asked() -> None:
    crop = _crop(608, 1080)  # 9:16 out of a 1080p source
    assert render_size(output_size((9, 16), 1920), crop, upscale=False) == (608, 1080)
    assert render_size(output_size((9, 16), 1920), crop, upscale=True) == (1080, 1920)


def test_a_large_crop_is_scaled_down_to_the_configured_size() -> None:
    crop = _crop(1216, 2160)  # 9:16 out of a 4K source
    assert render_size(output_size((9, 16), 1920), crop, upscale=False) == (1080, 1920)
