"""Images off the wire: encoded images and raw RGB buffers become RGB arrays, within limits.

Encoded images are decoded by Pillow, defensively: the header is read first and the declared
size is checked against the limits before a single pixel is decoded, so a decompression bomb
(a few kilobytes that declare gigapixels) costs nothing. Large images can be decoded straight to
a smaller size: JPEG's DCT scaling (``draft``) and Pillow's ``reduce`` shrink them while
decoding, so a 24-megapixel photo never exists in memory at full size when only 1024 px are
wanted. EXIF orientation is applied; grey, palette and alpha images become RGB.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from clipsift.vision.v1 import vision_pb2
from clipsift_common.errors import InvalidArgument, ResourceExhausted

Frame = npt.NDArray[np.uint8]
"""One frame: height x width x 3, RGB, 8 bits per channel."""

# Formats accepted from callers; Pillow reads more (PSD, ICO, ...), none of which a photo
# pipeline needs, and each is more parser surface.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")  # multi-picture JPEGs (MPO) open as JPEG
# Declared pixels per encoded byte above which an oversized image is called a decompression bomb
# rather than merely too large: real photographs compress to a few pixels per byte at most.
_BOMB_PIXELS_PER_BYTE = 1000


@dataclass(frozen=True)
class DecodeLimits:
    """How much an image may be: encoded bytes, declared pixels, and the side it is decoded to
    (None: full size)."""

    max_bytes: int
    max_pixels: int
    max_side: int | None = None


@dataclass(frozen=True)
class DecodedImage:
    """RGB pixels (possibly downscaled) and the size of the image as sent, after orientation."""

    pixels: Frame
    width: int
    height: int
    format: str


def decode_frame(image: vision_pb2.Image, index: int, max_pixels: int) -> Frame:
    """The full-size RGB pixels of frame ``index`` of a request (``DetectFaces``).

    Raw images are held to ``max_pixels`` by their declared size and wrapped without a copy.
    """
    limits = DecodeLimits(max_bytes=max(len(image.encoded), 1), max_pixels=max_pixels)
    return decode_input(image, f"frame {index}", limits).pixels


def decode_input(image: vision_pb2.Image, label: str, limits: DecodeLimits) -> DecodedImage:
    """Decode one ``Image`` message; ``label`` ("image 3") names it in error messages."""
    source = image.WhichOneof("source")
    if source == "encoded":
        return decode_bytes(image.encoded, label, limits)
    if source == "raw":
        pixels = _wrap_raw(image.raw, label, limits.max_pixels)
        height, width = pixels.shape[:2]
        return DecodedImage(_fit(pixels, limits.max_side), width, height, "RAW")
    raise InvalidArgument(f"{label} has no image (set encoded or raw)")


def decode_bytes(data: bytes, label: str, limits: DecodeLimits) -> DecodedImage:
    """Decode an encoded image. Raises ``InvalidArgument`` for anything that is not a whole image
    of an accepted format (empty, another file type, truncated, corrupt, a decompression bomb)
    and ``ResourceExhausted`` for an image over the byte or pixel limit."""
    if not data:
        raise InvalidArgument(f"{label} is not a decodable image: it is empty")
    if len(data) > limits.max_bytes:
        raise ResourceExhausted(f"{label} is {len(data)} bytes; the limit is {limits.max_bytes}")
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise InvalidArgument(f"{label} is not a decodable image: not one of {', '.join(FORMATS)}") from None
    except Image.DecompressionBombError as exc:
        raise InvalidArgument(f"{label} is a decompression bomb, refused before decoding: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidArgument(f"{label} is not a decodable image: {exc}") from None
    with image:
        width, height = image.size
        _check_declared(width, height, len(data), label, limits.max_pixels)
        try:
            if limits.max_side is not None and max(width, height) > limits.max_side:
                # draft() + reduce() before the full decode: JPEG decodes at 1/2, 1/4 or 1/8 scale.
                image.thumbnail(
                    (limits.max_side, limits.max_side), Image.Resampling.BILINEAR, reducing_gap=2.0
                )
            image.load()
            oriented = ImageOps.exif_transpose(image)
            rgb = oriented.convert("RGB")
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise InvalidArgument(f"{label} is not a decodable image: truncated or corrupt ({exc})") from None
        if oriented.size != image.size:  # rotated by 90 degrees: the image as seen is height x width
            width, height = height, width
        pixels = np.asarray(rgb, dtype=np.uint8)
    return DecodedImage(pixels, width, height, image.format or "")


def _check_declared(width: int, height: int, size: int, label: str, max_pixels: int) -> None:
    pixels = width * height
    if pixels == 0:
        raise InvalidArgument(f"{label} is not a decodable image: it declares {width}x{height} pixels")
    if pixels > max_pixels:
        if pixels > size * _BOMB_PIXELS_PER_BYTE:
            raise InvalidArgument(
                f"{label} declares {width}x{height} pixels in {size} bytes: a decompression bomb, "
                "refused before decoding"
            )
        raise ResourceExhausted(f"{label} is {width}x{height} = {pixels} pixels; the limit is {max_pixels}")


def _wrap_raw(raw: vision_pb2.RawImage, label: str, max_pixels: int) -> Frame:
    if raw.width == 0 or raw.height == 0:
        raise InvalidArgument(f"{label}: a raw image needs a width and a height")
    pixels = raw.width * raw.height
    if pixels > max_pixels:
        raise ResourceExhausted(
            f"{label} is {raw.width}x{raw.height} = {pixels} pixels; the limit is {max_pixels}"
        )
    rgb = raw.rgb  # read the field once: each read may copy the bytes out of the message
    expected = pixels * 3
    if len(rgb) != expected:
        raise InvalidArgument(
            f"{label}: raw RGB of {raw.width}x{raw.height} needs {expected} bytes, got {len(rgb)}"
        )
    return np.frombuffer(rgb, dtype=np.uint8).reshape(raw.height, raw.width, 3)


def _fit(pixels: Frame, max_side: int | None) -> Frame:
    height, width = pixels.shape[:2]
    if max_side is None or max(width, height) <= max_side:
        return pixels
    scale = max_side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
