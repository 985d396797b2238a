"""Scenes of a whole video (PySceneDetect) and one keyframe per scene: its sharpest sampled frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Scene:
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Keyframe:
    scene: int  # index into the scenes
    t: float
    sharpness: float  # variance of the Laplacian of the sampled grey frame


def detect_scenes(
    source: str,
    *,
    threshold: float,
    min_scene_seconds: float,
    duration: float,
    on_position: Callable[[float], None] | None = None,
) -> list[Scene]:
    """Scenes covering the whole video; one scene when no cut is found. ``on_position`` hears the
    decoder's position (seconds) as it goes, for progress."""
    from scenedetect import ContentDetector, SceneManager, open_video

    video = open_video(source)
    fps = float(video.frame_rate) or 25.0
    manager = SceneManager()
    manager.add_detector(
        ContentDetector(threshold=threshold, min_scene_len=max(1, round(min_scene_seconds * fps)))
    )

    def callback(_frame: npt.NDArray[np.uint8], _timecode: object) -> None:
        return None

    if on_position is None:
        manager.detect_scenes(video)
    else:
        # The detector only calls back on cuts: poll the decoder's position from its own loop instead.
        step = max(1, round(fps * 2))
        while True:
            decoded = manager.detect_scenes(video, duration=step, callback=callback)
            on_position(video.position.seconds)
            if decoded < step:
                break
    found = manager.get_scene_list(start_in_scene=True)
    scenes = [Scene(start.seconds, end.seconds) for start, end in found]
    if not scenes:
        return [Scene(0.0, duration)]
    # The last scene runs to the container's end (the decoder can stop a frame short).
    last = scenes[-1]
    scenes[-1] = Scene(last.start, max(last.end, duration))
    return scenes


def sharpness(grey: npt.NDArray[np.uint8]) -> float:
    """Variance of the Laplacian: high for crisp edges, low for blur, fades and flat frames."""
    import cv2

    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def choose_keyframes(scenes: list[Scene], samples: list[tuple[float, float]], limit: int) -> list[Keyframe]:
    """The sharpest sample of each scene (time, sharpness); a scene shorter than the sampling step
    gets its middle. Over ``limit`` scenes, the longest ``limit`` keep a keyframe."""
    times = np.array([t for t, _ in samples]) if samples else np.zeros(0)
    values = np.array([s for _, s in samples]) if samples else np.zeros(0)
    chosen: list[Keyframe] = []
    for index, scene in enumerate(scenes):
        inside = np.flatnonzero((times >= scene.start) & (times < scene.end))
        if inside.size:
            best = int(inside[np.argmax(values[inside])])
            chosen.append(Keyframe(index, float(times[best]), float(values[best])))
        else:
            chosen.append(Keyframe(index, (scene.start + scene.end) / 2, 0.0))
    if len(chosen) > limit:
        longest = sorted(chosen, key=lambda k: -scenes[k.scene].seconds)[:limit]
        chosen = sorted(longest, key=lambda k: k.t)
    return chosen
