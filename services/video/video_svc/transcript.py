"""Transcript handling: words from the audio service, sentences, and text features."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .model import Sentence, Word

_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*$")
# A pause this long ends a sentence even without punctuation (tiny models drop punctuation).
_PAUSE_SENTENCE_BREAK = 1.2
_CLAUSE_END = re.compile(r"[,;:]+[\"')\]]*$")
_COMMA_PAUSE_BONUS = 0.3  # seconds of pause a comma is worth when cutting a run-on sentence


def sentences(words: Sequence[Word]) -> list[Sentence]:
    """Split words into sentences at terminal punctuation or long pauses."""
    result: list[Sentence] = []
    current: list[Word] = []
    for index, word in enumerate(words):
        current.append(word)
        next_word = words[index + 1] if index + 1 < len(words) else None
        pause = next_word.start - word.end if next_word else 0.0
        if next_word is None or _SENTENCE_END.search(word.text) or pause >= _PAUSE_SENTENCE_BREAK:
            result.append(Sentence(tuple(current)))
            current = []
    return result


def split_long(found: Sequence[Sentence], max_seconds: float) -> list[Sentence]:
    """The sentences with every one longer than ``max_seconds`` cut into pieces that fit.

    Fast or unclear speech comes back as run-on sentences (Whisper drops the full stops), and a
    sentence longer than a clip may be could never start or end one: such a stretch would be lost
    to the clip search. It is cut where the speaker pauses longest, a comma adding to the pause.
    """
    result: list[Sentence] = []
    for sentence in found:
        result.extend(_cut(sentence.words, max_seconds))
    return result


def _cut(words: tuple[Word, ...], max_seconds: float) -> list[Sentence]:
    if len(words) < 2 or words[-1].end - words[0].start <= max_seconds:
        return [Sentence(words)]
    middle = (len(words) - 2) / 2

    def strength(gap: int) -> tuple[float, float]:  # cut after words[gap]
        pause = words[gap + 1].start - words[gap].end
        comma = _CLAUSE_END.search(words[gap].text) is not None
        return pause + (_COMMA_PAUSE_BONUS if comma else 0.0), -abs(gap - middle)

    cut = max(range(len(words) - 1), key=strength)
    return _cut(words[: cut + 1], max_seconds) + _cut(words[cut + 1 :], max_seconds)


def normalise_word(text: str) -> str:
    return re.sub(r"[^\w']+", "", text.lower())


def plain_text(words: Iterable[Word]) -> str:
    return " ".join(w.text for w in words)
