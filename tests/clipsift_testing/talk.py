"""A short talk video built from real parts: speech synthesised by espeak-ng from the script
below, and scikit-image's astronaut photograph moving across the frame like a presenter."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .media import ffmpeg, speak

SCRIPT = [
    "Welcome back to the channel. "
    "Today I want to talk about the one habit that changed how I write software.",
    "Why do most projects fail? It is not the code. It is the feedback loop.",
    "Here is the secret. Ship something small every single day, and show it to a real person.",
    "I learned this the hard way. My first startup spent two years building in silence, and nobody came.",
    "That was the worst mistake of my career, and honestly it still hurts to talk about it.",
    "So what should you do instead? "
    "Write down the smallest version your users would love, and build only that.",
    "Then measure everything. Numbers do not lie, and they will tell you where to go next.",
    "Thank you for watching. If this helped you, share it with one friend who is building something.",
]


def build_talk_video(
    folder: Path,
    *,
    width: int = 1280,
    height: int = 720,
    fps: int = 25,
    script: Sequence[str] = SCRIPT,
    voice: str = "en",
) -> Path:
    """Write talk.mp4 (H.264 + AAC) into ``folder``, ``script`` spoken by espeak-ng's ``voice``."""
    from skimage import data, io

    folder.mkdir(parents=True, exist_ok=True)
    speech = folder / "speech.wav"
    speak(" ".join(script), speech, voice=voice, speed=150)
    face = folder / "astronaut.png"
    io.imsave(face, data.astronaut()[:400, 60:460])  # head and shoulders, 400x400
    video = folder / "talk.mp4"
    # The presenter drifts left and right (x = 200 + 300*sin(t/4)), as a speaker pacing a stage.
    ffmpeg(
        *("-f", "lavfi", "-i", f"color=c=0x202830:s={width}x{height}:r={fps}"),
        *("-loop", "1", "-i", str(face), "-i", str(speech)),
        *("-filter_complex", "[0:v][1:v]overlay=x='440+300*sin(t/4)':y=160:shortest=1,format=yuv420p[v]"),
        *("-map", "[v]", "-map", "2:a", "-shortest"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-c:a", "aac", "-b:a", "96k"),
        *("-movflags", "+faststart", str(video)),
    )
    return video
