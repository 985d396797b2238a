"""Domain types shared by the clip pipeline's steps. Times are seconds on the source timeline
unless a name says otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Word:
    text: str  # as transcribed, without surrounding whitespace
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True)
class Sentence:
    words: tuple[Word, ...]

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float
    confidence: float = 1.0

    @property
    def center_x(self) -> float:
        return self.x + self.width / 2

    @property
    def center_y(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class FaceSample:
    """Faces found in the source frame at time ``t``."""

    t: float
    faces: tuple[Box, ...]


@dataclass(frozen=True)
class CropKeyframe:
    """Top-left corner of the crop window at time ``t`` (clip timeline, seconds from clip start)."""

    t: float
    x: float
    y: float


@dataclass(frozen=True)
class CropPath:
    """A fixed-size crop window moving through the source frame, linearly between keyframes."""

    width: int
    height: int
    keyframes: tuple[CropKeyframe, ...]
    # Why the path looks as it does ("face", "centre: no face found"), for the clip's JSON.
    mode: str = "face"


@dataclass(frozen=True)
class CaptionLine:
    """One caption on screen; ``words`` carry times on the same timeline as start/end."""

    start: float
    end: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True)
class CaptionStyle:
    font: str = "DejaVu Sans"
    font_size_ratio: float = 0.055  # of the output height
    primary_colour: str = "&H00FFFFFF"  # ASS &HAABBGGRR: white
    highlight_colour: str = "&H0000D7FF"  # gold: the word being spoken
    outline_colour: str = "&H00000000"
    outline: float = 3.0
    margin_v_ratio: float = 0.18  # captions sit in the lower third, clear of the face
    uppercase: bool = False


@dataclass(frozen=True)
class KeepRange:
    """A stretch of the source kept in the output (the rest is cut, e.g. filler words)."""

    start: float
    end: float


@dataclass
class ScoreBreakdown:
    total: float
    components: dict[str, float] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
