"""Captions: group timed words into short on-screen lines and write them as SubRip, WebVTT and
an ASS script that libass burns in with the spoken word highlighted.

All times are on whatever timeline the words carry (for a clip: seconds since the clip starts).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from video_svc.model import CaptionLine, CaptionStyle, Word

# A sentence ends at . ! ? or an ellipsis, possibly followed by closing quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]\u00bb]*$")
# A clause ends at , ; : or a dash; a line that is already half full breaks there, which reads
# better than running on to the hard limit mid-clause.
_CLAUSE_END = re.compile(r"[,;:\u2013\u2014][\"'\u201d\u2019)\]\u00bb]*$")
_ASS_COLOUR = re.compile(r"^&H([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})&?$")


def caption_lines(
    words: Sequence[Word],
    max_chars: int = 28,
    max_seconds: float = 2.2,
    max_gap: float = 0.6,
    *,
    bridge_gap: float = 0.3,
) -> list[CaptionLine]:
    """Group consecutive words into caption lines.

    A line ends after a word that ends a sentence, before a pause longer than ``max_gap``, and
    before a word that would make it longer than ``max_chars`` characters or ``max_seconds``
    seconds (a single word over a limit gets a line of its own; words are never split). It also
    ends after a clause mark (``,`` ``;`` ``:`` dash) once it holds half of ``max_chars``.

    A line runs from its first word's start to its last word's end; when the next line starts
    less than ``bridge_gap`` seconds later, the line is held until then so the caption does not
    blink off and on. Lines never overlap.
    """
    if max_chars < 1 or max_seconds <= 0 or max_gap < 0:
        raise ValueError("max_chars, max_seconds must be positive and max_gap non-negative")
    cleaned = [
        Word(text, w.start, max(w.start, w.end), w.probability)
        for w in sorted(words, key=lambda w: w.start)
        if (text := _clean(w.text))
    ]
    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in cleaned:
        if current and _must_break_before(current, word, max_chars, max_seconds, max_gap):
            groups.append(current)
            current = []
        current.append(word)
        if _SENTENCE_END.search(word.text) or (
            _CLAUSE_END.search(word.text) and _text_len(current) * 2 >= max_chars
        ):
            groups.append(current)
            current = []
    if current:
        groups.append(current)

    lines: list[CaptionLine] = []
    for i, group in enumerate(groups):
        start, end = group[0].start, group[-1].end
        if i + 1 < len(groups):
            next_start = groups[i + 1][0].start
            if next_start - end < bridge_gap:
                end = next_start  # bridges a tiny gap, and trims an overlap from sloppy timings
        lines.append(CaptionLine(start=start, end=max(start, end), words=tuple(group)))
    return lines


def to_srt(lines: Sequence[CaptionLine]) -> str:
    """SubRip text: numbered cues with ``HH:MM:SS,mmm --> HH:MM:SS,mmm`` timings."""
    cues = [
        f"{i}\n{_timestamp(line.start, ',')} --> {_timestamp(line.end, ',')}\n{line.text}\n"
        for i, line in enumerate(lines, start=1)
    ]
    return "\n".join(cues)


def to_vtt(lines: Sequence[CaptionLine]) -> str:
    """WebVTT text: a ``WEBVTT`` header, then cues with ``HH:MM:SS.mmm`` timings."""
    cues = [
        f"{_timestamp(line.start, '.')} --> {_timestamp(line.end, '.')}\n{_vtt_escape(line.text)}\n"
        for line in lines
    ]
    return "\n".join(["WEBVTT\n", *cues])


def to_ass(lines: Sequence[CaptionLine], style: CaptionStyle, width: int, height: int) -> str:
    """An ASS script (PlayRes = the output size) that shows each line bottom-centred, with the
    word being spoken in ``style.highlight_colour`` and the rest in the primary colour.

    Each line becomes one Dialogue event per word-time-slice: slice *i* runs from word *i*'s
    start (the line's start for the first word) to the next word's start (the line's end for the
    last word), so the line stays on screen without gaps while the highlight moves along it.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"output size must be positive, got {width}x{height}")
    primary = _inline_colour(style.primary_colour)
    highlight = _inline_colour(style.highlight_colour)
    font_size = max(1, round(style.font_size_ratio * height))
    margin_v = round(style.margin_v_ratio * height)
    margin_h = round(0.05 * width)  # libass wraps a line that would run closer than this to the edges
    header = "\n".join(
        [
            "[Script Info]",
            "ScriptType: v4.00+",
            f"PlayResX: {width}",
            f"PlayResY: {height}",
            "WrapStyle: 0",
            "ScaledBorderAndShadow: yes",
            "YCbCr Matrix: None",
            "",
            "[V4+ Styles]",
            "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour,"
            " Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline,"
            " Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
            # Bold, outlined, no shadow, Alignment 2 = bottom centre.
            f"Style: Default,{style.font},{font_size},{_style_colour(style.primary_colour)},"
            f"{_style_colour(style.highlight_colour)},{_style_colour(style.outline_colour)},&H00000000,"
            f"-1,0,0,0,100,100,0,0,1,{style.outline:g},0,2,{margin_h},{margin_h},{margin_v},1",
            "",
            "[Events]",
            "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
        ]
    )
    events: list[str] = []
    for line in lines:
        texts = [_ass_escape(w.text.upper() if style.uppercase else w.text) for w in line.words]
        for i, word in enumerate(line.words):
            start = line.start if i == 0 else word.start
            end = line.end if i + 1 == len(line.words) else line.words[i + 1].start
            start_cs, end_cs = _centiseconds(start), _centiseconds(min(end, line.end))
            if end_cs <= start_cs:
                continue  # shorter than libass's time resolution; the neighbours cover it
            shown = " ".join(
                f"{{\\c{highlight}}}{text}{{\\c{primary}}}" if j == i else text
                for j, text in enumerate(texts)
            )
            events.append(f"Dialogue: 0,{_ass_time(start_cs)},{_ass_time(end_cs)},Default,,0,0,0,,{shown}")
    return header + "\n" + "".join(event + "\n" for event in events)


def _clean(text: str) -> str:
    """One word on one line: inner whitespace (newlines included) collapses to single spaces."""
    return " ".join(text.split())


def _text_len(words: Sequence[Word]) -> int:
    return sum(len(w.text) for w in words) + len(words) - 1


def _must_break_before(
    line: Sequence[Word], word: Word, max_chars: int, max_seconds: float, max_gap: float
) -> bool:
    return (
        word.start - line[-1].end > max_gap
        or _text_len(line) + 1 + len(word.text) > max_chars
        or word.end - line[0].start > max_seconds
    )


def _timestamp(seconds: float, ms_separator: str) -> str:
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{ms_separator}{ms:03d}"


def _vtt_escape(text: str) -> str:
    # Escaping < and > also keeps "-->" out of cue text, which WebVTT forbids.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _centiseconds(seconds: float) -> int:
    return max(0, round(seconds * 100))


def _ass_time(centiseconds: int) -> str:
    hours, rest = divmod(centiseconds, 360_000)
    minutes, rest = divmod(rest, 6000)
    secs, cs = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{secs:02d}.{cs:02d}"


def _ass_escape(text: str) -> str:
    """Make word text literal for libass: ``\\{`` and ``\\}`` are libass's escapes for braces, and
    a word joiner (invisible) after a backslash stops it forming an escape such as ``\\N``."""
    return text.replace("\\", "\\\u2060").replace("{", "\\{").replace("}", "\\}")


def _colour_digits(colour: str) -> str:
    match = _ASS_COLOUR.match(colour)
    if match is None:
        raise ValueError(f"not an ASS colour (&HAABBGGRR or &HBBGGRR): {colour!r}")
    return match.group(1).upper().rjust(8, "0")


def _style_colour(colour: str) -> str:
    return f"&H{_colour_digits(colour)}"


def _inline_colour(colour: str) -> str:
    """The ``&HBBGGRR&`` form that the ``\\c`` override takes (it carries no alpha)."""
    return f"&H{_colour_digits(colour)[2:]}&"
