"""Frames off the wire: encoded and raw images, and the errors and limits of each."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from clipsift_testing.media import jpeg, png

from clipsift.vision.v1 import vision_pb2
from clipsift_common.errors import InvalidArgument, ResourceExhausted
from vision_svc.decode import decode_frame

from .conftest import Image

LIMIT = 4096 * 4096


def raw(image: Image) -> vision_pb2.Image:
    height, width = image.shape[:2]
    return vision_pb2.Image(raw=vision_pb2.RawImage(width=width, height=height, rgb=image.tobytes()))


def test_png_decodes_to_the_same_rgb_pixels(astronaut: Image) -> None:
    frame = decode_frame(vision_pb2.Image(encoded=png(astronaut)), 0, LIMIT)
    assert frame.shape == (512, 512, 3)
    assert np.array_equal(frame, astronaut)


def test_jpeg_decodes_to_nearly_the_same_rgb_pixels(astronaut: Image) -> None:
    frame = decode_frame(vision_pb2.Image(encoded=jpeg(astronaut)), 0, LIMIT)
    assert frame.shape == (512, 512, 3)
    # Channel order is RGB, as raw frames are: a BGR mix-up would be off by far more.
    assert np.abs(frame.astype(int) - astronaut.astype(int)).mean() < 4


def test_grey_and_alpha_images_become_rgb(astronaut: Image) -> None:
    grey = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    ok, encoded = cv2.imencode(".png", grey)
    assert ok
    assert decode_frame(vision_pb2.Image(encoded=encoded.tobytes()), 0, LIMIT).shape == (512, 512, 3)
    bgra = cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGRA)
    ok, encoded = cv2.imencode(".png", bgra)
    assert ok
    frame = decode_frame(vision_pb2.Image(encoded=encoded.tobytes()), 0, LIMIT)
    assert np.array_equal(frame, astronaut)


def test_raw_rgb_is_used_as_is(astronaut: Image) -> None:
    frame = decode_frame(raw(astronaut), 0, LIMIT)
    assert np.array_equal(frame, astronaut)


@pytest.mark.parametrize(
    "data",
    [b"not an image at all", b"", b"\xff\xd8\xff\xe0" + b"\x00" * 100, b"\x89PNG\r\n\x1a\n" + b"\x01" * 50],
    ids=["text", "empty", "truncated-jpeg", "truncated-png"],
)
def test_undecodable_bytes_are_an_invalid_argument(data: bytes) -> None:
    with pytest.raises(InvalidArgument, match="frame 3 is not a decodable image"):
        decode_frame(vision_pb2.Image(encoded=data), 3, LIMIT)


def test_raw_rgb_of_the_wrong_length_is_an_invalid_argument() -> None:
    image = vision_pb2.Image(raw=vision_pb2.RawImage(width=4, height=2, rgb=b"\x00" * 23))
    with pytest.raises(InvalidArgument, match=r"frame 1: raw RGB of 4x2 needs 24 bytes, got 23"):
        decode_frame(image, 1, LIMIT)
    zero = vision_pb2.Image(raw=vision_pb2.RawImage(width=0, height=2, rgb=b""))
    with pytest.raises(InvalidArgument, match="needs a width and a height"):
        decode_frame(zero, 1, LIMIT)


def test_a_frame_without_an_image_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument, match="frame 0 has no image"):
        decode_frame(vision_pb2.Image(), 0, LIMIT)


def test_frames_over_the_pixel_limit_are_resource_exhausted(astronaut: Image) -> None:
    with pytest.raises(ResourceExhausted, match=r"frame 2 is 512x512 = 262144 pixels; the limit is 262143"):
        decode_frame(raw(astronaut), 2, 512 * 512 - 1)
    with pytest.raises(ResourceExhausted, match="the limit is 1000"):
        decode_frame(vision_pb2.Image(encoded=png(astronaut)), 0, 1000)
    # A raw frame is refused on its declared size, before its bytes are looked at.
    huge = vision_pb2.Image(raw=vision_pb2.RawImage(width=100_000, height=100_000, rgb=b""))
    with pytest.raises(ResourceExhausted):
        decode_frame(huge, 0, LIMIT)
