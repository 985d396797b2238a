"""Image features on real photos: decoding limits, hashes, embedding, quality, colours, detectors."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from clipsift_testing.media import jpeg, png
from PIL import Image as PilImage
from skimage import data

from vision_svc.colours import dominant_colours
from vision_svc.decode import DecodeLimits, decode_bytes
from vision_svc.embedding import Embedder, preprocess
from vision_svc.hashing import hamming, hamming_matrix, hashes_of
from vision_svc.objects import HOG_MODEL, object_detector
from vision_svc.quality import QualityThresholds, measure

from .conftest import Image

LIMITS = DecodeLimits(max_bytes=10_000_000, max_pixels=50_000_000)
THRESHOLDS = QualityThresholds(100.0, 8.0, 0.3, 0.2, 0.85, 0.25)


def test_large_jpegs_decode_straight_to_the_asked_size_and_keep_their_size() -> None:
    big = cv2.resize(data.coffee(), (3000, 2000), interpolation=cv2.INTER_CUBIC)
    decoded = decode_bytes(jpeg(big), "image 0", DecodeLimits(10_000_000, 50_000_000, max_side=512))
    assert (decoded.width, decoded.height, decoded.format) == (3000, 2000, "JPEG")
    assert max(decoded.pixels.shape[:2]) <= 512
    assert decoded.pixels.shape[2] == 3


def test_exif_orientation_is_applied(astronaut: Image) -> None:
    wide = np.ascontiguousarray(astronaut[:256])  # 512 wide, 256 high
    out = io.BytesIO()
    exif = PilImage.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    PilImage.fromarray(wide).save(out, format="JPEG", exif=exif)
    decoded = decode_bytes(out.getvalue(), "image 0", LIMITS)
    assert (decoded.width, decoded.height) == (256, 512)
    assert decoded.pixels.shape[:2] == (512, 256)


def test_hashes_survive_recompression_and_tell_photos_apart(astronaut: Image) -> None:
    original = hashes_of(astronaut).original
    recompressed = hashes_of(decode_bytes(jpeg(astronaut, 30), "x", LIMITS).pixels).original
    coffee = hashes_of(data.coffee()).original
    for a, b, c in zip(original.as_tuple(), recompressed.as_tuple(), coffee.as_tuple(), strict=True):
        assert hamming(a, b) <= 4
        assert hamming(a, c) >= 20


def test_mirror_hashes_are_the_hashes_of_the_flipped_image(astronaut: Image) -> None:
    flipped = hashes_of(np.ascontiguousarray(astronaut[:, ::-1]))
    assert flipped.original == hashes_of(astronaut).mirrored


def test_hamming_matrix_counts_bits() -> None:
    values = np.array([0, 1, 0xFFFF_FFFF_FFFF_FFFF, 0xF0F0], dtype=np.uint64)
    expected = [[hamming(int(a), int(b)) for b in values] for a in values]
    assert hamming_matrix(values, values).tolist() == expected


def test_the_embedding_weights_are_imagenet_mobilenet_v2(embedder: Embedder) -> None:
    # The classifier head of the same weights names the photos: a wrong load would not.
    model = embedder._model
    assert model is not None
    with torch.inference_mode():
        cat = model(torch.from_numpy(preprocess(data.chelsea())[np.newaxis])).argmax().item()
        espresso = model(torch.from_numpy(preprocess(data.coffee())[np.newaxis])).argmax().item()
    assert 281 <= cat <= 285  # ImageNet's domestic cats
    assert espresso == 967  # ImageNet's "espresso"


def test_embeddings_are_close_for_copies_and_apart_for_other_photos(
    embedder: Embedder, astronaut: Image
) -> None:
    copy = decode_bytes(jpeg(cv2.resize(astronaut, (256, 256)), 40), "x", LIMITS).pixels
    a, b, c = embedder.embed([preprocess(astronaut), preprocess(copy), preprocess(data.rocket())])
    assert float(a @ b) > 0.9
    assert float(a @ c) < 0.7


def test_quality_verdicts(astronaut: Image) -> None:
    sharp = measure(astronaut, 512, 512, THRESHOLDS)
    assert not sharp.blurry
    assert sharp.exposure == "ok"
    assert sharp.low_resolution is True  # 0.26 megapixels
    blurred = measure(cv2.GaussianBlur(astronaut, (0, 0), 4), 512, 512, THRESHOLDS)
    assert blurred.blurry
    assert blurred.sharpness < sharp.sharpness / 10
    dark = measure((astronaut * 0.1).astype(np.uint8), 512, 512, THRESHOLDS)
    assert dark.exposure == "underexposed"
    bright = measure(np.clip(astronaut.astype(int) + 150, 0, 255).astype(np.uint8), 512, 512, THRESHOLDS)
    assert bright.exposure == "overexposed"
    rng = np.random.default_rng(0)
    noisy = np.clip(astronaut + rng.normal(0, 20, astronaut.shape), 0, 255).astype(np.uint8)
    assert measure(noisy, 512, 512, THRESHOLDS).noisy
    assert not sharp.noisy


def test_dominant_colours_of_flat_and_real_images() -> None:
    halves = np.zeros((100, 100, 3), dtype=np.uint8)
    halves[:, :70] = (255, 0, 0)
    halves[:, 70:] = (0, 0, 255)
    colours = dominant_colours(halves, 5)
    # Sampling at 96 px blends one column at the border into a third, rare colour.
    assert len(colours) <= 3
    assert sum(c.fraction for c in colours[2:]) < 0.02
    assert colours[0].fraction == pytest.approx(0.7, abs=0.02)
    assert colours[1].fraction == pytest.approx(0.3, abs=0.02)
    red = np.array([colours[0].r, colours[0].g, colours[0].b])
    blue = np.array([colours[1].r, colours[1].g, colours[1].b])
    assert np.abs(red - [255, 0, 0]).max() <= 3
    assert np.abs(blue - [0, 0, 255]).max() <= 3
    coffee = dominant_colours(data.coffee(), 5)
    assert len(coffee) == 5
    assert dominant_colours(data.coffee(), 5) == coffee  # deterministic


def test_the_object_model_setting_dispatches_without_importing_ultralytics(tmp_path: Path) -> None:
    detector = object_detector(HOG_MODEL, "cpu")
    detector.load()
    assert detector.model_name == "opencv-hog"
    weights = tmp_path / "yolo11n.pt"
    weights.write_bytes(b"not really weights")
    yolo = object_detector(str(weights), "cpu")
    assert yolo.model_name == "ultralytics:yolo11n.pt"
    assert "ultralytics" not in sys.modules
    try:
        import ultralytics  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="needs the ultralytics package"):
            yolo.load()
    with pytest.raises(ValueError, match="expected 'opencv-hog' or a path to YOLO weights"):
        object_detector("yolo.onnx", "cpu")


def test_people_detector_output_is_in_original_pixels(astronaut: Image) -> None:
    from vision_svc.objects import HogPeopleDetector, ObjectInput

    detector = HogPeopleDetector()
    detector.load()
    small = cv2.resize(data.camera(), (768, 768))
    rgb = np.stack([small] * 3, axis=-1)
    [full] = detector.detect([ObjectInput(rgb, 1.0, 0.01)])
    [scaled] = detector.detect([ObjectInput(rgb, 2.0, 0.01)])
    assert [(o.x * 2, o.y * 2, o.width * 2) for o in full] == [(o.x, o.y, o.width) for o in scaled]
    assert all(o.label == "person" for o in full)
    assert detector.detect([ObjectInput(np.full((400, 400, 3), 128, dtype=np.uint8), 1.0, 0.01)]) == [[]]


def test_images_smaller_than_the_people_window_have_no_people_and_do_not_crash() -> None:
    from vision_svc.objects import HogPeopleDetector, ObjectInput

    detector = HogPeopleDetector()
    detector.load()
    # 64x64 and 64 tall x 128 wide crashed the process inside OpenCV's detectMultiScale.
    shapes = [(64, 64), (64, 128), (80, 64), (48, 64), (32, 32), (127, 300), (300, 63), (1, 1)]
    batch = [ObjectInput(np.zeros((h, w, 3), dtype=np.uint8), 1.0, 0.01) for h, w in shapes]
    assert detector.detect(batch) == [[] for _ in shapes]
    # The smallest image a window fits is still searched.
    assert detector.detect([ObjectInput(np.zeros((128, 64, 3), dtype=np.uint8), 1.0, 0.01)]) == [[]]


def test_png_round_trip_is_exact(astronaut: Image) -> None:
    assert np.array_equal(decode_bytes(png(astronaut), "x", LIMITS).pixels, astronaut)
