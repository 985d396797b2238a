"""decode_audio: any container FFmpeg reads becomes 16 kHz mono float32, within the limits."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from clipsift_testing.media import ffmpeg

from audio_svc.decode import SAMPLE_RATE, decode_audio
from clipsift_common.errors import InvalidArgument, ResourceExhausted


def test_wav_is_resampled_to_16k_mono(speak) -> None:
    path = speak("Decoding turns any recording into samples.")
    samples = decode_audio(path, max_seconds=60)
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert samples.size / SAMPLE_RATE == pytest.approx(float(probe.stdout), abs=0.01)
    assert 0.1 < np.abs(samples).max() <= 1.0


def test_stereo_44k_tone_keeps_its_level(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2", "-ac", "2", str(path))
    samples = decode_audio(path, max_seconds=60)
    assert samples.size == 2 * SAMPLE_RATE
    # ffmpeg's sine source has amplitude 1/8; both channels carry it, so the mix does too.
    rms = float(np.sqrt(np.mean(np.square(samples[SAMPLE_RATE // 10 : -SAMPLE_RATE // 10]))))
    assert rms == pytest.approx(0.125 / np.sqrt(2), rel=0.02)


def test_video_with_compressed_audio_decodes_from_path_and_bytes(speak, tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    speech = speak("A video file with an audio track.")
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=duration=3:size=160x120:rate=10", "-i", str(speech),
        "-c:v", "libx264", "-c:a", "aac", "-shortest", str(video),
    )  # fmt: skip
    from_path = decode_audio(video, max_seconds=60)
    from_bytes = decode_audio(video.read_bytes(), max_seconds=60)
    np.testing.assert_array_equal(from_path, from_bytes)
    assert from_path.size / SAMPLE_RATE == pytest.approx(decode_audio(speech, 60).size / SAMPLE_RATE, abs=0.1)


def test_a_damaged_packet_costs_a_moment_not_the_rest(speak, tmp_path: Path) -> None:
    mp3 = tmp_path / "speech.mp3"
    ffmpeg("-i", str(speak("Damage in the middle of a long recording must not cut it short.")), str(mp3))
    data = bytearray(mp3.read_bytes())
    clean = decode_audio(bytes(data), max_seconds=60).size
    middle = len(data) // 2
    data[middle : middle + 2000] = np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes()
    damaged = decode_audio(bytes(data), max_seconds=60).size
    assert 0.8 * clean < damaged < clean


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "cannot decode audio: Invalid data found when processing input"),
        (
            b"this is plain text, not a recording\n" * 50,
            "cannot decode audio: Invalid data found when processing input",
        ),
    ],
)
def test_undecodable_bytes_are_invalid_arguments(data: bytes, message: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        decode_audio(data, max_seconds=60)
    assert str(caught.value) == message


def test_a_file_without_audio_is_an_invalid_argument(silent_film) -> None:
    with pytest.raises(InvalidArgument, match=r"^the input has no audio stream$"):
        decode_audio(silent_film, max_seconds=60)


def test_longer_than_the_limit_is_resource_exhausted(silence) -> None:
    path = silence(3)
    assert decode_audio(path, max_seconds=3).size == 3 * SAMPLE_RATE
    with pytest.raises(ResourceExhausted, match=r"^audio is longer than the limit of 2\.5 seconds$"):
        decode_audio(path, max_seconds=2.5)
