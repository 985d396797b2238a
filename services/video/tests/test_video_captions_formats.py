"""SubRip, WebVTT and ASS output: checked with independent parsers and a strict reading of the
formats."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import srt
import webvtt

from video_svc.captions import caption_lines, to_ass, to_srt, to_vtt
from video_svc.model import CaptionLine, CaptionStyle, Word

SRT_CUE = re.compile(
    r"(\d+)\n(\d{2}):(\d{2}):(\d{2}),(\d{3}) --> (\d{2}):(\d{2}):(\d{2}),(\d{3})\n([^\n]+)\n"
)
VTT_TIMING = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}$")


def sample_lines() -> list[CaptionLine]:
    words = [
        Word("So", 0.0, 0.25),
        Word("here's", 0.3, 0.6),
        Word("the", 0.6, 0.7),
        Word("thing.", 0.7, 1.1),
        Word("It", 3661.0, 3661.2),  # past an hour: hours must carry over
        Word("works", 3661.2, 3661.6),
        Word("<really>", 3661.6, 3662.0),
        Word("&", 3662.0, 3662.1),
        Word("-->", 3662.1, 3662.3),
    ]
    return caption_lines(words)


def test_srt_parses_strictly_and_with_the_srt_package() -> None:
    lines = sample_lines()
    text = to_srt(lines)

    blocks = text.split("\n\n")
    assert len(blocks) == len(lines)
    for index, (block, line) in enumerate(zip(blocks, lines, strict=True), start=1):
        match = SRT_CUE.fullmatch(block if block.endswith("\n") else block + "\n")
        assert match, block
        assert int(match.group(1)) == index
        assert match.group(10) == line.text

    parsed = list(srt.parse(text, ignore_errors=False))
    assert [s.content for s in parsed] == [line.text for line in lines]
    assert [s.start for s in parsed] == [timedelta(seconds=line.start) for line in lines]
    assert parsed[1].start == timedelta(hours=1, minutes=1, seconds=1)
    assert [s.end.total_seconds() for s in parsed] == pytest.approx([line.end for line in lines])


def test_vtt_parses_strictly_and_with_webvtt_py() -> None:
    lines = sample_lines()
    text = to_vtt(lines)

    assert text.startswith("WEBVTT\n\n")
    timing_lines = [row for row in text.splitlines() if "-->" in row]
    assert len(timing_lines) == len(lines)  # "-->" in a word is escaped, never a fake timing
    assert all(VTT_TIMING.match(row) for row in timing_lines)

    captions = webvtt.from_buffer(io.StringIO(text)).captions
    assert [c.start for c in captions] == ["00:00:00.000", "01:01:01.000"]
    assert [c.end for c in captions] == ["00:00:01.100", "01:01:02.300"]
    assert captions[1].raw_text == "It works &lt;really&gt; &amp; --&gt;"


def test_empty_captions_are_still_valid_files() -> None:
    assert to_srt([]) == ""
    assert to_vtt([]) == "WEBVTT\n"


def ass_section(script: str, name: str) -> list[str]:
    section = script.split(f"[{name}]\n", 1)[1].split("\n\n", 1)[0]
    return [row for row in section.splitlines() if row]


def dialogue_fields(row: str) -> list[str]:
    assert row.startswith("Dialogue: ")
    return row[len("Dialogue: ") :].split(",", 9)


def test_ass_header_sizes_the_script_to_the_output() -> None:
    style = CaptionStyle(font_size_ratio=0.05, margin_v_ratio=0.2, outline=2.5)
    script = to_ass(sample_lines(), style, 720, 1280)
    info = dict(row.split(": ", 1) for row in ass_section(script, "Script Info"))
    assert info["PlayResX"] == "720"
    assert info["PlayResY"] == "1280"

    fmt, style_row = ass_section(script, "V4+ Styles")
    names = [name.strip() for name in fmt.removeprefix("Format:").split(",")]
    values = dict(zip(names, style_row.removeprefix("Style: ").split(","), strict=True))
    assert values["Fontname"] == "DejaVu Sans"
    assert values["Fontsize"] == "64"  # 0.05 x 1280
    assert values["MarginV"] == "256"  # 0.2 x 1280
    assert values["Alignment"] == "2"  # bottom centre
    assert values["Outline"] == "2.5"
    assert values["PrimaryColour"] == "&H00FFFFFF"


def test_ass_has_one_event_per_word_with_the_spoken_word_highlighted() -> None:
    words = [Word("one", 1.0, 1.4), Word("two", 1.5, 1.9), Word("three", 2.0, 2.5)]
    line = CaptionLine(1.0, 2.6, tuple(words))
    script = to_ass([line], CaptionStyle(), 360, 640)
    events = [r for r in ass_section(script, "Events") if r.startswith("Dialogue")]

    assert [dialogue_fields(r)[1:3] for r in events] == [
        ["0:00:01.00", "0:00:01.50"],
        ["0:00:01.50", "0:00:02.00"],
        ["0:00:02.00", "0:00:02.60"],  # the last slice runs to the line's end
    ]
    gold, white = r"{\c&H00D7FF&}", r"{\c&HFFFFFF&}"
    assert [dialogue_fields(r)[9] for r in events] == [
        f"{gold}one{white} two three",
        f"one {gold}two{white} three",
        f"one two {gold}three{white}",
    ]


def test_ass_escapes_override_characters_in_words() -> None:
    line = CaptionLine(0.0, 1.0, (Word(r"{\b1}bold\N", 0.0, 1.0),))
    text = dialogue_fields(to_ass([line], CaptionStyle(), 360, 640).splitlines()[-1])[9]
    word = text.removeprefix(r"{\c&H00D7FF&}").removesuffix(r"{\c&HFFFFFF&}")
    # No unescaped brace is left to open an override block, no backslash can form an escape.
    assert re.search(r"(?<!\\)[{}]", word) is None
    assert re.search(r"\\[^{}\u2060]", word) is None
    assert word.replace("\u2060", "").replace("\\{", "{").replace("\\}", "}") == r"{\b1}bold\N"


def test_ass_uppercase_style() -> None:
    line = CaptionLine(0.0, 1.0, (Word("loud", 0.0, 1.0),))
    assert "LOUD" in to_ass([line], CaptionStyle(uppercase=True), 360, 640)


def test_ass_rejects_a_malformed_colour() -> None:
    line = CaptionLine(0.0, 1.0, (Word("x", 0.0, 1.0),))
    with pytest.raises(ValueError, match="ASS colour"):
        to_ass([line], CaptionStyle(highlight_colour="gold"), 360, 640)
