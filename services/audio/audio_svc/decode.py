"""Decoding any container FFmpeg reads into the 16 kHz mono float32 samples Whisper works on.

Decoding is streamed frame by frame so an over-long input is refused as soon as it passes the
duration limit, before the whole file sits in memory.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import av
import av.audio.frame
import av.container
import numpy as np
import numpy.typing as npt

from clipsift_common.errors import InvalidArgument, ResourceExhausted

SAMPLE_RATE = 16_000

Samples = npt.NDArray[np.float32]


def decode_audio(audio: Path | bytes, max_seconds: float) -> Samples:
    """Decode the first audio stream of a file (or of in-memory bytes) to 16 kHz mono float32.

    Raises InvalidArgument when the input cannot be decoded or has no audio, and
    ResourceExhausted when it is longer than ``max_seconds``.
    """
    source = io.BytesIO(audio) if isinstance(audio, bytes) else str(audio)
    max_samples = int(max_seconds * SAMPLE_RATE)
    chunks: list[Samples] = []
    total = 0
    try:
        with av.open(source, mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise InvalidArgument("the input has no audio stream")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in _decodable_frames(container):
                for resampled in resampler.resample(frame):
                    samples = _mono(resampled)
                    total += samples.size
                    if total > max_samples:
                        raise ResourceExhausted(f"audio is longer than the limit of {max_seconds:g} seconds")
                    chunks.append(samples)
            # The resampler buffers a few samples; flushing returns them.
            chunks.extend(_mono(r) for r in resampler.resample(None))
    except av.FFmpegError as exc:
        raise InvalidArgument(f"cannot decode audio: {exc.strerror}") from None
    if not chunks:
        raise InvalidArgument("the audio stream contains no samples")
    return np.concatenate(chunks)


def _mono(frame: av.audio.frame.AudioFrame) -> Samples:
    return np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1)


def _decodable_frames(container: av.container.InputContainer) -> Iterator[av.audio.frame.AudioFrame]:
    """Frames of the first audio stream, skipping packets the decoder rejects, as players do.

    Decoding packet by packet matters: an error raised inside ``container.decode`` ends that
    generator, so one damaged packet would silently cut off the rest of a long recording.
    """
    for packet in container.demux(container.streams.audio[0]):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            continue  # costs the few milliseconds in this packet
        yield from frames
