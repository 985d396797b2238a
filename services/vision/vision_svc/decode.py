"""Frames off the wire: encoded images and raw RGB buffers become RGB arrays, within limits."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from clipsift.vision.v1 import vision_pb2
from clipsift_common.errors import InvalidArgument, ResourceExhausted

Frame = npt.NDArray[np.uint8]
"""One frame: height x width x 3, RGB, 8 bits per channel."""


def decode_frame(image: vision_pb2.Image, index: int, max_pixels: int) -> Frame:
    """The RGB pixels of frame ``index`` of a request.

    Encoded images are decoded by OpenCV (JPEG, PNG, WebP, ...; grey and alpha become RGB,
    EXIF orientation is applied) and held to ``max_pixels`` once decoded: their size is not
    known before, and OpenCV itself refuses images over 2**30 pixels. Raw images are held to
    it by their declared size and wrapped without another copy.
    """
    source = image.WhichOneof("source")
    if source == "encoded":
        return _decode_encoded(image.encoded, index, max_pixels)
    if source == "raw":
        return _wrap_raw(image.raw, index, max_pixels)
    raise InvalidArgument(f"frame {index} has no image (set encoded or raw)")


def _decode_encoded(data: bytes, index: int, max_pixels: int) -> Frame:
    bgr = None
    if data:
        try:
            bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
        except cv2.error:
            bgr = None  # some malformed inputs make the decoder throw instead of returning None
    if bgr is None:
        raise InvalidArgument(f"frame {index} is not a decodable image")
    height, width = bgr.shape[:2]
    _check_pixels(width, height, index, max_pixels)
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def _wrap_raw(raw: vision_pb2.RawImage, index: int, max_pixels: int) -> Frame:
    if raw.width == 0 or raw.height == 0:
        raise InvalidArgument(f"frame {index}: a raw image needs a width and a height")
    _check_pixels(raw.width, raw.height, index, max_pixels)
    rgb = raw.rgb  # read the field once: each read may copy the bytes out of the message
    expected = raw.width * raw.height * 3
    if len(rgb) != expected:
        raise InvalidArgument(
            f"frame {index}: raw RGB of {raw.width}x{raw.height} needs {expected} bytes, got {len(rgb)}"
        )
    return np.frombuffer(rgb, dtype=np.uint8).reshape(raw.height, raw.width, 3)


def _check_pixels(width: int, height: int, index: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ResourceExhausted(
            f"frame {index} is {width}x{height} = {width * height} pixels; the limit is {max_pixels}"
        )
