"""Scene cuts (PySceneDetect) inside a clip, so the reframed window cuts with the edit."""

from __future__ import annotations

from pathlib import Path

# PySceneDetect's ContentDetector default: HSV-and-edge change score that marks a hard cut.
CUT_THRESHOLD = 27.0


def scene_cuts(source: Path, start: float, end: float, threshold: float = CUT_THRESHOLD) -> list[float]:
    """Source times of hard cuts strictly inside ``[start, end]``.

    Only the clip's own frames are decoded: a whole-video pass would cost more than the
    transcription of a long talk, and cuts outside the chosen clips change nothing.
    """
    from scenedetect import ContentDetector, detect

    scenes = detect(str(source), ContentDetector(threshold=threshold), start_time=start, end_time=end)
    return [scene_start.seconds for scene_start, _ in scenes[1:]]
