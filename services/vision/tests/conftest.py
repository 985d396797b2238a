"""Real test images and one loaded face detector shared by the vision tests."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from skimage import data

from vision_svc.embedding import Embedder
from vision_svc.faces import FaceDetector
from vision_svc.objects import HogPeopleDetector
from vision_svc.ocr import TextReader
from vision_svc.settings import VisionSettings

Image = npt.NDArray[np.uint8]
# Eileen Collins' face in skimage's astronaut photo (512 x 512), looked up by eye:
# x0, y0, x1, y1 of the region a face box must lie within and mostly cover.
ASTRONAUT_FACE = (160, 40, 290, 200)


@pytest.fixture(scope="session")
def detector() -> FaceDetector:
    loaded = FaceDetector(VisionSettings().face_model)
    loaded.load()
    return loaded


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The packaged MobileNetV2 weights, loaded once per session."""
    settings = VisionSettings()
    loaded = Embedder(settings.embedding_model)
    loaded.load()
    return loaded


@pytest.fixture(scope="session")
def text_reader() -> TextReader:
    """RapidOCR with its packaged models, loaded once per session."""
    loaded = TextReader(VisionSettings().ocr_model_dir)
    loaded.load()
    return loaded


@pytest.fixture(scope="session")
def people_detector() -> HogPeopleDetector:
    loaded = HogPeopleDetector()
    loaded.load()
    return loaded


@pytest.fixture(scope="session")
def astronaut() -> Image:
    image: Image = data.astronaut()
    return image


def on_canvas(image: Image, placements: list[tuple[int, int]], grey: int = 0) -> Image:
    """A 1280x720 frame of one flat grey with ``image`` pasted at each (x, y)."""
    canvas = np.full((720, 1280, 3), grey, dtype=np.uint8)
    height, width = image.shape[:2]
    for x, y in placements:
        canvas[y : y + height, x : x + width] = image
    return canvas
