"""The face detector on real photographs: where the box lands, what moves it, what it ignores."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from clipsift_common.errors import Unavailable
from vision_svc.faces import MODEL_NAME, DetectionInput, Face, FaceDetector, prepare
from vision_svc.settings import VisionSettings

from .conftest import ASTRONAUT_FACE, Image, on_canvas

# The model sees a 1280-px-wide frame at 192 px, so one of its pixels spans 6.7 frame pixels:
# boxes in such frames are good to about a model pixel and a half.
WIDE_FRAME_TOLERANCE = 1.5 * 1280 / 192


def faces_in(detector: FaceDetector, *images: Image, min_confidence: float = 0.5) -> list[list[Face]]:
    return detector.detect([DetectionInput(prepare(image), min_confidence) for image in images])


def test_the_astronaut_face_is_found_around_her_face(detector: FaceDetector, astronaut: Image) -> None:
    [faces] = faces_in(detector, astronaut)
    assert len(faces) == 1
    face = faces[0]
    assert face.confidence > 0.9
    x0, y0, x1, y1 = ASTRONAUT_FACE
    # Inside the face region, and covering most of it: a face-sized box, not a speck in it.
    assert x0 <= face.x
    assert face.x + face.width <= x1
    assert y0 <= face.y
    assert face.y + face.height <= y1
    assert face.width > 0.7 * (x1 - x0)
    assert face.height > 0.5 * (y1 - y0)


@pytest.mark.parametrize("grey", [0, 128])
def test_moving_the_photo_in_a_wide_frame_moves_the_box_by_as_much(
    detector: FaceDetector, astronaut: Image, grey: int
) -> None:
    # Corners, centre and an arbitrary spot of a 1280x720 frame.
    offsets = [(0, 0), (768, 208), (384, 104), (137, 41), (700, 0)]
    results = faces_in(detector, *(on_canvas(astronaut, [offset], grey) for offset in offsets))
    assert all(len(faces) == 1 for faces in results)
    relative = np.array(
        [
            (faces[0].x - x, faces[0].y - y, faces[0].width, faces[0].height)
            for faces, (x, y) in zip(results, offsets, strict=True)
        ]
    )
    typical = np.median(relative, axis=0)
    assert np.abs(relative - typical).max() <= WIDE_FRAME_TOLERANCE
    # Still the face of the photo, wherever it is.
    x0, y0, x1, y1 = ASTRONAUT_FACE
    assert x0 <= typical[0]
    assert typical[0] + typical[2] <= x1
    assert y0 <= typical[1]
    assert typical[1] + typical[3] <= y1


def test_two_people_side_by_side_are_two_faces(detector: FaceDetector, astronaut: Image) -> None:
    left, right = (50, 100), (700, 150)
    [faces] = faces_in(detector, on_canvas(astronaut, [left, right], grey=128))
    assert len(faces) == 2
    assert faces[0].confidence >= faces[1].confidence
    by_x = sorted(faces, key=lambda face: face.x)
    x0, y0, x1, y1 = ASTRONAUT_FACE
    for face, (dx, dy) in zip(by_x, [left, right], strict=True):
        assert dx + x0 - WIDE_FRAME_TOLERANCE <= face.x <= dx + x1
        assert dy + y0 - WIDE_FRAME_TOLERANCE <= face.y <= dy + y1


@pytest.mark.parametrize(
    "image",
    [data.coffee(), data.chelsea(), np.full((720, 1280, 3), 90, dtype=np.uint8)],
    ids=["coffee", "cat", "flat-grey"],
)
def test_frames_without_people_have_no_faces(detector: FaceDetector, image: Image) -> None:
    assert faces_in(detector, image) == [[]]


def test_a_batch_gives_one_result_per_frame_in_order(detector: FaceDetector, astronaut: Image) -> None:
    two = on_canvas(astronaut, [(50, 100), (700, 150)])
    empty = data.coffee()
    results = faces_in(detector, empty, astronaut, two, empty, astronaut)
    assert [len(faces) for faces in results] == [0, 1, 2, 0, 1]
    assert results[1] == results[4]  # the same frame gives the same faces, batch or not
    assert results[1] == faces_in(detector, astronaut)[0]


def test_min_confidence_filters_faces(detector: FaceDetector, astronaut: Image) -> None:
    frame = on_canvas(astronaut, [(50, 100), (700, 150)], grey=128)
    [faces] = faces_in(detector, frame)
    threshold = (faces[0].confidence + faces[1].confidence) / 2
    [strict] = faces_in(detector, frame, min_confidence=threshold)
    assert [face.confidence for face in strict] == [faces[0].confidence]
    # Fewer weak boxes are averaged into the strong one, so it may move a little.
    assert abs(strict[0].x - faces[0].x) <= WIDE_FRAME_TOLERANCE
    assert abs(strict[0].y - faces[0].y) <= WIDE_FRAME_TOLERANCE


def test_boxes_are_clipped_to_the_frame(detector: FaceDetector, astronaut: Image) -> None:
    # The face cut by the frame's top-left corner: the box may not start outside the frame.
    cropped = np.ascontiguousarray(astronaut[80:, 180:])
    [faces] = faces_in(detector, cropped)
    assert len(faces) == 1
    face = faces[0]
    assert (face.x, face.y) == (0.0, 0.0)
    assert 0 < face.width <= cropped.shape[1]
    assert 0 < face.height <= cropped.shape[0]


def test_prepare_letterboxes_without_distortion() -> None:
    frame = np.full((720, 1280, 3), 255, dtype=np.uint8)
    prepared = prepare(frame)
    assert prepared.tensor.shape == (3, 192, 192)
    assert (prepared.width, prepared.height) == (1280, 720)
    assert (prepared.inner_width, prepared.inner_height, prepared.left, prepared.top) == (192, 108, 0, 42)
    assert np.all(prepared.tensor[:, 42:150] == 1.0)  # white
    assert np.all(prepared.tensor[:, :42] == -1.0)  # black bars above
    assert np.all(prepared.tensor[:, 150:] == -1.0)  # and below


def test_the_model_is_blazeface_full_range(detector: FaceDetector) -> None:
    assert detector.model_name == MODEL_NAME == "mediapipe-blazeface-full-range"
    assert detector.loaded


def test_detect_before_load_is_unavailable(astronaut: Image) -> None:
    unloaded = FaceDetector(VisionSettings().face_model)
    assert not unloaded.loaded
    with pytest.raises(Unavailable, match="not loaded"):
        unloaded.detect([DetectionInput(prepare(astronaut), 0.5)])


def test_load_refuses_a_missing_file_or_another_model(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        FaceDetector(tmp_path / "missing.tflite").load()
    not_a_model = tmp_path / "noise.tflite"
    not_a_model.write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="not a TFLite model"):
        FaceDetector(not_a_model).load()
    # The short-range BlazeFace ships beside the full-range one; its outputs differ.
    short_range = VisionSettings().face_model.with_name("face_detection_short_range.tflite")
    with pytest.raises(ValueError, match="not BlazeFace full-range"):
        FaceDetector(short_range).load()


def test_cuda_without_a_cuda_build_fails_at_load() -> None:
    if cv2.cuda.getCudaEnabledDeviceCount() > 0:
        pytest.skip("this OpenCV build has CUDA")
    with pytest.raises(RuntimeError, match="no CUDA support"):
        FaceDetector(VisionSettings().face_model, device="cuda").load()
