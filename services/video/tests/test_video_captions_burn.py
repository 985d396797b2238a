"""Burnt-in captions: render an ASS script into a black clip and look at the decoded frames."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pytest

from video_svc.captions import caption_lines, to_ass
from video_svc.model import CaptionStyle, KeepRange, Word
from video_svc.reframe import plan_crop
from video_svc.render import render_clip

if TYPE_CHECKING:
    from conftest import Media

WIDTH, HEIGHT = 360, 640
WORDS = [Word("Alpha", 0.5, 1.0), Word("beta.", 1.0, 1.5), Word("Gamma", 2.0, 2.4)]


def gold_mask(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """Pixels near the default highlight colour, RGB (255, 215, 0), after H.264 4:2:0."""
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    return (r > 180) & (g > 140) & (g < 240) & (b < 90)


def white_mask(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    return (frame > 200).all(axis=-1)


@pytest.fixture(scope="module")
def captioned(media: type[Media], tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Brackets, a quote, a colon, a comma and a space in the path exercise the filter escaping.
    work = tmp_path_factory.mktemp("burn") / "it's [a]: dir, with spaces;"
    work.mkdir()
    source = media.colour_video(work / "black.mp4", size="640x360", seconds=3.0)
    ass = work / "captions.ass"
    ass.write_text(to_ass(caption_lines(WORDS), CaptionStyle(), WIDTH, HEIGHT), encoding="utf-8")
    out = work / "clip.mp4"
    crop = plan_crop([], 640, 360, (9, 16), 0.0, 3.0)
    render_clip(source, [KeepRange(0.0, 3.0)], crop, (WIDTH, HEIGHT), ass, out, preset="ultrafast")
    return out


def test_caption_area_is_lit_while_words_are_spoken(media: type[Media], captioned: Path) -> None:
    for t in (0.75, 1.25, 2.2):
        frame = media.frame_rgb(captioned, t)
        lit = frame.max(axis=-1) > 60
        assert lit[HEIGHT // 2 :].sum() > 300, f"no caption at {t}s"
        assert not lit[: HEIGHT // 3].any(), "captions belong in the lower part of the frame"


def test_frames_without_speech_stay_black(media: type[Media], captioned: Path) -> None:
    for t in (0.2, 2.8):
        assert media.frame_rgb(captioned, t).max() < 40, f"unexpected caption at {t}s"


def test_highlight_follows_the_spoken_word(media: type[Media], captioned: Path) -> None:
    first = media.frame_rgb(captioned, 0.75)  # "Alpha" is being spoken
    second = media.frame_rgb(captioned, 1.25)  # "beta." is being spoken
    gold_first, gold_second = gold_mask(first), gold_mask(second)
    assert gold_first.sum() > 100
    assert gold_second.sum() > 100
    # The same line is on screen; the gold moves from the left word to the right word.
    first_x = np.nonzero(gold_first)[1].mean()
    second_x = np.nonzero(gold_second)[1].mean()
    white_x = np.nonzero(white_mask(first))[1].mean()
    assert first_x < white_x < second_x
    assert first_x < WIDTH / 2 < second_x


def test_single_word_line_is_all_highlight(media: type[Media], captioned: Path) -> None:
    frame = media.frame_rgb(captioned, 2.2)
    assert gold_mask(frame).sum() > 100
    assert white_mask(frame).sum() < 20
